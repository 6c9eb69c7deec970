import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  currentUpdateInfo,
  patched,
  workflowInfo,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Principal, ReviewInput, ReviewPolicy, SubmittedRequest } from '../domain/access-request.js';
import { AccessRequestState } from '../domain/review-engine.js';
import { Rejection } from '../domain/review-rejection.js';
import type { createPrincipalActivities } from '../activities/principals.js';
import type { createRecordActivities } from '../activities/records.js';
import type { AssertedAction, AssertionCheck } from '../contracts/principal-assertion.js';
import { type Asserted, authorizeTokenUpdate, cancelUpdate, reviewUpdate, revokeUpdate, snapshotQuery, submissionRecordedUpdate } from './messages.js';
import { wellFormed } from './message-shapes.js';
import { accessRequestStatusKey } from './search-attributes.js';

export interface AccessRequestWorkflowInput extends Asserted {
  request: SubmittedRequest;
  policy: ReviewPolicy;
  reviewWindowMs: number;
}

const records = proxyActivities<ReturnType<typeof createRecordActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '10 seconds' },
});

// An ordinary activity, not a local one: local activities hold the workflow task open while
// they run, and under load (20 Updates at once on two cores) SDK-core lost such a task
// ("Trying to send a new WFT for a run which already has one!") and the Updates never
// completed. A server round trip per message is the price (bench:cycle in the README).
const principals = proxyActivities<ReturnType<typeof createPrincipalActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '10 seconds' },
});

function samePrincipal(a: Principal, b: Principal): boolean {
  const sorted = (values: readonly string[]) => [...values].sort().join('\n');
  return (
    a.username === b.username &&
    sorted(a.roles) === sorted(b.roles) &&
    (a.departmentId ?? null) === (b.departmentId ?? null) &&
    sorted(a.reviewsForDepartments) === sorted(b.reviewsForDepartments)
  );
}

/** A rule's refusal leaves the workflow as a typed, non-retryable failure the API maps to HTTP. */
function refuse(rejection: Rejection | undefined): void {
  if (rejection) throw ApplicationFailure.create({ type: rejection.reason, message: rejection.detail, nonRetryable: true });
}

/** A message not shaped as the API sends it is refused before any rule or record sees it. */
function refuseMalformed(kind: keyof typeof wellFormed, message: unknown): void {
  if (!wellFormed[kind](message))
    throw ApplicationFailure.create({ type: 'MALFORMED_MESSAGE', message: `The ${kind} message is not well formed.`, nonRetryable: true });
}

function orRefuse<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof Rejection) refuse(error);
    throw error;
  }
}

/**
 * One access request, from submission to its end. Decisions are made by
 * AccessRequestState; this function wires them to Updates and timers, and records each
 * transition through activities, one at a time and in order.
 */
