import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ReviewPolicy, SubmittedRequest } from '../domain/access-request.js';
import { AccessRequestState } from '../domain/review-engine.js';
import { Rejection } from '../domain/review-rejection.js';
import type { createRecordActivities } from '../activities/records.js';
import {
  authorizeTokenUpdate,
  cancelUpdate,
  reviewUpdate,
  revokeUpdate,
  snapshotQuery,
  submissionRecordedUpdate,
} from './messages.js';
import { accessRequestStatusKey } from './search-attributes.js';

export interface AccessRequestWorkflowInput {
  request: SubmittedRequest;
  policy: ReviewPolicy;
  reviewWindowMs: number;
}

const records = proxyActivities<ReturnType<typeof createRecordActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '10 seconds' },
});


/** A rule's refusal leaves the workflow as a typed, non-retryable failure the API maps to HTTP. */
function refuse(rejection: Rejection | undefined): void {
  if (rejection) throw ApplicationFailure.create({ type: rejection.reason, message: rejection.detail, nonRetryable: true });
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

  // Record activities run one after another, so the database sees transitions in the
  // order the workflow made them even when Updates arrive together.
  let recordQueue: Promise<unknown> = Promise.resolve();
  function record<T>(write: () => Promise<T>): Promise<T> {
    const next = recordQueue.then(write);
    recordQueue = next.catch(() => undefined);
    return next;
  }
  function publishStatus(): void {
    upsertSearchAttributes([{ key: accessRequestStatusKey, value: state.status }]);
  }

  setHandler(snapshotQuery, () => state.snapshot());

  setHandler(submissionRecordedUpdate, async () => {
    await condition(() => recorded);
    return state.snapshot();
  });

  setHandler(
    reviewUpdate,
    async (review) => {
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
          grant:
            verdict.outcome === 'ACTIVE'
              ? { approvers: state.approvers(), activatedAt: state.activatedAt!, expiresAt: state.expiresAt! }
              : undefined,
        }),
      );
      return state.snapshot();
    },
    {
      validator: (review) => {
        const verdict = state.judgeReview(review);
        if (verdict instanceof Rejection) refuse(verdict);
      },
    },
  );

  setHandler(
    revokeUpdate,
    async ({ by, byRole, reason, revocationId }) => {
      refuse(state.judgeRevocation(by));
      const revokedAt = Date.now();
      state.end('REVOKED', revokedAt, reason);
      publishStatus();
      await record(() => records.recordRevocation({ accessRequestId: request.id, revocationId, revokedBy: by.username, revokedByRole: byRole, reason, revokedAt }));
      return state.snapshot();
    },
    { validator: ({ by }) => refuse(state.judgeRevocation(by)) },
  );

  setHandler(
    cancelUpdate,
    async ({ by, reason }) => {
      refuse(state.judgeCancellation(by));
      const endedAt = Date.now();
      state.end('CANCELLED', endedAt, reason?.trim() || 'withdrawn by the requester');
      publishStatus();
      await record(() => records.recordEnd({ accessRequestId: request.id, status: 'CANCELLED', endedAt, reason: state.endReason!, actor: by.username }));
      return state.snapshot();
    },
    { validator: ({ by }) => refuse(state.judgeCancellation(by)) },
  );

  setHandler(
    authorizeTokenUpdate,
    async (issue) => {
      refuse(state.judgeTokenIssue(issue.by, Date.now()));
      await record(() =>
        records.recordTokenIssued({
          accessRequestId: request.id,
          jti: issue.jti,
          kid: issue.kid,
          subject: issue.by.username,
          issuedAt: issue.issuedAt,
          expiresAt: issue.expiresAt,
        }),
      );
      return { approvers: state.approvers(), grantExpiresAt: state.expiresAt! };
    },
    {
      validator: (issue) => {
        refuse(state.judgeTokenIssue(issue.by, Date.now()));
        if (issue.expiresAt > state.expiresAt! || issue.issuedAt >= issue.expiresAt) {
          refuse(new Rejection('NOT_ACTIVE', 'A token may not outlive its grant.'));
        }
      },
    },
  );

  const submittedAt = Date.now();
  await record(() => records.recordSubmission({ request, submittedAt, reviewDeadline: submittedAt + input.reviewWindowMs }));
  recorded = true;

  const decided = await condition(() => state.status !== 'PENDING_REVIEW', input.reviewWindowMs);
  if (!decided && state.timeOut(Date.now())) {
    publishStatus();
    await record(() => records.recordEnd({ accessRequestId: request.id, status: 'TIMED_OUT', endedAt: state.endedAt!, reason: state.endReason!, actor: 'system' }));
  }

  // Every wake-up re-checks the state: a revocation may have ended the grant, and a timer
  // firing early or late must not extend it.
  while (state.status === 'ACTIVE') {
    const remaining = state.expiresAt! - Date.now();
    if (state.expire(Date.now())) {
      publishStatus();
      await record(() => records.recordEnd({ accessRequestId: request.id, status: 'EXPIRED', endedAt: state.endedAt!, reason: state.endReason!, actor: 'system' }));
      break;
    }
    await condition(() => state.status !== 'ACTIVE', remaining);
  }

  await condition(allHandlersFinished);
  await recordQueue;
  return state.status;
}
