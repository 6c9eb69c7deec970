/** Why a review, revocation, cancellation or token request was refused: stable codes. */
export const REJECTION_REASONS = {
  NOT_A_REVIEWER: 403,
  SELF_REVIEW: 403,
  OUT_OF_DEPARTMENT: 403,
  NOT_PERMITTED: 403,
  ALREADY_REVIEWED: 409,
  ROLE_ALREADY_APPROVED: 409,
  NOT_PENDING: 409,
  NOT_ACTIVE: 409,
  REQUEST_CHANGED: 409,
  COMMENT_REQUIRED: 422,
  /** The API did not vouch for the sender (a message sent straight to Temporal). */
  UNVERIFIED_PRINCIPAL: 403,
  /** The database refused to record it; the request was ended (FAILED). */
  RECORD_REFUSED: 422,
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

export class Rejection {
  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {}
}
