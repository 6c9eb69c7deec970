import {
  REVIEWER_ROLES,
  type AccessRequestStatus,
  type Principal,
  type RecordedReview,
  type ReviewInput,
  type ReviewPolicy,
  type ReviewerRole,
  type RevokerRole,
  type SubmittedRequest,
} from './access-request.js';
import { isGrantActive } from './grant.js';
import { Rejection } from './review-rejection.js';

export interface ReviewVerdict {
  countedToward: ReviewerRole;
  /** What the request becomes once this review is applied. */
  outcome: 'PENDING_REVIEW' | 'ACTIVE' | 'DENIED';
}

export interface RevocationVerdict {
  /** The capacity the revoker acts in, recorded with the revocation. */
  byRole: RevokerRole;
}

/** A PACS token's lifetime: epoch ms, whole seconds, as JWT times are. */
export interface TokenBounds {
  issuedAt: number;
  expiresAt: number;
}

export interface AccessRequestSnapshot {
  status: AccessRequestStatus;
  reviews: RecordedReview[];
  activatedAt?: number;
  expiresAt?: number;
  endedAt?: number;
  endReason?: string;
}

/**
 * Who may ask for access at all, and the department the request is filed under: the
 * requester's own, whose supervisors review it. Only clinicians request; what they ask for
 * is the schema's and the PACS's to check.
 */
export function judgeSubmission(requester: Principal): { departmentId: string } | Rejection {
  if (!requester.roles.includes('clinician')) return new Rejection('NOT_PERMITTED', 'Only clinicians may request access to studies.');
  if (!requester.departmentId) {
    return new Rejection('NOT_PERMITTED', `${requester.username} belongs to no department, so no supervisor could review the request.`);
  }
  return { departmentId: requester.departmentId };
}

