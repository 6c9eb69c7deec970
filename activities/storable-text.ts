// PostgreSQL stores neither NUL nor a lone UTF-16 surrogate, in text or in jsonb. The API
// refuses both, but a record activity must not fail for good on text it was handed (a
// message sent straight to Temporal names whatever principal it likes): each such character
// becomes U+FFFD, visibly, and very long text is cut.

// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL cannot store.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MAX_LENGTH = 4000;

export function storable(text: unknown, maxLength = MAX_LENGTH): string {
  const whole = String(text);
  // Cut first, then repair: a cut through a surrogate pair leaves a lone half, repaired too.
  const cut = whole.length > maxLength ? `${whole.slice(0, maxLength)}…` : whole;
  return cut.replace(UNSTORABLE, '\ufffd');
}

export function storableOrNull(text: string | undefined | null): string | null {
  return text === undefined || text === null ? null : storable(text);
}

/** Every string inside a JSON value, made storable. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return storable(value) as T;
  if (Array.isArray(value)) return value.map(storableJson) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storableJson(v)])) as T;
  return value;
}
