/**
 * Why a submission, review, revocation, cancellation or token request was refused: stable
 * codes, each with what it means. What a caller is told about it (an HTTP status, say) is
 * the caller's business, not the domain's.
 */
export const REJECTION_REASONS = {
  NOT_A_REVIEWER: 'the reviewer holds no reviewer role',
  SELF_REVIEW: 'the requester tried to review their own request',
  OUT_OF_DEPARTMENT: "the reviewer does not review for the request's department",
  NOT_PERMITTED: 'the principal may not do this to this request',
  ALREADY_REVIEWED: 'the reviewer has already reviewed this request',
  ROLE_ALREADY_APPROVED: 'every reviewer role the reviewer holds has already approved',
  NOT_PENDING: 'the request has been decided or has ended',
  NOT_ACTIVE: 'the grant is not active (or would not be for the token asked for)',
  REQUEST_CHANGED: 'the review was made against another version of the request',
  COMMENT_REQUIRED: 'a denial must say why',
  /** A message sent straight to Temporal, without the API's assertion. */
  UNVERIFIED_PRINCIPAL: 'the API did not vouch for the sender',
  /** The request was ended (FAILED) because the database would not store a step. */
  RECORD_REFUSED: 'the database refused to record it',
  /** A security officer froze access to this patient, study, user, department or everything. */
  ACCESS_FROZEN: 'access is frozen for a patient, study, user or department this concerns',
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

export function isRejectionReason(value: unknown): value is RejectionReason {
  return typeof value === 'string' && Object.hasOwn(REJECTION_REASONS, value);
}

export class Rejection {
  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {}
}
