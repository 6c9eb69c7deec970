import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS (module.exports = fn) while its types declare an ES default
// export, so under NodeNext the default import is the function itself at run time.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** RFC 8785 (JCS) canonical JSON: the same value always hashes to the same bytes. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value has no JSON form');
  return text;
}
