import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  base64url,
  CompactSign,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { Refusal } from '../../gateway/refusal.js';
import { TokenVerifier } from '../../gateway/token-verifier.js';
import { signPacsToken, type PacsTokenClaims } from '../../tokens/pacs-token.js';

// The gateway's token check without a server: keys made here, a local JWKS, and tokens from
// the API's own signer (signPacsToken), so that signer and verifier are proved to agree.
// Every negative case starts from a token that verifies and changes exactly one thing, so
// each refusal is owed to the check it names.

const ISSUER = 'http://127.0.0.1:3000';
const AUDIENCE = 'iar-pacs-gateway';
const TOLERANCE = 5;
/** A fixed "now" (whole second) for every test; only Date is faked. */
const NOW = Date.UTC(2030, 0, 15, 9, 0, 0);
const STUDY_A = '1.2.826.0.1.3680043.8.498.1';
const STUDY_B = '1.2.826.0.1.3680043.8.498.2';

interface Signer {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

async function makeSigner(kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

let trusted: Signer;
let rotatedIn: Signer;
let attacker: Signer;

const claims = (over: Partial<PacsTokenClaims> = {}): PacsTokenClaims => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  subject: 'clin.alice',
  jti: 'jti-0001',
  issuedAt: NOW - 60_000,
  expiresAt: NOW + 15 * 60_000,
  grantId: 'gr-0123456789abcdef',
  studyInstanceUids: [STUDY_A, STUDY_B],
  patientId: 'P-000123',
  purposeOfUse: 'TREAT',
  subjectRole: 'clinician',
  approvers: ['sup.carol', 'priv.dave'],
  ...over,
});

/** A token exactly as the API issues it. */
const issue = (over: Partial<PacsTokenClaims> = {}, signer: Signer = trusted) => signPacsToken(claims(over), { kid: signer.kid, key: signer.privateKey });

type Json = Record<string, unknown>;

/** Signs any header and payload with ES256, bypassing jose's own checks on what it signs (crit, b64, ...). */
async function signRaw(header: Json, payload: Json | string, key: CryptoKey): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** A real token re-signed by `signer` after `edit` changed its header or payload. */
async function reissue(edit: { header?: (h: Json) => void; payload?: (p: Json) => void }, signer: Signer = trusted): Promise<string> {
  const original = await issue();
  const header: Json = { ...decodeProtectedHeader(original) };
  const payload: Json = { ...decodeJwt(original) };
  edit.header?.(header);
  edit.payload?.(payload);
  return signRaw(header, payload, signer.privateKey);
}

const without =
  (...names: string[]) =>
  (o: Json) => {
    for (const name of names) delete o[name];
  };
const setting =
  (values: Json) =>
  (o: Json): void => {
    Object.assign(o, values);
  };

let keyLookups: number;
let extraKeys: JWK[];

function verifier(options: { jwks?: JWTVerifyGetKey } = {}) {
  // The JWKS the API would publish: its active key and the next one; lookups are counted so a
  // test can show a refusal came before any key was used.
  const local = createLocalJWKSet({ keys: [trusted.publicJwk, rotatedIn.publicJwk, ...extraKeys] });
  const jwks: JWTVerifyGetKey =
    options.jwks ??
    ((header, token) => {
      keyLookups += 1;
      return local(header, token);
    });
  return new TokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://127.0.0.1:1/never-fetched', clockToleranceSeconds: TOLERANCE, jwks });
}

const bearer = (token: string) => `Bearer ${token}`;

/** Asserts a Refusal with exactly this status and reason, and (optionally) a detail that names the check. */
async function refusalOf(promise: Promise<unknown>): Promise<Refusal> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok)
    throw new Error(`expected a refusal, but the token was accepted: ${JSON.stringify(outcome.value, (_k, v) => (v instanceof Set ? [...v] : v))}`);
  expect(outcome.error).toBeInstanceOf(Refusal);
  return outcome.error as Refusal;
}

async function expectRefused(authorization: string | undefined, reason: 'NO_TOKEN' | 'BAD_TOKEN', detail?: RegExp, v = verifier()): Promise<void> {
  const refusal = await refusalOf(v.verify(authorization));
  expect({ status: refusal.status, reason: refusal.reason }).toEqual({ status: 401, reason });
  if (detail) expect(refusal.message).toMatch(detail);
}

