import { Rejection, type RejectionReason } from '../domain/review-rejection.js';
import { Problem } from './problem.js';

/**
 * What HTTP says for each of the engine's refusals: 403 when the caller may not do this at
 * all, 409 when the request's state stands in the way (another moment might differ), 422
 * when the message itself cannot be accepted, 423 while a freeze stops it. Every reason is listed, so a new one does not
 * compile until it has a status.
 */
export const REJECTION_STATUS: Record<RejectionReason, 403 | 409 | 422 | 423> = {
  NOT_A_REVIEWER: 403,
  SELF_REVIEW: 403,
  OUT_OF_DEPARTMENT: 403,
  NOT_PERMITTED: 403,
  UNVERIFIED_PRINCIPAL: 403,
  ALREADY_REVIEWED: 409,
  ROLE_ALREADY_APPROVED: 409,
  NOT_PENDING: 409,
  NOT_ACTIVE: 409,
  REQUEST_CHANGED: 409,
  COMMENT_REQUIRED: 422,
  RECORD_REFUSED: 422,
  // A freeze stands in the way until two people lift it.
  ACCESS_FROZEN: 423,
};

const TITLES = { 403: 'Forbidden', 409: 'Conflict', 422: 'Unprocessable request', 423: 'Frozen' } as const;

export function rejectionProblem(rejection: Rejection): Problem {
  const status = REJECTION_STATUS[rejection.reason];
  return new Problem(status, TITLES[status], rejection.detail, { reason: rejection.reason });
}

/** The engine's verdict, or its refusal thrown as a problem. */
export function throwIfRejected<T>(verdict: T | Rejection): T {
  if (verdict instanceof Rejection) throw rejectionProblem(verdict);
  return verdict;
}
