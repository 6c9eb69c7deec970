// Which PACS request made a served rendering, as the access record keeps it: the path below
// the DICOMweb root and the retrieve parameters that shape the pixels (window, viewport,
// quality). The leak tracer asks the PACS the same again for its reference. Query strings are
// otherwise never stored, since they may name a patient: only these keys, and only values of
// plain numbers (and the window's function), are kept; anything else keeps no source at all.

const RENDERED_PATH = /^\/studies\/[0-9.]{1,64}(\/series\/[0-9.]{1,64}(\/instances\/[0-9.]{1,64}(\/frames\/[0-9]{1,6})?)?)?\/rendered$/;

const VALUES: Record<string, RegExp> = {
  window: /^-?[0-9]{1,9}(\.[0-9]{1,6})?,[0-9]{1,9}(\.[0-9]{1,6})?,(linear|sigmoid)$/,
  viewport: /^[0-9]{1,5}(,[0-9]{1,5}){1,5}$/,
  quality: /^[0-9]{1,3}$/,
};

/** The source of a rendering asked for at `path` (below the DICOMweb root) with `query`; null when it cannot be kept. */
export function renderSourceOf(path: string, query: URLSearchParams): string | null {
  if (!RENDERED_PATH.test(path)) return null;
  const kept = new URLSearchParams();
  for (const [key, value] of query) {
    if (key === 'accept') continue; // the encoding only, not the pixels
    if (!VALUES[key]?.test(value)) return null;
    kept.append(key, value);
  }
  kept.sort();
  const text = [...kept].map(([key, value]) => `${key}=${value}`).join('&');
  return text ? `${path}?${text}` : path;
}

/** A stored source, checked again before the PACS is asked it; undefined when it is not one. */
export function parseRenderSource(source: string): { path: string; query: URLSearchParams } | undefined {
  const [path = '', text] = source.split(/\?(.*)/s);
  const query = new URLSearchParams(text ?? '');
  return renderSourceOf(path, query) === source ? { path, query } : undefined;
}
