import { randomUUID } from 'node:crypto';
import { CompactSign, compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { canonicalJson } from '../../contracts/canonical-json.js';
import type { Db } from '../../db/client.js';
import { SIGNING_ALG, type SigningKeyStore } from '../../tokens/signing-keys.js';

export const CHECKPOINT_TYP = 'iar-audit-checkpoint+jws';

export interface CheckpointClaims {
  seq: string;
  headHash: string;
  signedAt: string;
}

/** Signs the chain's current head, unless that head is already signed. Returns the checkpoint. */
export async function signCheckpoint(db: Db, keys: SigningKeyStore) {
  const head = await db.auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
  if (head.headSeq === 0n) return null;
  const existing = await db.auditCheckpoint.findUnique({ where: { seq: head.headSeq } });
  if (existing) return existing;
  const key = await keys.activeKey();
  const claims: CheckpointClaims = { seq: head.headSeq.toString(), headHash: head.headHash, signedAt: new Date().toISOString() };
  const jws = await new CompactSign(new TextEncoder().encode(canonicalJson(claims)))
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: CHECKPOINT_TYP })
    .sign(key.key);
  await db.auditCheckpoint.createMany({
    data: [{ id: randomUUID(), seq: head.headSeq, headHash: head.headHash, signedAt: new Date(claims.signedAt), kid: key.kid, jws }],
    skipDuplicates: true,
  });
  return db.auditCheckpoint.findUniqueOrThrow({ where: { seq: head.headSeq } });
}

/** Verifies a checkpoint's signature with public keys only. */
export async function verifyCheckpointJws(jws: string, keys: { keys: JWK[] }): Promise<CheckpointClaims> {
  const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(keys), { algorithms: [SIGNING_ALG] });
  if (protectedHeader.typ !== CHECKPOINT_TYP) throw new Error('not an audit checkpoint');
  return JSON.parse(new TextDecoder().decode(payload)) as CheckpointClaims;
}

export interface CheckpointVerification {
  ok: boolean;
  checked: number;
  firstBadSeq?: bigint;
  problem?: string;
}

/**
 * Every checkpoint must carry a valid signature and name the hash the chain holds at its
 * sequence number. A chain rewritten end to end (each hash recomputed, so its links hold)
 * fails here.
 */
export async function verifyCheckpoints(db: Pick<Db, 'auditCheckpoint' | 'auditEvent'>, keys: { keys: JWK[] }): Promise<CheckpointVerification> {
  const checkpoints = await db.auditCheckpoint.findMany({ orderBy: { seq: 'asc' } });
  for (const checkpoint of checkpoints) {
    let claims: CheckpointClaims;
    try {
      claims = await verifyCheckpointJws(checkpoint.jws, keys);
    } catch {
      return { ok: false, checked: 0, firstBadSeq: checkpoint.seq, problem: 'checkpoint signature does not verify' };
    }
    if (claims.seq !== checkpoint.seq.toString() || claims.headHash !== checkpoint.headHash) {
      return { ok: false, checked: 0, firstBadSeq: checkpoint.seq, problem: 'checkpoint row differs from what was signed' };
    }
    const event = await db.auditEvent.findUnique({ where: { seq: checkpoint.seq }, select: { hash: true } });
    if (!event || event.hash !== claims.headHash) {
      return { ok: false, checked: 0, firstBadSeq: checkpoint.seq, problem: 'the chain no longer holds the signed hash at this checkpoint' };
    }
  }
  return { ok: true, checked: checkpoints.length };
}

/**
 * Whether the chain's head is due for a checkpoint: it has moved past the newest one, and
 * either a case has closed since that checkpoint or `maxUnsignedMs` has passed since it.
 * Reads only, so that the worker can decide without holding a key; the newest checkpoint is
 * the only state, whoever signed it (the checkpoint workflow or an evidence export).
 */
export async function checkpointDue(db: Db, maxUnsignedMs: number, now = new Date()): Promise<boolean> {
  const [head, last] = await Promise.all([
    db.auditChainHead.findUniqueOrThrow({ where: { id: 1 } }),
    db.auditCheckpoint.findFirst({ orderBy: { seq: 'desc' } }),
  ]);
  if (head.headSeq === 0n || (last && last.seq >= head.headSeq)) return false;
  const since = last?.signedAt ?? new Date(0);
  if (now.getTime() - since.getTime() >= maxUnsignedMs) return true;
  return (await db.accessRequest.count({ where: { endedAt: { gt: since } } })) > 0;
}
