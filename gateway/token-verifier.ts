import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { bearerJwt } from '../contracts/bearer-token.js';
import { SELF_KEYED_HEADERS } from '../contracts/jose-headers.js';
import { PACS_TOKEN_ALGORITHMS, PACS_TOKEN_REQUIRED_CLAIMS, PACS_TOKEN_TYPE, pacsTokenGrant } from '../contracts/pacs-token.js';
import { Refusal } from './refusal.js';

const MAX_CACHED = 10_000;

export interface VerifiedToken {
  subject: string;
  jti: string;
  grantId: string;
  studies: ReadonlySet<string>;
  /** Checked against the PACS for every study served; never logged. */
  patientId: string;
  purposeOfUse: string;
  expiresAtMs: number;
}

/**
 * Verifies PACS tokens against the API's JWKS. A verified token is kept until its `exp`, so
 * a study's hundreds of frame requests pay for one signature check; the cache is keyed by
 * the token's SHA-256, never the token.
 */
export class TokenVerifier {
  private readonly jwks: JWTVerifyGetKey;
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(private readonly options: { issuer: string; audience: string; jwksUrl: string; clockToleranceSeconds: number; jwks?: JWTVerifyGetKey }) {
    // An unknown kid makes jose refetch the JWKS, at most once per cooldown.
    this.jwks = options.jwks ?? createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: 10_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 3_000 });
  }

  async verify(authorization: string | undefined): Promise<VerifiedToken> {
    const token = bearerJwt(authorization);
    if (!token) throw new Refusal(401, 'NO_TOKEN', 'Send the PACS token as `Authorization: Bearer <token>`.');
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(key);
    if (cached) {
      if (Date.now() < cached.expiresAtMs + this.options.clockToleranceSeconds * 1000) return cached;
      this.cache.delete(key);
    }
    const verified = await this.verifyFresh(token);
    if (this.cache.size >= MAX_CACHED) this.evictExpired();
    if (this.cache.size < MAX_CACHED) this.cache.set(key, verified);
    return verified;
  }

  private async verifyFresh(token: string): Promise<VerifiedToken> {
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new Refusal(401, 'BAD_TOKEN', 'The token is not a JWT.');
    }
    const smuggled = SELF_KEYED_HEADERS.find((h) => h in header);
    if (smuggled) throw new Refusal(401, 'BAD_TOKEN', `The token's header carries "${smuggled}", which is never accepted.`);
    if (typeof header.kid !== 'string') throw new Refusal(401, 'BAD_TOKEN', 'The token names no key (kid).');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...PACS_TOKEN_ALGORITHMS],
        typ: PACS_TOKEN_TYPE,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: [...PACS_TOKEN_REQUIRED_CLAIMS],
      }));
    } catch (error) {
      throw new Refusal(401, 'BAD_TOKEN', `The token was refused (${(error as { code?: string }).code ?? 'ERR_JWT_INVALID'}).`);
    }
    const grant = pacsTokenGrant(payload);
    if (!grant) throw new Refusal(401, 'BAD_TOKEN', 'The token lacks the grant claims.');
    return {
      subject: grant.subject,
      jti: grant.jti,
      grantId: grant.grantId,
      studies: new Set(grant.studyInstanceUids),
      patientId: grant.patientId,
      purposeOfUse: grant.purposeOfUse,
      expiresAtMs: grant.expiresAt,
    };
  }

  private evictExpired(): void {
    const now = Date.now();
    for (const [key, value] of this.cache) if (value.expiresAtMs < now) this.cache.delete(key);
  }
}
