import { randomUUID } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK, type CryptoKey } from 'jose';
import { inTransaction, type Db } from '../db/client.js';
import { seal, unseal } from './key-sealing.js';

/**
 * ES256 (ECDSA P-256): the algorithm that DICOMweb viewers, PACS gateways and FIPS-validated
 * crypto modules all accept, with small keys and signatures; EdDSA verifies at a similar
 * speed here but is still missing from several JOSE stacks a hospital may put in front.
 */
export const SIGNING_ALG = 'ES256';

/** How long a process may keep using a key it read before it looks again. */
const CACHE_MS = 30_000;
const CLOCK_SKEW_MS = 60_000;

export interface ActiveKey {
  kid: string;
  key: CryptoKey;
}

/**
 * Signing keys shared by every API process through the database. A key signs until it is
 * rotated, and stays in the JWKS until every token it can have signed has expired.
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

  /** Retires the current key and makes a new one; safe to call from several processes at once. */
  async rotate(options: { force?: boolean } = {}): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(7321001)`;
      const now = new Date();
      const current = await tx.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
      const due = !current || now.getTime() - current.createdAt.getTime() >= this.options.rotationDays * 86_400_000;
      if (!options.force && !due) return;
      if (current) {
        // A process may sign with its cached copy for CACHE_MS after this, and each token
        // lives at most longestTokenSeconds.
        const unpublishAfter = new Date(now.getTime() + CACHE_MS + this.options.longestTokenSeconds * 1000 + CLOCK_SKEW_MS);
        await tx.signingKey.update({ where: { kid: current.kid }, data: { retiredAt: now, unpublishAfter } });
      }
      const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
      const kid = `${now.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
      await tx.signingKey.create({
        data: { kid, alg: SIGNING_ALG, publicJwk, sealedPrivateKey: seal(await exportPKCS8(privateKey), this.kek, kid), createdAt: now },
      });
    });
    this.cached = undefined;
  }

  private async load(): Promise<{ active: ActiveKey; jwks: JWK[] }> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached;
    let current = await this.db.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
    if (!current || Date.now() - current.createdAt.getTime() >= this.options.rotationDays * 86_400_000) {
      await this.rotate();
      current = await this.db.signingKey.findFirst({ where: { retiredAt: null }, orderBy: { createdAt: 'desc' } });
    }
    if (!current) throw new Error('no signing key after rotation');
    const published = await this.db.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { unpublishAfter: { gt: new Date() } }] },
      orderBy: { createdAt: 'desc' },
    });
    const key = await importPKCS8(unseal(current.sealedPrivateKey, this.kek, current.kid), SIGNING_ALG);
    this.cached = { at: Date.now(), active: { kid: current.kid, key }, jwks: published.map((k) => k.publicJwk as JWK) };
    return this.cached;
  }
}
