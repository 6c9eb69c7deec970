import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { Request, Response } from 'express';
import { renderSourceOf } from '../tracing/rendered-source.js';
import type { AccessRecorder } from './access-recorder.js';
import type { PacsRequest } from './pacs-request.js';
import type { VerifiedToken } from './token-verifier.js';
import { watermark } from './watermark.js';

// The PACS's answer on its way to the viewer. Each records the access as served before the
// viewer can have the last byte.

/** Headers from the PACS that may reach the viewer; everything else (Server, auth, ...) stays behind. */
const PASSED_HEADERS = ['content-type', 'content-length'];

/**
 * A rendered image, with a band naming the viewer, the grant and the time, and the serving
 * mark of this access record's id. The record keeps the image's hash and the PACS request
 * that made it: all the leak tracer needs to name this serving from a copy.
 */
export async function sendWatermarked(
  req: Request,
  res: Response,
  upstream: globalThis.Response,
  token: VerifiedToken,
  access: AccessRecorder,
  pacsRequest: PacsRequest,
): Promise<void> {
  res.status(upstream.status).set('Cache-Control', 'no-store');
  const marked = await watermark(
    Buffer.from(await upstream.arrayBuffer()),
    [`${token.subject} · grant ${token.grantId.slice(3, 11)}`, new Date().toISOString().replace(/\.\d+Z$/, 'Z')],
    access.servingId,
  );
  access.rendering = { hash: marked.renderHash, source: renderSourceOf(pacsRequest.path, pacsRequest.query) };
  access.bytes = marked.body.length;
  access.served();
  res.type(marked.contentType).send(req.method === 'HEAD' ? undefined : marked.body);
}

/** Anything else, streamed as the PACS sends it. */
export async function passThrough(req: Request, res: Response, upstream: globalThis.Response, access: AccessRecorder): Promise<void> {
  res.status(upstream.status).set('Cache-Control', 'no-store');
  for (const header of PASSED_HEADERS) {
    const value = upstream.headers.get(header);
    if (value) res.set(header, value);
  }
  if (req.method === 'HEAD' || !upstream.body) {
    access.served();
    res.end();
    return;
  }
  const body = Readable.fromWeb(upstream.body as ReadableStream);
  body.on('data', (chunk: Buffer) => (access.bytes += chunk.length));
  // In the same tick as pipe() ends the response: before the viewer has the last byte.
  body.once('end', () => access.served());
  await new Promise<void>((resolve, reject) => {
    body.once('error', reject);
    res.once('close', resolve);
    body.pipe(res);
  });
  // A viewer that went away mid-stream was still served what it got.
  access.served();
}
