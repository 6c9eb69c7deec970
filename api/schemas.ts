import { z } from 'zod';
import { ACCESS_REQUEST_STATUSES, PURPOSES_OF_USE } from '../domain/access-request.js';

// Everything the API accepts or returns, in one place; openapi.ts publishes these.

/** DICOM UI value representation: dot-separated numeric components, no leading zeros, ≤ 64 chars. */
export const dicomUid = z
  .string()
  .max(64, 'a DICOM UID is at most 64 characters')
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/, 'not a valid DICOM UID (digits and dots, no leading zeros)');

/**
 * Characters that cannot be stored or shown safely. Bidirectional overrides, isolates and
 * marks reorder what a reviewer reads ("Trojan Source"); U+2028/2029 break lines where a
 * line was promised; noncharacters and tag characters (U+E0000–E007F, invisible ASCII
 * look-alikes) carry text no one sees.
 */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
const CONTROL_ONE_LINE = /[\u0000-\u001F\u007F-\u009F]/u;
/** Free text keeps tab, line feed and carriage return. */
const CONTROL_MULTI_LINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
const HIDDEN_OR_RESERVED = /[\u2028\u2029\p{Noncharacter_Code_Point}\u{E0000}-\u{E007F}]/u;
/** Renders as nothing: whitespace, format characters (zero-width space, joiners, BOM …), Hangul fillers, the blank Braille pattern. */
const INVISIBLE = /^[\p{White_Space}\p{Cf}\p{M}\u115F\u1160\u3164\uFFA0\u2800]*$/u;
/** More combining marks on one character than any script needs ("Zalgo" text spills over the lines around it). */
const STACKED_MARKS = /\p{M}{9,}/u;

const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** What a reader sees: characters (grapheme clusters) that render as more than blank space. */
export function visibleLength(value: string): number {
  let count = 0;
  for (const { segment } of graphemes.segment(value)) if (!INVISIBLE.test(segment)) count++;
  return count;
}

/** Why `value` cannot be stored or shown safely, or undefined when it can. */
export function unsafeTextReason(value: string, multiline: boolean): string | undefined {
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return 'is not well-formed Unicode (a lone surrogate)';
  if (value.includes('\u0000')) return 'contains a NUL character';
  if ((multiline ? CONTROL_MULTI_LINE : CONTROL_ONE_LINE).test(value)) {
    return multiline ? 'contains a control character (only tab, line feed and carriage return are allowed)' : 'contains a control character';
  }
  if (BIDI_CONTROL.test(value)) return 'contains a bidirectional-text control character (U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C)';
  if (HIDDEN_OR_RESERVED.test(value)) return 'contains a line separator, a noncharacter or an invisible tag character';
  // What a decoder leaves of bytes that were not UTF-8 (a lone surrogate in a URL arrives so).
  if (value.includes('\uFFFD')) return 'contains U+FFFD: the text was not valid UTF-8';
  if (STACKED_MARKS.test(value)) return 'stacks too many combining marks on one character';
  if (value.length > 0 && visibleLength(value) === 0) return 'contains only invisible characters';
  return undefined;
}

/**
 * Every text field the API accepts goes through this: well-formed Unicode without NUL,
 * controls (tab and line breaks only in multi-line free text), bidi controls or anything
 * else that hides or reorders text, trimmed, and, with `min`, at least that many visible
 * characters, so that ten zero-width spaces are not a justification.
 */
export function safeText(options: { max: number; min?: number; minMessage?: string; multiline?: boolean }) {
  const { max, min = 0, multiline = false } = options;
  const minMessage = options.minMessage ?? `at least ${min} visible characters`;
  // .min() states the length in the OpenAPI document; the refinement counts what is seen.
  return z
    .string()
    .trim()
    .min(min, minMessage)
    .max(max, `at most ${max} characters`)
    .superRefine((value, ctx) => {
      const unsafe = unsafeTextReason(value, multiline);
      if (unsafe) ctx.addIssue({ code: 'custom', message: unsafe });
      else if (value.length >= min && visibleLength(value) < min) ctx.addIssue({ code: 'custom', message: minMessage });
    });
}

/** Usernames as the directory and tokens spell them (the authenticator holds tokens to the same). */
export const usernameSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'a username is 1–128 characters of A–Z a–z 0–9 . _ @ -');

/** DICOM Patient ID (LO): at most 64 characters, no backslash or control characters. */
export const patientIdSchema = safeText({ max: 64, min: 1, minMessage: 'name the patient' }).regex(/^[^\\]+$/, 'not a valid DICOM Patient ID');

const purposeCodes = Object.keys(PURPOSES_OF_USE) as [keyof typeof PURPOSES_OF_USE, ...(keyof typeof PURPOSES_OF_USE)[]];

export function accessRequestInputSchema(maxDurationMinutes: number) {
  return z
    .object({
      studyInstanceUids: z
        .array(dicomUid)
        .min(1, 'name at least one study')
        .max(50, 'at most 50 studies per request')
        .refine((uids) => new Set(uids).size === uids.length, 'studies must not repeat'),
      patientId: patientIdSchema,
      purposeOfUse: z.enum(purposeCodes).describe('HL7 v3 ActReason (PurposeOfUse) code'),
      justification: safeText({ max: 2000, min: 10, minMessage: 'say why, in at least 10 visible characters', multiline: true }),
      durationMinutes: z.number().int().min(1).max(maxDurationMinutes, `at most ${maxDurationMinutes} minutes under the current policy`),
    })
    .strict();
}
export type AccessRequestInput = z.infer<ReturnType<typeof accessRequestInputSchema>>;

export const reviewInputSchema = z
  .object({
    decision: z.enum(['approve', 'deny']),
    comment: safeText({ max: 2000, multiline: true }).optional(),
    /** The requestHash the reviewer was shown; when given it must match. */
    requestHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict()
  .refine((r) => r.decision !== 'deny' || (r.comment ?? '').length > 0, { message: 'a denial needs a comment', path: ['comment'] });

export const revokeInputSchema = z.object({ reason: safeText({ max: 2000, min: 3, minMessage: 'say why, in at least 3 visible characters', multiline: true }) }).strict();
export const cancelInputSchema = z.object({ reason: safeText({ max: 2000, multiline: true }).optional() }).strict();
export const devLoginSchema = z.object({ username: usernameSchema }).strict();
export const idempotencyKeySchema = z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, 'Idempotency-Key: 8–128 characters of A–Z a–z 0–9 . _ : -');
export const accessRequestIdSchema = z.string().regex(/^ar-[0-9a-f-]{32,36}$/, 'not an access request id');

export const listQuerySchema = z
  .object({
    status: z.enum(ACCESS_REQUEST_STATUSES).optional(),
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
  status: z.enum(ACCESS_REQUEST_STATUSES),
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
  /** What the PACS confirmed about each study at submission, in the order requested. */
  confirmedStudies: z.array(
    z.object({
      studyInstanceUid: z.string(),
      patientId: z.string(),
      modalities: z.array(z.string()),
      studyDate: z.string().nullable(),
      description: z.string().nullable(),
      confirmedAt: z.string(),
    }),
  ),
});

/** The answer to a review: the request as recorded, and the caller's own review in it. */
export const reviewAnswerSchema = accessRequestViewSchema.extend({ review: reviewViewSchema });

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
    status: z.enum(ACCESS_REQUEST_STATUSES).optional(),
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
