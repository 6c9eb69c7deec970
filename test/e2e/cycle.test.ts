import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../db/audit-chain.js';
import { startApi, submission, tokensFor, STUDY_A, STUDY_OF_SYN_0002, type ApiHarness } from '../support/api-harness.js';

let api: ApiHarness;
let users: Awaited<ReturnType<typeof tokensFor>>;

beforeAll(async () => {
  api = await startApi();
  users = await tokensFor(api);
});
afterAll(() => api.close());

describe('the full cycle: request → two-person review → record → token', () => {
  it('activates after a supervisor and a privacy officer approve, and issues a verifiable PACS token', async () => {
    const submitted = await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission() });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ status: 'PENDING_REVIEW', requester: 'clin.alice', departmentId: 'radiology', studyInstanceUids: [STUDY_A] });
    expect(submitted.headers.get('location')).toBe(`/api/access-requests/${submitted.body.id}`);
    const id: string = submitted.body.id;

    const first = await api.call('POST', `/api/access-requests/${id}/reviews`, {
      token: users['sup.carol'],
      body: { decision: 'approve', requestHash: submitted.body.requestHash },
    });
    expect(first.status).toBe(201);
    expect(first.body.status).toBe('PENDING_REVIEW');
    expect(first.body.reviews).toEqual([expect.objectContaining({ reviewer: 'sup.carol', decision: 'approve', countedToward: 'supervisor' })]);

    const second = await api.call('POST', `/api/access-requests/${id}/reviews`, {
      token: users['priv.dave'],
      body: { decision: 'approve', comment: 'clinically justified' },
    });
    expect(second.status).toBe(201);
    expect(second.body.status).toBe('ACTIVE');
    expect(second.body.grant.approvers).toEqual(['sup.carol', 'priv.dave']);
    const grantEnds = Date.parse(second.body.grant.expiresAt);
    expect(grantEnds - Date.parse(second.body.grant.activatedAt)).toBe(60 * 60_000);

    const issued = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users['clin.alice'] });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body.token_type).toBe('Bearer');
    expect(issued.body.expires_in).toBeGreaterThan(250);
    expect(issued.body.expires_in).toBeLessThanOrEqual(300);

    // Verified the way the gateway will: against the published JWKS, with an allow-list.
    const jwks = createRemoteJWKSet(new URL(`${api.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(issued.body.access_token, jwks, {
      issuer: api.url,
      audience: 'iar-pacs-gateway',
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      sub: 'clin.alice',
      grant_id: id,
      study_instance_uids: [STUDY_A],
      patient_id: 'SYN-0001',
      purpose_of_use: 'TREAT',
      extensions: {
        ihe_iua: { subject_role: { code: 'clinician' }, purpose_of_use: { code: 'TREAT' } },
        imaging_access_review: { approvers: ['sup.carol', 'priv.dave'], grant_id: id },
      },
    });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.exp! * 1000).toBeLessThanOrEqual(grantEnds);

    // The record: one grant, two reviews, the token by jti only, an intact chain.
    const grants = await api.db.grant.findMany({ where: { accessRequestId: id } });
    expect(grants).toHaveLength(1);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(2);
    const tokenRow = await api.db.issuedToken.findUnique({ where: { jti: payload.jti! } });
    expect(tokenRow).toMatchObject({ accessRequestId: id, subject: 'clin.alice', kid: protectedHeader.kid });
    const events = await api.db.auditEvent.findMany({ where: { accessRequestId: id }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['access_request.submitted', 'review.recorded', 'review.recorded', 'token.issued']);
    const stored =
      JSON.stringify(await api.db.auditEvent.findMany({ select: { payload: true, actor: true } })) + JSON.stringify(await api.db.issuedToken.findMany());
    expect(stored).not.toContain(issued.body.access_token.split('.')[2]);
    expect((await verifyAuditChain(api.db)).ok).toBe(true);

    // The workflow's search attributes carry the status, never patient data.
    const description = await api.temporal.workflow.getHandle(id).describe();
    const attributes = JSON.stringify(description.searchAttributes);
    expect(attributes).toContain('ACTIVE');
    expect(attributes).not.toContain('SYN-0001');
    expect(attributes).not.toContain(STUDY_A);
  });

  it('lists requests by role: clinicians their own, supervisors their departments, auditors all', async () => {
    const alices = await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission() });
    const bobs = await api.call('POST', '/api/access-requests', {
      token: users['clin.bob'],
      body: submission({ studyInstanceUids: [STUDY_OF_SYN_0002], patientId: 'SYN-0002' }),
    });
    const ids = (list: { body: { items: { id: string }[] } }) => list.body.items.map((i) => i.id);

    const forAlice = await api.call('GET', '/api/access-requests?limit=100', { token: users['clin.alice'] });
    expect(ids(forAlice)).toContain(alices.body.id);
    expect(ids(forAlice)).not.toContain(bobs.body.id);
    // sup.erin reviews for radiology only (Bob is in cardiology).
    const forErin = await api.call('GET', '/api/access-requests?limit=100', { token: users['sup.erin'] });
    expect(ids(forErin)).toContain(alices.body.id);
    expect(ids(forErin)).not.toContain(bobs.body.id);
    const forFrank = await api.call('GET', '/api/access-requests?limit=100&status=PENDING_REVIEW', { token: users['aud.frank'] });
    expect(ids(forFrank)).toEqual(expect.arrayContaining([alices.body.id, bobs.body.id]));
    expect(forFrank.body.items.every((i: { status: string }) => i.status === 'PENDING_REVIEW')).toBe(true);

    expect((await api.call('GET', `/api/access-requests/${bobs.body.id}`, { token: users['clin.alice'] })).status).toBe(404);
    expect((await api.call('GET', `/api/access-requests/${bobs.body.id}`, { token: users['clin.bob'] })).status).toBe(200);

    // Paging walks the whole list once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await api.call(
        'GET',
        `/api/access-requests?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        { token: users['clin.bob'] },
      );
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(bobs.body.id);

    // Auditors are read-only.
    const auditorReview = await api.call('POST', `/api/access-requests/${alices.body.id}/reviews`, {
      token: users['aud.frank'],
      body: { decision: 'approve' },
    });
    expect(auditorReview.status).toBe(403);
    expect(decodeProtectedHeader(users['aud.frank']).alg).toBe('ES256');
  });

  it('answers health, JWKS and OpenAPI', async () => {
    const health = await api.call('GET', '/healthz');
    expect(health.body).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
    const jwks = await api.call('GET', '/.well-known/jwks.json');
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.body.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key.d).toBeUndefined();
    }
    const openapi = await api.call('GET', '/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.0');
  });
});