const NOT_A_JWT = /not a JWT/;
const NAMES_NO_KEY = /names no key \(kid\)/;
const ALG_NOT_ALLOWED = /\(ERR_JOSE_ALG_NOT_ALLOWED\)/;
const NO_MATCHING_KEY = /\(ERR_JWKS_NO_MATCHING_KEY\)/;
const BAD_SIGNATURE = /\(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/;
const CLAIM_FAILED = /\(ERR_JWT_CLAIM_VALIDATION_FAILED\)/;
const EXPIRED = /\(ERR_JWT_EXPIRED\)/;
const JWT_INVALID = /\(ERR_JWT_INVALID\)/;
const NO_GRANT_CLAIMS = /lacks the grant claims/;
const smuggled = (name: string) => new RegExp(`carries "${name}", which is never accepted`);

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW });
  keyLookups = 0;
  extraKeys = [];
  trusted ??= await makeSigner('key-2030-01');
  rotatedIn ??= await makeSigner('key-2030-02');
  attacker ??= await makeSigner('key-attacker');
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TokenVerifier accepts', () => {
  it('a token from the API signer and returns its grant', async () => {
    const verified = await verifier().verify(bearer(await issue()));
    expect(verified).toEqual({
      subject: 'clin.alice',
      jti: 'jti-0001',
      grantId: 'gr-0123456789abcdef',
      studies: new Set([STUDY_A, STUDY_B]),
      patientId: 'P-000123',
      purposeOfUse: 'TREAT',
      expiresAtMs: NOW + 15 * 60_000,
    });
    expect(keyLookups).toBe(1);
  });

  it('a token signed by the published next key (rotation never waits on a refetch)', async () => {
    const verified = await verifier().verify(bearer(await issue({}, rotatedIn)));
    expect(verified.grantId).toBe('gr-0123456789abcdef');
  });

  it('the forging helper’s unmodified re-signature (so every forgery below differs from a valid token in one way only)', async () => {
    const verified = await verifier().verify(bearer(await reissue({})));
    expect(verified.subject).toBe('clin.alice');
  });

  it('a token expired less than the clock tolerance ago', async () => {
    const token = await issue({ issuedAt: NOW - 10 * 60_000, expiresAt: NOW - (TOLERANCE - 1) * 1000 });
    await expect(verifier().verify(bearer(token))).resolves.toMatchObject({ jti: 'jti-0001' });
  });

  it('a token whose nbf is exactly the clock tolerance ahead', async () => {
    const token = await issue({ issuedAt: NOW + TOLERANCE * 1000 });
    await expect(verifier().verify(bearer(token))).resolves.toMatchObject({ jti: 'jti-0001' });
  });
});

describe('TokenVerifier cache', () => {
  it('returns the same verification for a repeated token without using a key again', async () => {
    const v = verifier();
    const token = await issue();
    const first = await v.verify(bearer(token));
    const second = await v.verify(bearer(token));
    expect(second).toBe(first);
    expect(keyLookups).toBe(1);
  });

  it('keeps a cached token through the clock tolerance after exp, then drops it and refuses it', async () => {
    const expiresAt = NOW + 60_000;
    const v = verifier();
    const token = await issue({ expiresAt });
    const first = await v.verify(bearer(token));

    vi.setSystemTime(expiresAt + (TOLERANCE - 1) * 1000);
    expect(await v.verify(bearer(token))).toBe(first);
    expect(keyLookups).toBe(1);

    vi.setSystemTime(expiresAt + TOLERANCE * 1000);
    await expectRefused(bearer(token), 'BAD_TOKEN', EXPIRED, v);
    // Dropped from the cache: the refusal came from a fresh verification.
    expect(keyLookups).toBe(2);
  });

  it('does not serve a tampered copy of a cached token', async () => {
    const v = verifier();
    const token = await issue();
    await v.verify(bearer(token));
    const [header, , signature] = token.split('.');
    const widened = { ...decodeJwt(token), study_instance_uids: [STUDY_A, STUDY_B, '1.2.3.4'] };
    await expectRefused(bearer(`${header}.${base64url.encode(JSON.stringify(widened))}.${signature}`), 'BAD_TOKEN', BAD_SIGNATURE, v);
  });

  it('does not serve a cached verification for the same header and payload under another signature', async () => {
    const v = verifier();
    const token = await issue();
    await v.verify(bearer(token));
    const [h, p] = token.split('.');
    const [, , forged] = (await issue({}, attacker)).split('.');
    await expectRefused(bearer(`${h}.${p}.${forged}`), 'BAD_TOKEN', BAD_SIGNATURE, v);
  });

  it('does not cache a refusal: a refused token is checked again each time', async () => {
    const v = verifier();
    const token = await issue({ issuer: 'http://evil.example' });
    await expectRefused(bearer(token), 'BAD_TOKEN', CLAIM_FAILED, v);
    await expectRefused(bearer(token), 'BAD_TOKEN', CLAIM_FAILED, v);
    expect(keyLookups).toBe(2);
  });
});

