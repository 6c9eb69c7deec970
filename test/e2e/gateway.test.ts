import { createHmac } from 'node:crypto';
import http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, decodeJwt, decodeProtectedHeader } from 'jose';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/processes.js';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import type { SyntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { grantAndToken, pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';

let api: ApiHarness;
let orthanc: OrthancServer;
let studies: SyntheticStudy[];
let gateway: GatewayHarness;
let granted: SyntheticStudy;
let other: SyntheticStudy;
let grant: { id: string; token: string };
const REQUESTER = 'clin.gwen';

beforeAll(async () => {
  // The PACS first: the API confirms each submitted study's patient with it.
  ({ orthanc, studies } = await startPacs());
  api = await startApi(pacsEnv(orthanc));
  // A requester of this file's own, so the per-user token rate limit is not shared.
  await ensureClinician(api, REQUESTER, 'Gwen (clinician, gateway tests)');
  [granted, other] = [studies[0]!, studies[2]!];
  gateway = await startGateway(api, orthanc);
  grant = await grantAndToken(api, [granted.studyInstanceUid], REQUESTER);
});
afterAll(async () => {
  await gateway?.close();
  await orthanc?.process.stop();
  await api?.close();
});

const direct = (path: string, accept?: string) =>
  fetch(`${orthanc.dicomwebUrl}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64')}`, ...(accept ? { accept } : {}) },
  });
const through = (path: string, options: { token?: string | null; method?: string; accept?: string; url?: string } = {}) =>
  fetch(`${options.url ?? gateway.url}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token === null ? {} : { authorization: `Bearer ${options.token ?? grant.token}` }),
      ...(options.accept ? { accept: options.accept } : {}),
    },
  });

/** Sends `path` exactly as written: fetch() would resolve dot segments and backslashes first. */
function raw(path: string, token = grant.token): Promise<{ status: number; contentType: string | undefined }> {
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode!, contentType: response.headers['content-type'] }));
    });
    request.on('error', reject);
    request.end();
  });
}

function paths(study: SyntheticStudy) {
  const series = study.series[0]!.seriesInstanceUid;
  const instance = study.series[0]!.instances[0]!;
  const base = `/dicom-web/studies/${study.studyInstanceUid}`;
  return { base, series, instance, instancePath: `${base}/series/${series}/instances/${instance}` };
}

describe('a granted study', () => {
  it('opens: QIDO, metadata, instances, frames and rendered images come back', async () => {
    const { base, series, instancePath } = paths(granted);
    const list = await through('/dicom-web/studies');
    expect(list.status).toBe(200);
    const found = (await list.json()) as Record<string, { Value: string[] }>[];
    expect(found.map((s) => s['0020000D']!.Value[0])).toEqual([granted.studyInstanceUid]);

    const seriesList = (await (await through(`${base}/series`)).json()) as unknown[];
    expect(seriesList).toHaveLength(granted.series.length);
    const metadata = await through(`${base}/series/${series}/metadata`);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as unknown[]).length).toBe(granted.series[0]!.instances.length);

    const instance = await through(instancePath);
    expect(instance.status).toBe(200);
    expect(instance.headers.get('content-type')).toContain('multipart/related');
    expect(instance.headers.get('server')).toBeNull();
    const frames = await through(`${instancePath}/frames/1`);
    expect(frames.status).toBe(200);
    expect(frames.headers.get('content-type')).toContain('multipart/related');
    expect((await frames.arrayBuffer()).byteLength).toBeGreaterThan(256 * 256);
  });

  it('passes original DICOM instances through unchanged but for the serving mark', async () => {
    const { instancePath } = paths(granted);
    const viaGateway = Buffer.from(await (await through(instancePath)).arrayBuffer());
    const viaPacs = Buffer.from(await (await direct(instancePath.replace('/dicom-web', ''))).arrayBuffer());
    // The multipart boundary differs per response; the DICOM part is the PACS's bytes with one
    // block inserted (the mark naming grant and serving: leak-trace-dicom.test.ts reads it).
    const dicom = (b: Buffer) => b.subarray(b.indexOf('DICM') - 128, b.lastIndexOf('\r\n--'));
    const [served, original] = [dicom(viaGateway), dicom(viaPacs)];
    let at = 0;
    while (served[at] === original[at]) at++;
    expect(served.length).toBeGreaterThan(original.length);
    expect(served.subarray(0, at).equals(original.subarray(0, at))).toBe(true);
    expect(served.subarray(at + served.length - original.length).equals(original.subarray(at))).toBe(true);
  });

  it('watermarks rendered images and thumbnails with the viewer and grant', async () => {
    const { instancePath } = paths(granted);
    const marked = await through(`${instancePath}/rendered`);
    expect(marked.status).toBe(200);
    expect(marked.headers.get('content-type')).toBe('image/jpeg');
    const original = await direct(`${instancePath.replace('/dicom-web', '')}/rendered`);
    const [a, b] = await Promise.all([
      sharp(Buffer.from(await marked.arrayBuffer()))
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true }),
      sharp(Buffer.from(await original.arrayBuffer()))
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true }),
    ]);
    expect(a.info.width).toBe(b.info.width);
    const { width, height } = a.info;
    const meanDifference = (fromRow: number, toRow: number) => {
      let sum = 0;
      for (let y = fromRow; y < toRow; y++) for (let x = 0; x < width; x++) sum += Math.abs(a.data[y * width + x]! - b.data[y * width + x]!);
      return sum / ((toRow - fromRow) * width);
    };
    // The band across the bottom is overlaid; the top of the image is the PACS's own pixels.
    expect(meanDifference(height - 20, height)).toBeGreaterThan(20);
    expect(meanDifference(0, Math.floor(height / 2))).toBeLessThan(3);

    const thumbnail = await through(`${instancePath}/thumbnail`);
    expect(thumbnail.status).toBe(200);
    const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(128);
  });

  it('accepts a path with repeated slashes and dot segments once normalised', async () => {
    const { base } = paths(granted);
    expect((await raw(`//dicom-web//studies/${granted.studyInstanceUid}/./series`)).status).toBe(200);
    expect((await raw(`${base}/series/../series`)).status).toBe(200);
    expect((await raw(`/dicom-web/studies/%31.2.826.0.1.3680043.8.498.1/series`)).status).toBe(200);
  });
});

