import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, submission, tokensFor, STUDY_OF_SYN_0002, type ApiHarness } from '../support/api-harness.js';

let api: ApiHarness;
let users: Awaited<ReturnType<typeof tokensFor>>;

beforeAll(async () => {
  api = await startApi();
  users = await tokensFor(api);
});
afterAll(() => api.close());

async function activeRequest(): Promise<string> {
  const id = (await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission() })).body.id;
  await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.carol'], body: { decision: 'approve' } });
  const active = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['priv.dave'], body: { decision: 'approve' } });
  expect(active.body.status).toBe('ACTIVE');
  return id;
}

describe('cancel', () => {
  it('lets the requester withdraw a pending request, and no one else', async () => {
    const id = (await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission() })).body.id;
    const byOther = await api.call('POST', `/api/access-requests/${id}/cancel`, { token: users['sup.carol'], body: {} });
    expect(byOther.status).toBe(403);
    expect(byOther.body.reason).toBe('NOT_PERMITTED');
    const cancelled = await api.call('POST', `/api/access-requests/${id}/cancel`, { token: users['clin.alice'], body: { reason: 'patient transferred' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', endReason: 'patient transferred' });
    const review = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.carol'], body: { decision: 'approve' } });
    expect(review.status).toBe(409);
    expect(await api.temporal.workflow.getHandle(id).result()).toBe('CANCELLED');
    const again = await api.call('POST', `/api/access-requests/${id}/cancel`, { token: users['clin.alice'] });
    expect(again.status).toBe(409);
  });

  it('cannot withdraw an active grant (that is a revocation)', async () => {
    const id = await activeRequest();
    const response = await api.call('POST', `/api/access-requests/${id}/cancel`, { token: users['clin.alice'] });
    expect(response.status).toBe(409);
    expect(response.body.reason).toBe('NOT_PENDING');
  });
});

describe('revoke', () => {
  it('revokes an active grant, records who and why, and refuses tokens afterwards', async () => {
    const id = await activeRequest();
    expect((await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users['clin.alice'] })).status).toBe(201);
    const revoked = await api.call('POST', `/api/access-requests/${id}/revoke`, { token: users['sec.grace'], body: { reason: 'suspected leak, incident 42' } });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'REVOKED', endReason: 'suspected leak, incident 42' });
    expect(revoked.body.grant.endedAt).not.toBeNull();
    const rows = await api.db.revocation.findMany({ where: { accessRequestId: id } });
    expect(rows).toEqual([expect.objectContaining({ revokedBy: 'sec.grace', revokedByRole: 'security_officer', reason: 'suspected leak, incident 42' })]);
    const token = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users['clin.alice'] });
    expect(token.status).toBe(409);
    expect(token.body.reason).toBe('NOT_ACTIVE');
    expect(await api.temporal.workflow.getHandle(id).result()).toBe('REVOKED');
  });

  it('lets the requester and the request’s reviewers revoke, and refuses others', async () => {
    const byRequester = await activeRequest();
    expect(
      (await api.call('POST', `/api/access-requests/${byRequester}/revoke`, { token: users['clin.alice'], body: { reason: 'no longer needed' } })).body.status,
    ).toBe('REVOKED');
    const byReviewer = await activeRequest();
    const reviewerRevocation = await api.call('POST', `/api/access-requests/${byReviewer}/revoke`, {
      token: users['priv.dave'],
      body: { reason: 'approved in error' },
    });
    expect(reviewerRevocation.body.status).toBe('REVOKED');
    expect((await api.db.revocation.findFirstOrThrow({ where: { accessRequestId: byReviewer } })).revokedByRole).toBe('reviewer');

    const refused = await activeRequest();
    // sup.erin may see it (radiology) but did not review it; bob cannot see it at all.
    const erin = await api.call('POST', `/api/access-requests/${refused}/revoke`, { token: users['sup.erin'], body: { reason: 'because' } });
    expect(erin.status).toBe(403);
    const bob = await api.call('POST', `/api/access-requests/${refused}/revoke`, { token: users['clin.bob'], body: { reason: 'because' } });
    expect(bob.status).toBe(404);
    const noReason = await api.call('POST', `/api/access-requests/${refused}/revoke`, { token: users['sec.grace'], body: {} });
    expect(noReason.status).toBe(400);
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id: refused } })).status).toBe('ACTIVE');
  });
});

