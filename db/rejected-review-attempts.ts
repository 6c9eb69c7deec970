import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from './audit-chain.js';
import { inTransaction, type Db } from './client.js';

/**
 * Temporal keeps no trace of a rejected Update, so every refused review is recorded here,
 * with its reason, in the same hash-chained audit trail as everything else.
 */
export async function recordRejectedReviewAttempt(
  db: Db,
  attempt: { accessRequestId: string; reviewer: string; decision: string; reason: string; detail: string },
): Promise<void> {
  const id = randomUUID();
  const attemptedAt = new Date();
  await inTransaction(db, async (tx) => {
    await tx.rejectedReviewAttempt.create({ data: { id, ...attempt, attemptedAt } });
    await appendAuditEvent(tx, {
      dedupeKey: `review-rejected:${id}`,
      type: 'review.rejected',
      actor: attempt.reviewer,
      accessRequestId: attempt.accessRequestId,
      payload: { decision: attempt.decision, reason: attempt.reason, detail: attempt.detail },
      occurredAt: attemptedAt,
    });
  });
}