describe('scope', () => {
  it('refuses another study, at every level', async () => {
    const { base, series, instancePath } = paths(other);
    for (const path of [
      base,
      `${base}/metadata`,
      `${base}/series`,
      `${base}/series/${series}`,
      instancePath,
      `${instancePath}/frames/1`,
      `${instancePath}/rendered`,
    ]) {
      const response = await through(path);
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as { title: string }).title, path).toBe('STUDY_NOT_GRANTED');
    }
  });

  it('refuses a series or instance of another study placed under the granted study', async () => {
    const mine = paths(granted);
    const theirs = paths(other);
    const series = await through(`${mine.base}/series/${theirs.series}/metadata`);
    expect(series.status).toBe(403);
    expect(((await series.json()) as { title: string }).title).toBe('NOT_IN_STUDY');
    const instance = await through(`${mine.base}/series/${mine.series}/instances/${theirs.instance}`);
    expect(instance.status).toBe(403);
    // The same instance UID with its own study's path but that study is not granted.
    expect((await through(theirs.instancePath)).status).toBe(403);
  });

  const refusedRoutes: [string, string, number][] = [
    ['Orthanc REST: patients', '/patients', 403],
    ['Orthanc REST: instances', '/instances', 403],
    ['Orthanc REST: system', '/system', 403],
    ['Orthanc REST: tools', '/tools/find', 403],
    ['legacy WADO-URI', '/wado?requestType=WADO&studyUID=1.2.3', 403],
    ['DICOMweb servers', '/dicom-web/servers', 403],
    ['DICOMweb servers, nested', '/dicom-web/servers/remote/get', 403],
    ['traversal to the REST API', '/dicom-web/studies/../../patients', 403],
    ['traversal above the root', '/dicom-web/../../../etc/passwd', 400],
    ['encoded dot segments', '/dicom-web/studies/%2e%2e/%2e%2e/patients', 403],
    ['encoded slash', '/dicom-web%2fstudies', 400],
    ['double encoding', '/dicom-web/studies/%252e%252e/patients', 400],
    ['backslash', '/dicom-web\\studies', 400],
    ['not a UID', '/dicom-web/studies/abc/metadata', 403],
    ['unknown resource', '/dicom-web/studies/1.2.826.0.1.3680043.8.498.1/bogus', 403],
    [
      'bad frame list',
      '/dicom-web/studies/1.2.826.0.1.3680043.8.498.1/series/1.2.826.0.1.3680043.8.498.1.1/instances/1.2.826.0.1.3680043.8.498.1.1.1/frames/0',
      403,
    ],
  ];
  it.each(refusedRoutes)('refuses %s', async (_name, path, status) => {
    const response = await raw(path);
    expect(response.status).toBe(status);
    expect(response.contentType).toContain('application/problem+json');
  });

  it('refuses STOW-RS and every other write', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await through(`/dicom-web/studies/${granted.studyInstanceUid}`, { method });
      expect(response.status, method).toBe(405);
    }
    expect((await through('/dicom-web/studies', { method: 'POST' })).status).toBe(405);
  });

  it('answers HEAD with the headers a GET gets and no body, and records it as served', async () => {
    const { instancePath } = paths(granted);
    for (const path of [`${instancePath}/frames/1`, `${instancePath}/metadata`, `${instancePath}/rendered`, instancePath]) {
      const [head, get] = [await through(path, { method: 'HEAD' }), await through(path)];
      expect(head.status, path).toBe(200);
      // A multipart answer's boundary is new each time; its media type is the same.
      const mediaType = (r: Response) => r.headers.get('content-type')?.split(';')[0];
      expect(mediaType(head), path).toBe(mediaType(get));
      expect(head.headers.get('cache-control'), path).toBe('no-store');
      expect((await head.arrayBuffer()).byteLength, path).toBe(0);
      const body = (await get.arrayBuffer()).byteLength;
      expect(body, path).toBeGreaterThan(0);
      // What passes through unchanged says its length, the same as the GET's.
      if (path.endsWith('/frames/1') || path.endsWith('/metadata')) expect(Number(head.headers.get('content-length')), path).toBe(body);
    }
    // A refused HEAD: the refusal's status and headers, no body.
    const refused = await through(`${instancePath}/frames/1`, { method: 'HEAD', token: null });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await refused.arrayBuffer()).byteLength).toBe(0);
    // A rendering's length is its own watermarked image's (marked with the time and serving,
    // so a GET's differs by a few bytes), not nothing.
    const rendered = `${instancePath}/rendered`;
    const [head, get] = [await through(rendered, { method: 'HEAD' }), await through(rendered)];
    const gotten = (await get.arrayBuffer()).byteLength;
    expect(Math.abs(Number(head.headers.get('content-length')) - gotten)).toBeLessThan(gotten * 0.1);
    await gateway.journal.flush();
    const heads = await gateway.db.gatewayAccessRecord.findMany({ where: { jti: decodeJwt(grant.token).jti!, method: 'HEAD' } });
    expect(heads.length).toBeGreaterThanOrEqual(5);
    expect(heads.every((r) => r.outcome === 'served' && r.status === 200)).toBe(true);
  });
});