describe('TokenVerifier refuses the Authorization header', () => {
  it('when missing', () => expectRefused(undefined, 'NO_TOKEN'));
  it('when empty', () => expectRefused('', 'NO_TOKEN'));
  it('with another scheme (Basic, DPoP, lower-case bearer)', async () => {
    const token = await issue();
    await expectRefused('Basic dXNlcjpwYXNz', 'NO_TOKEN');
    await expectRefused(`DPoP ${token}`, 'NO_TOKEN');
    await expectRefused(`bearer ${token}`, 'NO_TOKEN');
    await expectRefused(token, 'NO_TOKEN');
  });
  it('with extra whitespace, a second token, or trailing junk', async () => {
    const token = await issue();
    await expectRefused(`Bearer  ${token}`, 'NO_TOKEN');
    await expectRefused(`Bearer ${token} `, 'NO_TOKEN');
    await expectRefused(`Bearer ${token}\n`, 'NO_TOKEN');
    await expectRefused(`Bearer ${token}, Bearer ${token}`, 'NO_TOKEN');
    await expectRefused(`Bearer ${token}.AAAA`, 'NO_TOKEN');
  });
  it('when the token is not three base64url parts (one part, JWE five parts, padding, standard base64)', async () => {
    await expectRefused('Bearer abc', 'NO_TOKEN');
    await expectRefused('Bearer a.b', 'NO_TOKEN');
    await expectRefused('Bearer a.b.c.d.e', 'NO_TOKEN');
    const [h, p, s] = (await issue()).split('.');
    await expectRefused(`Bearer ${h}.${p}.${s}=`, 'NO_TOKEN');
    await expectRefused(`Bearer ${h}.${p}.${s!.replace(/-/g, '+').replace(/_/g, '/')}+/`, 'NO_TOKEN');
  });
  it('with the signature stripped', async () => {
    const [h, p] = (await issue()).split('.');
    await expectRefused(`Bearer ${h}.${p}.`, 'NO_TOKEN');
    expect(keyLookups).toBe(0);
  });
  it('when the parts are not a JWT header', async () => {
    await expectRefused('Bearer abc.def.ghi', 'BAD_TOKEN', NOT_A_JWT);
    const payload = (await issue()).split('.')[1]!;
    await expectRefused(`Bearer ${base64url.encode('[1,2]')}.${payload}.AAAA`, 'BAD_TOKEN', NOT_A_JWT);
    await expectRefused(`Bearer ${base64url.encode('{"alg":"ES256",')}.${payload}.AAAA`, 'BAD_TOKEN', NOT_A_JWT);
    expect(keyLookups).toBe(0);
  });
  it('when the signed payload is not a JSON object', async () => {
    const header = decodeProtectedHeader(await issue());
    for (const payload of ['not json', '[1,2]', '"a string"', 'null'])
      await expectRefused(bearer(await signRaw(header, payload, trusted.privateKey)), 'BAD_TOKEN', JWT_INVALID);
  });
});

