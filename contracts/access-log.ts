import { z } from 'zod';
import { accessOutcomeSchema } from './access-record.js';

// "Who accessed this study / this patient": the gateway's records as auditors and security
// officers read them, from the API, the CLI and the web page alike.

export const accessLogRowSchema = z.object({
  at: z.string(),
  username: z.string().nullable(),
  grantId: z.string().nullable(),
  jti: z.string().nullable(),
  route: z.string(),
  study: z.string().nullable(),
  series: z.string().nullable(),
  instance: z.string().nullable(),
  status: z.number().int(),
  outcome: accessOutcomeSchema,
  reason: z.string().nullable(),
  clientIp: z.string().nullable(),
  /** BTG: seen under a break-glass grant. */
  purposeOfUse: z.string().nullable(),
});
export type AccessLogRow = z.infer<typeof accessLogRowSchema>;

/** Oldest first; `truncated` when more records matched than the limit let through. */
export const accessLogSchema = z.object({ items: z.array(accessLogRowSchema), truncated: z.boolean() });
export type AccessLog = z.infer<typeof accessLogSchema>;