describe('the health check', () => {
  it('answers GET and HEAD of /healthz, with a query or a final slash, and nothing else', async () => {
    for (const path of ['/healthz', '/healthz?probe=1', '/healthz/']) {
      const response = await fetch(`${gateway.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
      expect((await fetch(`${gateway.url}${path}`, { method: 'HEAD' })).status, path).toBe(200);
    }
    // Any other method is the pipeline's: no token, no answer.
    expect((await fetch(`${gateway.url}/healthz`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${gateway.url}/healthzz`)).status).toBe(401);
  });
});

describe('QIDO confinement', () => {
  const uid = () => granted.studyInstanceUid;
  it('rewrites a study query without a study filter to the granted set', async () => {
    const response = await through('/dicom-web/studies?limit=10');
    const found = (await response.json()) as Record<string, { Value: string[] }>[];
    expect(found.map((s) => s['0020000D']!.Value[0])).toEqual([uid()]);
  });

  const traps: [string, () => string, string][] = [
    ['another study by UID', () => `/dicom-web/studies?StudyInstanceUID=${other.studyInstanceUid}`, 'STUDY_NOT_GRANTED'],
    ['a wildcard UID', () => '/dicom-web/studies?StudyInstanceUID=1.2.826.*', 'QIDO_UID_PATTERN'],
    ['a question-mark UID', () => `/dicom-web/studies?StudyInstanceUID=${uid().slice(0, -1)}?`, 'QIDO_UID_PATTERN'],
    ['a list of UIDs', () => `/dicom-web/studies?StudyInstanceUID=${uid()},${other.studyInstanceUid}`, 'QIDO_UID_PATTERN'],
    ['a backslash list of UIDs', () => `/dicom-web/studies?StudyInstanceUID=${uid()}%5C${other.studyInstanceUid}`, 'QIDO_UID_PATTERN'],
    ['a repeated key', () => `/dicom-web/studies?StudyInstanceUID=${uid()}&StudyInstanceUID=${other.studyInstanceUid}`, 'QIDO_REPEATED_KEY'],
    ['a UID as a hex tag', () => `/dicom-web/studies?0020000D=${other.studyInstanceUid}`, 'QIDO_HEX_TAG'],
    ['a patient-only filter', () => '/dicom-web/studies?PatientID=SYN-0002', 'QIDO_PATIENT_FILTER'],
    ['a patient name wildcard', () => '/dicom-web/studies?PatientName=*', 'QIDO_PATIENT_FILTER'],
    ['a patient filter below a granted study', () => `/dicom-web/studies/${uid()}/series?PatientID=SYN-0002`, 'QIDO_PATIENT_FILTER'],
    ['a study filter below a granted study', () => `/dicom-web/studies/${uid()}/series?StudyInstanceUID=${other.studyInstanceUid}`, 'QIDO_KEY_NOT_ALLOWED'],
    ['a wildcard series UID', () => `/dicom-web/studies/${uid()}/series?SeriesInstanceUID=*`, 'QIDO_UID_PATTERN'],
    ['an unknown key', () => '/dicom-web/studies?OtherKey=1', 'QIDO_KEY_NOT_ALLOWED'],
    ['an unknown retrieve parameter', () => `/dicom-web/studies/${uid()}/metadata?PatientID=x`, 'QUERY_NOT_ALLOWED'],
  ];
  it.each(traps)('refuses %s', async (_name, path, reason) => {
    const response = await through(path());
    expect(response.status).toBe(403);
    expect(((await response.json()) as { title: string }).title).toBe(reason);
  });
});

