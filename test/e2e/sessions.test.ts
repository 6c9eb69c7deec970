import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api-harness.js';
import { openEventStream } from '../support/event-stream.js';

// Signing out ends the session on the server, for every API process: the token is refused
// from then on, not only forgotten by the tab that held it.

let api: ApiHarness;
let other: ApiHarness;

beforeAll(async () => {
  api = await startApi();
  // A second API process on the same database: what one process ends, the other refuses.
  other = await startApi({ TOKEN_ISSUER: api.url });
});
afterAll(async () => {
  await other?.close();
  await api?.close();
});

describe('signing out', () => {
  it('refuses the token afterwards on every API process, while another session of the same user goes on', async () => {
    const token = await api.login('aud.frank');
    const second = await api.login('aud.frank');
    expect((await api.call('GET', '/api/access-requests', { token })).status).toBe(200);
    expect((await other.call('GET', '/api/access-requests', { token })).status).toBe(200);

    const signedOut = await api.call('POST', '/api/sign-out', { token });
    expect(signedOut.status).toBe(204);

    for (const target of [api, other]) {
      const refused = await target.call('GET', '/api/access-requests', { token });
      expect(refused.status).toBe(401);
      expect(refused.body.detail).toMatch(/signed out/);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
    expect((await api.call('GET', '/api/access-requests', { token: second })).status).toBe(200);
    // Signing out twice, or at the same moment from two tabs, is not an error for the first.
    const again = await Promise.all([other.call('POST', '/api/sign-out', { token: second }), api.call('POST', '/api/sign-out', { token: second })]);
    expect(again.map((r) => r.status).sort()).toEqual(expect.arrayContaining([204]));
    expect((await api.call('GET', '/api/access-requests', { token: second })).status).toBe(401);
    // Only the digest is kept, never the token.
    const rows = await api.db.endedSession.findMany();
    expect(rows.some((r) => r.tokenDigest.includes(token.split('.')[1]!))).toBe(false);
  });

  it('ends the event stream of a session that signs out', async () => {
    const token = await api.login('clin.alice');
    const stream = await openEventStream(api.url, token);
    expect(stream.status).toBe(200);
    await api.call('POST', '/api/sign-out', { token });
    await expect(stream.ended).resolves.toBeUndefined();
  });

  it('needs a session to end', async () => {
    expect((await api.call('POST', '/api/sign-out')).status).toBe(401);
  });
});
