import { z } from 'zod';

// What the leak tracer answers about a file that leaked (POST /api/leak-traces): the serving
// that produced it, if the evidence is strong enough to name one, and how the decision went.
// Read by security officers and auditors in the API and, later, by the incident work.

/** One serving (a gateway access record) named as the source of a leaked file. */
export const leakTraceMatchSchema = z.object({
  /** The access record's id, which the serving mark carries. */
  servingId: z.string(),
  grantId: z.string().nullable(),
  username: z.string().nullable(),
  /** When it was served (ISO 8601). */
  occurredAt: z.string(),
  study: z.string().nullable(),
  series: z.string().nullable(),
  instance: z.string().nullable(),
  /** `wado:rendered`, `wado:thumbnail`, `wado:frames-rendered`. */
  route: z.string(),
  purposeOfUse: z.string().nullable(),
  /**
   * Evidence strength: for a rendered image, standard deviations above chance (see the README,
   * Leak tracing); for a DICOM file, 1 (its tag and the records agree).
   */
  score: z.number(),
});
export type LeakTraceMatch = z.infer<typeof leakTraceMatchSchema>;

export const leakTraceSchema = z.object({
  /** `rendered` for an image (JPEG, PNG); `dicom` for a DICOM file. */
  kind: z.enum(['rendered', 'dicom']),
  /** SHA-256 of the file as received (hex): what the audit chain records of it. */
  fileSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Null unless one serving clears the threshold and beats every other by the margin: never a guess. */
  matched: leakTraceMatchSchema.nullable(),
  /** Servings considered (for a rendered image: those of a similar picture). */
  candidates: z.number().int().nonnegative(),
  /** How the decision was reached, in a sentence; names no patient. */
  detail: z.string(),
});
export type LeakTrace = z.infer<typeof leakTraceSchema>;

/** Media types traced as rendered images (by their serving mark); other types but DICOM get 415. */
export const RENDERED_LEAK_MEDIA_TYPES = ['image/jpeg', 'image/png'] as const;

/** A leaked DICOM Part 10 file, traced by the private block the gateway wrote into it. */
export const DICOM_LEAK_MEDIA_TYPE = 'application/dicom';

/** Largest image accepted (413 beyond): far above any rendering the gateway serves. */
export const LEAK_TRACE_MAX_BYTES = 10 * 1024 * 1024;
/** Largest DICOM file accepted: a large multi-frame instance. */
export const LEAKED_DICOM_MAX_BYTES = 64 * 1024 * 1024;
