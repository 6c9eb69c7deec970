-- AlterTable
ALTER TABLE "access_requests" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'review',
ADD COLUMN "retro_status" TEXT,
ADD COLUMN "retro_deadline" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "gateway_access_records" ADD COLUMN "purpose_of_use" TEXT;

-- CreateIndex
CREATE INDEX "access_requests_retro_status_retro_deadline_idx" ON "access_requests"("retro_status", "retro_deadline");