describe('tokens', () => {
  async function forged(options: { alg?: string; header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: 'api' | 'other' } = {}) {
    const key = options.key === 'other' ? (await generateKeyPair('ES256')).privateKey : (await api.keys.activeKey()).key;
    const kid = (await api.keys.activeKey()).kid;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      grant_id: grant.id,
      study_instance_uids: [granted.studyInstanceUid],
      patient_id: granted.patientId,
      purpose_of_use: 'TREAT',
      ...options.claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...options.header })
      .setIssuer((options.claims?.iss as string) ?? api.url)
      .setAudience((options.claims?.aud as string) ?? 'iar-pacs-gateway')
      .setSubject(REQUESTER)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now - 10)
      .setNotBefore((options.claims?.nbf as number) ?? now - 10)
      .setExpirationTime((options.claims?.exp as number) ?? now + 120)
      .sign(key);
  }
  const open = (token: string) => through(`/dicom-web/studies/${granted.studyInstanceUid}/metadata`, { token });

  it('accepts a correctly signed token (the control for the refusals below)', async () => {
    expect((await open(await forged())).status).toBe(200);
  });

  it('refuses no token, or one outside the Authorization header', async () => {
    const none = await through(`/dicom-web/studies/${granted.studyInstanceUid}/metadata`, { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const inQuery = await through(`/dicom-web/studies/${granted.studyInstanceUid}/metadata?access_token=${grant.token}`, { token: null });
    expect(inQuery.status).toBe(401);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await open(await forged({ claims: { exp: now - 60, nbf: now - 120 } }))).status).toBe(401);
  });
  it('refuses a token not yet valid', async () => {
    expect((await open(await forged({ claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }))).status).toBe(401);
  });
  it('refuses alg none', async () => {
    const [, payload] = grant.token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: 'x' })).toString('base64url');
    expect((await open(`${header}.${payload}.`)).status).toBe(401);
  });
  it('refuses HS256 signed with the public key', async () => {
    const jwk = (await api.keys.jwks()).keys[0]!;
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })).toString('base64url');
    const [, payload] = grant.token.split('.');
    for (const secret of [JSON.stringify(jwk), Buffer.from(JSON.stringify(jwk)).toString('base64url')]) {
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      expect((await open(`${header}.${payload}.${signature}`)).status).toBe(401);
    }
  });
  it('refuses an unknown kid', async () => {
    expect((await open(await forged({ header: { kid: 'no-such-key' }, key: 'other' }))).status).toBe(401);
  });
  it('refuses an embedded jwk, jku or x5u header', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    for (const header of [{ jwk }, { jku: 'http://127.0.0.1:1/jwks.json' }, { x5u: 'http://127.0.0.1:1/cert.pem' }]) {
      expect((await open(await forged({ header, key: 'other' }))).status, Object.keys(header)[0]).toBe(401);
      expect((await open(await forged({ header }))).status, `${Object.keys(header)[0]} with a good signature`).toBe(401);
    }
  });
  it('refuses the wrong issuer or audience', async () => {
    expect((await open(await forged({ claims: { iss: 'http://127.0.0.1:1' } }))).status).toBe(401);
    expect((await open(await forged({ claims: { aud: 'iar-api' } }))).status).toBe(401);
    // An API login token (audience iar-api) is not a PACS token.
    expect((await open(await api.login(REQUESTER))).status).toBe(401);
  });
  it('refuses a tampered payload', async () => {
    const [header, payload, signature] = grant.token.split('.');
    const claims = { ...decodeJwt(grant.token), study_instance_uids: [other.studyInstanceUid] };
    const tampered = Buffer.from(JSON.stringify(claims)).toString('base64url');
    expect(tampered).not.toBe(payload);
    expect((await through(`/dicom-web/studies/${other.studyInstanceUid}/metadata`, { token: `${header}.${tampered}.${signature}` })).status).toBe(401);
  });
  it('keeps accepting tokens across a key rotation (the next key was published ahead)', async () => {
    // The gateway has the current JWKS cached from earlier tests.
    expect((await open(await forged())).status).toBe(200);
    await api.keys.rotate({ force: true });
    const rotated = await grantAndToken(api, [granted.studyInstanceUid], REQUESTER);
    expect(decodeProtectedHeader(rotated.token).kid).not.toBe(decodeProtectedHeader(grant.token).kid);
    const response = await through(`/dicom-web/studies/${granted.studyInstanceUid}/metadata`, { token: rotated.token });
    expect(response.status).toBe(200);
    // Tokens signed by the retired key keep working until they expire.
    expect((await through(`/dicom-web/studies/${granted.studyInstanceUid}/metadata`)).status).toBe(200);
  });

  it('fetches the JWKS again for an unknown kid, at most once per cooldown', async () => {
    const fresh = await startGateway(api, orthanc);
    try {
      const path = `/dicom-web/studies/${granted.studyInstanceUid}/metadata`;
      const before = await grantAndToken(api, [granted.studyInstanceUid], REQUESTER);
      expect((await through(path, { token: before.token, url: fresh.url })).status).toBe(200); // caches the JWKS
      // Two rotations: the key that signs now was made after the gateway's copy of the JWKS.
      await api.keys.rotate({ force: true });
      await api.keys.rotate({ force: true });
      const unseen = await grantAndToken(api, [granted.studyInstanceUid], REQUESTER);
      const fetchedAt = Date.now();
      // Within the cooldown an unknown kid is refused rather than refetched (bounded rate).
      expect((await through(path, { token: unseen.token, url: fresh.url })).status).toBe(401);
      await new Promise((r) => setTimeout(r, Math.max(0, 10_500 - (Date.now() - fetchedAt))));
      expect((await through(path, { token: unseen.token, url: fresh.url })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  }, 60_000);

  it('refuses a token signed by a key that is not the API’s', async () => {
    expect((await open(await forged({ key: 'other' }))).status).toBe(401);
  });
});

describe('the patient', () => {
  // Tokens signed with the API's own key for the active grant: only the patient check stands
  // between them and another patient's images.
  const signed = async (claims: Record<string, unknown>) => {
    const { key, kid } = await api.keys.activeKey();
    const now = Math.floor(Date.now() / 1000);
    const jti = crypto.randomUUID();
    const token = await new SignJWT({ grant_id: grant.id, purpose_of_use: 'TREAT', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(api.url)
      .setAudience('iar-pacs-gateway')
      .setSubject(REQUESTER)
      .setJti(jti)
      .setIssuedAt(now - 10)
      .setNotBefore(now - 10)
      .setExpirationTime(now + 120)
      .sign(key);
    return { token, jti };
  };
  const recordsOf = async (jti: string) => {
    await gateway.journal.flush();
    return gateway.db.gatewayAccessRecord.findMany({ where: { jti }, orderBy: { occurredAt: 'asc' } });
  };

  it('names the patient in the token the API issues', async () => {
    expect(decodeJwt(grant.token)).toMatchObject({ patient_id: granted.patientId, study_instance_uids: [granted.studyInstanceUid] });
  });

  it('refuses a study the PACS holds under another patient than the token’s, and records why', async () => {
    // Issue 8: a study of SYN-0002 in a grant for SYN-0001.
    expect(other.patientId).not.toBe(granted.patientId);
    const { token, jti } = await signed({ study_instance_uids: [granted.studyInstanceUid, other.studyInstanceUid], patient_id: granted.patientId });
    const { base, instancePath } = paths(other);
    const asked = [`${base}/metadata`, `${instancePath}/frames/1`, `${instancePath}/rendered`, `${base}/series`, '/dicom-web/studies'];
    for (const path of asked) {
      const response = await through(path, { token });
      expect(response.status, path).toBe(403);
      const body = (await response.json()) as { title: string; detail: string };
      expect(body.title).toBe('PATIENT_MISMATCH');
      expect(body.detail).not.toMatch(/SYN-/);
    }
    // The granted study of the right patient still opens with the same token.
    expect((await through(`${paths(granted).base}/metadata`, { token })).status).toBe(200);
    const records = await recordsOf(jti);
    expect(records.map((r) => [r.outcome, r.reason])).toEqual([...asked.map(() => ['refused', 'PATIENT_MISMATCH']), ['served', null]]);
    expect(records[0]).toMatchObject({ username: REQUESTER, grantId: grant.id, study: other.studyInstanceUid, status: 403 });
    for (const record of records) expect(JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toMatch(/SYN-/);
  });

  it('refuses a token whose patient is not the granted study’s, at every level', async () => {
    const { token, jti } = await signed({ study_instance_uids: [granted.studyInstanceUid], patient_id: other.patientId });
    const { base, series, instancePath } = paths(granted);
    for (const path of [`${base}/metadata`, `${base}/series/${series}/metadata`, `${instancePath}/frames/1`, '/dicom-web/studies']) {
      const response = await through(path, { token });
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as { title: string }).title).toBe('PATIENT_MISMATCH');
    }
    expect((await recordsOf(jti)).every((r) => r.reason === 'PATIENT_MISMATCH')).toBe(true);
  });

  it('refuses a token that names no patient', async () => {
    const { token } = await signed({ study_instance_uids: [granted.studyInstanceUid] });
    const response = await through(`${paths(granted).base}/metadata`, { token });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { title: string }).title).toBe('BAD_TOKEN');
  });
});

