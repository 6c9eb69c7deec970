import type { RequestHandler } from 'express';

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

export function webCors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    // Whatever the origin, the answer depends on it: no cache may hand one origin's answer to another.
    if (origin !== undefined) res.vary('Origin');
    if (origin === undefined || !allowed.has(origin)) {
      if (preflight) {
        res.status(403).set('Cache-Control', 'no-store').end();
        return;
      }
      next();
      return;
    }
    res.set('Access-Control-Allow-Origin', origin);
    if (!preflight) {
      res.set('Access-Control-Expose-Headers', EXPOSED_HEADERS.join(', '));
      next();
      return;
    }
    const method = req.get('access-control-request-method') ?? '';
    const headers = (req.get('access-control-request-headers') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '');
    if (!ALLOWED_METHODS.includes(method) || headers.some((h) => !ALLOWED_HEADERS.includes(h))) {
      res.status(403).set('Cache-Control', 'no-store').end();
      return;
    }
    res
      .status(204)
      .set({
        'Access-Control-Allow-Methods': ALLOWED_METHODS.join(', '),
        'Access-Control-Allow-Headers': 'Authorization, Accept',
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
      })
      .end();
  };
}
