import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Principal, ReviewInput } from '../domain/access-request.js';
import type { AccessRequestSnapshot } from '../domain/review-engine.js';

// An access request's message API. Every Update carries the authenticated principal in its
// arguments, because Temporal's client identity is not authenticated, and the API's signed
// assertion that this principal sent exactly this message (tokens/principal-assertion.ts).

/** What the API vouches for; optional only so that histories from before it still replay. */
export interface Asserted {
  assertion?: string;
}

export type ReviewMessage = ReviewInput & Asserted;

export interface RevocationInput extends Asserted {
  by: Principal;
  /**
   * The role the API's engine found. The workflow records the role its own engine finds,
   * which is the same: the reviews behind it cannot change once the grant is active.
   */
  byRole: string;
  reason: string;
  revocationId: string;
}

export interface CancellationInput extends Asserted {
  by: Principal;
  reason?: string;
}

export interface TokenIssueInput extends Asserted {
  by: Principal;
  jti: string;
  kid: string;
  /** Epoch ms; the API signs the token with exactly these bounds. */
  issuedAt: number;
  expiresAt: number;
}

export interface TokenIssueAuthorization {
  approvers: string[];
  grantExpiresAt: number;
}

/** Resolves once the submission is in the database, so the API never answers before it. */
export const submissionRecordedUpdate = defineUpdate<AccessRequestSnapshot>('submissionRecorded');
export const reviewUpdate = defineUpdate<AccessRequestSnapshot, [ReviewMessage]>('review');
/** A break-glass's review afterwards: the same message as a review. */
export const retroReviewUpdate = defineUpdate<AccessRequestSnapshot, [ReviewMessage]>('retroReview');
export const revokeUpdate = defineUpdate<AccessRequestSnapshot, [RevocationInput]>('revoke');
export const cancelUpdate = defineUpdate<AccessRequestSnapshot, [CancellationInput]>('cancel');
export const authorizeTokenUpdate = defineUpdate<TokenIssueAuthorization, [TokenIssueInput]>('authorizeToken');
export const snapshotQuery = defineQuery<AccessRequestSnapshot>('snapshot');
