import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import type { SyntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import { addServingTag, readServingTag } from '../../tracing/dicom-serving-tag.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { grantAndToken, pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';

// A leaked DICOM file is traced to the right grant and no other: every instance the gateway
// serves carries the grant and the id of the access record written for that request.

let api: ApiHarness;
let orthanc: OrthancServer;
let gateway: GatewayHarness;
let study: SyntheticStudy;
let grantA: { id: string; token: string };
let grantB: { id: string; token: string };
// This file's own requesters: per-user limits and records are not shared with other files.
const TRACY = 'clin.tracy';
const TRENT = 'clin.trent';

beforeAll(async () => {
  let studies: SyntheticStudy[];
  ({ orthanc, studies } = await startPacs());
  study = studies[0]!; // SYN-0001's CT: two series of three 16-bit instances
  api = await startApi(pacsEnv(orthanc));
  await ensureClinician(api, TRACY, 'Tracy (clinician, leak tracing tests)');
  await ensureClinician(api, TRENT, 'Trent (clinician, leak tracing tests)');
  gateway = await startGateway(api, orthanc);
  grantA = await grantAndToken(api, [study.studyInstanceUid], TRACY);
  grantB = await grantAndToken(api, [study.studyInstanceUid], TRENT);
});
afterAll(async () => {
  await gateway?.close();
  await orthanc?.process.stop();
  await api?.close();
});

const DICOM = 'multipart/related; type="application/dicom"';
const seriesPath = () => `/studies/${study.studyInstanceUid}/series/${study.series[0]!.seriesInstanceUid}`;
const instancePath = (i = 0) => `${seriesPath()}/instances/${study.series[0]!.instances[i]}`;

async function viaGateway(path: string, token: string, accept?: string): Promise<{ response: Response; body: Buffer }> {
  const response = await fetch(`${gateway.url}/dicom-web${path}`, { headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });
  return { response, body: Buffer.from(await response.arrayBuffer()) };
}

async function viaPacs(path: string, accept?: string): Promise<Buffer[]> {
  const response = await fetch(`${orthanc.dicomwebUrl}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64')}`, ...(accept ? { accept } : {}) },
  });
  expect(response.status).toBe(200);
  return parts(response.headers.get('content-type')!, Buffer.from(await response.arrayBuffer()));
}

/** The DICOM files of a multipart/related answer, split here independently of the gateway's reader. */
function parts(contentType: string, body: Buffer): Buffer[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)![1]!;
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const files: Buffer[] = [];
  let at = body.indexOf(`--${boundary}`) + boundary.length + 2;
  for (;;) {
    if (body.subarray(at, at + 2).toString() === '--') return files;
    const headerEnd = body.indexOf('\r\n\r\n', at);
    const headers = body.toString('latin1', at, headerEnd);
    const next = body.indexOf(delimiter, headerEnd + 4);
    const file = body.subarray(headerEnd + 4, next);
    const length = /content-length:\s*(\d+)/i.exec(headers);
    if (length) expect(Number(length[1]), 'the part’s own Content-Length').toBe(file.length);
    files.push(file);
    at = next + delimiter.length;
  }
}

const pixelData = (file: Buffer) => {
  const element = dicomParser.parseDicom(file).elements.x7fe00010!;
  return file.subarray(element.dataOffset, element.dataOffset + element.length);
};
const sopInstanceUid = (file: Buffer) => dicomParser.parseDicom(file).string('x00080018');

/** Every element of the PACS's copy is in the served file with the same bytes; the served file has only our block besides. */
function expectSameInstanceMarked(served: Buffer, original: Buffer): void {
  const a = dicomParser.parseDicom(original);
  const b = dicomParser.parseDicom(served);
  for (const [tag, element] of Object.entries(a.elements)) {
    const other = b.elements[tag];
    expect(other, tag).toBeDefined();
    expect(
      served.subarray(other!.dataOffset, other!.dataOffset + other!.length).equals(original.subarray(element.dataOffset, element.dataOffset + element.length)),
      tag,
    ).toBe(true);
  }
  expect(Object.keys(b.elements).filter((tag) => !(tag in a.elements))).toEqual(['x00770010', 'x00771001', 'x00771002', 'x00771003']);
  expect(pixelData(served).equals(pixelData(original))).toBe(true);
}

