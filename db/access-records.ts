import type { AccessRecord } from '../contracts/access-record.js';
import type { Db } from './client.js';

/**
 * Stores journalled access records, each once: a record already stored (a batch sent again
 * after a crash) is skipped. One statement over the batch as JSON, so its cost does not grow
 * with a query built per row (Prisma's createMany compiles one of those for every batch).
 * The columns are gateway_access_records' (prisma/schema.prisma, GatewayAccessRecord); keys a
 * journal from before lacks (purposeOfUse, renderHash, renderSource) are stored as null.
 */
export async function insertAccessRecords(db: Db, records: readonly AccessRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db.$executeRaw`
    INSERT INTO "gateway_access_records" (
      "id", "occurred_at", "gateway_id", "username", "grant_id", "jti", "study", "series", "instance",
      "route", "method", "path", "status", "bytes", "duration_ms", "outcome", "reason", "client_ip",
      "purpose_of_use", "render_hash", "render_source")
    SELECT
      "id", "occurredAt", "gatewayId", "username", "grantId", "jti", "study", "series", "instance",
      "route", "method", "path", "status", "bytes", "durationMs", "outcome", "reason", "clientIp",
      "purposeOfUse", "renderHash", "renderSource"
    FROM json_to_recordset(${JSON.stringify(records)}::json) AS r(
      "id" text, "occurredAt" timestamptz, "gatewayId" text, "username" text, "grantId" text, "jti" text,
      "study" text, "series" text, "instance" text, "route" text, "method" text, "path" text, "status" integer,
      "bytes" bigint, "durationMs" integer, "outcome" text, "reason" text, "clientIp" text,
      "purposeOfUse" text, "renderHash" text, "renderSource" text)
    ON CONFLICT ("id") DO NOTHING`;
}
