import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accessRequestId, requestHash } from '../../api/request-hash.js';
import { accessRequestInputSchema } from '../../api/schemas.js';
import { dicomUid } from '../../contracts/identifiers.js';
import { loadConfig } from '../../config/config.js';
import { seal, unseal } from '../../tokens/key-sealing.js';

const fields = {
  requester: 'clin.alice',
  requesterRole: 'clinician' as const,
  departmentId: 'radiology',
  studyInstanceUids: ['1.2.3'],
  patientId: 'P1',
  purposeOfUse: 'TREAT' as const,
  justification: 'follow-up imaging review',
  durationMinutes: 60,
};

describe('request hash', () => {
  it('is stable under key order and changes with any field', () => {
    const reordered = Object.fromEntries(Object.entries(fields).reverse()) as typeof fields;
    expect(requestHash(reordered)).toBe(requestHash(fields));
    expect(requestHash({ ...fields, durationMinutes: 61 })).not.toBe(requestHash(fields));
    expect(requestHash({ ...fields, studyInstanceUids: ['1.2.4'] })).not.toBe(requestHash(fields));
    expect(requestHash(fields)).toMatch(/^[0-9a-f]{64}$/);
  });
  it('ids: the same idempotency key and requester give the same id; anything else does not', () => {
    const random = () => crypto.randomUUID();
    expect(accessRequestId('a', 'key-00001', random)).toBe(accessRequestId('a', 'key-00001', random));
    expect(accessRequestId('b', 'key-00001', random)).not.toBe(accessRequestId('a', 'key-00001', random));
    expect(accessRequestId('a', undefined, random)).not.toBe(accessRequestId('a', undefined, random));
  });
});

describe('DICOM UIDs', () => {
  it.each(['1.2.840.10008.1.2', '2.25.329800735698586629295641978511506172918', '0.1'])('accepts %s', (uid) =>
    expect(dicomUid.safeParse(uid).success).toBe(true),
  );
  it.each(['1', '1.2.', '.1.2', '1..2', '1.02', '1.2.a', '1.2 ', '1.' + '9'.repeat(63), '1.2.3\\1.2.4', '*'])('refuses %j', (uid) =>
    expect(dicomUid.safeParse(uid).success).toBe(false),
  );
  it('caps the duration at the policy maximum', () => {
    const schema = accessRequestInputSchema(120);
    const base = { studyInstanceUids: ['1.2.3'], patientId: 'P', purposeOfUse: 'TREAT', justification: 'a justification' };
    expect(schema.safeParse({ ...base, durationMinutes: 120 }).success).toBe(true);
    expect(schema.safeParse({ ...base, durationMinutes: 121 }).success).toBe(false);
  });
});

describe('key sealing', () => {
  it('round-trips, and refuses a wrong key, a wrong kid, or a changed byte', () => {
    const kek = randomBytes(32);
    const sealed = seal('secret pkcs8', kek, 'kid-1');
    expect(unseal(sealed, kek, 'kid-1')).toBe('secret pkcs8');
    expect(() => unseal(sealed, randomBytes(32), 'kid-1')).toThrow();
    expect(() => unseal(sealed, kek, 'kid-2')).toThrow();
    const parts = sealed.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[0]! ^= 1;
    expect(() => unseal([parts[0], parts[1], body.toString('base64url'), parts[3]].join('.'), kek, 'kid-1')).toThrow();
  });
});

describe('configuration fails closed', () => {
  const base = { DATABASE_URL: 'postgresql://u@127.0.0.1/db', KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  it('refuses to start with no way to authenticate callers', () => {
    expect(() => loadConfig(base)).toThrow(/No way to authenticate/);
  });
  it('turns dev login off whenever an issuer is configured', () => {
    const config = loadConfig({
      ...base,
      DEV_LOGIN: 'true',
      OIDC_ISSUER: 'https://idp.example',
      OIDC_JWKS_URL: 'https://idp.example/jwks',
      OIDC_AUDIENCE: 'iar',
    });
    expect(config.auth.kind).toBe('oidc');
  });
  it('needs a 32-byte key-encryption key', () => {
    expect(() => loadConfig({ ...base, DEV_LOGIN: 'true', KEY_ENCRYPTION_KEY: randomBytes(16).toString('base64') })).toThrow(/32 bytes/);
    expect(() => loadConfig({ DATABASE_URL: base.DATABASE_URL, DEV_LOGIN: 'true' })).toThrow(/KEY_ENCRYPTION_KEY/);
  });
  it('defaults to the documented policy', () => {
    const config = loadConfig({ ...base, DEV_LOGIN: 'true' });
    expect(config.policy).toMatchObject({ approvalsRequired: 2, requireDistinctRoles: true, reviewWindowMs: 24 * 3600_000, maxDurationMinutes: 480 });
    expect(config.tokens.ttlSeconds).toBe(300);
  });
});
