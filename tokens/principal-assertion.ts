import { createHash, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWK } from 'jose';
import { z } from 'zod';
import { canonicalJson } from '../contracts/canonical-json.js';
import { SELF_KEYED_HEADERS } from '../contracts/jose-headers.js';
import { ROLES, type Principal } from '../domain/access-request.js';
import {
  ASSERTION_AUDIENCE,
  ASSERTION_ISSUER,
  ASSERTION_LIFETIME_SECONDS,
  ASSERTION_TYPE,
  type AssertionCheck,
  type AssertionSubject,
} from '../contracts/principal-assertion.js';
import { SIGNING_ALG, type ActiveKey } from './signing-keys.js';

// Temporal's frontend does not know who sends a message, so a message counts only with the
// API's signed word for who sent it: this principal, this action on this request, with
// exactly this body, for a few minutes. Its own type and audience keep it from ever being
// taken for a PACS token or an API login, and the other way round.

/** Binds an assertion to one message. */
function assertionDigest(subject: AssertionSubject): string {
  return createHash('sha256')
    .update(canonicalJson({ ar: subject.accessRequestId, act: subject.action, body: subject.body }))
    .digest('base64url');
}

/** What an assertion says besides the registered claims: exported for tests that craft their own. */
export function assertionClaims(principal: Principal, subject: AssertionSubject) {
  return {
    roles: principal.roles,
    department_id: principal.departmentId ?? null,
    reviews_for: principal.reviewsForDepartments,
    ar: subject.accessRequestId,
    act: subject.action,
    dig: assertionDigest(subject),
  };
}

export async function signPrincipalAssertion(key: ActiveKey, principal: Principal, subject: AssertionSubject): Promise<string> {
  return new SignJWT(assertionClaims(principal, subject))
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: ASSERTION_TYPE })
    .setIssuer(ASSERTION_ISSUER)
    .setAudience(ASSERTION_AUDIENCE)
    .setSubject(principal.username)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ASSERTION_LIFETIME_SECONDS}s`)
    .sign(key.key);
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  jti: z.string().min(1),
  roles: z.array(z.enum(ROLES)),
  department_id: z.string().nullable(),
  reviews_for: z.array(z.string()),
  ar: z.string(),
  act: z.string(),
  dig: z.string(),
});

/** Checks an assertion against the API's published public keys and the message it came with. */
export async function verifyPrincipalAssertion(keys: JWK[], assertion: string | undefined, expected: AssertionSubject): Promise<AssertionCheck> {
  if (!assertion) return { ok: false, reason: 'ASSERTION_MISSING', detail: 'The message carries no assertion from the API.' };
  let payload: unknown;
  try {
    const header = decodeProtectedHeader(assertion);
    if (SELF_KEYED_HEADERS.some((name) => name in header)) throw new Error('the header names its own key');
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet({ keys }), {
      algorithms: [SIGNING_ALG],
      issuer: ASSERTION_ISSUER,
      audience: ASSERTION_AUDIENCE,
      typ: ASSERTION_TYPE,
      maxTokenAge: `${ASSERTION_LIFETIME_SECONDS}s`,
      // API and worker clocks may differ; the key store allows the same.
      clockTolerance: 60,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'ASSERTION_EXPIRED', detail: 'The assertion has expired.' };
    return { ok: false, reason: 'ASSERTION_INVALID', detail: 'The assertion is not signed by the API.' };
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) return { ok: false, reason: 'ASSERTION_INVALID', detail: 'The assertion’s claims are malformed.' };
  const c = claims.data;
  if (c.ar !== expected.accessRequestId || c.act !== expected.action || c.dig !== assertionDigest(expected)) {
    return { ok: false, reason: 'ASSERTION_MISMATCH', detail: 'The assertion was made for another request, action or message.' };
  }
  return {
    ok: true,
    jti: c.jti,
    principal: {
      username: c.sub,
      roles: c.roles,
      ...(c.department_id === null ? {} : { departmentId: c.department_id }),
      reviewsForDepartments: c.reviews_for,
    },
  };
}
