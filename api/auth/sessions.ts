import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';

// Signing out ends a session for every API process: the token is refused from then on, not
// only forgotten by the tab that held it. A row outlives its token by the verifiers' clock
// tolerance; after that the verifier refuses the token anyway, and the row is swept.

export interface SessionRef {
  /** SHA-256 of the token's signed part, hex: the token itself is never stored. */
  digest: string;
  expiresAt: Date;
}

/** The longest clock tolerance any verifier of sign-in tokens allows (OIDC: 30 s). */
const LONGEST_CLOCK_TOLERANCE_MS = 60_000;

/**
 * The session a verified token belongs to. Keyed by `header.payload`, which the signature
 * covers byte for byte: the signature's last base64url character has spare bits a decoder
 * ignores, so the whole string could be re-spelt into a new digest that still verifies.
 */
export function sessionOf(token: string, exp: number): SessionRef {
  const signed = token.slice(0, token.lastIndexOf('.'));
  return { digest: createHash('sha256').update(signed).digest('hex'), expiresAt: new Date(exp * 1000) };
}

export async function endSession(db: Db, session: SessionRef): Promise<void> {
  // Not upsert: Prisma runs it as select-then-insert, and two tabs signing out at once would race.
  await db.endedSession.createMany({ data: [{ tokenDigest: session.digest, expiresAt: session.expiresAt }], skipDuplicates: true });
  await db.endedSession.deleteMany({ where: { expiresAt: { lt: new Date(Date.now() - LONGEST_CLOCK_TOLERANCE_MS) } } });
}

export async function isSessionEnded(db: Db, session: SessionRef): Promise<boolean> {
  return (await db.endedSession.count({ where: { tokenDigest: session.digest } })) > 0;
}