describe('TokenVerifier refuses the algorithm', () => {
  it('alg "none" with the signature left empty', async () => {
    const token = await reissue({ header: setting({ alg: 'none' }) });
    const [h, p] = token.split('.');
    await expectRefused(`Bearer ${h}.${p}.`, 'NO_TOKEN');
  });

  it('alg "none" with any signature', async () => {
    const token = await reissue({ header: setting({ alg: 'none' }) });
    await expectRefused(bearer(token), 'BAD_TOKEN', ALG_NOT_ALLOWED);
    expect(keyLookups).toBe(0);
  });

  it('HS256 keyed with the published public key (algorithm confusion)', async () => {
    const payload = new TextEncoder().encode(JSON.stringify(decodeJwt(await issue())));
    // The two ways a verifier might hold the public key as bytes: the JWKS entry and the PEM.
    const secrets = [new TextEncoder().encode(JSON.stringify(trusted.publicJwk)), new TextEncoder().encode(await exportSPKI(trusted.publicKey))];
    for (const secret of secrets) {
      const token = await new CompactSign(payload).setProtectedHeader({ alg: 'HS256', kid: trusted.kid, typ: 'at+jwt' }).sign(secret);
      await expectRefused(bearer(token), 'BAD_TOKEN', ALG_NOT_ALLOWED);
    }
    expect(keyLookups).toBe(0);
  });

  it.each([
    ['RS256', 'rsa'],
    ['PS256', 'rsa-pss'],
    ['ES384', 'p-384'],
    ['ES512', 'p-521'],
    ['EdDSA', 'ed25519'],
  ])('%s, even with its key in the JWKS', async (alg) => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${alg}`;
    extraKeys = [{ ...(await exportJWK(publicKey)), kid, alg }];
    const payload = new TextEncoder().encode(JSON.stringify(decodeJwt(await issue())));
    const token = await new CompactSign(payload).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(privateKey);
    await expectRefused(bearer(token), 'BAD_TOKEN', ALG_NOT_ALLOWED);
    expect(keyLookups).toBe(0);
  });

  it('a header with no alg', async () => {
    await expectRefused(bearer(await reissue({ header: without('alg') })), 'BAD_TOKEN', /\(ERR_JWS_INVALID\)/);
  });
});

describe('TokenVerifier refuses the key', () => {
  it('a valid signature by a key the JWKS does not hold (unknown kid)', async () => {
    await expectRefused(bearer(await issue({}, attacker)), 'BAD_TOKEN', NO_MATCHING_KEY);
  });

  it('a valid signature by another key under a published kid', async () => {
    const token = await signPacsToken(claims(), { kid: trusted.kid, key: attacker.privateKey });
    await expectRefused(bearer(token), 'BAD_TOKEN', BAD_SIGNATURE);
  });

  it('a token signed by the next key but naming the active key’s kid', async () => {
    const token = await signPacsToken(claims(), { kid: trusted.kid, key: rotatedIn.privateKey });
    await expectRefused(bearer(token), 'BAD_TOKEN', BAD_SIGNATURE);
  });

  it('a token with no kid', async () => {
    await expectRefused(bearer(await reissue({ header: without('kid') })), 'BAD_TOKEN', NAMES_NO_KEY);
    expect(keyLookups).toBe(0);
  });

  it('a kid that is not a string', async () => {
    await expectRefused(bearer(await reissue({ header: setting({ kid: 1 }) })), 'BAD_TOKEN', NAMES_NO_KEY);
    await expectRefused(bearer(await reissue({ header: setting({ kid: [trusted.kid] }) })), 'BAD_TOKEN', NAMES_NO_KEY);
    expect(keyLookups).toBe(0);
  });
});

describe('TokenVerifier refuses a header that names its own key, before any key is used', () => {
  // Each token is otherwise valid and signed by the trusted key: only the header parameter is wrong.
  const cases: Array<[string, () => Json]> = [
    ['jwk', () => ({ jwk: attacker.publicJwk })],
    ['jwk', () => ({ jwk: trusted.publicJwk })],
    ['jku', () => ({ jku: 'https://evil.example/jwks.json' })],
    ['x5u', () => ({ x5u: 'https://evil.example/cert.pem' })],
    ['x5c', () => ({ x5c: ['MIIBszCCAVmgAwIBAgIU'] })],
    ['crit', () => ({ crit: ['exp'] })],
    ['crit', () => ({ crit: [] })],
  ];
  it.each(cases)('%s', async (name, extra) => {
    await expectRefused(bearer(await reissue({ header: setting(extra()) })), 'BAD_TOKEN', smuggled(name));
    expect(keyLookups).toBe(0);
  });

  it('a jwk header on a token signed by that embedded key', async () => {
    const token = await reissue({ header: setting({ kid: attacker.kid, jwk: attacker.publicJwk }) }, attacker);
    await expectRefused(bearer(token), 'BAD_TOKEN', smuggled('jwk'));
    expect(keyLookups).toBe(0);
  });

  it('even when the parameter is null', async () => {
    await expectRefused(bearer(await reissue({ header: setting({ jku: null }) })), 'BAD_TOKEN', smuggled('jku'));
  });
});

describe('TokenVerifier refuses the type', () => {
  it.each([
    ['JWT', { typ: 'JWT' }],
    ['a principal assertion (iar-principal+jwt)', { typ: 'iar-principal+jwt' }],
    ['an ID token type (application/jwt)', { typ: 'application/jwt' }],
    ['a non-string typ', { typ: ['at+jwt'] }],
  ])('%s', async (_label, header) => {
    await expectRefused(bearer(await reissue({ header: setting(header) })), 'BAD_TOKEN', CLAIM_FAILED);
  });

  it('no typ at all', async () => {
    await expectRefused(bearer(await reissue({ header: without('typ') })), 'BAD_TOKEN', CLAIM_FAILED);
  });

  it('the API’s own login token (same key, typ at+jwt, audience iar-api)', async () => {
    const token = await reissue({ payload: setting({ aud: 'iar-api' }) });
    await expectRefused(bearer(token), 'BAD_TOKEN', CLAIM_FAILED);
  });
});

describe('TokenVerifier refuses the registered claims', () => {
  it('a wrong issuer', () => issue({ issuer: 'http://127.0.0.1:3001' }).then((t) => expectRefused(bearer(t), 'BAD_TOKEN', CLAIM_FAILED)));
  it('an issuer differing only in a trailing slash', () => issue({ issuer: `${ISSUER}/` }).then((t) => expectRefused(bearer(t), 'BAD_TOKEN', CLAIM_FAILED)));
  it('no issuer', async () => expectRefused(bearer(await reissue({ payload: without('iss') })), 'BAD_TOKEN', CLAIM_FAILED));
  it('a wrong audience', () => issue({ audience: 'iar-other-gateway' }).then((t) => expectRefused(bearer(t), 'BAD_TOKEN', CLAIM_FAILED)));
  it('an audience list without the gateway', async () =>
    expectRefused(bearer(await reissue({ payload: setting({ aud: ['iar-api', 'iar-other'] }) })), 'BAD_TOKEN', CLAIM_FAILED));
  it('no audience', async () => expectRefused(bearer(await reissue({ payload: without('aud') })), 'BAD_TOKEN', CLAIM_FAILED));

  it('a token expired exactly the clock tolerance ago', async () => {
    const token = await issue({ issuedAt: NOW - 10 * 60_000, expiresAt: NOW - TOLERANCE * 1000 });
    await expectRefused(bearer(token), 'BAD_TOKEN', EXPIRED);
  });
  it('a token expired long ago', async () => {
    const token = await issue({ issuedAt: NOW - 86_400_000, expiresAt: NOW - 3_600_000 });
    await expectRefused(bearer(token), 'BAD_TOKEN', EXPIRED);
  });
  it('a token not yet valid beyond the clock tolerance (nbf)', async () => {
    const token = await issue({ issuedAt: NOW + (TOLERANCE + 1) * 1000 });
    await expectRefused(bearer(token), 'BAD_TOKEN', CLAIM_FAILED);
  });
  it('an exp that is not a number', async () => {
    await expectRefused(bearer(await reissue({ payload: setting({ exp: String(NOW / 1000 + 900) }) })), 'BAD_TOKEN', CLAIM_FAILED);
  });

  it.each(['exp', 'nbf', 'iat', 'jti', 'sub'])('a token without %s', async (claim) => {
    await expectRefused(bearer(await reissue({ payload: without(claim) })), 'BAD_TOKEN', CLAIM_FAILED);
  });
});

describe('TokenVerifier refuses the grant claims', () => {
  const refusedPayload = (edit: (p: Json) => void) => async () => expectRefused(bearer(await reissue({ payload: edit })), 'BAD_TOKEN', NO_GRANT_CLAIMS);

  it('no grant_id', refusedPayload(without('grant_id')));
  it('an empty grant_id', refusedPayload(setting({ grant_id: '' })));
  it('a grant_id that is not a string', refusedPayload(setting({ grant_id: 42 })));
  it('no study_instance_uids', refusedPayload(without('study_instance_uids')));
  it('an empty study_instance_uids', refusedPayload(setting({ study_instance_uids: [] })));
  it('study_instance_uids as one string, not a list', refusedPayload(setting({ study_instance_uids: STUDY_A })));
  it('a study wildcard', refusedPayload(setting({ study_instance_uids: ['*'] })));
  it('a study pattern beside a real study', refusedPayload(setting({ study_instance_uids: [STUDY_A, '1.2.826.*'] })));
  it('a comma-joined study list in one entry', refusedPayload(setting({ study_instance_uids: [`${STUDY_A},${STUDY_B}`] })));
  it('a study UID with a leading zero', refusedPayload(setting({ study_instance_uids: ['1.2.03'] })));
  it('a study UID over 64 characters', refusedPayload(setting({ study_instance_uids: [`1.${'2'.repeat(63)}`] })));
  it('an empty study UID', refusedPayload(setting({ study_instance_uids: [''] })));
  it('no patient_id', refusedPayload(without('patient_id')));
  it('an empty patient_id', refusedPayload(setting({ patient_id: '' })));
  it('a patient_id over 64 characters', refusedPayload(setting({ patient_id: 'P'.repeat(65) })));
  it('no purpose_of_use', refusedPayload(without('purpose_of_use')));
  it('an empty sub', refusedPayload(setting({ sub: '' })));
  it('an empty jti', refusedPayload(setting({ jti: '' })));

  it('accepts the longest valid UID and patient id (the bounds above are the real ones)', async () => {
    const longest = `1.${'2'.repeat(62)}`;
    const token = await issue({ studyInstanceUids: [longest], patientId: 'P'.repeat(64) });
    const verified = await verifier().verify(bearer(token));
    expect([...verified.studies]).toEqual([longest]);
  });
});

describe('TokenVerifier refuses tampering', () => {
  it('a payload changed after signing (another study added)', async () => {
    const token = await issue();
    const [header, , signature] = token.split('.');
    const widened = { ...decodeJwt(token), study_instance_uids: [STUDY_A, STUDY_B, '1.2.3.4'] };
    await expectRefused(bearer(`${header}.${base64url.encode(JSON.stringify(widened))}.${signature}`), 'BAD_TOKEN', BAD_SIGNATURE);
  });

  it('a payload changed after signing (expiry extended)', async () => {
    const token = await issue();
    const [header, , signature] = token.split('.');
    const extended = { ...decodeJwt(token), exp: NOW / 1000 + 86_400 };
    await expectRefused(bearer(`${header}.${base64url.encode(JSON.stringify(extended))}.${signature}`), 'BAD_TOKEN', BAD_SIGNATURE);
  });

  it('a header changed after signing (kid switched to the next key)', async () => {
    const token = await issue();
    const [, payload, signature] = token.split('.');
    const header = { ...decodeProtectedHeader(token), kid: rotatedIn.kid };
    await expectRefused(bearer(`${base64url.encode(JSON.stringify(header))}.${payload}.${signature}`), 'BAD_TOKEN', BAD_SIGNATURE);
  });

  it('a signature taken from another valid token', async () => {
    const [h, p] = (await issue()).split('.');
    const [, , otherSignature] = (await issue({ jti: 'jti-0002' })).split('.');
    await expectRefused(bearer(`${h}.${p}.${otherSignature}`), 'BAD_TOKEN', BAD_SIGNATURE);
  });

  it('a truncated signature', async () => {
    const token = await issue();
    await expectRefused(bearer(token.slice(0, -4)), 'BAD_TOKEN', BAD_SIGNATURE);
  });
});
