-- Serving marks (leak tracing, rendered images): each served rendering keeps the perceptual
-- hash of its image area and the PACS request that made it.

-- AlterTable
ALTER TABLE "gateway_access_records" ADD COLUMN "render_hash" TEXT,
ADD COLUMN "render_source" TEXT;

-- 64 bits as 16 hex digits, so that ('x' || render_hash)::bit(64) reads it for bit_count.
ALTER TABLE "gateway_access_records" ADD CONSTRAINT "gateway_access_records_render_hash_check" CHECK ("render_hash" ~ '^[0-9a-f]{16}$');
