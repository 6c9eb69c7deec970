import { ApplicationFailure } from '@temporalio/activity';
import { appendAuditEvent, type AuditEventInput } from '../../db/audit-chain.js';
import { inTransaction, type Db, type DbTransaction } from '../../db/client.js';
import { storable, storableJson } from '../storable-text.js';
import { neverStorable } from './never-storable.js';

// Every record activity writes its rows and its audit event in one transaction keyed by the
// event's dedupe key, so a retried activity (worker killed after the commit, before
// reporting) is a no-op.

/** What a transition writes besides its audit event, inside the same transaction. */
export type RowWrite = (tx: DbTransaction) => Promise<void>;

/**
 * Runs `write` once per dedupe key; false when an earlier attempt already recorded it.
 * The event is dated when it is recorded; the time the workflow decided (`occurredAt`
 * here) goes in its payload as `effectiveAt`, as it does in the rows.
 */
export async function recordOnce(db: Db, event: AuditEventInput, write: RowWrite): Promise<boolean> {
  try {
    return await writeOnce(db, { ...event, actor: storable(event.actor, 200), payload: storableJson(event.payload) }, write);
  } catch (error) {
    // Data the database will never take fails the same way on every retry: say so, and the
    // workflow ends the request as FAILED, instead of retrying for ever.
    if (neverStorable(error)) throw ApplicationFailure.nonRetryable(`${event.type} cannot be stored (${(error as Error).name})`, 'RECORD_REFUSED');
    throw error;
  }
}

/** The rows first and the chained event last, so the chain head (one lock for the whole system) is held only for the append. */
async function writeOnce(db: Db, { occurredAt: effectiveAt, ...event }: AuditEventInput, write: RowWrite): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    if (await tx.auditEvent.findUnique({ where: { dedupeKey: event.dedupeKey }, select: { seq: true } })) return false;
    await write(tx);
    const recorded = { ...event, payload: { ...event.payload, effectiveAt: effectiveAt.toISOString() }, occurredAt: new Date() };
    // A concurrent retry appended first: roll this one back; its retry will find the record.
    if (!(await appendAuditEvent(tx, recorded))) throw new Error(`audit event ${event.dedupeKey} was recorded concurrently`);
    return true;
  });
}
