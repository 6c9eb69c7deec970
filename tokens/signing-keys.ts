import { randomUUID } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK, type CryptoKey } from 'jose';
import { PACS_TOKEN_ALGORITHM } from '../contracts/pacs-token.js';
import { inTransaction, type Db, type DbTransaction } from '../db/client.js';
import { seal, unseal } from './key-sealing.js';

/** Keys are made for the PACS token, the signature that leaves the house; everything else the API signs uses them too. */
export const SIGNING_ALG = PACS_TOKEN_ALGORITHM;

/** How long a process may keep using a key it read before it looks again. */
const CACHE_MS = 30_000;
const CLOCK_SKEW_MS = 60_000;

export interface ActiveKey {
  kid: string;
  key: CryptoKey;
}

/**
 * Signing keys shared by every API process through the database. Two are unretired at any
 * time: the active key, which signs, and the next key, published beside it for a whole
 * rotation period before it signs, so that every verifier holding a cached JWKS already
 * knows it on the day it takes over. A retired key stays published until every token it
 * can have signed has expired.
 */
export class SigningKeyStore {
  private cached?: { at: number; active: ActiveKey; jwks: JWK[] };

  constructor(
    private readonly db: Db,
    private readonly kek: Buffer,
    private readonly options: { rotationDays: number; longestTokenSeconds: number },
  ) {}

  async activeKey(): Promise<ActiveKey> {
    return (await this.load()).active;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.load()).jwks };
  }

  /**
   * Every public key this system has ever signed with, retired ones included: what an
   * auditor needs to verify a checkpoint or evidence bundle years later. Token verifiers
   * use jwks() instead, which drops keys whose tokens have all expired.
   */
  async auditKeys(): Promise<{ keys: JWK[] }> {
    await this.load();
    const all = await this.db.signingKey.findMany({ orderBy: { createdAt: 'asc' } });
    return { keys: all.map((k) => k.publicJwk as JWK) };
  }

  /**
   * Retires the active key, promotes the next one and publishes a new next key. Without
   * `force`, only when the active key is due (or missing). Safe from several processes.
   */
  async rotate(options: { force?: boolean } = {}): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(7321001)`;
      const now = new Date();
      const unretired = await tx.signingKey.findMany({ where: { retiredAt: null }, orderBy: { createdAt: 'asc' } });
      const active = unretired.find((k) => k.activatedAt !== null);
      let next = unretired.find((k) => k.activatedAt === null);
      const due = !active || now.getTime() - active.activatedAt!.getTime() >= this.options.rotationDays * 86_400_000;
      if (active && !due && !options.force) {
        if (!next) await this.create(tx, now, null);
        return;
      }
      if (active) {
        // A process may sign with its cached copy for CACHE_MS after this, and each token
        // lives at most longestTokenSeconds.
        const unpublishAfter = new Date(now.getTime() + CACHE_MS + this.options.longestTokenSeconds * 1000 + CLOCK_SKEW_MS);
        await tx.signingKey.update({ where: { kid: active.kid }, data: { retiredAt: now, unpublishAfter } });
      }
      if (next) await tx.signingKey.update({ where: { kid: next.kid }, data: { activatedAt: now } });
      else next = await this.create(tx, now, now);
      await this.create(tx, now, null);
    });
    this.cached = undefined;
  }

  private async create(tx: DbTransaction, now: Date, activatedAt: Date | null) {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = `${now.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    return tx.signingKey.create({
      data: { kid, alg: SIGNING_ALG, publicJwk, sealedPrivateKey: seal(await exportPKCS8(privateKey), this.kek, kid), createdAt: now, activatedAt },
    });
  }

  private activeRow() {
    return this.db.signingKey.findFirst({ where: { retiredAt: null, activatedAt: { not: null } }, orderBy: { activatedAt: 'desc' } });
  }

  private async load(): Promise<{ active: ActiveKey; jwks: JWK[] }> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached;
    let current = await this.activeRow();
    const hasNext = (await this.db.signingKey.count({ where: { retiredAt: null, activatedAt: null } })) > 0;
    if (!current || !hasNext || Date.now() - current.activatedAt!.getTime() >= this.options.rotationDays * 86_400_000) {
      await this.rotate();
      current = await this.activeRow();
    }
    if (!current) throw new Error('no signing key after rotation');
    const jwks = await publishedPublicKeys(this.db);
    const key = await importPKCS8(unseal(current.sealedPrivateKey, this.kek, current.kid), SIGNING_ALG);
    this.cached = { at: Date.now(), active: { kid: current.kid, key }, jwks };
    return this.cached;
  }
}

/**
 * The public keys verifiers may trust now: every key not retired, and retired ones until
 * the last token they can have signed has expired. Needs no key-encryption key.
 */
export async function publishedPublicKeys(db: Db): Promise<JWK[]> {
  const published = await db.signingKey.findMany({
    where: { OR: [{ retiredAt: null }, { unpublishAfter: { gt: new Date() } }] },
    orderBy: { createdAt: 'desc' },
  });
  return published.map((k) => k.publicJwk as JWK);
}