export async function accessRequestWorkflow(input: AccessRequestWorkflowInput): Promise<string> {
  const { request } = input;
  const state = new AccessRequestState(request, input.policy);
  let recorded = false;
  // Histories from before assertions replay as they ran; every new run checks them.
  const checkAssertions = patched('principal-assertions');
  const usedAssertions = new Set<string>();

  // Record activities run one after another, so the database sees transitions in the
  // order the workflow made them even when Updates arrive together.
  let recordQueue: Promise<unknown> = Promise.resolve();
  function record<T>(write: () => Promise<T>, first = false): Promise<T> {
    // Nothing is recorded about a request this run did not itself record (a copy of another
    // run's start, refused): writes queued behind a refused submission are refused too.
    const guarded = () => {
      if (!first && !recorded) throw ApplicationFailure.create({ type: 'NOT_RECORDED', message: 'This run did not record the request.', nonRetryable: true });
      return write();
    };
    const next = recordQueue.then(guarded).catch(failIfRefused);
    recordQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * A step the database refused can never be recorded. Instead of retrying for ever, the
   * request ends as FAILED (recorded, its grant ended, granting nothing), and the message
   * that caused it is refused.
   */
  async function failIfRefused(error: unknown): Promise<never> {
    if (!(error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === 'RECORD_REFUSED')) throw error;
    if (state.status !== 'FAILED') {
      state.fail(Date.now(), 'a step of this request could not be recorded');
      publishStatus();
      await records.recordFailure({ accessRequestId: request.id, endedAt: state.endedAt!, step: error.activityType });
    }
    throw ApplicationFailure.create({
      type: 'RECORD_REFUSED',
      message: 'This could not be recorded; the request has ended (FAILED) and grants nothing.',
      nonRetryable: true,
    });
  }

  /** The main line carries on once a refused step has ended the request as FAILED. */
  function unlessFailed(error: unknown): void {
    if (state.status !== 'FAILED') throw error;
  }
  function publishStatus(): void {
    upsertSearchAttributes([{ key: accessRequestStatusKey, value: state.status }]);
  }

  /** Why a checked assertion does not vouch for this message's sender, if it does not. */
  function refusalOf(check: AssertionCheck, claimed: Principal): { reason: string; detail: string } | undefined {
    if (!check.ok) return check;
    if (usedAssertions.has(check.jti)) return { reason: 'ASSERTION_REPLAYED', detail: 'This assertion has been used before.' };
    if (!samePrincipal(check.principal, claimed)) return { reason: 'ASSERTION_MISMATCH', detail: 'The assertion names another principal than the message.' };
    return undefined;
  }

  /**
   * The principal the API vouches for as the sender of `message`, or a refusal that is
   * recorded here, since a message sent straight to Temporal leaves no trace anywhere else.
   */
  async function vouchedFor(action: AssertedAction, claimed: Principal, message: Asserted, decision?: string): Promise<Principal> {
    // Asked per message, so that a workflow started before assertions checks every message
    // that reaches it from now on, while its earlier history replays as it ran.
    if (!patched('principal-assertions')) return claimed;
    const { assertion, ...body } = message;
    const check = await principals.verifyPrincipal({ assertion, subject: { accessRequestId: request.id, action, body } });
    const refusal = refusalOf(check, claimed);
    if (check.ok && !refusal) {
      usedAssertions.add(check.jti);
      return check.principal;
    }
    const { reason, detail } = refusal ?? { reason: 'ASSERTION_INVALID', detail: 'The assertion could not be checked.' };
    const messageId = currentUpdateInfo()?.id ?? `${action}:${Date.now()}`;
    await record(() =>
      records.recordRefusedMessage({
        messageId: `${request.id}:${messageId}`,
        accessRequestId: request.id,
        requestRecorded: recorded,
        action,
        claimedBy: claimed.username,
        decision,
        reason,
        detail,
      }),
    );
    throw ApplicationFailure.create({ type: 'UNVERIFIED_PRINCIPAL', message: `${reason}: ${detail}`, nonRetryable: true });
  }

  setHandler(snapshotQuery, () => state.snapshot());

  /** A workflow started straight on Temporal, without the API, fails and records nothing but why. */
  async function refuseUnvouchedSubmission(): Promise<void> {
    const { assertion, ...body } = input;
    const check = await principals.verifyPrincipal({ assertion, subject: { accessRequestId: request.id, action: 'submit', body } });
    // The assertion names the request; the request is this workflow, and no other run of it.
    const vouched =
      check.ok &&
      workflowInfo().workflowId === request.id &&
      check.principal.username === request.requester &&
      check.principal.roles.includes('clinician') &&
      check.principal.departmentId === request.departmentId;
    if (vouched) return;
    const refusal = check.ok ? { reason: 'ASSERTION_MISMATCH', detail: 'The assertion names another requester or department.' } : check;
    await records.recordRefusedMessage({
      messageId: `${request.id}:submit`,
      accessRequestId: request.id,
      requestRecorded: false,
      action: 'submit',
      claimedBy: request.requester,
      reason: refusal.reason,
      detail: refusal.detail,
    });
    throw ApplicationFailure.create({ type: 'UNVERIFIED_PRINCIPAL', message: `${refusal.reason}: ${refusal.detail}`, nonRetryable: true });
  }

  setHandler(submissionRecordedUpdate, async () => {
    await condition(() => recorded || state.status === 'FAILED');
    if (!recorded)
      throw ApplicationFailure.create({ type: 'RECORD_REFUSED', message: 'The request could not be recorded; it has ended (FAILED).', nonRetryable: true });
    return state.snapshot();
  });

  setHandler(
    reviewUpdate,
    async (message) => {
      const reviewer = await vouchedFor('review', message.reviewer, message, message.decision);
      const review: ReviewInput = {
        reviewer,
        decision: message.decision,
        comment: message.comment,
        requestHash: message.requestHash,
        idempotencyKey: message.idempotencyKey,
      };
      const reviewedAt = Date.now();
      const verdict = orRefuse(() => state.applyReview(review, reviewedAt));
      publishStatus();
      await record(() =>
        records.recordReview({
          accessRequestId: request.id,
          reviewer: review.reviewer.username,
          decision: review.decision,
          comment: review.comment,
          requestHash: review.requestHash,
          countedToward: verdict.countedToward,
          reviewedAt,
          outcome: verdict.outcome,
          idempotencyKey: review.idempotencyKey,
          grant: verdict.outcome === 'ACTIVE' ? { approvers: state.approvers(), activatedAt: state.activatedAt!, expiresAt: state.expiresAt! } : undefined,
        }),
      );
      return state.snapshot();
    },
    {
      validator: (review) => {
        refuseMalformed('review', review);
        const verdict = state.judgeReview(review);
        if (verdict instanceof Rejection) refuse(verdict);
      },
    },
  );

  setHandler(
    revokeUpdate,
    async (message) => {
      const { byRole, reason, revocationId } = message;
      const by = await vouchedFor('revoke', message.by, message);
      refuse(state.judgeRevocation(by));
      const revokedAt = Date.now();
      state.end('REVOKED', revokedAt, reason);
      publishStatus();
      await record(() =>
        records.recordRevocation({ accessRequestId: request.id, revocationId, revokedBy: by.username, revokedByRole: byRole, reason, revokedAt }),
      );
      return state.snapshot();
    },
    {
      validator: (message) => {
        refuseMalformed('revoke', message);
        refuse(state.judgeRevocation(message.by));
      },
    },
  );

  setHandler(
    cancelUpdate,
    async (message) => {
      const { reason } = message;
      const by = await vouchedFor('cancel', message.by, message);
      refuse(state.judgeCancellation(by));
      const endedAt = Date.now();
      state.end('CANCELLED', endedAt, reason?.trim() || 'withdrawn by the requester');
      publishStatus();
      await record(() => records.recordEnd({ accessRequestId: request.id, status: 'CANCELLED', endedAt, reason: state.endReason!, actor: by.username }));
      return state.snapshot();
    },
    {
      validator: (message) => {
        refuseMalformed('cancel', message);
        refuse(state.judgeCancellation(message.by));
      },
    },
  );

  setHandler(
    authorizeTokenUpdate,
    async (issue) => {
      const by = await vouchedFor('authorizeToken', issue.by, issue);
      refuse(state.judgeTokenIssue(by, Date.now()));
      await record(() =>
        records.recordTokenIssued({
          accessRequestId: request.id,
          jti: issue.jti,
          kid: issue.kid,
          subject: by.username,
          issuedAt: issue.issuedAt,
          expiresAt: issue.expiresAt,
        }),
      );
      return { approvers: state.approvers(), grantExpiresAt: state.expiresAt! };
    },
    {
      validator: (issue) => {
        refuseMalformed('authorizeToken', issue);
        refuse(state.judgeTokenIssue(issue.by, Date.now()));
        if (issue.expiresAt > state.expiresAt! || issue.issuedAt >= issue.expiresAt) {
          refuse(new Rejection('NOT_ACTIVE', 'A token may not outlive its grant.'));
        }
      },
    },
  );

  const submittedAt = Date.now();
  // Queued first, so nothing about this request is recorded before the request itself.
  await record(async () => {
    if (checkAssertions) await refuseUnvouchedSubmission();
    await records.recordSubmission({ request, submittedAt, reviewDeadline: submittedAt + input.reviewWindowMs, runId: workflowInfo().runId });
    recorded = true;
  }, true).catch(unlessFailed);

  // A request already ended (FAILED at submission) sets no review timer.
  const decided = state.status !== 'PENDING_REVIEW' || (await condition(() => state.status !== 'PENDING_REVIEW', input.reviewWindowMs));
  if (!decided && state.timeOut(Date.now())) {
    publishStatus();
    await record(() =>
      records.recordEnd({ accessRequestId: request.id, status: 'TIMED_OUT', endedAt: state.endedAt!, reason: state.endReason!, actor: 'system' }),
    ).catch(unlessFailed);
  }

  // Every wake-up re-checks the state: a revocation may have ended the grant, and a timer
  // firing early or late must not extend it.
  while (state.status === 'ACTIVE') {
    const remaining = state.expiresAt! - Date.now();
    if (state.expire(Date.now())) {
      publishStatus();
      await record(() =>
        records.recordEnd({ accessRequestId: request.id, status: 'EXPIRED', endedAt: state.endedAt!, reason: state.endReason!, actor: 'system' }),
      ).catch(unlessFailed);
      break;
    }
    await condition(() => state.status !== 'ACTIVE', remaining);
  }

  await condition(allHandlersFinished);
  await recordQueue;
  return state.status;
}
