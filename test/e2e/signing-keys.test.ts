import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unseal } from '../../tokens/key-sealing.js';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

async function pacsToken(): Promise<string> {
  const alice = await api.login('clin.alice');
  const id = (await api.call('POST', '/api/access-requests', { token: alice, body: submission() })).body.id;
  await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } });
  await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
  const issued = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: alice });
  expect(issued.status).toBe(201);
  return issued.body.access_token;
}

describe('signing keys', () => {
  it('rotate, and a retired key stays published until its tokens have expired', async () => {
    const before = await pacsToken();
    const oldKid = decodeProtectedHeader(before).kid!;

    const publishedBefore = (await api.call('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    await api.keys.rotate({ force: true });
    const after = await pacsToken();
    const newKid = decodeProtectedHeader(after).kid!;
    expect(newKid).not.toBe(oldKid);
    // The key that signs now was published before it signed anything: verifiers with a
    // cached JWKS already know it.
    expect(publishedBefore).toContain(newKid);

    const published = (await api.call('GET', '/.well-known/jwks.json')).body;
    const kids = published.keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    const jwks = createLocalJWKSet(published);
    for (const token of [before, after]) {
      await expect(jwtVerify(token, jwks, { audience: 'iar-pacs-gateway', algorithms: ['ES256'] })).resolves.toBeTruthy();
    }

    const retired = await api.db.signingKey.findUniqueOrThrow({ where: { kid: oldKid } });
    expect(retired.retiredAt).not.toBeNull();
    // Published for at least the longest token lifetime after retirement.
    expect(retired.unpublishAfter!.getTime() - retired.retiredAt!.getTime()).toBeGreaterThanOrEqual(3600_000);

    // Past that moment a key leaves the JWKS. Rows of this test's own, so that the keys
    // other test files hold tokens from stay published.
    const past = new Date(Date.now() - 1000);
    const future = new Date(Date.now() + 3600_000);
    const realJwk = published.keys.find((k: { kid: string }) => k.kid === newKid);
    const template = { alg: 'ES256', sealedPrivateKey: 'v1.unused.unused.unused', createdAt: new Date(Date.now() - 86_400_000), retiredAt: past };
    await api.db.signingKey.createMany({
      data: [
        { ...template, kid: `gone-${Date.now()}`, publicJwk: { ...realJwk, kid: 'gone' }, unpublishAfter: past },
        { ...template, kid: `kept-${Date.now()}`, publicJwk: { ...realJwk, kid: 'kept' }, unpublishAfter: future },
      ],
    });
    const { SigningKeyStore } = await import('../../tokens/signing-keys.js');
    const fresh = new SigningKeyStore(api.db, api.config.keyEncryptionKey, { rotationDays: 30, longestTokenSeconds: 3600 });
    const remaining = (await fresh.jwks()).keys.map((k) => k.kid);
    expect(remaining).not.toContain('gone');
    expect(remaining).toEqual(expect.arrayContaining(['kept', oldKid, newKid]));
  });

  it('seals private keys at rest and cannot open them with another key-encryption key', async () => {
    const row = await api.db.signingKey.findFirstOrThrow({ where: { retiredAt: null } });
    expect(row.sealedPrivateKey).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(row.publicJwk)).not.toContain('"d"');
    expect(unseal(row.sealedPrivateKey, api.config.keyEncryptionKey, row.kid)).toContain('BEGIN PRIVATE KEY');
    expect(() => unseal(row.sealedPrivateKey, Buffer.alloc(32, 7), row.kid)).toThrow();
    // Bound to its kid: a sealed key moved to another row does not open.
    expect(() => unseal(row.sealedPrivateKey, api.config.keyEncryptionKey, 'another-kid')).toThrow();
  });
});
