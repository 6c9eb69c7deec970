import type { RetroStatus } from '../../domain/break-glass.js';
import type { Review } from '../../generated/prisma/client.js';
import type { AccessRequestRecord } from '../../db/access-request-record.js';
import type { AccessRequestStatus, ReviewDecision } from '../../domain/access-request.js';
import type { AccessRequestView } from '../../contracts/access-request-view.js';

export type { AccessRequestView };

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
    kind: row.kind === 'break-glass' ? 'break-glass' : 'review',
    retroReview:
      row.kind === 'break-glass' && row.retroStatus && row.retroDeadline
        ? { status: row.retroStatus as RetroStatus, deadline: row.retroDeadline.toISOString() }
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
