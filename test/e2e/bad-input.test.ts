import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClinician, startApi, submission, tokensFor, STUDY_A, type ApiHarness } from '../support/api-harness.js';

let api: ApiHarness;
let users: Awaited<ReturnType<typeof tokensFor>>;

let zed: string;

beforeAll(async () => {
  api = await startApi();
  users = await tokensFor(api);
  // A clinician only this file uses, so "nothing was written" can be counted exactly.
  await ensureClinician(api, 'clin.zed', 'Zed (clinician, bad-input tests)');
  zed = await api.login('clin.zed');
});
afterAll(() => api.close());

/** Everything clin.zed's requests could have written. */
async function footprint() {
  return {
    requests: await api.db.accessRequest.count({ where: { requester: 'clin.zed' } }),
    events: await api.db.auditEvent.count({ where: { actor: 'clin.zed' } }),
    workflows: (await api.temporal.workflow.count(`AccessRequestRequester = 'clin.zed'`)).count,
  };
}

function expectProblem(response: { status: number; body: any; headers: Headers }, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body).toMatchObject({ status, type: expect.stringContaining('urn:imaging-access-review:problem:'), title: expect.any(String) });
}

const bad = (overrides: Record<string, unknown>) => submission({ patientId: 'SYN-BAD', ...overrides });

