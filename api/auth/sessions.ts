import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';

// Signing out ends a session for every API process: the token is refused from then on, not
// only forgotten by the tab that held it. Rows outlive their token by nothing: once it has
// expired the verifier refuses it anyway, and the row is swept.

export interface SessionRef {
  /** SHA-256 of the bearer token, hex: the token itself is never stored. */
  digest: string;
  expiresAt: Date;
}

/** A token without an expiry (some issuers' choice) is remembered this long after sign-out. */
const NO_EXPIRY_KEEP_MS = 24 * 60 * 60_000;

export function sessionOf(token: string, exp: number | undefined): SessionRef {
  return {
    digest: createHash('sha256').update(token).digest('hex'),
    expiresAt: new Date(exp === undefined ? Date.now() + NO_EXPIRY_KEEP_MS : exp * 1000),
  };
}

export async function endSession(db: Db, session: SessionRef): Promise<void> {
  await db.endedSession.upsert({ where: { tokenDigest: session.digest }, create: { tokenDigest: session.digest, expiresAt: session.expiresAt }, update: {} });
  await db.endedSession.deleteMany({ where: { expiresAt: { lt: new Date() } } });
}

export async function isSessionEnded(db: Db, session: SessionRef): Promise<boolean> {
  return (await db.endedSession.count({ where: { tokenDigest: session.digest } })) > 0;
}
