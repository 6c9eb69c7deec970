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
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Principal, ReviewInput, ReviewPolicy, SubmittedRequest } from '../domain/access-request.js';
import { AccessRequestState, judgeSubmission } from '../domain/review-engine.js';
import { Rejection } from '../domain/review-rejection.js';
import { needsIncident, retroStatusOf } from '../domain/break-glass.js';
import { DEFAULT_CLOCK_POLICY, type ClockPolicy } from '../domain/incident.js';
import { incidentWorkflow } from './incident.js';
import type { createPrincipalActivities } from '../activities/principals.js';
import type { createRecordActivities } from '../activities/records.js';
import type { AssertedAction, AssertionCheck } from '../contracts/principal-assertion.js';
import {
  type Asserted,
  type CancellationInput,
  type ReviewMessage,
  type RevocationInput,
  type TokenIssueInput,
  authorizeTokenUpdate,
  cancelUpdate,
  retroReviewUpdate,
  reviewUpdate,
  revokeUpdate,
  snapshotQuery,
  submissionRecordedUpdate,
} from './messages.js';
import { wellFormed } from './message-shapes.js';
import { accessRequestStatusKey } from './search-attributes.js';

export interface AccessRequestWorkflowInput extends Asserted {
  request: SubmittedRequest;
  policy: ReviewPolicy;
  reviewWindowMs: number;
  /**
   * Break-glass (domain/break-glass.ts): active at once, and `reviewWindowMs` is the window
   * for the review that follows. Absent in every history from before break-glass.
   */
  breakGlass?: boolean;
  /** The clocks of the incident an unjustified or unreviewed break-glass opens; absent: the defaults. */
  incidentClocks?: ClockPolicy;
}

/**
 * One access request, from submission to its end: the message API wired to the run below,
 * then the request's life, one wait at a time. Every rule is AccessRequestState's; the run
 * checks who sent each message, and records each transition in the order it was made.
 */
export async function accessRequestWorkflow(input: AccessRequestWorkflowInput): Promise<string> {
  const run = new AccessRequestRun(input);

  setHandler(snapshotQuery, () => run.state.snapshot());
  setHandler(submissionRecordedUpdate, () => run.submissionRecorded());
  setHandler(reviewUpdate, (message) => run.review(message), { validator: (message) => run.validateReview(message) });
  setHandler(revokeUpdate, (message) => run.revoke(message), { validator: (message) => run.validateRevocation(message) });
  setHandler(cancelUpdate, (message) => run.cancel(message), { validator: (message) => run.validateCancellation(message) });
  setHandler(authorizeTokenUpdate, (message) => run.authorizeToken(message), { validator: (message) => run.validateTokenIssue(message) });
  setHandler(retroReviewUpdate, (message) => run.retroReview(message), { validator: (message) => run.validateRetroReview(message) });

  await run.recordSubmission();
  if (input.breakGlass) {
    // The grant runs its course while the review afterwards has its own window.
    await Promise.all([run.awaitGrantEnd(), run.awaitRetroReview(input.reviewWindowMs)]);
  } else {
    await run.awaitDecision(input.reviewWindowMs);
    await run.awaitGrantEnd();
  }
  await condition(allHandlersFinished);
  return run.finish();
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

/** Runs an engine step that throws its Rejection, refusing the Update with it. */
function orRefuse<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof Rejection) refuse(error);
    throw error;
  }
}

/** Why a checked assertion does not vouch for this message's sender, if it does not. */
function refusalOf(check: AssertionCheck, claimed: Principal, used: ReadonlySet<string>): { reason: string; detail: string } | undefined {
  if (!check.ok) return check;
  if (used.has(check.jti)) return { reason: 'ASSERTION_REPLAYED', detail: 'This assertion has been used before.' };
  if (!samePrincipal(check.principal, claimed)) return { reason: 'ASSERTION_MISMATCH', detail: 'The assertion names another principal than the message.' };
  return undefined;
}

