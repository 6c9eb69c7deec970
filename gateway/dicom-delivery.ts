import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PacsStream } from '../pacs/dicomweb-client.js';
import { DicomTraceError } from '../tracing/dicom-part10.js';
import { servingTagSplice } from '../tracing/dicom-serving-tag.js';
import type { AccessRecorder } from './access-recorder.js';
import type { DicomwebRoute } from './dicomweb-route.js';
import { boundaryOf, multipartParts, MultipartError } from './multipart-parts.js';
import { Refusal } from './refusal.js';
import type { VerifiedToken } from './token-verifier.js';

// WADO-RS retrieve answers (a study, a series or an instance as multipart/related DICOM),
// each instance marked on its way out with the grant and the serving (tracing/). Part by
// part: one instance is held at a time, never the study.
//
// Frames and bulk data are not routed here: they carry pixel data alone, with no dataset to
// hold a mark, so they leave as the PACS sent them and only the access record names them.

/** One instance held in memory at most this large; a larger one is refused, not served unmarked. */
const MAX_INSTANCE_BYTES = 1024 * 1024 * 1024;

/** The routes whose answers are whole DICOM instances. */
export function servesInstances(route: DicomwebRoute): boolean {
  return route.kind === 'wado' && route.resource === 'retrieve';
}

/**
 * Sends the PACS's multipart answer with every instance marked. Fails closed: an answer
 * that is not multipart/related DICOM, or an instance that cannot be marked (Deflated or
 * Big Endian transfer syntax, a malformed file), is refused. The first instance is marked
 * before anything is sent, so a single instance that cannot be marked gets a clean refusal.
 * A later one can only cut the response off: the viewer sees a multipart body without its
 * close delimiter, never an unmarked instance, and the access is recorded as refused with
 * that reason and the bytes that did go out.
 */
export async function sendTaggedDicom(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: PacsStream,
  token: VerifiedToken,
  access: AccessRecorder,
): Promise<void> {
  const contentType = upstream.headers['content-type'] ?? '';
  let boundary: string;
  try {
    boundary = dicomMultipartBoundary(contentType);
  } catch (error) {
    upstream.body.destroy();
    throw error;
  }
  const start = () => {
    // The PACS's Content-Length counted the unmarked instances: it is not passed on.
    res.statusCode = upstream.status;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', contentType);
  };
  if (req.method === 'HEAD') {
    upstream.body.destroy();
    start();
    access.served();
    res.end();
    return;
  }
  const mark = { grantId: token.grantId, servingId: access.servingId, servedAt: new Date() };
  const send = (piece: Buffer): boolean => {
    access.bytes += piece.length;
    return res.write(piece);
  };
  let sent = 0;
  try {
    for await (const part of multipartParts(upstream.body, boundary, { maxPartBytes: MAX_INSTANCE_BYTES })) {
      if (res.destroyed) break;
      const partType = part.headers.get('content-type') ?? '';
      if (!isDicom(partType)) throw notTraceable(`The PACS sent a part of type "${partType.slice(0, 80)}", not application/dicom.`);
      const pieces = servingTagSplice(part.body, mark);
      if (sent === 0) start();
      const length = pieces.reduce((n, p) => n + p.length, 0);
      send(Buffer.from(`${sent === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${partType}\r\nContent-Length: ${length}\r\n\r\n`, 'latin1'));
      let flowing = true;
      for (const piece of pieces) flowing = send(piece);
      sent++;
      if (!flowing) await drained(res);
    }
  } catch (error) {
    if (error instanceof DicomTraceError) throw notTraceable(`Instance ${sent + 1} of the answer cannot be marked: ${error.message}`);
    if (error instanceof MultipartError) throw notTraceable(`The PACS's multipart answer does not read: ${error.message}`);
    throw error;
  }
  if (res.destroyed) {
    // A viewer that went away mid-stream was still served what it got.
    access.served();
    return;
  }
  if (sent === 0) start();
  const close = Buffer.from(`${sent === 0 ? '' : '\r\n'}--${boundary}--\r\n`, 'latin1');
  access.bytes += close.length;
  // Recorded before the viewer can have the last bytes, the close delimiter.
  access.served();
  res.end(close);
}

/** The boundary of a multipart/related answer of DICOM instances; anything else is refused. */
function dicomMultipartBoundary(contentType: string): string {
  const [mediaType = ''] = contentType.split(';');
  const type = /;\s*type=(?:"([^"]*)"|([^\s;]*))/i.exec(contentType);
  const boundary = boundaryOf(contentType);
  if (mediaType.trim().toLowerCase() !== 'multipart/related' || !boundary || (type && !isDicom(type[1] ?? type[2] ?? ''))) {
    throw notTraceable(`The PACS answered "${contentType.slice(0, 80)}", not multipart/related DICOM instances; only those leave, each marked.`);
  }
  return boundary;
}

function isDicom(mediaType: string): boolean {
  return mediaType.split(';')[0]!.trim().toLowerCase() === 'application/dicom';
}

function notTraceable(detail: string): Refusal {
  return new Refusal(502, 'DICOM_NOT_TRACEABLE', detail);
}

/** Until the viewer takes more, or goes away. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
