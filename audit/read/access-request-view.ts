import type { AccessRequest, AccessRequestStudy, Grant, Review } from '../../generated/prisma/client.js';
import type { AccessRequestStatus, PurposeOfUse, ReviewDecision, ReviewerRole, SubmittedRequest } from '../../domain/access-request.js';
import { AccessRequestState } from '../../domain/review-engine.js';
import type { ReviewPolicy } from '../../domain/access-request.js';
import type { AccessRequestView } from '../../contracts/access-request-view.js';

export type AccessRequestRecord = AccessRequest & { reviews: Review[]; grant: Grant | null; confirmedStudies: AccessRequestStudy[] };
export type { AccessRequestView };

export const withReviewsAndGrant = { reviews: { orderBy: { reviewedAt: 'asc' } }, grant: true, confirmedStudies: true } as const;

export function toView(row: AccessRequestRecord): AccessRequestView {
  return {
    id: row.id,
    status: row.status as AccessRequestStatus,
    requester: row.requester,
    departmentId: row.departmentId,
    studyInstanceUids: row.studyInstanceUids,
    patientId: row.patientId,
    purposeOfUse: row.purposeOfUse,
    justification: row.justification,
    durationMinutes: row.durationMinutes,
    requestHash: row.requestHash,
    submittedAt: row.submittedAt.toISOString(),
    reviewDeadline: row.reviewDeadline.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
    endReason: row.endReason,
    reviews: row.reviews.map(reviewView),
    grant: row.grant
      ? {
          approvers: row.grant.approvers,
          activatedAt: row.grant.activatedAt.toISOString(),
          expiresAt: row.grant.expiresAt.toISOString(),
          endedAt: row.grant.endedAt?.toISOString() ?? null,
        }
      : null,
    confirmedStudies: confirmedStudiesView(row),
  };
}

/** What the PACS confirmed at submission, in the order the studies were requested. */
function confirmedStudiesView(row: AccessRequestRecord): AccessRequestView['confirmedStudies'] {
  const order = (uid: string) => row.studyInstanceUids.indexOf(uid);
  return [...row.confirmedStudies]
    .sort((a, b) => order(a.studyInstanceUid) - order(b.studyInstanceUid))
    .map((s) => ({
      studyInstanceUid: s.studyInstanceUid,
      patientId: s.patientId,
      modalities: s.modalities,
      studyDate: s.studyDate,
      description: s.description,
      confirmedAt: s.confirmedAt.toISOString(),
    }));
}

export function reviewView(r: Review): AccessRequestView['reviews'][number] {
  return {
    reviewer: r.reviewer,
    decision: r.decision as ReviewDecision,
    comment: r.comment,
    countedToward: r.countedToward,
    reviewedAt: r.reviewedAt.toISOString(),
  };
}

export function toSubmittedRequest(row: AccessRequest): SubmittedRequest {
  return {
    id: row.id,
    requester: row.requester,
    requesterRole: 'clinician',
    departmentId: row.departmentId,
    studyInstanceUids: row.studyInstanceUids,
    patientId: row.patientId,
    purposeOfUse: row.purposeOfUse as PurposeOfUse,
    justification: row.justification,
    durationMinutes: row.durationMinutes,
    requestHash: row.requestHash,
    idempotencyKey: row.idempotencyKey ?? undefined,
  };
}

/** The engine's view of a request as recorded, so the API can ask the workflow's questions first. */
export function stateFromRecord(row: AccessRequestRecord, policy: ReviewPolicy): AccessRequestState {
  return AccessRequestState.fromSnapshot(toSubmittedRequest(row), policy, {
    status: row.status as AccessRequestStatus,
    reviews: row.reviews.map((r) => ({
      reviewer: r.reviewer,
      decision: r.decision as ReviewDecision,
      countedToward: r.countedToward as ReviewerRole,
      comment: r.comment ?? undefined,
    })),
    activatedAt: row.grant?.activatedAt.getTime(),
    expiresAt: row.grant?.expiresAt.getTime(),
    endedAt: row.endedAt?.getTime(),
    endReason: row.endReason ?? undefined,
  });
}
