import type { IncomingMessage, ServerResponse } from 'node:http';
import { readAll, type PacsStream } from '../pacs/dicomweb-client.js';
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
  req: IncomingMessage,
  res: ServerResponse,
  upstream: PacsStream,
  token: VerifiedToken,
  access: AccessRecorder,
  pacsRequest: PacsRequest,
): Promise<void> {
  const marked = await watermark(
    await readAll(upstream.body),
    [`${token.subject} · grant ${token.grantId.slice(3, 11)}`, new Date().toISOString().replace(/\.\d+Z$/, 'Z')],
    access.servingId,
  );
  access.rendering = { hash: marked.renderHash, source: renderSourceOf(pacsRequest.path, pacsRequest.query) };
  access.bytes = marked.body.length;
  res.statusCode = upstream.status;
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', marked.contentType);
  res.setHeader('Content-Length', marked.body.length);
  access.served();
  res.end(req.method === 'HEAD' ? undefined : marked.body);
}

/**
 * Anything else, streamed as the PACS sends it. Each piece goes out when the next one has
 * arrived: the last is held until the PACS's body has ended and the access is recorded, so
 * the viewer cannot have the last byte of an unrecorded access, whatever the length headers.
 */
export async function passThrough(req: IncomingMessage, res: ServerResponse, upstream: PacsStream, access: AccessRecorder): Promise<void> {
  res.statusCode = upstream.status;
  res.setHeader('Cache-Control', 'no-store');
  for (const header of PASSED_HEADERS) {
    const value = upstream.headers[header];
    if (typeof value === 'string' && value) res.setHeader(header, value);
  }
  const body = upstream.body;
  if (req.method === 'HEAD') {
    body.destroy();
    access.served();
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    let held: Buffer | undefined;
    const resume = () => body.resume();
    body.on('data', (chunk: Buffer) => {
      access.bytes += chunk.length;
      if (held && !res.write(held)) {
        body.pause();
        res.once('drain', resume);
      }
      held = chunk;
    });
    // The record is written in these handlers: a journal that cannot take it must reject,
    // not throw into the stream's emitter, where nothing would catch it.
    body.once('end', () => {
      try {
        access.served();
      } catch (error) {
        reject(error);
        return;
      }
      res.end(held);
      resolve();
    });
    body.once('error', reject);
    res.once('close', () => {
      if (body.readableEnded) return;
      body.destroy();
      try {
        // A viewer that went away mid-stream was still served what it got.
        access.served();
        resolve();
      } catch (error) {
        reject(error);
      }
    });
  });
}
