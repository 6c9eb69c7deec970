import { ApiError } from '../api/client';

// What the request forms share: the study list as typed, and the API's field errors read per field.

/** The UIDs typed or added, one per line or separated by commas or spaces. */
export function studyList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((uid) => uid.trim())
    .filter(Boolean);
}

/**
 * Field-level messages from the API's problem, as message keys: one per field its `errors`
 * name (`studyInstanceUids.0` is the studies field), chosen by `messageKey` from the field and
 * the problem's reason; the API's own words are never shown.
 */
export function fieldErrors<F extends string>(
  error: unknown,
  fields: readonly F[],
  messageKey: (field: F, reason: string | undefined) => string,
): Partial<Record<F, string>> {
  if (!(error instanceof ApiError)) return {};
  const out: Partial<Record<F, string>> = {};
  for (const entry of error.errors) {
    const field = fields.find((name) => entry.path === name || entry.path.startsWith(`${name}.`));
    if (!field || out[field]) continue;
    out[field] = messageKey(field, error.reason);
  }
  return out;
}
