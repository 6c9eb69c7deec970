import type { AccessRequestStatus, PurposeOfUse, ReviewDecision, ReviewerRole, ReviewPolicy, SubmittedRequest } from '../domain/access-request.js';
import { AccessRequestState } from '../domain/review-engine.js';
import type { AccessRequest, AccessRequestStudy, Grant, Review } from '../generated/prisma/client.js';

// An access request as recorded, and the engine's state rebuilt from it: what the API judges
// against before it sends a message, and what readers turn into the request view.

export type AccessRequestRecord = AccessRequest & { reviews: Review[]; grant: Grant | null; confirmedStudies: AccessRequestStudy[] };

export const withReviewsAndGrant = { reviews: { orderBy: { reviewedAt: 'asc' } }, grant: true, confirmedStudies: true } as const;

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
