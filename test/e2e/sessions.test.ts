import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiHarness } from '../support/api-harness.js';
import { openEventStream } from '../support/event-stream.js';

// Signing out ends the session on the server, for every API process: the token is refused
// from then on, not only forgotten by the tab that held it.

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The token with its signature's last character changed in the bits no byte uses: an ES256
 * signature is 64 bytes, 86 base64url characters, so the last one carries 4 spare bits.
 */
function respell(token: string): string {
  const last = BASE64URL.indexOf(token.at(-1)!);
  return token.slice(0, -1) + BASE64URL[last ^ 1];
}

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
    // Two tabs signing out at the same moment: one ends the session, the other finds it ended; no error.
    const again = await Promise.all([other.call('POST', '/api/sign-out', { token: second }), api.call('POST', '/api/sign-out', { token: second })]);
    for (const answer of again) expect([204, 401]).toContain(answer.status);
    expect(again.some((answer) => answer.status === 204)).toBe(true);
    expect((await api.call('GET', '/api/access-requests', { token: second })).status).toBe(401);
    // Only a digest of the signed part is kept, never the token.
    const row = await api.db.endedSession.findUniqueOrThrow({ where: { tokenDigest: sha256(token.slice(0, token.lastIndexOf('.'))) } });
    expect(Object.values(row).some((value) => typeof value === 'string' && value.includes(token.split('.')[2]!))).toBe(false);
  });

  it('refuses a signed-out token re-spelt in its signature’s spare bits', async () => {
    const token = await api.login('aud.frank');
    const respelt = respell(token);
    expect(respelt).not.toBe(token);
    // The same signature bytes: the re-spelt token verifies as the original does.
    expect((await api.call('GET', '/api/access-requests', { token: respelt })).status).toBe(200);
    expect((await api.call('POST', '/api/sign-out', { token })).status).toBe(204);
    expect((await api.call('GET', '/api/access-requests', { token: respelt })).status).toBe(401);
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
