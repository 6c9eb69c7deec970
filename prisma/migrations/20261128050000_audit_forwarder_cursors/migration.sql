-- AlterTable
ALTER TABLE "gateway_access_records" ADD COLUMN     "forwarded_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "audit_forwarder_cursors" (
    "name" TEXT NOT NULL,
    "position" TEXT NOT NULL,

    CONSTRAINT "audit_forwarder_cursors_pkey" PRIMARY KEY ("name")
);


-- The chain is forwarded from its first event.
INSERT INTO "audit_forwarder_cursors" ("name", "position") VALUES ('audit_events', '0');

-- Unsent access records, found without scanning the sent ones.
CREATE INDEX "gateway_access_records_unforwarded_idx" ON "gateway_access_records" ("occurred_at") WHERE "forwarded_at" IS NULL;
