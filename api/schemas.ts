import { z } from 'zod';
import { accessRequestStatusSchema, purposeOfUseSchema, reviewDecisionSchema } from '../contracts/access-request.js';
import { accessionNumberSchema, accessRequestIdSchema, dicomUid, patientIdSchema, usernameSchema } from '../contracts/identifiers.js';
import { safeText } from '../contracts/text.js';
import { BREAK_GLASS_PURPOSE, RETRO_STATUSES } from '../domain/break-glass.js';
import { accessRequestViewSchema } from '../contracts/access-request-view.js';

// Everything the API accepts or returns, in one place; openapi.ts publishes these.

export function accessRequestInputSchema(maxDurationMinutes: number) {
  return z
    .object({
      studyInstanceUids: z
        .array(dicomUid)
        .min(1, 'name at least one study')
        .max(50, 'at most 50 studies per request')
        .refine((uids) => new Set(uids).size === uids.length, 'studies must not repeat'),
      patientId: patientIdSchema,
      purposeOfUse: purposeOfUseSchema,
      justification: safeText({ max: 2000, min: 10, minMessage: 'say why, in at least 10 visible characters', multiline: true }),
      durationMinutes: z.number().int().min(1).max(maxDurationMinutes, `at most ${maxDurationMinutes} minutes under the current policy`),
    })
    .strict();
}
export type AccessRequestInput = z.infer<ReturnType<typeof accessRequestInputSchema>>;

export const reviewInputSchema = z
  .object({
    decision: reviewDecisionSchema,
    comment: safeText({ max: 2000, multiline: true }).optional(),
    /** The requestHash the reviewer was shown; when given it must match. */
    requestHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  // Whether a denial says why is the review engine's rule (COMMENT_REQUIRED), not the schema's.
  .strict();

export const revokeInputSchema = z
  .object({ reason: safeText({ max: 2000, min: 3, minMessage: 'say why, in at least 3 visible characters', multiline: true }) })
  .strict();
export const cancelInputSchema = z.object({ reason: safeText({ max: 2000, multiline: true }).optional() }).strict();
export const devLoginSchema = z.object({ username: usernameSchema }).strict();
export const idempotencyKeySchema = z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, 'Idempotency-Key: 8–128 characters of A–Z a–z 0–9 . _ : -');

export const listQuerySchema = z
  .object({
    status: accessRequestStatusSchema.optional(),
    kind: z.enum(['review', 'break-glass']).optional(),
    /** A break-glass's review afterwards: PENDING lists those still to be reviewed. */
    retroStatus: z.enum(RETRO_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: accessRequestIdSchema.optional(),
  })
  .strict();

export const accessRequestListSchema = z.object({ items: z.array(accessRequestViewSchema), nextCursor: z.string().nullable() });
export const tokenResponseSchema = z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int() });
export const devLoginResponseSchema = z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number().int() });
export const healthSchema = z.object({ status: z.enum(['ok', 'degraded']), checks: z.record(z.string(), z.enum(['ok', 'failing'])) });

export const caseSearchSchema = z
  .object({
    requester: usernameSchema.optional(),
    reviewer: usernameSchema.optional(),
    study: dicomUid.optional(),
    patient: patientIdSchema.optional(),
    status: accessRequestStatusSchema.optional(),
    purpose: z.union([purposeOfUseSchema, z.literal(BREAK_GLASS_PURPOSE)]).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: accessRequestIdSchema.optional(),
  })
  .strict();

/** Who accessed one study, or any study of one patient; a time window is optional. */
export const imageAccessQuerySchema = z
  .object({
    study: dicomUid.optional(),
    patient: patientIdSchema.optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(500),
  })
  .strict()
  .refine((q) => (q.study === undefined) !== (q.patient === undefined), { message: 'name exactly one of study or patient', path: ['study'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['from'] });

/** A study looked up by accession number: both are needed, so a lookup cannot find a patient. */
export const studyLookupQuerySchema = z.object({ accessionNumber: accessionNumberSchema, patientId: patientIdSchema }).strict();

/** An emergency: no purpose to choose (it is break-glass), a shorter grant, the same studies and patient rules. */
export function breakGlassInputSchema(maxMinutes: number) {
  return z
    .object({
      studyInstanceUids: z
        .array(dicomUid)
        .min(1, 'name at least one study')
        .max(10, 'at most 10 studies in an emergency')
        .refine((uids) => new Set(uids).size === uids.length, 'studies must not repeat'),
      patientId: patientIdSchema,
      justification: safeText({ max: 2000, min: 10, minMessage: 'say why, in at least 10 visible characters', multiline: true }),
      durationMinutes: z.number().int().min(1).max(maxMinutes, `at most ${maxMinutes} minutes without review`).default(maxMinutes),
    })
    .strict();
}
export type BreakGlassInput = z.infer<ReturnType<typeof breakGlassInputSchema>>;