describe('revocation', () => {
  it('refuses a revoked grant within the configured bound, although its token has not expired', async () => {
    const revocable = await grantAndToken(api, [granted.studyInstanceUid], REQUESTER);
    const path = `/dicom-web/studies/${granted.studyInstanceUid}/metadata`;
    expect((await through(path, { token: revocable.token })).status).toBe(200);
    const revoked = await api.call('POST', `/api/access-requests/${revocable.id}/revoke`, {
      token: await api.login('sec.grace'),
      body: { reason: 'gateway revocation test' },
    });
    expect(revoked.body.status).toBe('REVOKED');
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 10_000) {
      status = (await through(path, { token: revocable.token })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = Date.now() - revokedAt;
    expect(status).toBe(403);
    // The bound is 2 s in this harness; a request is never answered from state older than it.
    expect(elapsed).toBeLessThanOrEqual(2_000 + 500);
  });

  it('refuses a grant past its recorded end while its request is still ACTIVE (the one definition of an active grant)', async () => {
    const ending = await grantAndToken(api, [granted.studyInstanceUid], REQUESTER);
    const path = `/dicom-web/studies/${granted.studyInstanceUid}/metadata`;
    expect((await through(path, { token: ending.token })).status).toBe(200);
    // The end moves into the past; the workflow's timer (an hour away) has not ended the request.
    await api.db.grant.update({ where: { accessRequestId: ending.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const movedAt = Date.now();
    let response = await through(path, { token: ending.token });
    while (response.status === 200 && Date.now() - movedAt < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      response = await through(path, { token: ending.token });
    }
    expect(response.status).toBe(403);
    expect(((await response.json()) as { title: string }).title).toBe('GRANT_NOT_ACTIVE');
    expect(Date.now() - movedAt).toBeLessThanOrEqual(2_000 + 500);
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id: ending.id } })).status).toBe('ACTIVE');
  });

  it('refuses when it cannot confirm the grant’s state (database unreachable)', async () => {
    const blind = await startGateway(api, orthanc, { databaseUrl: `postgresql://nobody@127.0.0.1:${await freePort()}/none`, stalenessMs: 1_000 });
    try {
      const response = await through(`/dicom-web/studies/${granted.studyInstanceUid}/metadata`, { url: blind.url });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { title: string }).title).toBe('GRANT_STATE_UNKNOWN');
    } finally {
      await blind.close().catch(() => undefined);
    }
  });
});

