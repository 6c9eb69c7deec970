-- CreateIndex
CREATE INDEX "access_requests_ended_at_id_idx" ON "access_requests"("ended_at", "id");
