-- CreateTable
CREATE TABLE "gateway_access_records" (
    "id" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "gateway_id" TEXT NOT NULL,
    "username" TEXT,
    "grant_id" TEXT,
    "jti" TEXT,
    "study" TEXT,
    "series" TEXT,
    "instance" TEXT,
    "route" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "bytes" BIGINT NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "client_ip" TEXT,

    CONSTRAINT "gateway_access_records_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "gateway_access_records_grant_id_occurred_at_idx" ON "gateway_access_records"("grant_id", "occurred_at");

-- CreateIndex
CREATE INDEX "gateway_access_records_study_occurred_at_idx" ON "gateway_access_records"("study", "occurred_at");

-- CreateIndex
CREATE INDEX "gateway_access_records_username_occurred_at_idx" ON "gateway_access_records"("username", "occurred_at");

