-- AlterTable
ALTER TABLE "access_requests" ADD COLUMN "workflow_run_id" TEXT;