describe('tokens', () => {
  it('are issued to the requester only', async () => {
    const id = await activeRequest();
    for (const name of ['sup.carol', 'priv.dave', 'sec.grace', 'aud.frank'] as const) {
      const response = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users[name] });
      expect(response.status, name).toBe(403);
      expect(response.body.reason, name).toBe('NOT_PERMITTED');
    }
    expect((await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users['clin.bob'] })).status).toBe(404);
    expect((await api.call('POST', `/api/access-requests/${id}/tokens`)).status).toBe(401);
    expect(await api.db.issuedToken.count({ where: { accessRequestId: id } })).toBe(0);
  });

  it('are not issued while the request is pending', async () => {
    const id = (await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission() })).body.id;
    const response = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users['clin.alice'] });
    expect(response.status).toBe(409);
    expect(response.body.reason).toBe('NOT_ACTIVE');
  });

  it('are rate-limited per user', async () => {
    const limited = await startApi({ TOKEN_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      // clin.bob: no other test issues tokens for him.
      const bob = await limited.login('clin.bob');
      const id = (
        await limited.call('POST', '/api/access-requests', { token: bob, body: submission({ studyInstanceUids: [STUDY_OF_SYN_0002], patientId: 'SYN-0002' }) })
      ).body.id;
      await limited.call('POST', `/api/access-requests/${id}/reviews`, { token: await limited.login('sup.carol'), body: { decision: 'approve' } });
      await limited.call('POST', `/api/access-requests/${id}/reviews`, { token: await limited.login('priv.dave'), body: { decision: 'approve' } });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.call('POST', `/api/access-requests/${id}/tokens`, { token: bob })).status);
      expect(statuses).toEqual([201, 201, 201, 429]);
      expect(await limited.db.issuedToken.count({ where: { accessRequestId: id } })).toBe(3);
    } finally {
      await limited.close();
    }
  });
});

describe('idempotent submission', () => {
  it('returns the same request for a retried submission, never a second one', async () => {
    const key = `retry-${Date.now()}`;
    const headers = { 'Idempotency-Key': key };
    const [a, b] = await Promise.all([
      api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission(), headers }),
      api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission(), headers }),
    ]);
    const c = await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission(), headers });
    expect([a.status, b.status].every((s) => s === 200 || s === 201)).toBe(true);
    expect(c.status).toBe(200);
    expect(c.headers.get('idempotent-replayed')).toBe('true');
    expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(1);
    expect(await api.db.accessRequest.count({ where: { idempotencyKey: key } })).toBe(1);
    expect(await api.db.auditEvent.count({ where: { accessRequestId: a.body.id, type: 'access_request.submitted' } })).toBe(1);

    const different = await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission({ durationMinutes: 30 }), headers });
    expect(different.status).toBe(422);
    expect(different.body.reason).toBe('IDEMPOTENCY_KEY_REUSED');

    // The same key from another user is another request.
    const bobs = await api.call('POST', '/api/access-requests', { token: users['clin.bob'], body: submission(), headers });
    expect(bobs.status).toBe(201);
    expect(bobs.body.id).not.toBe(a.body.id);
  });

  it('answers a retry after the request has ended from the record', async () => {
    const headers = { 'Idempotency-Key': `ended-${Date.now()}` };
    const first = await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission(), headers });
    await api.call('POST', `/api/access-requests/${first.body.id}/cancel`, { token: users['clin.alice'] });
    await api.temporal.workflow.getHandle(first.body.id).result();
    const retry = await api.call('POST', '/api/access-requests', { token: users['clin.alice'], body: submission(), headers });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ id: first.body.id, status: 'CANCELLED' });
  });
});

describe('review window', () => {
  it('times out a request no one decides on', async () => {
    const quick = await startApi({}, (config) => {
      config.policy.reviewWindowMs = 2_000;
    });
    try {
      const id = (await quick.call('POST', '/api/access-requests', { token: await quick.login('clin.alice'), body: submission() })).body.id;
      await quick.call('POST', `/api/access-requests/${id}/reviews`, { token: await quick.login('sup.carol'), body: { decision: 'approve' } });
      expect(await quick.temporal.workflow.getHandle(id).result()).toBe('TIMED_OUT');
      const row = await quick.db.accessRequest.findUniqueOrThrow({ where: { id } });
      expect(row).toMatchObject({ status: 'TIMED_OUT', endReason: 'no decision within the review window' });
      const late = await quick.call('POST', `/api/access-requests/${id}/reviews`, { token: await quick.login('priv.dave'), body: { decision: 'approve' } });
      expect(late.status).toBe(409);
      expect(await quick.db.grant.count({ where: { accessRequestId: id } })).toBe(0);
    } finally {
      await quick.close();
    }
  });
});
