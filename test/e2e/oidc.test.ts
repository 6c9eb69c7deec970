import express from 'express';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';

// A real identity provider on loopback: its own key pair, its JWKS served over HTTP.
let issuerServer: Server;
let issuer: string;
let signingKey: CryptoKey;
let api: ApiHarness;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  signingKey = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  const app = express();
  app.get('/jwks', (_req, res) => res.json({ keys: [jwk] }));
  issuerServer = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  api = await startApi({
    DEV_LOGIN: 'false',
    OIDC_ISSUER: issuer,
    OIDC_JWKS_URL: `${issuer}/jwks`,
    OIDC_AUDIENCE: 'imaging-access-review',
    OIDC_ROLES_CLAIM: 'groups',
  });
});
afterAll(async () => {
  await api.close();
  issuerServer.close();
});

function idpToken(claims: Record<string, unknown>, options: { audience?: string; issuer?: string; expiresIn?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
    .setIssuer(options.issuer ?? issuer)
    .setAudience(options.audience ?? 'imaging-access-review')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(signingKey);
}

describe('with an OIDC issuer configured', () => {
  it('turns dev login off', async () => {
    const response = await api.call('POST', '/auth/dev-login', { body: { username: 'clin.alice' } });
    expect(response.status).toBe(404);
  });

  it('accepts the issuer’s tokens, with roles from the configured claim and departments from the directory', async () => {
    const alice = await idpToken({ sub: 'u-123', preferred_username: 'clin.alice', groups: ['clinician', 'not-a-role'] });
    const submitted = await api.call('POST', '/api/access-requests', { token: alice, body: submission() });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ requester: 'clin.alice', departmentId: 'radiology' });
    const carol = await idpToken({ preferred_username: 'sup.carol', groups: 'supervisor' });
    const reviewed = await api.call('POST', `/api/access-requests/${submitted.body.id}/reviews`, { token: carol, body: { decision: 'approve' } });
    expect(reviewed.status).toBe(201);
    expect(reviewed.body.reviews[0]).toMatchObject({ reviewer: 'sup.carol', countedToward: 'supervisor' });
  });

  it('refuses tokens for another audience, from another issuer, expired, or without roles it knows', async () => {
    const refused = [
      await idpToken({ preferred_username: 'aud.frank', groups: ['auditor'] }, { audience: 'some-other-app' }),
      await idpToken({ preferred_username: 'aud.frank', groups: ['auditor'] }, { issuer: 'http://127.0.0.1:1/' }),
      await idpToken({ preferred_username: 'aud.frank', groups: ['auditor'] }, { expiresIn: '-5m' }),
    ];
    for (const token of refused) expect((await api.call('GET', '/api/access-requests', { token })).status).toBe(401);
    const noRoles = await idpToken({ preferred_username: 'aud.frank', groups: ['admin'] });
    expect((await api.call('GET', '/api/access-requests', { token: noRoles })).status).toBe(403);
    const frank = await idpToken({ preferred_username: 'aud.frank', groups: ['auditor'] });
    expect((await api.call('GET', '/api/access-requests', { token: frank })).status).toBe(200);
  });
});