async function accessRecord(id: string) {
  await gateway.journal.flush();
  return gateway.db.gatewayAccessRecord.findUnique({ where: { id } });
}

describe('a leaked DICOM file is traced to the right grant and no other', () => {
  it('an instance retrieved through the gateway names its grant and the access record written for it', async () => {
    const { response, body } = await viaGateway(instancePath(), grantA.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('multipart/related');
    expect(response.headers.get('content-length')).toBeNull();
    const [file, ...rest] = parts(response.headers.get('content-type')!, body);
    expect(rest).toHaveLength(0);
    const mark = readServingTag(file!);
    expect(mark).toMatchObject({ grantId: grantA.id });
    const record = await accessRecord(mark!.servingId);
    expect(record).toMatchObject({
      grantId: grantA.id,
      username: TRACY,
      route: 'wado:retrieve',
      instance: study.series[0]!.instances[0],
      outcome: 'served',
      status: 200,
    });
    expect(Number(record!.bytes)).toBe(body.length);
    expect(Math.abs(mark!.servedAt.getTime() - record!.occurredAt.getTime())).toBeLessThan(60_000);
    // The PACS's own copy, element for element, pixel data included.
    const [original] = await viaPacs(instancePath());
    expect(readServingTag(original!)).toBeNull();
    expectSameInstanceMarked(file!, original!);
  });

  it('a whole series: every instance carries the grant and the serving id of that one request', async () => {
    const { response, body } = await viaGateway(seriesPath(), grantA.token);
    expect(response.status).toBe(200);
    const files = parts(response.headers.get('content-type')!, body);
    expect(files.map(sopInstanceUid).sort()).toEqual([...study.series[0]!.instances].sort());
    const marks = files.map((f) => readServingTag(f)!);
    expect(new Set(marks.map((m) => m.servingId)).size).toBe(1);
    for (const m of marks) expect(m.grantId).toBe(grantA.id);
    const record = await accessRecord(marks[0]!.servingId);
    expect(record).toMatchObject({ grantId: grantA.id, route: 'wado:retrieve', series: study.series[0]!.seriesInstanceUid, instance: null, outcome: 'served' });
    expect(Number(record!.bytes)).toBe(body.length);
    const originals = new Map((await viaPacs(seriesPath())).map((f) => [sopInstanceUid(f), f]));
    for (const file of files) expectSameInstanceMarked(file, originals.get(sopInstanceUid(file))!);
  });

  it('two grants retrieving the same instance: different serving ids, each file reads back to its own grant only', async () => {
    const [a, b] = await Promise.all([viaGateway(instancePath(1), grantA.token), viaGateway(instancePath(1), grantB.token)]);
    const [fileA] = parts(a.response.headers.get('content-type')!, a.body);
    const [fileB] = parts(b.response.headers.get('content-type')!, b.body);
    const markA = readServingTag(fileA!)!;
    const markB = readServingTag(fileB!)!;
    expect(markA.grantId).toBe(grantA.id);
    expect(markB.grantId).toBe(grantB.id);
    expect(markA.servingId).not.toBe(markB.servingId);
    expect(fileA!.includes(grantB.id)).toBe(false);
    expect(fileB!.includes(grantA.id)).toBe(false);
    expect(await accessRecord(markA.servingId)).toMatchObject({ grantId: grantA.id, username: TRACY });
    expect(await accessRecord(markB.servingId)).toMatchObject({ grantId: grantB.id, username: TRENT });
    expect(pixelData(fileA!).equals(pixelData(fileB!))).toBe(true);
  });

  it('marks an instance the PACS sends with compressed (encapsulated) pixel data and leaves the fragments as they are', async () => {
    const accept = `${DICOM}; transfer-syntax=1.2.840.10008.1.2.4.80`; // JPEG-LS lossless
    const { response, body } = await viaGateway(instancePath(2), grantA.token, accept);
    expect(response.status).toBe(200);
    const [file] = parts(response.headers.get('content-type')!, body);
    expect(dicomParser.parseDicom(file!).string('x00020010')).toBe('1.2.840.10008.1.2.4.80');
    expect(readServingTag(file!)).toMatchObject({ grantId: grantA.id });
    const [original] = await viaPacs(instancePath(2), accept);
    expectSameInstanceMarked(file!, original!);
  });

  it('marks Implicit VR Little Endian too', async () => {
    const accept = `${DICOM}; transfer-syntax=1.2.840.10008.1.2`;
    const { body, response } = await viaGateway(instancePath(), grantA.token, accept);
    const [file] = parts(response.headers.get('content-type')!, body);
    expect(dicomParser.parseDicom(file!).string('x00020010')).toBe('1.2.840.10008.1.2');
    expect(readServingTag(file!)).toMatchObject({ grantId: grantA.id });
    const [original] = await viaPacs(instancePath(), accept);
    expectSameInstanceMarked(file!, original!);
  });

  it('refuses, and records as refused, an answer it cannot mark (Big Endian) rather than serve it unmarked', async () => {
    const { response, body } = await viaGateway(instancePath(), grantA.token, `${DICOM}; transfer-syntax=1.2.840.10008.1.2.2`);
    expect(response.status).toBe(502);
    const problem = JSON.parse(body.toString()) as { title: string; detail: string };
    expect(problem.title).toBe('DICOM_NOT_TRACEABLE');
    expect(problem.detail).toMatch(/Big Endian/);
    expect(body.includes('DICM')).toBe(false);
    await gateway.journal.flush();
    const records = await gateway.db.gatewayAccessRecord.findMany({ where: { grantId: grantA.id, reason: 'DICOM_NOT_TRACEABLE' } });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'refused', status: 502, route: 'wado:retrieve' });
  });

  it('answers HEAD without a body or the PACS’s Content-Length, recorded as served', async () => {
    const response = await fetch(`${gateway.url}/dicom-web${instancePath()}`, { method: 'HEAD', headers: { authorization: `Bearer ${grantB.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('multipart/related');
    expect(response.headers.get('content-length')).toBeNull();
    await gateway.journal.flush();
    const records = await gateway.db.gatewayAccessRecord.findMany({ where: { grantId: grantB.id, method: 'HEAD' } });
    expect(records.map((r) => [r.outcome, r.route])).toEqual([['served', 'wado:retrieve']]);
  });

  it('frames carry pixel data only: they pass as the PACS sent them, unmarked, named by the access record alone', async () => {
    const { response, body } = await viaGateway(`${instancePath()}/frames/1`, grantA.token);
    expect(response.status).toBe(200);
    expect(body.includes('DICM')).toBe(false);
    expect(body.includes(grantA.id)).toBe(false);
  });
});

describe('POST /api/leak-traces with a leaked DICOM file', () => {
  const trace = async (file: Buffer) => {
    const response = await fetch(`${api.url}/api/leak-traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await api.login('sec.grace')}`, 'content-type': 'application/dicom' },
      body: new Uint8Array(file),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('names the serving and grant its tag names when the records agree, and nobody for an untagged, forged or non-DICOM file', async () => {
    const { response, body } = await viaGateway(instancePath(1), grantB.token);
    const [leaked] = parts(response.headers.get('content-type')!, body);
    const mark = readServingTag(leaked!)!;
    await gateway.journal.flush();

    const traced = await trace(leaked!);
    expect(traced.status, JSON.stringify(traced.body)).toBe(200);
    expect(traced.body).toMatchObject({
      kind: 'dicom',
      matched: { servingId: mark.servingId, grantId: grantB.id, username: TRENT, study: study.studyInstanceUid },
    });

    // The PACS's own copy carries no tag; a tag rewritten to name another grant is not borne out by the records.
    const [original] = await viaPacs(instancePath(1));
    expect((await trace(original!)).body).toMatchObject({ kind: 'dicom', matched: null });
    const forged = addServingTag(leaked!, { ...mark, grantId: grantA.id });
    expect(readServingTag(forged)!.grantId).toBe(grantA.id);
    const refused = await trace(forged);
    expect(refused.body.matched).toBeNull();
    expect(refused.body.detail).toMatch(/forged/);

    // The block copied into another instance of the same study and series: that serving was of one instance only.
    const [otherInstance] = await viaPacs(instancePath(2));
    expect((await trace(addServingTag(otherInstance!, mark))).body.matched).toBeNull();

    const notDicom = await trace(Buffer.from('DICM, but not really'));
    expect(notDicom.status).toBe(400);
    expect(notDicom.body.reason).toBe('FILE_NOT_DICOM');
  });
});
