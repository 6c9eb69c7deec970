import type { ReviewDecision, ReviewerRole } from '../../domain/access-request.js';
import type { Db, DbTransaction } from '../../db/client.js';
import { storableOrNull } from '../storable-text.js';
import { recordOnce } from './record-once.js';
import { endRequest } from './request-end.js';

export interface RecordReviewInput {
  accessRequestId: string;
  reviewer: string;
  decision: ReviewDecision;
  comment?: string;
  requestHash: string;
  countedToward: ReviewerRole;
  reviewedAt: number;
  outcome: 'PENDING_REVIEW' | 'ACTIVE' | 'DENIED';
  grant?: GrantInput;
  idempotencyKey?: string;
}

type GrantInput = { approvers: string[]; activatedAt: number; expiresAt: number };

/** A review, and what it decided: the grant of the approval that completed it, or the denial. */
export async function recordReview(db: Db, input: RecordReviewInput): Promise<boolean> {
  const at = new Date(input.reviewedAt);
  return recordOnce(
    db,
    {
      dedupeKey: `review:${input.accessRequestId}:${input.reviewer}`,
      type: 'review.recorded',
      actor: input.reviewer,
      accessRequestId: input.accessRequestId,
      payload: {
        decision: input.decision,
        countedToward: input.countedToward,
        requestHash: input.requestHash,
        outcome: input.outcome,
        approvers: input.grant?.approvers ?? null,
        grantExpiresAt: input.grant ? new Date(input.grant.expiresAt).toISOString() : null,
      },
      occurredAt: at,
    },
    async (tx) => {
      await createReview(tx, input, at);
      if (input.outcome === 'ACTIVE' && input.grant) await activateGrant(tx, input.accessRequestId, input.grant);
      else if (input.outcome === 'DENIED') await endRequest(tx, input.accessRequestId, { status: 'DENIED', at, reason: input.comment ?? 'denied' });
    },
  );
}

export async function createReview(
  tx: DbTransaction,
  input: Pick<RecordReviewInput, 'accessRequestId' | 'reviewer' | 'decision' | 'comment' | 'countedToward' | 'requestHash' | 'idempotencyKey'>,
  at: Date,
): Promise<void> {
  await tx.review.create({
    data: {
      id: `${input.accessRequestId}:${input.reviewer}`,
      accessRequestId: input.accessRequestId,
      reviewer: input.reviewer,
      decision: input.decision,
      comment: storableOrNull(input.comment),
      countedToward: input.countedToward,
      requestHash: input.requestHash,
      reviewedAt: at,
      idempotencyKey: input.idempotencyKey ?? null,
    },
  });
}

/** The grant covers the studies the request names, for the requester, as recorded. */
export async function activateGrant(tx: DbTransaction, accessRequestId: string, grant: GrantInput): Promise<void> {
  const request = await tx.accessRequest.update({ where: { id: accessRequestId }, data: { status: 'ACTIVE' } });
  await tx.grant.create({
    data: {
      accessRequestId,
      grantee: request.requester,
      studyInstanceUids: request.studyInstanceUids,
      approvers: grant.approvers,
      activatedAt: new Date(grant.activatedAt),
      expiresAt: new Date(grant.expiresAt),
    },
  });
}