const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * One access request's state and every rule that changes it. The workflow wires it to
 * Updates and timers, and the API asks the same questions before sending an Update, so no
 * rule is written twice. Times are epoch milliseconds supplied by the caller (the
 * workflow's deterministic clock).
 */
export class AccessRequestState {
  status: AccessRequestStatus = 'PENDING_REVIEW';
  readonly reviews: RecordedReview[] = [];
  activatedAt?: number;
  expiresAt?: number;
  endedAt?: number;
  endReason?: string;

  constructor(
    readonly request: SubmittedRequest,
    readonly policy: ReviewPolicy,
  ) {}

  static fromSnapshot(request: SubmittedRequest, policy: ReviewPolicy, snapshot: AccessRequestSnapshot): AccessRequestState {
    const state = new AccessRequestState(request, policy);
    state.status = snapshot.status;
    state.reviews.push(...snapshot.reviews);
    state.activatedAt = snapshot.activatedAt;
    state.expiresAt = snapshot.expiresAt;
    state.endedAt = snapshot.endedAt;
    state.endReason = snapshot.endReason;
    return state;
  }

  snapshot(): AccessRequestSnapshot {
    return {
      status: this.status,
      reviews: [...this.reviews],
      activatedAt: this.activatedAt,
      expiresAt: this.expiresAt,
      endedAt: this.endedAt,
      endReason: this.endReason,
    };
  }

  approvers(): string[] {
    return this.reviews.filter((r) => r.decision === 'approve').map((r) => r.reviewer);
  }

  /** Decides whether a review may be recorded, and what it would do. */
  judgeReview(input: ReviewInput): ReviewVerdict | Rejection {
    const { reviewer } = input;
    const heldReviewerRoles = REVIEWER_ROLES.filter((role) => reviewer.roles.includes(role));
    if (heldReviewerRoles.length === 0) {
      return new Rejection('NOT_A_REVIEWER', `${reviewer.username} holds no reviewer role (supervisor or privacy officer).`);
    }
    if (reviewer.username === this.request.requester) {
      return new Rejection('SELF_REVIEW', 'A requester cannot review their own request.');
    }
    if (this.reviews.some((r) => r.reviewer === reviewer.username)) {
      return new Rejection('ALREADY_REVIEWED', `${reviewer.username} has already reviewed this request.`);
    }
    if (this.status !== 'PENDING_REVIEW') {
      return new Rejection('NOT_PENDING', `The request is ${this.status}; only a pending request can be reviewed.`);
    }
    if (input.requestHash !== this.request.requestHash) {
      return new Rejection('REQUEST_CHANGED', 'The review was made against a different version of the request.');
    }
    const eligibleRoles = heldReviewerRoles.filter((role) => this.mayReviewAs(reviewer, role));
    if (eligibleRoles.length === 0) {
      return new Rejection('OUT_OF_DEPARTMENT', `${reviewer.username} does not review for department ${this.request.departmentId}.`);
    }
    if (input.decision === 'deny') {
      if (!input.comment?.trim()) return new Rejection('COMMENT_REQUIRED', 'A denial needs a comment that says why.');
      return { countedToward: eligibleRoles[0]!, outcome: 'DENIED' };
    }
    const approvedRoles = new Set(this.reviews.filter((r) => r.decision === 'approve').map((r) => r.countedToward));
    const countedToward = this.policy.requireDistinctRoles ? eligibleRoles.find((role) => !approvedRoles.has(role)) : eligibleRoles[0];
    if (!countedToward) {
      return new Rejection(
        'ROLE_ALREADY_APPROVED',
        `Policy requires approvals from different reviewer roles, and ${[...approvedRoles].join(', ')} has already approved.`,
      );
    }
    // Under distinct roles each approval already counted toward a different role.
    const approvals = this.approvers().length + 1;
    return { countedToward, outcome: approvals >= this.policy.approvalsRequired ? 'ACTIVE' : 'PENDING_REVIEW' };
  }

  /**
   * Break-glass: active at once, for the requested duration, with no approver; the review
   * comes afterwards (domain/break-glass.ts). Only a request not yet decided can be opened so.
   */
  openBreakGlass(now: number): void {
    if (this.status !== 'PENDING_REVIEW') throw new Rejection('NOT_PENDING', `The request is ${this.status}; it cannot be opened as break-glass.`);
    this.status = 'ACTIVE';
    this.activatedAt = now;
    this.expiresAt = now + this.request.durationMinutes * 60_000;
  }

  private mayReviewAs(reviewer: Principal, role: ReviewerRole): boolean {
    // Privacy officers review for the whole organisation; supervisors for their departments.
    return role === 'privacy_officer' || reviewer.reviewsForDepartments.includes(this.request.departmentId);
  }

  applyReview(input: ReviewInput, now: number): ReviewVerdict {
    const verdict = this.judgeReview(input);
    if (verdict instanceof Rejection) throw verdict;
    this.reviews.push({
      reviewer: input.reviewer.username,
      decision: input.decision,
      countedToward: verdict.countedToward,
      comment: input.comment,
    });
    if (verdict.outcome === 'ACTIVE') {
      this.status = 'ACTIVE';
      this.activatedAt = now;
      // The grant runs for the requested duration from approval, not from submission.
      this.expiresAt = now + this.request.durationMinutes * 60_000;
    } else if (verdict.outcome === 'DENIED') {
      this.end('DENIED', now, `denied by ${input.reviewer.username}`);
    }
    return verdict;
  }

  /**
   * Who may revoke, and as what: the requester, a reviewer of this request, or a security
   * officer. Only the recorded status counts, not the clock: a grant past its end whose
   * expiry the workflow has not yet recorded may still be revoked, which ends it no later.
   */
  judgeRevocation(by: Principal): RevocationVerdict | Rejection {
    const byRole = this.revokerRole(by);
    if (!byRole) return new Rejection('NOT_PERMITTED', 'Only the requester, a reviewer of this request or a security officer may revoke it.');
    if (this.status !== 'ACTIVE') return new Rejection('NOT_ACTIVE', `The request is ${this.status}; only an active grant can be revoked.`);
    return { byRole };
  }

  private revokerRole(by: Principal): RevokerRole | undefined {
    // The closest tie to the request names the role: a requester who is also a security
    // officer revokes their own grant as its requester.
    if (by.username === this.request.requester) return 'requester';
    if (this.reviews.some((r) => r.reviewer === by.username)) return 'reviewer';
    if (by.roles.includes('security_officer')) return 'security_officer';
    return undefined;
  }

  applyRevocation(by: Principal, now: number, reason: string): RevocationVerdict {
    const verdict = this.judgeRevocation(by);
    if (verdict instanceof Rejection) throw verdict;
    this.end('REVOKED', now, reason);
    return verdict;
  }

  judgeCancellation(by: Principal): Rejection | undefined {
    if (by.username !== this.request.requester) return new Rejection('NOT_PERMITTED', 'Only the requester may withdraw a request.');
    if (this.status !== 'PENDING_REVIEW') return new Rejection('NOT_PENDING', `The request is ${this.status}; only a pending request can be withdrawn.`);
    return undefined;
  }

  applyCancellation(by: Principal, now: number, reason: string | undefined): void {
    const rejection = this.judgeCancellation(by);
    if (rejection) throw rejection;
    this.end('CANCELLED', now, reason?.trim() || 'withdrawn by the requester');
  }

  /** Whether the grant lets its holder in at `now`: the definition the gateway uses too. */
  grantActive(now: number): boolean {
    return isGrantActive(this, now);
  }

  /**
   * Whether `by` may have a token now, and, given its bounds, whether that token stays
   * inside the grant. The API asks before signing; the workflow asks again with the bounds
   * it is asked to record.
   */
  judgeTokenIssue(by: Principal, now: number, token?: TokenBounds): Rejection | undefined {
    if (by.username !== this.request.requester) return new Rejection('NOT_PERMITTED', 'Only the requester may obtain tokens for this grant.');
    if (!this.grantActive(now)) return new Rejection('NOT_ACTIVE', `The grant is not active (status ${this.status}).`);
    if (token && (token.expiresAt > this.expiresAt! || token.issuedAt >= token.expiresAt)) {
      return new Rejection('NOT_ACTIVE', 'A token may not outlive its grant.');
    }
    return undefined;
  }

  /**
   * The bounds of a token issued at `now`: at most `ttlSeconds` long, never past the grant's
   * end, in whole seconds. Rounding down can leave nothing when the grant ends within the
   * second, and a token that is expired when issued is refused rather than signed.
   */
  tokenBounds(now: number, ttlSeconds: number): TokenBounds | Rejection {
    if (!this.grantActive(now)) return new Rejection('NOT_ACTIVE', `The grant is not active (status ${this.status}).`);
    const issuedAt = wholeSeconds(now);
    const expiresAt = wholeSeconds(Math.min(issuedAt + ttlSeconds * 1000, this.expiresAt!));
    if (expiresAt <= issuedAt) return new Rejection('NOT_ACTIVE', 'The grant ends within the second; no token can be issued.');
    return { issuedAt, expiresAt };
  }

  /** The review window closed with no decision. Only a pending request can time out. */
  timeOut(now: number): boolean {
    if (this.status !== 'PENDING_REVIEW') return false;
    this.end('TIMED_OUT', now, 'no decision within the review window');
    return true;
  }

  /** The granted duration ran out. Only an active grant expires, and never early. */
  expire(now: number): boolean {
    if (this.status !== 'ACTIVE' || this.expiresAt === undefined || this.grantActive(now)) return false;
    this.end('EXPIRED', now, 'the granted duration ended');
    return true;
  }

  /** A step could not be recorded: the request ends here, whatever it was, and grants nothing. */
  fail(now: number, reason: string): void {
    this.status = 'FAILED';
    this.endedAt = now;
    this.endReason = reason;
  }

  /** Ends the request as `status`; no rule is asked (applyRevocation and applyCancellation judge first). */
  end(status: Exclude<AccessRequestStatus, 'PENDING_REVIEW' | 'ACTIVE'>, now: number, reason: string): void {
    this.status = status;
    this.endedAt = now;
    this.endReason = reason;
  }
}
