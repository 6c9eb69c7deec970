import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Principal, ReviewInput } from '../domain/access-request.js';
import type { AccessRequestSnapshot } from '../domain/review-engine.js';

// An access request's message API. Every Update carries the authenticated principal in its
// arguments, because Temporal's client identity is not authenticated.

export interface RevocationInput {
  by: Principal;
  byRole: string;
  reason: string;
  revocationId: string;
}

export interface CancellationInput {
  by: Principal;
  reason?: string;
}

export interface TokenIssueInput {
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
export const reviewUpdate = defineUpdate<AccessRequestSnapshot, [ReviewInput]>('review');
export const revokeUpdate = defineUpdate<AccessRequestSnapshot, [RevocationInput]>('revoke');
export const cancelUpdate = defineUpdate<AccessRequestSnapshot, [CancellationInput]>('cancel');
export const authorizeTokenUpdate = defineUpdate<TokenIssueAuthorization, [TokenIssueInput]>('authorizeToken');
export const snapshotQuery = defineQuery<AccessRequestSnapshot>('snapshot');