describe('bad input is refused with problem+json and changes nothing', () => {
  const cases: [string, unknown, number][] = [
    ['malformed UID (letters)', bad({ studyInstanceUids: ['1.2.abc.4'] }), 400],
    ['malformed UID (leading zero)', bad({ studyInstanceUids: ['1.02.3'] }), 400],
    ['malformed UID (too long)', bad({ studyInstanceUids: ['1.' + '2'.repeat(70)] }), 400],
    ['malformed UID (trailing dot)', bad({ studyInstanceUids: ['1.2.3.'] }), 400],
    ['no studies', bad({ studyInstanceUids: [] }), 400],
    ['repeated study', bad({ studyInstanceUids: [STUDY_A, STUDY_A] }), 400],
    ['duration over policy', bad({ durationMinutes: 8 * 60 + 1 }), 400],
    ['duration zero', bad({ durationMinutes: 0 }), 400],
    ['fractional duration', bad({ durationMinutes: 1.5 }), 400],
    ['unknown purpose', bad({ purposeOfUse: 'MARKETING' }), 400],
    ['short justification', bad({ justification: 'because' }), 400],
    ['unknown field', { ...bad({}), approvedBy: 'sup.carol' }, 400],
    ['wrong type: duration as string', bad({ durationMinutes: '60' }), 400],
    ['wrong type: uids as string', bad({ studyInstanceUids: STUDY_A }), 400],
    ['missing patient', { ...bad({}), patientId: undefined }, 400],
    ['patient id with a backslash', bad({ patientId: 'A\\B' }), 400],
    ['array body', [bad({})], 400],
  ];

  it.each(cases)('%s', async (_name, body, status) => {
    const before = await footprint();
    const response = await api.call('POST', '/api/access-requests', { token: zed, body });
    expectProblem(response, status);
    expect(response.body.errors?.length ?? 0).toBeGreaterThan(0);
    expect(await footprint()).toEqual(before);
  });

  it('refuses malformed JSON', async () => {
    const response = await api.call('POST', '/api/access-requests', { token: zed, body: '{"studyInstanceUids": [' });
    expectProblem(response, 400);
    expect(response.body.title).toBe('Malformed JSON');
  });

  it('refuses an oversized body before parsing it', async () => {
    const before = await footprint();
    const response = await api.call('POST', '/api/access-requests', { token: zed, body: bad({ justification: 'x'.repeat(64 * 1024) }) });
    expectProblem(response, 413);
    expect(await footprint()).toEqual(before);
  });

  it('refuses a body that is not JSON', async () => {
    const response = await api.call('POST', '/api/access-requests', {
      token: zed,
      body: 'studyInstanceUids=1.2.3',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(response, 415);
  });

  it('refuses a bad Idempotency-Key', async () => {
    const before = await footprint();
    const response = await api.call('POST', '/api/access-requests', { token: zed, body: bad({}), headers: { 'Idempotency-Key': 'short' } });
    expectProblem(response, 400);
    expect(await footprint()).toEqual(before);
  });

  it('refuses bad review bodies and ids', async () => {
    const id = (await api.call('POST', '/api/access-requests', { token: zed, body: submission() })).body.id;
    expectProblem(await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.carol'], body: { decision: 'maybe' } }), 400);
    expectProblem(await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.carol'], body: { decision: 'approve', extra: 1 } }), 400);
    expectProblem(await api.call('POST', `/api/access-requests/not-an-id/reviews`, { token: users['sup.carol'], body: { decision: 'approve' } }), 400);
    expectProblem(
      await api.call('POST', `/api/access-requests/ar-00000000-0000-4000-8000-000000000000/reviews`, {
        token: users['sup.carol'],
        body: { decision: 'approve' },
      }),
      404,
    );
    expectProblem(await api.call('GET', '/api/access-requests?limit=1000', { token: users['aud.frank'] }), 400);
    expectProblem(await api.call('GET', '/api/access-requests?status=ACTIVE&status=DENIED', { token: users['aud.frank'] }), 400);
    expectProblem(await api.call('GET', '/api/nothing-here', { token: users['aud.frank'] }), 404);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(0);
  });

  it('only lets clinicians in a department submit', async () => {
    const response = await api.call('POST', '/api/access-requests', { token: users['sup.carol'], body: bad({}) });
    expectProblem(response, 403);
    expect(response.body.reason).toBe('NOT_PERMITTED');
  });
});

describe('authentication fails closed', () => {
  it('refuses a missing, malformed or foreign bearer token', async () => {
    expectProblem(await api.call('GET', '/api/access-requests'), 401);
    expectProblem(await api.call('GET', '/api/access-requests', { headers: { authorization: 'Basic YWxpY2U6cGFzcw==' } }), 401);
    expectProblem(await api.call('GET', '/api/access-requests', { token: 'not.a.jwt' }), 401);

    // Signed by a key the API never published.
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ roles: ['auditor'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'foreign' })
      .setIssuer(api.url)
      .setAudience('iar-api')
      .setSubject('aud.frank')
      .setExpirationTime('5m')
      .sign(privateKey);
    expectProblem(await api.call('GET', '/api/access-requests', { token: foreign }), 401);

    // alg "none".
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ sub: 'aud.frank', roles: ['auditor'], iss: api.url, aud: 'iar-api', exp: Math.floor(Date.now() / 1000) + 300 }),
    ).toString('base64url');
    expectProblem(await api.call('GET', '/api/access-requests', { headers: { authorization: `Bearer ${header}.${payload}.` } }), 401);

    // HS256 signed with the API's own public key as the secret (key confusion).
    const jwk = (await api.keys.jwks()).keys[0]!;
    const confused = await new SignJWT({ roles: ['auditor'] })
      .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
      .setIssuer(api.url)
      .setAudience('iar-api')
      .setSubject('aud.frank')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    expectProblem(await api.call('GET', '/api/access-requests', { token: confused }), 401);

    // Signed by the API's own key and issuer, but for the gateway's audience: not an API token.
    const apiKey = await api.keys.activeKey();
    const signedByApi = (audience: string) =>
      new SignJWT({ roles: ['auditor'] })
        .setProtectedHeader({ alg: 'ES256', kid: apiKey.kid })
        .setIssuer(api.url)
        .setAudience(audience)
        .setSubject('aud.frank')
        .setExpirationTime('5m')
        .sign(apiKey.key);
    expectProblem(await api.call('GET', '/api/access-requests', { token: await signedByApi('iar-pacs-gateway') }), 401);
    const rightAudience = await signedByApi('iar-api');
    expect((await api.call('GET', '/api/access-requests', { token: rightAudience })).status).toBe(200);
  });

  it('refuses a PACS token used as an API token', async () => {
    const id = (await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission() })).body.id;
    await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.carol'], body: { decision: 'approve' } });
    await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['priv.dave'], body: { decision: 'approve' } });
    const pacs = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users['clin.alice'] });
    expect(pacs.status).toBe(201);
    expectProblem(await api.call('GET', '/api/access-requests', { token: pacs.body.access_token }), 401);
  });
});
