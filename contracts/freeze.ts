import { z } from 'zod';
import { FREEZE_SCOPES } from '../domain/freeze.js';
import { dicomUid, patientIdSchema, usernameSchema } from './identifiers.js';
import { safeText } from './text.js';

// Freezes as the API takes and gives them, and as the web page shows them.

export const FREEZE_ID_PATTERN = /^fz-[0-9a-f-]{36}$/;
export const freezeIdSchema = z.string().regex(FREEZE_ID_PATTERN, 'not a freeze id');

const reason = safeText({ max: 2000, min: 3, minMessage: 'say why, in at least 3 visible characters', multiline: true });
const departmentIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'a department id is 1–64 characters of a–z 0–9 -');

/** What a security officer freezes: the target's value must fit its scope (none for everything). */
export const freezeInputSchema = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('patient'), value: patientIdSchema, reason }).strict(),
  z.object({ scope: z.literal('study'), value: dicomUid, reason }).strict(),
  z.object({ scope: z.literal('user'), value: usernameSchema, reason }).strict(),
  z.object({ scope: z.literal('department'), value: departmentIdSchema, reason }).strict(),
  z.object({ scope: z.literal('all'), reason }).strict(),
]);
export type FreezeInput = z.infer<typeof freezeInputSchema>;

export const liftRequestInputSchema = z.object({ reason }).strict();
export const liftDecisionInputSchema = z
  .object({ decision: z.enum(['approve', 'deny']), comment: safeText({ max: 2000, multiline: true }).optional() })
  .strict();

export const freezeViewSchema = z.object({
  id: z.string(),
  scope: z.enum(FREEZE_SCOPES),
  value: z.string().nullable(),
  reason: z.string(),
  frozenBy: z.string(),
  frozenAt: z.string(),
  status: z.enum(['ACTIVE', 'LIFTED']),
  /** Grants the freeze revoked so far (the gateway refused them from the moment of the freeze). */
  revokedGrants: z.number().int(),
  liftRequest: z.object({ by: z.string(), reason: z.string(), at: z.string() }).nullable(),
  liftedAt: z.string().nullable(),
  liftedBy: z.array(z.string()),
});
export type FreezeView = z.infer<typeof freezeViewSchema>;
export const freezeListSchema = z.object({ items: z.array(freezeViewSchema) });
