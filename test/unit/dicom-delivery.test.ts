import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRecord } from '../../contracts/access-record.js';
import { createLogger } from '../../config/logger.js';
import type { AccessJournal } from '../../gateway/access-journal.js';
import type { PacsStream } from '../../pacs/dicomweb-client.js';
import { AccessRecorder } from '../../gateway/access-recorder.js';
import { sendTaggedDicom } from '../../gateway/dicom-delivery.js';
import { refuse } from '../../gateway/refusal-response.js';
import type { VerifiedToken } from '../../gateway/token-verifier.js';
import { readServingTag } from '../../tracing/dicom-serving-tag.js';
import { TS, part10, text } from '../support/dicom-builder.js';

// sendTaggedDicom against a stand-in PACS answer: what a viewer gets and what is recorded
// when an instance of a multi-instance answer cannot be marked, which the real PACS in the
// e2e tests cannot be made to send.

const boundary = 'pacs-boundary-0123456789';
const token: VerifiedToken = {
  subject: 'clin.test',
  jti: 'jti-1',
  grantId: 'ar-0f3c2a1b4d5e6f708192a3b4c5d6e7f8',
  studies: new Set(['1.2.3']),
  patientId: 'SYN-0001',
  purposeOfUse: 'TREAT',
  expiresAtMs: Date.now() + 60_000,
};
const records: AccessRecord[] = [];
const journal = { record: (entry: AccessRecord) => records.push(entry) } as unknown as AccessJournal;
let upstream: () => PacsStream;
let server: Server;
let url: string;

beforeAll(async () => {
  const log = createLogger('dicom-delivery-test', 'silent');
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const access = new AccessRecorder({ journal, gatewayId: 'test' }, req, res, req.url ?? '');
    access.token = token;
    try {
      await sendTaggedDicom(req, res, upstream(), token, access);
    } catch (error) {
      refuse(error, res, access, log);
    }
  };
  server = await new Promise((resolve) => {
    const s = createServer((req, res) => void handler(req, res)).listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const instance = (ts: string, n: number) => {
  const enc = ts === TS.implicitLE ? 'implicit' : 'explicit';
  return part10(ts, [text(enc, 0x0008, 0x0018, 'UI', `1.2.3.${n}`), text(enc, 0x0010, 0x0020, 'LO', 'SYN-0001')]);
};
/** The PACS's answer, sent in small chunks so the gateway streams it. */
function pacsAnswer(files: Buffer[], contentType = `multipart/related; type="application/dicom"; boundary=${boundary}`): () => PacsStream {
  const body = Buffer.concat([
    ...files.flatMap((f, i) => [Buffer.from(`${i ? '\r\n' : ''}--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${f.length}\r\n\r\n`), f]),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += 100) chunks.push(body.subarray(at, at + 100));
  return () => ({ status: 200, headers: { 'content-type': contentType, 'content-length': String(body.length) }, body: Readable.from(chunks) });
}

/** The whole body, or what arrived before the connection was cut (perhaps nothing, not even the status). */
async function fetchAll(): Promise<{ status: number | undefined; body: Buffer; cut: boolean }> {
  const chunks: Buffer[] = [];
  let status: number | undefined;
  try {
    const response = await fetch(url);
    status = response.status;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  } catch {
    return { status, body: Buffer.concat(chunks), cut: true };
  }
  return { status, body: Buffer.concat(chunks), cut: false };
}

describe('sendTaggedDicom', () => {
  it('marks every instance and records the serving as served with the bytes sent', async () => {
    records.length = 0;
    upstream = pacsAnswer([instance(TS.explicitLE, 1), instance(TS.implicitLE, 2)]);
    const { status, body, cut } = await fetchAll();
    expect([status, cut]).toEqual([200, false]);
    const files = body
      .toString('latin1')
      .split(`--${boundary}`)
      .slice(1, -1)
      .map((p) => Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4, p.length - 2), 'latin1'));
    expect(files).toHaveLength(2);
    expect(records).toHaveLength(1);
    for (const file of files) expect(readServingTag(file)).toMatchObject({ grantId: token.grantId, servingId: records[0]!.id });
    expect(records[0]).toMatchObject({ outcome: 'served', bytes: body.length, status: 200 });
  });

  it('cuts the answer off at an instance it cannot mark: the viewer never gets it, and the access is recorded refused', async () => {
    records.length = 0;
    const unmarkable = instance(TS.explicitBE, 2);
    upstream = pacsAnswer([instance(TS.explicitLE, 1), unmarkable, instance(TS.explicitLE, 3)]);
    // The connection is cut: the viewer may have the first instance, or, if the cut came
    // before the socket flushed, nothing at all.
    const { status, body, cut } = await fetchAll();
    expect(status ?? 200).toBe(200);
    expect(cut).toBe(true);
    expect(body.includes(`--${boundary}--`)).toBe(false);
    expect(body.includes('1.2.3.2')).toBe(false);
    expect(body.includes('1.2.3.3')).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'refused', reason: 'DICOM_NOT_TRACEABLE', status: 200 });
    expect(records[0]!.bytes).toBeGreaterThan(0);
  });

  it('refuses cleanly when the first instance cannot be marked', async () => {
    records.length = 0;
    upstream = pacsAnswer([instance(TS.deflated, 1), instance(TS.explicitLE, 2)]);
    const { status, body } = await fetchAll();
    expect(status).toBe(502);
    expect(JSON.parse(body.toString())).toMatchObject({ title: 'DICOM_NOT_TRACEABLE' });
    expect(records[0]).toMatchObject({ outcome: 'refused', reason: 'DICOM_NOT_TRACEABLE', status: 502 });
  });

  it.each([
    ['a single DICOM file, not multipart', 'application/dicom'],
    ['multipart of another type', `multipart/related; type="application/octet-stream"; boundary=${boundary}`],
    ['multipart without a boundary', 'multipart/related; type="application/dicom"'],
  ])('refuses %s', async (_name, contentType) => {
    records.length = 0;
    upstream = pacsAnswer([instance(TS.explicitLE, 1)], contentType);
    const { status, body } = await fetchAll();
    expect(status).toBe(502);
    expect(body.includes('DICM')).toBe(false);
    expect(records[0]).toMatchObject({ outcome: 'refused', reason: 'DICOM_NOT_TRACEABLE' });
  });
});
