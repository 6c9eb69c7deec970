import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from './audit-chain.js';
import { inTransaction, type Db } from './client.js';
import { takeRateLimit } from './rate-limit.js';

const SCOPE = 'refused reviews';

/**
 * Counts a refused attempt against the reviewer's limit; throws RateLimited once over it.
 * Also for attempts on requests that do not exist, so that the limit answers alike for both.
 */
export function limitRefusedReviewAttempts(db: Db, reviewer: string, perMinute: number): Promise<void> {
  return takeRateLimit(db, SCOPE, reviewer, perMinute);
}

/**
 * Temporal keeps no trace of a rejected Update, so every refused review is recorded here,
 * with its reason, in the same hash-chained audit trail as everything else. Each record
 * appends to that chain, so they are rate-limited per reviewer: over the limit this throws
 * RateLimited and records nothing (the limit itself says someone kept trying).
 */
export async function recordRejectedReviewAttempt(
  db: Db,
  attempt: { accessRequestId: string; reviewer: string; decision: string; reason: string; detail: string },
  perMinute: number,
): Promise<void> {
  await limitRefusedReviewAttempts(db, attempt.reviewer, perMinute);
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
