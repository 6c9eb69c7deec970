import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakTraceSchema } from '../../contracts/leak-trace.js';
import { ensureClinician, startApi, STUDY_A, type ApiHarness } from '../support/api-harness.js';
import { grantAndToken, startGateway, type GatewayHarness } from '../support/gateway-harness.js';
import { leakedCopy, phantomJpeg } from '../support/leak-degradations.js';

// A rendered image that leaked, traced back through the real system: the real gateway in
// front of the run's Orthanc marks each serving, and POST /api/leak-traces names the serving
// from a degraded copy. Two clinicians of this file's own, with a grant each, view the same
// instance; only one copy leaks. The database is shared with files running alongside, whose
// servings of similar pictures are candidates too: the trace must still name exactly ours.

const LEAKER = 'clin.tracy';
const OTHER = 'clin.trent';
const SERIES = `${STUDY_A}.1`;
const INSTANCE = `${SERIES}.1`;
const RENDERED = `/dicom-web/studies/${STUDY_A}/series/${SERIES}/instances/${INSTANCE}/rendered`;

let api: ApiHarness;
let gateway: GatewayHarness;
let leakerGrant: { id: string; token: string };
let otherGrant: { id: string; token: string };
let leakerImage: Buffer;
let otherImage: Buffer;
let officer: string;
let auditor: string;

beforeAll(async () => {
  api = await startApi();
  await ensureClinician(api, LEAKER, 'Tracy (clinician, leak tracing tests)');
  await ensureClinician(api, OTHER, 'Trent (clinician, leak tracing tests)');
  gateway = await startGateway(api, api.config.pacs!);
  [leakerGrant, otherGrant] = await Promise.all([grantAndToken(api, [STUDY_A], LEAKER), grantAndToken(api, [STUDY_A], OTHER)]);
  [leakerImage, otherImage] = await Promise.all([view(leakerGrant.token), view(otherGrant.token)]);
  await gateway.journal.flush();
  [officer, auditor] = await Promise.all([api.login('sec.grace'), api.login('aud.frank')]);
});
afterAll(async () => {
  await gateway?.close();
  await api?.close();
});

async function view(token: string): Promise<Buffer> {
  const response = await fetch(`${gateway.url}${RENDERED}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

const degrade = leakedCopy;

function trace(body: Buffer, token: string, contentType = 'image/jpeg') {
  return fetch(`${api.url}/api/leak-traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: new Uint8Array(body),
  });
}

async function servingOf(grantId: string) {
  return api.db.gatewayAccessRecord.findFirstOrThrow({ where: { grantId, route: 'wado:rendered', outcome: 'served' } });
}

const traces = () => api.db.auditEvent.count({ where: { type: 'leak.traced' } });

describe('tracing a leaked rendered image', () => {
  it('keeps a hash and the rendering with each serving, and the two viewers got different images', async () => {
    const [mine, theirs] = await Promise.all([servingOf(leakerGrant.id), servingOf(otherGrant.id)]);
    expect(mine.renderHash).toMatch(/^[0-9a-f]{16}$/);
    expect(mine.renderHash).toBe(theirs.renderHash);
    expect(mine.renderSource).toBe(RENDERED.replace('/dicom-web', ''));
    expect(leakerImage.equals(otherImage)).toBe(false);
  });

  it('names the serving, the grant and the viewer of a degraded copy, and not the other viewer', async () => {
    const leaked = await degrade(leakerImage);
    const before = await traces();
    const response = await trace(leaked, officer);
    expect(response.status).toBe(200);
    const result = leakTraceSchema.parse(await response.json());
    const serving = await servingOf(leakerGrant.id);
    expect(result.kind).toBe('rendered');
    expect(result.candidates).toBeGreaterThanOrEqual(2);
    expect(result.matched, result.detail).toMatchObject({
      servingId: serving.id,
      grantId: leakerGrant.id,
      username: LEAKER,
      occurredAt: serving.occurredAt.toISOString(),
      study: STUDY_A,
      series: SERIES,
      instance: INSTANCE,
      route: 'wado:rendered',
      purposeOfUse: 'TREAT',
    });
    expect(result.matched!.score).toBeGreaterThanOrEqual(7);
    expect(result.fileSha256).toBe(createHash('sha256').update(leaked).digest('hex'));

    // Recorded in the audit chain, under the grant: the file's hash and the serving, nothing of the image or the patient.
    expect(await traces()).toBe(before + 1);
    const event = await api.db.auditEvent.findFirstOrThrow({ where: { type: 'leak.traced', actor: 'sec.grace' }, orderBy: { seq: 'desc' } });
    expect(event.accessRequestId).toBe(leakerGrant.id);
    expect(event.payload).toEqual({
      kind: 'rendered',
      fileSha256: result.fileSha256,
      matchedServingId: serving.id,
      score: result.matched!.score,
      candidates: result.candidates,
    });
  });

  it('names the other viewer for the other viewer’s copy (auditors may trace too)', async () => {
    const response = await trace(await degrade(otherImage), auditor);
    expect(response.status).toBe(200);
    const result = leakTraceSchema.parse(await response.json());
    expect(result.matched?.grantId, result.detail).toBe(otherGrant.id);
    expect(result.matched?.username).toBe(OTHER);
  });

  it('names nobody for the same picture that did not leave through the gateway, nor for a picture never served', async () => {
    const pacs = api.config.pacs!;
    const direct = await fetch(`${pacs.dicomwebUrl}${RENDERED.replace('/dicom-web', '')}`, {
      headers: { authorization: `Basic ${Buffer.from(`${pacs.username}:${pacs.password}`).toString('base64')}` },
    });
    const unmarked = await degrade(Buffer.from(await direct.arrayBuffer()));
    const sameInstance = leakTraceSchema.parse(await (await trace(unmarked, officer)).json());
    expect(sameInstance.matched, sameInstance.detail).toBeNull();
    expect(sameInstance.candidates).toBeGreaterThanOrEqual(2);
    expect(sameInstance.detail).toMatch(/No confident match/);

    const never = leakTraceSchema.parse(await (await trace(await phantomJpeg(300, 11), officer)).json());
    expect(never.matched).toBeNull();
  });

  it('refuses what is not an image or DICOM (400), other types (415), too large (413) and clinicians (403), recording nothing', async () => {
    const before = await traces();
    const garbage = await trace(Buffer.from('this is not a picture of anything'), officer, 'image/png');
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get('content-type')).toContain('application/problem+json');
    expect(await garbage.json()).toMatchObject({ status: 400, reason: 'FILE_NOT_AN_IMAGE' });

    const empty = await trace(Buffer.alloc(0), officer, 'image/jpeg');
    expect(empty.status).toBe(400);

    const dicom = await trace(Buffer.from('DICM'), officer, 'application/dicom');
    expect(dicom.status).toBe(400);
    expect(await dicom.json()).toMatchObject({ reason: 'FILE_NOT_DICOM' });
    expect((await trace(Buffer.from('{}'), officer, 'application/json')).status).toBe(415);

    const huge = await trace(Buffer.alloc(11 * 1024 * 1024), officer, 'image/jpeg');
    expect(huge.status).toBe(413);

    const clinician = await trace(await degrade(leakerImage), await api.login(LEAKER));
    expect(clinician.status).toBe(403);
    expect(clinician.headers.get('content-type')).toContain('application/problem+json');
    expect((await trace(await degrade(leakerImage), await api.login('priv.dave'))).status).toBe(403);
    expect(
      (await fetch(`${api.url}/api/leak-traces`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(leakerImage) })).status,
    ).toBe(401);

    expect(await traces()).toBe(before);
  });
});
