import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { dicomUid } from '../contracts/identifiers.js';
import { Refusal } from './refusal.js';

/** The only algorithm the API signs with; anything else is refused before any key is used. */
const ALGORITHMS = ['ES256'];
/** Header parameters that would let a token name its own key. */
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'];
const MAX_CACHED = 10_000;

const claimsSchema = z.object({
  sub: z.string().min(1),
  jti: z.string().min(1),
  exp: z.number(),
  grant_id: z.string().min(1),
  study_instance_uids: z.array(dicomUid).min(1),
  /** The patient every granted study belongs to, as the PACS confirmed at submission. */
  patient_id: z.string().min(1).max(64),
  purpose_of_use: z.string(),
});

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
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '');
    if (!match) throw new Refusal(401, 'NO_TOKEN', 'Send the PACS token as `Authorization: Bearer <token>`.');
    const token = match[1]!;
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
    const smuggled = FORBIDDEN_HEADERS.find((h) => h in header);
    if (smuggled) throw new Refusal(401, 'BAD_TOKEN', `The token's header carries "${smuggled}", which is never accepted.`);
    if (typeof header.kid !== 'string') throw new Refusal(401, 'BAD_TOKEN', 'The token names no key (kid).');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        typ: 'at+jwt',
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp', 'nbf', 'iat', 'jti', 'sub'],
      }));
    } catch (error) {
      throw new Refusal(401, 'BAD_TOKEN', `The token was refused (${(error as { code?: string }).code ?? 'ERR_JWT_INVALID'}).`);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new Refusal(401, 'BAD_TOKEN', 'The token lacks the grant claims.');
    return {
      subject: claims.data.sub,
      jti: claims.data.jti,
      grantId: claims.data.grant_id,
      studies: new Set(claims.data.study_instance_uids),
      patientId: claims.data.patient_id,
      purposeOfUse: claims.data.purpose_of_use,
      expiresAtMs: claims.data.exp * 1000,
    };
  }

  private evictExpired(): void {
    const now = Date.now();
    for (const [key, value] of this.cache) if (value.expiresAtMs < now) this.cache.delete(key);
  }
}
