import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from '../../domain/access-request.js';
import type { AppConfig } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import type { SigningKeyStore } from '../../tokens/signing-keys.js';
import { SIGNING_ALG } from '../../tokens/signing-keys.js';
import { Problem } from '../problem.js';
import { bearerJwt } from '../../contracts/bearer-token.js';
import { usernameSchema } from '../../contracts/identifiers.js';
import { knownRoles } from '../../contracts/role-claim.js';
import { resolvePrincipal } from './principal.js';
import { isSessionEnded, sessionOf, type SessionRef } from './sessions.js';

/** Audience of the API's own dev-login tokens; never the gateway's. */
export const API_AUDIENCE = 'iar-api';
/** What identity providers sign with: theirs to choose, unlike this product's own tokens (contracts/pacs-token.ts). */
const OIDC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export interface Authenticated {
  principal: Principal;
  session: SessionRef;
}

export type Authenticator = (authorization: string | undefined) => Promise<Authenticated>;

/** RFC 6750 §3: no error code when no token came; invalid_token when one came and was refused. */
function unauthorized(detail: string, tokenSent: boolean): Problem {
  const challenge = tokenSent ? 'Bearer error="invalid_token"' : 'Bearer';
  return new Problem(401, 'Unauthenticated', detail, {}, { 'WWW-Authenticate': challenge });
}

function bearer(authorization: string | undefined): string {
  const token = bearerJwt(authorization);
  if (!token) throw unauthorized('Send a bearer token in the Authorization header.', /^Bearer\s/i.test(authorization ?? ''));
  return token;
}

/** Verifies API callers' bearer tokens: from the configured OIDC issuer, or from dev login. */
export function createAuthenticator(config: AppConfig, db: Db, keys: SigningKeyStore): Authenticator {
  let verify: (token: string) => Promise<{ payload: JWTPayload; username: string; roles: unknown }>;
  if (config.auth.kind === 'oidc') {
    const oidc = config.auth.oidc;
    const jwks = createRemoteJWKSet(new URL(oidc.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
    verify = async (token) => {
      // An expiry is required: a token that never expires could not be signed out for good.
      const { payload } = await jwtVerify(token, jwks, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: OIDC_ALGORITHMS,
        clockTolerance: 30,
        requiredClaims: ['exp'],
      });
      return { payload, username: String(payload[oidc.usernameClaim] ?? payload.sub ?? ''), roles: payload[oidc.rolesClaim] };
    };
  } else {
    verify = async (token) => {
      const jwks = createLocalJWKSet(await keys.jwks());
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.tokens.issuer,
        audience: API_AUDIENCE,
        algorithms: [SIGNING_ALG],
        clockTolerance: 5,
        requiredClaims: ['exp'],
      });
      return { payload, username: String(payload.sub ?? ''), roles: payload.roles };
    };
  }
  return async (authorization) => {
    const token = bearer(authorization);
    let verified: Awaited<ReturnType<typeof verify>>;
    try {
      verified = await verify(token);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_JWT_INVALID';
      throw unauthorized(`The bearer token was refused (${code}).`, true);
    }
    if (!usernameSchema.safeParse(verified.username).success) throw unauthorized('The token names no usable user.', true);
    const session = sessionOf(token, verified.payload.exp!);
    const [principal, ended] = await Promise.all([resolvePrincipal(db, verified.username, knownRoles(verified.roles)), isSessionEnded(db, session)]);
    if (ended) throw unauthorized('This session was signed out; sign in again.', true);
    return { principal, session };
  };
}
