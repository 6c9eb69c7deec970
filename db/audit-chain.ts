import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson } from '../contracts/canonical-json.js';
import { chainEventJson, type ChainEvent } from '../contracts/chain-event.js';
import type { Db, DbTransaction } from './client.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEventInput {
  /** Makes a retried write a no-op: the same logical event always has the same key. */
  dedupeKey: string;
  type: string;
  actor: string;
  accessRequestId?: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/**
 * The hash of one event: SHA-256 over the previous hash and the RFC 8785 canonical JSON of
 * the event, its sequence number included, so that a changed, removed, inserted or
 * reordered event breaks every link after it.
 */
export function eventHash(prevHash: string, event: ChainEvent): string {
  const body = canonicalJson(chainEventJson(event));
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * Appends one event to the chain inside the caller's transaction. The chain head row is
 * locked for the rest of the transaction, so appenders in any number of processes form a
 * single chain. Returns false when the event was already recorded.
 */
export async function appendAuditEvent(tx: DbTransaction, input: AuditEventInput): Promise<boolean> {
  const existing = await tx.auditEvent.findUnique({ where: { dedupeKey: input.dedupeKey }, select: { seq: true } });
  if (existing) return false;
  const [head] = await tx.$queryRaw<{ head_hash: string; head_seq: bigint }[]>`
    SELECT head_hash, head_seq FROM audit_chain_head WHERE id = 1 FOR UPDATE`;
  if (!head) throw new Error('audit_chain_head is missing: the database was not migrated');
  const fields: ChainEvent = {
    seq: BigInt(head.head_seq) + 1n,
    id: randomUUID(),
    type: input.type,
    actor: input.actor,
    accessRequestId: input.accessRequestId ?? null,
    payload: input.payload,
    occurredAt: input.occurredAt,
  };
  const hash = eventHash(head.head_hash, fields);
  await tx.auditEvent.create({
    data: {
      seq: fields.seq,
      id: fields.id,
      dedupeKey: input.dedupeKey,
      type: fields.type,
      actor: fields.actor,
      accessRequestId: fields.accessRequestId,
      payload: input.payload as object,
      occurredAt: fields.occurredAt,
      prevHash: head.head_hash,
      hash,
    },
  });
  await tx.auditChainHead.update({ where: { id: 1 }, data: { headHash: hash, headSeq: fields.seq } });
  return true;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  /** The first event whose link does not hold. */
  firstBadSeq?: bigint;
  problem?: string;
}

type ChainReader = Pick<DbTransaction, 'auditEvent' | 'auditChainHead'>;

/**
 * Walks the chain from the genesis hash and checks the head. Given the client, it reads one
 * snapshot (REPEATABLE READ, read only), so events other processes append meanwhile are
 * neither half seen nor taken for a break; given a transaction, it reads what that sees.
 */
export async function verifyAuditChain(db: ChainReader | Db): Promise<ChainVerification> {
  if ('$transaction' in db) {
    return db.$transaction((tx) => walkChain(tx), { isolationLevel: 'RepeatableRead', maxWait: 20_000, timeout: 600_000 });
  }
  return walkChain(db);
}

async function walkChain(tx: ChainReader): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1n;
  let checked = 0;
  let cursor: bigint | undefined;
  for (;;) {
    const page = await tx.auditEvent.findMany({
      where: cursor === undefined ? {} : { seq: { gt: cursor } },
      orderBy: { seq: 'asc' },
      take: 1000,
    });
    for (const event of page) {
      if (event.seq !== expectedSeq) return { ok: false, checked, firstBadSeq: event.seq, problem: `expected seq ${expectedSeq}` };
      if (event.prevHash !== prevHash) return { ok: false, checked, firstBadSeq: event.seq, problem: 'prev_hash does not match' };
      if (eventHash(prevHash, event) !== event.hash) return { ok: false, checked, firstBadSeq: event.seq, problem: 'hash does not match content' };
      prevHash = event.hash;
      expectedSeq += 1n;
      checked += 1;
    }
    if (page.length < 1000) break;
    cursor = page[page.length - 1]!.seq;
  }
  const head = await tx.auditChainHead.findUnique({ where: { id: 1 } });
  if (!head || head.headHash !== prevHash) return { ok: false, checked, problem: 'chain head does not match the last event' };
  return { ok: true, checked };
}
