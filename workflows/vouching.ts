import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Principal } from '../domain/access-request.js';
import type { Rejection } from '../domain/review-rejection.js';
import type { createPrincipalActivities } from '../activities/principals.js';
import type { AssertedAction, AssertionCheck } from '../contracts/principal-assertion.js';
import type { Asserted } from './messages.js';

// What the freeze and incident workflows share about their messages: who sent one, as the
// API vouches for it, and how a refusal leaves the workflow (a typed, non-retryable failure
// the API maps to HTTP).

const principals = proxyActivities<ReturnType<typeof createPrincipalActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '10 seconds' },
});

export function refuse(rejection: Rejection | undefined): void {
  if (rejection) throw ApplicationFailure.create({ type: rejection.reason, message: rejection.detail, nonRetryable: true });
}

export function notVouched(detail: string): never {
  throw ApplicationFailure.create({ type: 'UNVERIFIED_PRINCIPAL', message: detail, nonRetryable: true });
}

export function malformed(what: string): never {
  throw ApplicationFailure.create({ type: 'MALFORMED_MESSAGE', message: `The ${what} message is not well formed.`, nonRetryable: true });
}

/**
 * The principal the API vouches for as the sender of exactly this message to the workflow
 * `caseId`, each assertion once; a refusal otherwise. One per workflow run: it remembers the
 * assertions used.
 */
export function voucher(caseId: string): (action: AssertedAction, claimed: Principal, message: Asserted) => Promise<Principal> {
  const used = new Set<string>();
  return async (action, claimed, message) => {
    const { assertion, ...body } = message;
    const check: AssertionCheck = await principals.verifyPrincipal({ assertion, subject: { accessRequestId: caseId, action, body } });
    if (!check.ok) notVouched(`${check.reason}: ${check.detail}`);
    if (used.has(check.jti)) notVouched('ASSERTION_REPLAYED: This assertion has been used before.');
    if (check.principal.username !== claimed.username) notVouched('ASSERTION_MISMATCH: The assertion names another principal than the message.');
    used.add(check.jti);
    return check.principal;
  };
}