/**
 * The run of one request: the engine's state, and what wires it to Temporal (the checks of
 * who sent a message, the record queue, the search attribute). Validators judge against the
 * state as it is; handlers judge again after the sender is checked, since the state may
 * have moved in between, and only then change it.
 */
class AccessRequestRun {
  readonly state: AccessRequestState;
  private readonly retro: AccessRequestState;
  /** When a break-glass was opened: its review window runs from here. */
  private openedAt?: number;
  private readonly request: SubmittedRequest;
  /** Whether this run recorded the request; nothing else is recorded until it has. */
  private recorded = false;
  private readonly checkAssertions: boolean;
  private readonly usedAssertions = new Set<string>();
  // Record activities run one after another, so the database sees transitions in the
  // order the workflow made them even when Updates arrive together.
  private recordQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly input: AccessRequestWorkflowInput) {
    this.request = input.request;
    this.state = new AccessRequestState(input.request, input.policy);
    // A break-glass's review afterwards, judged by the same rules as any review.
    this.retro = new AccessRequestState(input.request, input.policy);
    // Histories from before assertions replay as they ran; every new run checks them.
    this.checkAssertions = patched('principal-assertions');
  }

  // ---- The request's life

  /** Queued first, so nothing about this request is recorded before the request itself. */
  async recordSubmission(): Promise<void> {
    const submittedAt = Date.now();
    await this.record(async () => {
      if (this.checkAssertions) await this.refuseUnvouchedSubmission();
      const { request, reviewWindowMs } = this.input;
      if (this.input.breakGlass) {
        this.openedAt = submittedAt;
        this.state.openBreakGlass(submittedAt);
        this.publishStatus();
        await records.recordBreakGlassOpened({
          request,
          openedAt: submittedAt,
          expiresAt: this.state.expiresAt!,
          retroDeadline: submittedAt + reviewWindowMs,
          runId: workflowInfo().runId,
        });
      } else {
        await records.recordSubmission({ request, submittedAt, reviewDeadline: submittedAt + reviewWindowMs, runId: workflowInfo().runId });
      }
      this.recorded = true;
    }, true).catch((error) => this.unlessFailed(error));
  }

  /** Waits for a decision; a request still pending when the review window closes times out. */
  async awaitDecision(reviewWindowMs: number): Promise<void> {
    // A request already ended (FAILED at submission) sets no review timer.
    const decided = this.state.status !== 'PENDING_REVIEW' || (await condition(() => this.state.status !== 'PENDING_REVIEW', reviewWindowMs));
    if (!decided && this.state.timeOut(Date.now())) await this.recordSystemEnd('TIMED_OUT');
  }

  /**
   * Waits for an active grant to end. Every wake-up re-checks the state: a revocation may
   * have ended the grant, and a timer firing early or late must not extend it.
   */
  async awaitGrantEnd(): Promise<void> {
    while (this.state.status === 'ACTIVE') {
      const remaining = this.state.expiresAt! - Date.now();
      if (this.state.expire(Date.now())) {
        await this.recordSystemEnd('EXPIRED');
        break;
      }
      await condition(() => this.state.status !== 'ACTIVE', remaining);
    }
  }

  /** A break-glass not reviewed by two people within its window ends its review as UNREVIEWED. */
  async awaitRetroReview(windowMs: number): Promise<void> {
    const failed = () => this.state.status === 'FAILED';
    if (failed()) return;
    // Until the deadline recorded with the break-glass, not a window started later.
    const remaining = Math.max(0, this.openedAt! + windowMs - Date.now());
    const decided = await condition(() => this.retro.status !== 'PENDING_REVIEW', remaining);
    if (!decided && !failed() && this.retro.timeOut(Date.now())) {
      await this.record(() => records.recordRetroUnreviewed({ accessRequestId: this.request.id, at: this.retro.endedAt! })).catch((error) =>
        this.unlessFailed(error),
      );
    }
    const ended = this.retro.status === 'DENIED' ? 'UNJUSTIFIED' : this.retro.status === 'TIMED_OUT' ? 'UNREVIEWED' : 'PENDING';
    // Histories from before incidents replay as they ran.
    if (ended !== 'PENDING' && needsIncident(ended) && !failed() && patched('break-glass-opens-incident')) await this.openIncident(ended);
  }

  /**
   * An unjustified or unreviewed break-glass opens an incident by itself, as this run's
   * child: the incident checks that its parent is this very run and that the records say so.
   * Abandoned, not cancelled, when this run ends: the incident outlives the grant.
   */
  private async openIncident(outcome: 'UNJUSTIFIED' | 'UNREVIEWED'): Promise<void> {
    // The outcome is recorded before the incident reads it.
    await this.recordQueue;
    const { request } = this;
    const openedAt = this.openedAt!;
    const started = startChild(incidentWorkflow, {
      workflowId: `inc-bg-${request.id}`,
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [
        {
          incident: {
            id: `inc-bg-${request.id}`,
            title: `Break-glass ${outcome === 'UNJUSTIFIED' ? 'judged not justified' : 'not reviewed in time'}: ${request.id}`,
            description: `Opened by itself when the review afterwards of break-glass ${request.id} by ${request.requester} ended ${outcome}.`,
            // The clinician only: containing it freezes them, not the patient, whom others (and the
            // next emergency) must still be able to see. The report finds the patient through the
            // grant the clinician used.
            scope: { patients: [], studies: [], users: [request.requester] },
            windowFrom: openedAt,
          },
          by: null,
          origin: { kind: 'break-glass', accessRequestId: request.id },
          declaredAt: Date.now(),
          policy: this.input.incidentClocks ?? DEFAULT_CLOCK_POLICY,
        },
      ],
    });
    // Opened already (this run reset and replayed past it): the one incident stands.
    await started.catch((error: unknown) => {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    });
  }

  async finish(): Promise<string> {
    await this.recordQueue;
    return this.state.status;
  }

  private async recordSystemEnd(status: 'TIMED_OUT' | 'EXPIRED'): Promise<void> {
    this.publishStatus();
    const { state } = this;
    // Read when the write runs, as every queued write reads the state.
    await this.record(() =>
      records.recordEnd({ accessRequestId: this.request.id, status, endedAt: state.endedAt!, reason: state.endReason!, actor: 'system' }),
    ).catch((error) => this.unlessFailed(error));
  }

  // ---- Updates: validators (synchronous, judge only) and handlers

  async submissionRecorded() {
    await condition(() => this.recorded || this.state.status === 'FAILED');
    if (!this.recorded)
      throw ApplicationFailure.create({ type: 'RECORD_REFUSED', message: 'The request could not be recorded; it has ended (FAILED).', nonRetryable: true });
    return this.state.snapshot();
  }

  validateReview(message: ReviewMessage): void {
    refuseMalformed('review', message);
    const verdict = this.state.judgeReview(message);
    if (verdict instanceof Rejection) refuse(verdict);
  }

  async review(message: ReviewMessage) {
    const reviewer = await this.vouchedFor('review', message.reviewer, message, message.decision);
    const review: ReviewInput = {
      reviewer,
      decision: message.decision,
      comment: message.comment,
      requestHash: message.requestHash,
      idempotencyKey: message.idempotencyKey,
    };
    const reviewedAt = Date.now();
    const verdict = orRefuse(() => this.state.applyReview(review, reviewedAt));
    this.publishStatus();
    const { state } = this;
    await this.record(() =>
      records.recordReview({
        accessRequestId: this.request.id,
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
  }

  validateRetroReview(message: ReviewMessage): void {
    refuseMalformed('review', message);
    if (!this.input.breakGlass) refuse(new Rejection('NOT_PERMITTED', 'Only a break-glass is reviewed afterwards.'));
    const verdict = this.retro.judgeReview(message);
    if (verdict instanceof Rejection) refuse(verdict);
  }

  async retroReview(message: ReviewMessage) {
    const reviewer = await this.vouchedFor('retroReview', message.reviewer, message, message.decision);
    const review: ReviewInput = { reviewer, decision: message.decision, comment: message.comment, requestHash: message.requestHash };
    const reviewedAt = Date.now();
    const verdict = orRefuse(() => this.retro.applyReview(review, reviewedAt));
    // Judged not justified while the grant still runs: it ends now, revoked by the reviewer who judged it.
    const stopsGrant = verdict.outcome === 'DENIED' && this.state.status === 'ACTIVE';
    const reason = `Break-glass judged not justified: ${review.comment ?? ''}`.trim();
    if (stopsGrant) {
      this.state.end('REVOKED', reviewedAt, reason);
      this.publishStatus();
    }
    await this.record(() =>
      records.recordRetroReview({
        accessRequestId: this.request.id,
        reviewer: reviewer.username,
        decision: review.decision,
        comment: review.comment,
        requestHash: review.requestHash,
        countedToward: verdict.countedToward,
        reviewedAt,
        retroStatus: retroStatusOf(verdict.outcome),
      }),
    );
    if (stopsGrant) {
      await this.record(() =>
        records.recordRevocation({
          accessRequestId: this.request.id,
          revocationId: `${this.request.id}:unjustified`,
          revokedBy: reviewer.username,
          revokedByRole: 'reviewer',
          reason,
          revokedAt: reviewedAt,
        }),
      );
    }
    return this.state.snapshot();
  }

  validateRevocation(message: RevocationInput): void {
    refuseMalformed('revoke', message);
    const verdict = this.state.judgeRevocation(message.by);
    if (verdict instanceof Rejection) refuse(verdict);
  }

  async revoke(message: RevocationInput) {
    const { reason, revocationId } = message;
    const by = await this.vouchedFor('revoke', message.by, message);
    const revokedAt = Date.now();
    const { byRole } = orRefuse(() => this.state.applyRevocation(by, revokedAt, reason));
    this.publishStatus();
    await this.record(() =>
      records.recordRevocation({ accessRequestId: this.request.id, revocationId, revokedBy: by.username, revokedByRole: byRole, reason, revokedAt }),
    );
    return this.state.snapshot();
  }

  validateCancellation(message: CancellationInput): void {
    refuseMalformed('cancel', message);
    refuse(this.state.judgeCancellation(message.by));
  }

  async cancel(message: CancellationInput) {
    const by = await this.vouchedFor('cancel', message.by, message);
    const endedAt = Date.now();
    orRefuse(() => this.state.applyCancellation(by, endedAt, message.reason));
    this.publishStatus();
    const { state } = this;
    await this.record(() =>
      records.recordEnd({ accessRequestId: this.request.id, status: 'CANCELLED', endedAt, reason: state.endReason!, actor: by.username }),
    );
    return state.snapshot();
  }

  validateTokenIssue(issue: TokenIssueInput): void {
    refuseMalformed('authorizeToken', issue);
    refuse(this.state.judgeTokenIssue(issue.by, Date.now(), { issuedAt: issue.issuedAt, expiresAt: issue.expiresAt }));
  }

  async authorizeToken(issue: TokenIssueInput) {
    const by = await this.vouchedFor('authorizeToken', issue.by, issue);
    refuse(this.state.judgeTokenIssue(by, Date.now(), { issuedAt: issue.issuedAt, expiresAt: issue.expiresAt }));
    await this.record(() =>
      records.recordTokenIssued({
        accessRequestId: this.request.id,
        jti: issue.jti,
        kid: issue.kid,
        subject: by.username,
        issuedAt: issue.issuedAt,
        expiresAt: issue.expiresAt,
      }),
    );
    return { approvers: this.state.approvers(), grantExpiresAt: this.state.expiresAt! };
  }

  // ---- Who sent it

  /**
   * The principal the API vouches for as the sender of `message`, or a refusal that is
   * recorded here, since a message sent straight to Temporal leaves no trace anywhere else.
   */
  private async vouchedFor(action: AssertedAction, claimed: Principal, message: Asserted, decision?: string): Promise<Principal> {
    // Asked per message, so that a workflow started before assertions checks every message
    // that reaches it from now on, while its earlier history replays as it ran.
    if (!patched('principal-assertions')) return claimed;
    const { assertion, ...body } = message;
    const check = await principals.verifyPrincipal({ assertion, subject: { accessRequestId: this.request.id, action, body } });
    const refusal = refusalOf(check, claimed, this.usedAssertions);
    if (check.ok && !refusal) {
      this.usedAssertions.add(check.jti);
      return check.principal;
    }
    const { reason, detail } = refusal ?? { reason: 'ASSERTION_INVALID', detail: 'The assertion could not be checked.' };
    const messageId = currentUpdateInfo()?.id ?? `${action}:${Date.now()}`;
    await this.record(() =>
      records.recordRefusedMessage({
        messageId: `${this.request.id}:${messageId}`,
        accessRequestId: this.request.id,
        requestRecorded: this.recorded,
        action,
        claimedBy: claimed.username,
        decision,
        reason,
        detail,
      }),
    );
    throw ApplicationFailure.create({ type: 'UNVERIFIED_PRINCIPAL', message: `${reason}: ${detail}`, nonRetryable: true });
  }

  /** A workflow started straight on Temporal, without the API, fails and records nothing but why. */
  private async refuseUnvouchedSubmission(): Promise<void> {
    const { request } = this;
    const { assertion, ...body } = this.input;
    const check = await principals.verifyPrincipal({ assertion, subject: { accessRequestId: request.id, action: 'submit', body } });
    // The assertion names the request; the request is this workflow, and no other run of it.
    const vouched =
      check.ok &&
      workflowInfo().workflowId === request.id &&
      check.principal.username === request.requester &&
      !(judgeSubmission(check.principal) instanceof Rejection) &&
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

  // ---- Recording

  private record<T>(write: () => Promise<T>, first = false): Promise<T> {
    // Nothing is recorded about a request this run did not itself record (a copy of another
    // run's start, refused): writes queued behind a refused submission are refused too.
    const guarded = () => {
      if (!first && !this.recorded)
        throw ApplicationFailure.create({ type: 'NOT_RECORDED', message: 'This run did not record the request.', nonRetryable: true });
      return write();
    };
    const next = this.recordQueue.then(guarded).catch((error) => this.failIfRefused(error));
    this.recordQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * A step the database refused can never be recorded. Instead of retrying for ever, the
   * request ends as FAILED (recorded, its grant ended, granting nothing), and the message
   * that caused it is refused.
   */
  private async failIfRefused(error: unknown): Promise<never> {
    if (!(error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === 'RECORD_REFUSED')) throw error;
    if (this.state.status !== 'FAILED') {
      this.state.fail(Date.now(), 'a step of this request could not be recorded');
      this.publishStatus();
      await records.recordFailure({ accessRequestId: this.request.id, endedAt: this.state.endedAt!, step: error.activityType });
    }
    throw ApplicationFailure.create({
      type: 'RECORD_REFUSED',
      message: 'This could not be recorded; the request has ended (FAILED) and grants nothing.',
      nonRetryable: true,
    });
  }

  /** The main line carries on once a refused step has ended the request as FAILED. */
  private unlessFailed(error: unknown): void {
    if (this.state.status !== 'FAILED') throw error;
  }

  private publishStatus(): void {
    upsertSearchAttributes([{ key: accessRequestStatusKey, value: this.state.status }]);
  }
}
