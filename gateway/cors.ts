import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for the web app, on an explicit allow-list of exact origins: the page fetches series,
 * metadata and renderings with the PACS token in the Authorization header, so the browser asks
 * first (a preflight). Only reads, only the headers the page sends, and never credentials: the
 * token travels in the header, no cookie is involved. Any other origin gets no CORS header at
 * all (its scripts cannot read an answer), and its preflight is refused outright.
 */
const ALLOWED_METHODS = ['GET', 'HEAD'];
const ALLOWED_HEADERS = ['authorization', 'accept'];
/** Headers a page may read beyond the CORS-safelisted ones (WWW-Authenticate explains a 401). */
const EXPOSED_HEADERS = ['WWW-Authenticate', 'Content-Length'];
/** Browsers cap this anyway (Chromium: 2 h); ten minutes keeps a changed list quick to apply. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Whether the CORS step answered the request itself (a preflight) or the pipeline goes on. */
export type CorsStep = 'answered' | 'continue';

export function webCors(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => CorsStep {
  const allowed = new Set(origins);
  const refusePreflight = (res: ServerResponse): CorsStep => {
    // Nothing in a refused preflight may read as a permission, whichever origin asked.
    res.removeHeader('Access-Control-Allow-Origin');
    res.statusCode = 403;
    res.setHeader('Cache-Control', 'no-store');
    res.end();
    return 'answered';
  };
  return (req, res) => {
    const origin = req.headers.origin;
    const requestedMethod = req.headers['access-control-request-method'];
    const preflight = req.method === 'OPTIONS' && requestedMethod !== undefined;
    // Whatever the origin, the answer depends on it: no cache may hand one origin's answer to another.
    if (origin !== undefined) res.setHeader('Vary', 'Origin');
    if (origin === undefined || !allowed.has(origin)) return preflight ? refusePreflight(res) : 'continue';
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (!preflight) {
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS.join(', '));
      return 'continue';
    }
    const headers = (req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '');
    if (!ALLOWED_METHODS.includes(requestedMethod) || headers.some((h) => !ALLOWED_HEADERS.includes(h))) return refusePreflight(res);
    res.statusCode = 204;
    res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS.join(', '));
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Accept');
    res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
    res.end();
    return 'answered';
  };
}
