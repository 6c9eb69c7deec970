import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { storable } from '../storable-text.js';
import { recordOnce } from './record-once.js';

export interface RecordRefusedMessageInput {
  /** Unique per message: a retried activity records it once. */
  messageId: string;
  accessRequestId: string;
  /** Whether the request exists in the records (a forged submission has none). */
  requestRecorded: boolean;
  action: string;
  claimedBy: string;
  decision?: string;
  reason: string;
  detail: string;
}

/**
 * A message the workflow refused because the API did not vouch for its sender. The API
 * never saw it, so the workflow is the only one that can record it.
 */
export async function recordRefusedMessage(db: Db, input: RecordRefusedMessageInput): Promise<boolean> {
  const at = new Date();
  return recordOnce(
    db,
    {
      // The message id is the sender's choice: only its digest goes into the key.
      dedupeKey: `message-refused:${createHash('sha256').update(String(input.messageId)).digest('hex')}`,
      type: 'message.refused',
      actor: input.claimedBy,
      // A forged submission names a request that has no row to point at.
      accessRequestId: input.requestRecorded ? input.accessRequestId : undefined,
      payload: { accessRequestId: input.accessRequestId, action: input.action, reason: input.reason, detail: input.detail },
      occurredAt: at,
    },
    async (tx) => {
      // A refused review is also a refused review attempt, where reviewers' refusals are read.
      if (input.action === 'review' && input.requestRecorded) {
        await tx.rejectedReviewAttempt.create({
          data: {
            accessRequestId: input.accessRequestId,
            reviewer: storable(input.claimedBy, 200),
            decision: storable(input.decision ?? 'unknown', 20),
            reason: input.reason,
            detail: storable(input.detail),
            attemptedAt: at,
          },
        });
      }
    },
  );
}