describe('the PACS down', () => {
  it('answers 503 without leaking anything of the PACS', async () => {
    const unreachable = await startGateway(api, { dicomwebUrl: `http://127.0.0.1:${await freePort()}/dicom-web`, username: 'x', password: 'y' });
    try {
      const response = await through(`/dicom-web/studies/${granted.studyInstanceUid}/metadata`, { url: unreachable.url });
      expect([502, 503]).toContain(response.status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.text()).not.toMatch(/orthanc|ECONNREFUSED|127\.0\.0\.1/i);
    } finally {
      await unreachable.close();
    }
  });
});

describe('access records', () => {
  it('match what was served and refused, one for one', async () => {
    const own = await grantAndToken(api, [granted.studyInstanceUid], REQUESTER);
    const { jti } = decodeJwt(own.token) as { jti: string };
    const { base, series, instancePath } = paths(granted);
    const asked = [
      `${base}/metadata`,
      `${base}/series/${series}/metadata`,
      `${instancePath}/frames/1`,
      `${instancePath}/rendered`,
      `/dicom-web/studies/${other.studyInstanceUid}/metadata`,
      '/dicom-web/studies?PatientID=SYN-0002',
      '/patients',
    ];
    const answers: { status: number; bytes: number }[] = [];
    for (const path of asked) {
      const response = await through(path, { token: own.token });
      answers.push({ status: response.status, bytes: (await response.arrayBuffer()).byteLength });
    }
    await gateway.journal.flush();
    const records = await gateway.db.gatewayAccessRecord.findMany({ where: { jti }, orderBy: { occurredAt: 'asc' } });
    expect(records).toHaveLength(asked.length);
    expect(records.map((r) => r.status)).toEqual(answers.map((a) => a.status));
    expect(records.map((r) => r.outcome)).toEqual(['served', 'served', 'served', 'served', 'refused', 'refused', 'refused']);
    expect(records.map((r) => r.reason)).toEqual([null, null, null, null, 'STUDY_NOT_GRANTED', 'QIDO_PATIENT_FILTER', 'ROUTE_NOT_ALLOWED']);
    for (const [i, record] of records.entries()) {
      expect(record).toMatchObject({ username: REQUESTER, grantId: own.id });
      if (record.outcome === 'served') expect(Number(record.bytes)).toBe(answers[i]!.bytes);
    }
    expect(records[2]).toMatchObject({ study: granted.studyInstanceUid, series, instance: granted.series[0]!.instances[0], route: 'wado:frames' });
    // Query strings (which may name a patient) are never stored.
    expect(records.some((r) => r.path.includes('SYN-0002'))).toBe(false);
  });
});

