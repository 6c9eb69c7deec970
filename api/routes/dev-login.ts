import { Router } from 'express';
import { SignJWT } from 'jose';
import type { AppConfig } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import { takeRateLimit } from '../../db/rate-limit.js';
import { SIGNING_ALG, type SigningKeyStore } from '../../tokens/signing-keys.js';
import { API_AUDIENCE } from '../auth/authenticator.js';
import { knownRoles } from '../../contracts/role-claim.js';
import { parseOr400, Problem } from '../problem.js';
import { devLoginSchema } from '../schemas.js';

export const DEV_LOGIN_TOKEN_SECONDS = 3600;

/**
 * A password-less login for the seeded demo users of the embedded default. It exists only
 * when no OIDC issuer is configured and DEV_LOGIN is set (see config.ts).
 */
export function devLoginRoutes(config: AppConfig, db: Db, keys: SigningKeyStore): Router {
  const router = Router();
  router.post('/auth/dev-login', async (req, res) => {
    if (config.auth.kind !== 'dev-login') throw new Problem(404, 'Not found', 'Dev login is off: this API uses an OIDC issuer.');
    const { username } = parseOr400(devLoginSchema, req.body);
    await takeRateLimit(db, 'dev logins', username, config.rateLimits.devLoginPerMinute);
    const user = await db.user.findUnique({ where: { username } });
    if (!user) throw new Problem(401, 'Unauthenticated', `No seeded user ${username}.`);
    const key = await keys.activeKey();
    const token = await new SignJWT({ roles: knownRoles(user.roles), name: user.displayName })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(config.tokens.issuer)
      .setAudience(API_AUDIENCE)
      .setSubject(user.username)
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .setExpirationTime(`${DEV_LOGIN_TOKEN_SECONDS}s`)
      .sign(key.key);
    res.set('Cache-Control', 'no-store').json({ access_token: token, token_type: 'Bearer', expires_in: DEV_LOGIN_TOKEN_SECONDS });
  });
  return router;
}
