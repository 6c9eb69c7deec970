-- AlterTable
ALTER TABLE "reviews" ADD COLUMN "idempotency_key" TEXT;
