import { jwtVerify, createRemoteJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

describe('grant expiry', () => {
  // Durations are whole minutes, so this test waits one real minute on the real timer.
  it('expires the grant at the end of its duration, never issues a token past it, and refuses after', async () => {
    const alice = await api.login('clin.alice');
    const id = (await api.call('POST', '/api/access-requests', { token: alice, body: submission({ durationMinutes: 1 }) })).body.id;
    await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } });
    const active = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
    expect(active.body.status).toBe('ACTIVE');
    const grantEnds = Date.parse(active.body.grant.expiresAt);

    const issued = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: alice });
    expect(issued.status).toBe(201);
    // The token's lifetime is capped by the grant (60 s), not the 300 s default.
    expect(issued.body.expires_in).toBeLessThanOrEqual(60);
    const { payload } = await jwtVerify(issued.body.access_token, createRemoteJWKSet(new URL(`${api.url}/.well-known/jwks.json`)), {
      audience: 'iar-pacs-gateway',
      algorithms: ['ES256'],
    });
    expect(payload.exp! * 1000).toBeLessThanOrEqual(grantEnds);

    expect(await api.temporal.workflow.getHandle(id).result()).toBe('EXPIRED');
    expect(Date.now()).toBeGreaterThanOrEqual(grantEnds);
    const row = await api.db.accessRequest.findUniqueOrThrow({ where: { id }, include: { grant: true } });
    expect(row.status).toBe('EXPIRED');
    expect(row.grant!.endedAt!.getTime()).toBeGreaterThanOrEqual(grantEnds);
    const after = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: alice });
    expect(after.status).toBe(409);
    expect(after.body.reason).toBe('NOT_ACTIVE');
    const revoke = await api.call('POST', `/api/access-requests/${id}/revoke`, { token: alice, body: { reason: 'too late' } });
    expect(revoke.status).toBe(409);
  }, 150_000);
});
