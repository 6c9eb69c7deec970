import type { PacsStream } from '../pacs/dicomweb-client.js';
import type { ParsedPath } from './dicomweb-route.js';
import type { PacsClient } from './pacs-client.js';
import { Refusal } from './refusal.js';

/** What the gateway asks the PACS for, and how the answer goes on to the viewer. */
export interface PacsRequest {
  /** Below the PACS's DICOMweb root. */
  path: string;
  query: URLSearchParams;
  /** A rendered image, which leaves only with the viewer's name burnt in. */
  watermark: boolean;
}

const RENDERED = new Set(['rendered', 'thumbnail', 'frames-rendered']);

export function planPacsRequest({ route, normalisedPath }: ParsedPath, confinedQuery: URLSearchParams): PacsRequest {
  const query = new URLSearchParams(confinedQuery);
  let path = normalisedPath.replace(/^\/dicom-web/, '');
  // The DICOMweb plugin has no /thumbnail: a small rendering stands in for it.
  if (route.kind === 'wado' && route.resource === 'thumbnail') {
    path = path.replace(/\/thumbnail$/, '/rendered');
    if (!query.has('viewport')) query.set('viewport', '128,128');
  }
  return { path, query, watermark: route.kind === 'wado' && RENDERED.has(route.resource) };
}

/** The PACS's answer; a failure or refusal of its own becomes the gateway's (and its body is dropped). */
export async function fetchFromPacs(pacs: PacsClient, request: PacsRequest, accept: string | undefined): Promise<PacsStream> {
  const upstream = await pacs.get(request.path, request.query, accept);
  if (upstream.status >= 200 && upstream.status < 300) return upstream;
  upstream.body.destroy();
  if (upstream.status >= 500) throw new Refusal(502, 'PACS_ERROR', 'The PACS failed to answer this request.');
  if (upstream.status === 404) throw new Refusal(404, 'NOT_FOUND', 'The PACS has no such object.');
  throw new Refusal(400, 'PACS_REFUSED', `The PACS refused the request (${upstream.status}).`);
}
