import type { ReviewDecision, ReviewerRole, SubmittedRequest } from '../../domain/access-request.js';
import type { RetroStatus } from '../../domain/break-glass.js';
import type { Db } from '../../db/client.js';
import { recordOnce } from './record-once.js';
import { activateGrant, createReview } from './review.js';
import { createRequest, refuseAnotherRun } from './submission.js';

// A break-glass's records: opened (the request and its grant at once), each retrospective
// review, and the review's end when nobody reviewed it in time.

export interface RecordBreakGlassInput {
  request: SubmittedRequest;
  openedAt: number;
  expiresAt: number;
  retroDeadline: number;
  runId: string;
}

export async function recordBreakGlassOpened(db: Db, input: RecordBreakGlassInput): Promise<boolean> {
  const { request, openedAt } = input;
  await refuseAnotherRun(db, request.id, input.runId);
  return recordOnce(
    db,
    {
      dedupeKey: `submitted:${request.id}`,
      type: 'break-glass.opened',
      actor: request.requester,
      accessRequestId: request.id,
      payload: {
        requestHash: request.requestHash,
        studyInstanceUids: request.studyInstanceUids,
        purposeOfUse: request.purposeOfUse,
        durationMinutes: request.durationMinutes,
        departmentId: request.departmentId,
        grantExpiresAt: new Date(input.expiresAt).toISOString(),
        retroDeadline: new Date(input.retroDeadline).toISOString(),
      },
      occurredAt: new Date(openedAt),
    },
    async (tx) => {
      // The review window of an ordinary request is the retrospective window here.
      await createRequest(tx, { request, submittedAt: openedAt, reviewDeadline: input.retroDeadline, runId: input.runId });
      await tx.accessRequest.update({
        where: { id: request.id },
        data: { kind: 'break-glass', retroStatus: 'PENDING', retroDeadline: new Date(input.retroDeadline) },
      });
      await activateGrant(tx, request.id, { approvers: [], activatedAt: openedAt, expiresAt: input.expiresAt });
    },
  );
}

export interface RecordRetroReviewInput {
  accessRequestId: string;
  reviewer: string;
  decision: ReviewDecision;
  comment?: string;
  requestHash: string;
  countedToward: ReviewerRole;
  reviewedAt: number;
  /** What the break-glass is after this review. */
  retroStatus: RetroStatus;
}

export async function recordRetroReview(db: Db, input: RecordRetroReviewInput): Promise<boolean> {
  const at = new Date(input.reviewedAt);
  return recordOnce(
    db,
    {
      dedupeKey: `review:${input.accessRequestId}:${input.reviewer}`,
      type: 'break-glass.reviewed',
      actor: input.reviewer,
      accessRequestId: input.accessRequestId,
      payload: { decision: input.decision, countedToward: input.countedToward, requestHash: input.requestHash, retroStatus: input.retroStatus },
      occurredAt: at,
    },
    async (tx) => {
      await createReview(tx, input, at);
      if (input.retroStatus !== 'PENDING') await tx.accessRequest.update({ where: { id: input.accessRequestId }, data: { retroStatus: input.retroStatus } });
    },
  );
}

export async function recordRetroUnreviewed(db: Db, input: { accessRequestId: string; at: number }): Promise<boolean> {
  return recordOnce(
    db,
    {
      dedupeKey: `retro-unreviewed:${input.accessRequestId}`,
      type: 'break-glass.unreviewed',
      actor: 'system',
      accessRequestId: input.accessRequestId,
      payload: {},
      occurredAt: new Date(input.at),
    },
    async (tx) => {
      await tx.accessRequest.update({ where: { id: input.accessRequestId }, data: { retroStatus: 'UNREVIEWED' } });
    },
  );
}
