import { z } from 'zod';
// One request through the PACS gateway, served or refused: written by the gateway's journal,
// read by every auditor (timeline, who accessed, DICOM and FHIR audit, evidence bundles).

export const accessOutcomeSchema = z.enum(['served', 'refused']);
export type AccessOutcome = z.infer<typeof accessOutcomeSchema>;

/** As the gateway journals it: one JSON line, its time in ISO 8601. */
export interface AccessRecord {
  id: string;
  occurredAt: string;
  gatewayId: string;
  /** The token's subject; null when no token was verified. */
  username: string | null;
  grantId: string | null;
  jti: string | null;
  study: string | null;
  series: string | null;
  instance: string | null;
  /** `qido:<level>`, `wado:<resource>`, or `unparsed`. */
  route: string;
  method: string;
  /** As sent to the PACS once normalised; a path that did not parse, as it came (at most 512 characters). */
  path: string;
  /** What the viewer was answered. */
  status: number;
  bytes: number;
  durationMs: number;
  outcome: AccessOutcome;
  /** The refusal's reason; null when served. */
  reason: string | null;
  clientIp: string | null;
  /** The verified token's purpose of use (BTG for break-glass); null without one. Absent in journals from before. */
  purposeOfUse?: string | null;
  /**
   * A rendered image only: the perceptual hash (16 hex digits) of its image area as the PACS
   * rendered it, before the serving mark (tracing/rendered-hash.ts). Lets a leaked copy find
   * the servings of the same picture. Absent or null for anything else.
   */
  renderHash?: string | null;
  /** A rendered image only: the PACS request that made it (tracing/rendered-source.ts), to render the reference again. */
  renderSource?: string | null;
}

/** As the database holds it (gateway_access_records): a timestamp, a bigint count, the outcome as text. */
export type StoredAccessRecord = Omit<AccessRecord, 'occurredAt' | 'bytes' | 'outcome'> & { occurredAt: Date; bytes: bigint; outcome: string };
