-- AlterTable
ALTER TABLE "signing_keys" ADD COLUMN     "activated_at" TIMESTAMPTZ(3);


-- Keys that were signing before this migration are the active ones.
UPDATE "signing_keys" SET "activated_at" = "created_at" WHERE "retired_at" IS NULL;