describe('CORS for the web app', () => {
  const APP = 'https://viewer.hospital.example';
  let withOrigins: GatewayHarness;
  beforeAll(async () => {
    withOrigins = await startGateway(api, orthanc, { webOrigins: [APP] });
  });
  afterAll(async () => {
    await withOrigins?.close();
  });
  const preflight = (origin: string, method = 'GET', headers = 'authorization, accept') =>
    fetch(`${withOrigins.url}${paths(granted).base}/metadata`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
    });

  it('answers the app’s preflight for reads with its headers, and refuses any other', async () => {
    const ok = await preflight(APP);
    expect(ok.status).toBe(204);
    expect(
      Object.fromEntries(
        ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age', 'vary'].map((h) => [
          h,
          ok.headers.get(h),
        ]),
      ),
    ).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, HEAD',
      'access-control-allow-headers': 'Authorization, Accept',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    for (const refused of [await preflight('https://evil.example'), await preflight(APP, 'POST'), await preflight(APP, 'GET', 'authorization, x-anything')]) {
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('lets the app read answers and refusals, and no other origin', async () => {
    const path = `${paths(granted).base}/metadata`;
    const read = (origin: string, token: string | null = grant.token) =>
      fetch(`${withOrigins.url}${path}`, { headers: { origin, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    const served = await read(APP);
    expect(served.status).toBe(200);
    expect(served.headers.get('access-control-allow-origin')).toBe(APP);
    expect(served.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate, Content-Length');
    expect(served.headers.get('vary')).toBe('Origin');
    // A 401 is readable too, so the page can say why.
    const refused = await read(APP, null);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
    const other = await read('https://evil.example');
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toBe('Origin');
    // Without an Origin (a viewer that is not a page), no CORS headers at all.
    const plain = await through(path);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    expect(plain.headers.get('vary')).toBeNull();
  });
});
