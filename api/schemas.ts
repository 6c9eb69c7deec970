import { z } from 'zod';
import { PURPOSES_OF_USE } from '../domain/access-request.js';

// Everything the API accepts or returns, in one place; openapi.ts publishes these.

/** DICOM UI value representation: dot-separated numeric components, no leading zeros, ≤ 64 chars. */
export const dicomUid = z
  .string()
  .max(64, 'a DICOM UID is at most 64 characters')
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/, 'not a valid DICOM UID (digits and dots, no leading zeros)');

const purposeCodes = Object.keys(PURPOSES_OF_USE) as [keyof typeof PURPOSES_OF_USE, ...(keyof typeof PURPOSES_OF_USE)[]];

export function accessRequestInputSchema(maxDurationMinutes: number) {
  return z
    .object({
      studyInstanceUids: z
        .array(dicomUid)
        .min(1, 'name at least one study')
        .max(50, 'at most 50 studies per request')
        .refine((uids) => new Set(uids).size === uids.length, 'studies must not repeat'),
      // DICOM Patient ID (LO): no backslash or control characters.
      patientId: z.string().min(1).max(64).regex(/^[^\\\x00-\x1f\x7f]+$/, 'not a valid DICOM Patient ID'),
      purposeOfUse: z.enum(purposeCodes).describe('HL7 v3 ActReason (PurposeOfUse) code'),
      justification: z.string().trim().min(10, 'say why, in at least 10 characters').max(2000),
      durationMinutes: z.number().int().min(1).max(maxDurationMinutes, `at most ${maxDurationMinutes} minutes under the current policy`),
    })
    .strict();
}
export type AccessRequestInput = z.infer<ReturnType<typeof accessRequestInputSchema>>;

export const reviewInputSchema = z
  .object({
    decision: z.enum(['approve', 'deny']),
    comment: z.string().trim().max(2000).optional(),
    /** The requestHash the reviewer was shown; when given it must match. */
    requestHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict()
  .refine((r) => r.decision !== 'deny' || (r.comment ?? '').length > 0, { message: 'a denial needs a comment', path: ['comment'] });

export const revokeInputSchema = z.object({ reason: z.string().trim().min(3).max(2000) }).strict();
export const cancelInputSchema = z.object({ reason: z.string().trim().max(2000).optional() }).strict();
export const devLoginSchema = z.object({ username: z.string().min(1).max(128) }).strict();
export const idempotencyKeySchema = z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, 'Idempotency-Key: 8–128 characters of A–Z a–z 0–9 . _ : -');
export const accessRequestIdSchema = z.string().regex(/^ar-[0-9a-f-]{32,36}$/, 'not an access request id');

export const listQuerySchema = z
  .object({
    status: z.enum(['PENDING_REVIEW', 'ACTIVE', 'EXPIRED', 'REVOKED', 'DENIED', 'TIMED_OUT', 'CANCELLED']).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: accessRequestIdSchema.optional(),
  })
  .strict();

export const reviewViewSchema = z.object({
  reviewer: z.string(),
  decision: z.enum(['approve', 'deny']),
  comment: z.string().nullable(),
  countedToward: z.string(),
  reviewedAt: z.string(),
});

export const accessRequestViewSchema = z.object({
  id: z.string(),
  status: z.enum(['PENDING_REVIEW', 'ACTIVE', 'EXPIRED', 'REVOKED', 'DENIED', 'TIMED_OUT', 'CANCELLED']),
  requester: z.string(),
  departmentId: z.string(),
  studyInstanceUids: z.array(z.string()),
  patientId: z.string(),
  purposeOfUse: z.string(),
  justification: z.string(),
  durationMinutes: z.number(),
  requestHash: z.string(),
  submittedAt: z.string(),
  reviewDeadline: z.string(),
  endedAt: z.string().nullable(),
  endReason: z.string().nullable(),
  reviews: z.array(reviewViewSchema),
  grant: z.object({ approvers: z.array(z.string()), activatedAt: z.string(), expiresAt: z.string(), endedAt: z.string().nullable() }).nullable(),
});

/** The answer to a review: the request as recorded, and the caller's own review in it. */
export const reviewAnswerSchema = accessRequestViewSchema.extend({ review: reviewViewSchema });

export const accessRequestListSchema = z.object({ items: z.array(accessRequestViewSchema), nextCursor: z.string().nullable() });
export const tokenResponseSchema = z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int() });
export const devLoginResponseSchema = z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int() });
export const healthSchema = z.object({ status: z.enum(['ok', 'degraded']), checks: z.record(z.string(), z.enum(['ok', 'failing'])) });

export const caseSearchSchema = z
  .object({
    requester: z.string().max(128).optional(),
    reviewer: z.string().max(128).optional(),
    study: dicomUid.optional(),
    patient: z.string().min(1).max(64).optional(),
    status: z.enum(['PENDING_REVIEW', 'ACTIVE', 'EXPIRED', 'REVOKED', 'DENIED', 'TIMED_OUT', 'CANCELLED']).optional(),
    purpose: z.enum(purposeCodes).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: accessRequestIdSchema.optional(),
  })
  .strict();

export const timelineSchema = z.object({
  caseId: z.string(),
  historySource: z.enum(['live', 'archive', 'none']),
  entries: z.array(
    z.object({
      at: z.string(),
      source: z.enum(['workflow', 'record', 'gateway']),
      kind: z.string(),
      actor: z.string().nullable(),
      summary: z.string(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
});
