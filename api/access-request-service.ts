import { createHash, randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { AssertedAction } from '../contracts/principal-assertion.js';
import { signPrincipalAssertion } from '../tokens/principal-assertion.js';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import type { Principal, ReviewInput, SubmittedRequest } from '../domain/access-request.js';
import { mayRead, type ReadableRequest } from '../domain/permissions.js';
import { judgeSubmission } from '../domain/review-engine.js';
import { isRejectionReason, Rejection } from '../domain/review-rejection.js';
import type { Db } from '../db/client.js';
import { limitRefusedReviewAttempts, recordRejectedReviewAttempt } from '../db/rejected-review-attempts.js';
import { takeDailyAllowance, takeRateLimit } from '../db/rate-limit.js';
import { signPacsToken } from '../tokens/pacs-token.js';
import type { SigningKeyStore } from '../tokens/signing-keys.js';
import type { accessRequestWorkflow, AccessRequestWorkflowInput } from '../workflows/access-request.js';
import { accessRequestRequesterKey, accessRequestStatusKey } from '../workflows/search-attributes.js';
import {
  authorizeTokenUpdate,
  cancelUpdate,
  retroReviewUpdate,
  reviewUpdate,
  revokeUpdate,
  submissionRecordedUpdate,
  type Asserted,
} from '../workflows/messages.js';
import { reviewView, toView, type AccessRequestView } from '../audit/read/access-request-view.js';
import { stateFromRecord, withReviewsAndGrant, type AccessRequestRecord } from '../db/access-request-record.js';
import { canonicalJson } from '../contracts/canonical-json.js';
import { Problem } from './problem.js';
import { rejectionProblem, throwIfRejected } from './rejection-status.js';
import { StudyConfirmation } from './study-confirmation.js';
import { activeFreezes } from '../db/freezes.js';
import { judgeNotFrozen, type FrozenCandidate } from '../domain/freeze.js';
import { accessRequestId, requestHash } from './request-hash.js';
import type { AccessRequestInput, BreakGlassInput } from './schemas.js';
import { BREAK_GLASS_PURPOSE } from '../domain/break-glass.js';
import { visibleRequests } from './visibility.js';

export interface ServiceDeps {
  config: AppConfig;
  db: Db;
  temporal: Client;
  keys: SigningKeyStore;
  log: Logger;
}

type UpdateOutcome<T> = { kind: 'accepted'; result: T } | { kind: 'refused'; rejection: Rejection } | { kind: 'closed' } | { kind: 'unknown'; error: unknown };

/** What became of an Update: accepted, refused by a rule, sent to a closed workflow, or not known. */
async function settleUpdate<T>(send: () => Promise<T>): Promise<UpdateOutcome<T>> {
  try {
    return { kind: 'accepted', result: await send() };
  } catch (error) {
    const rejection = workflowRejection(error);
    if (rejection) return { kind: 'refused', rejection };
    if (error instanceof WorkflowNotFoundError) return { kind: 'closed' };
    return { kind: 'unknown', error };
  }
}

type ReviewRecord = AccessRequestRecord['reviews'][number];
type ReviewAnswer = AccessRequestView & { review: AccessRequestView['reviews'][number] };

function readable(row: AccessRequestRecord): ReadableRequest {
  return { requester: row.requester, departmentId: row.departmentId, reviewers: row.reviews.map((r) => r.reviewer) };
}

function ownReview(row: AccessRequestRecord, reviewer: string): ReviewRecord | undefined {
  return row.reviews.find((r) => r.reviewer === reviewer);
}

function sameReview(recorded: ReviewRecord, review: ReviewInput): boolean {
  return (
    recorded.decision === review.decision &&
    (recorded.comment ?? '') === (review.comment ?? '') &&
    recorded.requestHash === review.requestHash &&
    (recorded.idempotencyKey ?? undefined) === review.idempotencyKey
  );
}

/** The Update id of a keyed review: the same reviewer, key and body give the same id. */
function reviewDigest(review: ReviewInput): string {
  const body = canonicalJson({
    reviewer: review.reviewer.username,
    key: review.idempotencyKey ?? null,
    decision: review.decision,
    comment: review.comment ?? '',
    requestHash: review.requestHash,
  });
  return createHash('sha256').update(body).digest('hex');
}

/**
 * A retry of a review already recorded under the same Idempotency-Key and body gets the first
 * answer. Anything else by the same reviewer (another decision, another comment, the same
 * key on a different body) is a second review, which the engine refuses and the API records.
 */
function replayedReview(row: AccessRequestRecord, review: ReviewInput): ReviewAnswer | undefined {
  const own = ownReview(row, review.reviewer.username);
  if (!own || !review.idempotencyKey || !sameReview(own, review)) return undefined;
  return { ...toView(row), review: reviewView(own) };
}

/** The workflow's refusal (validator or handler), if that is what `error` is. */
export function workflowRejection(error: unknown): Rejection | undefined {
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && isRejectionReason(error.cause.type)) {
    return new Rejection(error.cause.type, error.cause.message);
  }
  return undefined;
}

/**
 * Every use of an access request: authorise against the recorded state with the same
 * engine the workflow runs, then let the workflow decide through an Update. The workflow's
 * answer is final; the early check only spares it requests that cannot succeed.
 */
export class AccessRequestService {
  readonly studies: StudyConfirmation;

  constructor(private readonly deps: ServiceDeps) {
    this.studies = new StudyConfirmation(deps.config.pacs, deps.log);
  }

  private handle(id: string) {
    return this.deps.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
  }

  private async load(id: string): Promise<AccessRequestRecord | null> {
    return this.deps.db.accessRequest.findUnique({ where: { id }, include: withReviewsAndGrant });
  }

  /** A request the caller may not read is not found: its existence, state and department stay unsaid. */
  private async loadVisible(principal: Principal, id: string): Promise<AccessRequestRecord> {
    const row = await this.load(id);
    if (!row || !mayRead(principal, readable(row))) throw new Problem(404, 'Not found', `No access request ${id} that you may see.`);
    return row;
  }

  /** Refused while a freeze matches: read from the database every time, so every API process agrees at once. */
  private async assertNotFrozen(candidate: FrozenCandidate): Promise<void> {
    throwIfRejected(judgeNotFrozen(await activeFreezes(this.deps.db), candidate));
  }

  async get(principal: Principal, id: string): Promise<AccessRequestView> {
    return toView(await this.loadVisible(principal, id));
  }

  async list(
    principal: Principal,
    query: { status?: string; kind?: string; retroStatus?: string; limit: number; cursor?: string },
  ): Promise<{ items: AccessRequestView[]; nextCursor: string | null }> {
    const where = throwIfRejected(visibleRequests(principal));
    const rows = await this.deps.db.accessRequest.findMany({
      where: {
        AND: [
          where,
          query.status ? { status: query.status } : {},
          query.kind ? { kind: query.kind } : {},
          query.retroStatus ? { retroStatus: query.retroStatus } : {},
        ],
      },
      include: withReviewsAndGrant,
      orderBy: [{ submittedAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
    });
    const page = rows.slice(0, query.limit);
    return { items: page.map(toView), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  async submit(principal: Principal, input: AccessRequestInput, idempotencyKey: string | undefined): Promise<{ view: AccessRequestView; replayed: boolean }> {
    const { departmentId } = throwIfRejected(judgeSubmission(principal));
    const { config } = this.deps;
    await this.assertNotFrozen({ patientId: input.patientId, studyInstanceUids: input.studyInstanceUids, usernames: [principal.username], departmentId });
    const fields = { requester: principal.username, requesterRole: 'clinician' as const, departmentId, ...input };
    const request: SubmittedRequest = {
      id: accessRequestId(principal.username, idempotencyKey, randomUUID),
      ...fields,
      requestHash: requestHash(fields),
      idempotencyKey,
      // Before anything is recorded: the PACS confirms each study is this patient's, or nothing is.
      confirmedStudies: await this.studies.confirm(input.studyInstanceUids, input.patientId),
    };
    // The request as recorded; what the PACS confirmed is recorded with it, in one transaction.
    const sameRequestOr422 = (row: AccessRequestRecord) => {
      if (row.requestHash !== request.requestHash) {
        throw new Problem(422, 'Idempotency key reused', 'This Idempotency-Key was used for a different request; nothing was changed.', {
          reason: 'IDEMPOTENCY_KEY_REUSED',
          id: row.id,
        });
      }
      return toView(row);
    };
    if (idempotencyKey) {
      const existing = await this.load(request.id);
      if (existing) return { view: sameRequestOr422(existing), replayed: true };
    }
    const start = {
      request,
      policy: { approvalsRequired: config.policy.approvalsRequired, requireDistinctRoles: config.policy.requireDistinctRoles },
      reviewWindowMs: config.policy.reviewWindowMs,
    };
    await this.startRecorded(principal, start);
    const row = await this.load(request.id);
    if (!row) throw new Problem(503, 'Not recorded yet', 'The request was accepted but is not yet recorded; retry with the same Idempotency-Key.');
    this.deps.log.info({ accessRequestId: request.id, requester: principal.username }, 'access request submitted');
    return { view: sameRequestOr422(row), replayed: false };
  }

  /**
   * Starts a request's workflow, vouched for as `principal`'s submission, and returns once the
   * workflow has recorded it. Its status search attribute starts PENDING_REVIEW for a
   * break-glass too: the workflow sets ACTIVE once it has checked and recorded it.
   */
  private async startRecorded(principal: Principal, start: Omit<AccessRequestWorkflowInput, 'assertion'>): Promise<void> {
    const { config, temporal } = this.deps;
    const { id } = start.request;
    try {
      await temporal.workflow.executeUpdateWithStart(submissionRecordedUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation<typeof accessRequestWorkflow>('accessRequestWorkflow', {
          workflowId: id,
          taskQueue: config.temporal.taskQueue,
          args: [{ ...start, assertion: await this.vouch(principal, id, 'submit', start) }],
          // A concurrent retry joins the running workflow; a retry after it closed is refused
          // and answered from the records by the caller.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: accessRequestStatusKey, value: 'PENDING_REVIEW' },
            { key: accessRequestRequesterKey, value: principal.username },
          ],
        }),
      });
    } catch (error) {
      const rejection = workflowRejection(error);
      if (rejection) throw rejectionProblem(rejection);
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  /**
   * Break-glass: granted at once, reviewed afterwards. The same checks as a submission (a
   * clinician, the PACS confirms each study under the patient, no freeze), a daily allowance
   * per clinician, and a workflow that records the grant before the API answers.
   */
  async breakGlass(principal: Principal, input: BreakGlassInput, idempotencyKey?: string): Promise<{ view: AccessRequestView; replayed: boolean }> {
    const { departmentId } = throwIfRejected(judgeSubmission(principal));
    const { config, db } = this.deps;
    await this.assertNotFrozen({ patientId: input.patientId, studyInstanceUids: input.studyInstanceUids, usernames: [principal.username], departmentId });
    const fields = {
      requester: principal.username,
      requesterRole: 'clinician' as const,
      departmentId,
      studyInstanceUids: input.studyInstanceUids,
      patientId: input.patientId,
      purposeOfUse: BREAK_GLASS_PURPOSE as SubmittedRequest['purposeOfUse'],
      justification: input.justification,
      durationMinutes: input.durationMinutes,
    };
    // A key of its own namespace: the same key on an ordinary request names another request.
    const id = accessRequestId(principal.username, idempotencyKey && `break-glass:${idempotencyKey}`, randomUUID);
    const hash = requestHash(fields);
    if (idempotencyKey) {
      // A retry (a lost answer, a second click) is answered from the record and uses no allowance.
      const existing = await this.load(id);
      if (existing && existing.requestHash !== hash) {
        throw new Problem(422, 'Idempotency key reused', 'This Idempotency-Key was used for a different break-glass; nothing was changed.', {
          reason: 'IDEMPOTENCY_KEY_REUSED',
          id,
        });
      }
      if (existing) return { view: toView(existing), replayed: true };
    }
    const request: SubmittedRequest = {
      id,
      ...fields,
      requestHash: hash,
      ...(idempotencyKey ? { idempotencyKey: `break-glass:${idempotencyKey}` } : {}),
      confirmedStudies: await this.studies.confirm(input.studyInstanceUids, input.patientId),
    };
    // Taken once the PACS has confirmed the studies, in one statement exact across processes and tabs.
    if (!(await takeDailyAllowance(db, 'break-glass', principal.username, config.breakGlass.perDay))) {
      throw new Problem(
        429,
        'Too many requests',
        `At most ${config.breakGlass.perDay} break-glass grants in 24 hours; ask for a review instead.`,
        { reason: 'BREAK_GLASS_LIMIT' },
        { 'Retry-After': '3600' },
      );
    }
    const start = {
      request,
      policy: { approvalsRequired: config.policy.approvalsRequired, requireDistinctRoles: config.policy.requireDistinctRoles },
      reviewWindowMs: config.breakGlass.reviewWindowMs,
      breakGlass: true,
      incidentClocks: config.incidents.clocks,
    };
    await this.startRecorded(principal, start);
    const row = await this.load(request.id);
    if (!row) throw new Problem(503, 'Not recorded yet', 'The break-glass was accepted but is not yet recorded; look for it in your requests.');
    this.deps.log.warn({ accessRequestId: request.id, requester: principal.username }, 'break-glass opened');
    return { view: toView(row), replayed: false };
  }

  /** A break-glass's review afterwards: the same rules as a review, judged on its own state in the workflow. */
  async retroReview(
    principal: Principal,
    id: string,
    input: { decision: 'approve' | 'deny'; comment?: string; requestHash?: string },
  ): Promise<AccessRequestView> {
    const row = await this.loadVisible(principal, id);
    if (row.kind !== 'break-glass') throw rejectionProblem(new Rejection('NOT_PERMITTED', 'Only a break-glass is reviewed afterwards.'));
    const review: ReviewInput = { reviewer: principal, decision: input.decision, comment: input.comment, requestHash: input.requestHash ?? row.requestHash };
    await this.update(id, retroReviewUpdate, 'retroReview', principal, review);
    this.deps.log.info({ accessRequestId: id, reviewer: principal.username, decision: input.decision }, 'break-glass reviewed');
    return toView((await this.load(id))!);
  }

  /**
   * Sends an Update under an id of our own and settles it. An answer lost on the way (the
   * frontend restarted, a deadline passed) is asked for again by that id, so an effect that
   * happened is never answered as a failure.
   */
  private async settle<Ret, M extends Asserted>(
    id: string,
    update: UpdateDefinition<Ret, [M]>,
    action: AssertedAction,
    principal: Principal,
    message: NoInfer<Omit<M, 'assertion'>>,
    updateId: string = randomUUID(),
  ): Promise<Exclude<UpdateOutcome<Ret>, { kind: 'unknown' }>> {
    const handle = this.handle(id);
    const assertion = await this.vouch(principal, id, action, message);
    const send = () => handle.executeUpdate(update, { args: [{ ...message, assertion } as M], updateId });
    const outcome = await settleUpdate(send);
    if (outcome.kind !== 'unknown') return outcome;
    // The same Update again under the same id: Temporal answers from the first if it was
    // admitted, and admits it now if it was not. (Polling by id cannot tell "never admitted"
    // from "workflow closed".)
    const again = await settleUpdate(send);
    if (again.kind !== 'unknown') return again;
    this.deps.log.warn({ accessRequestId: id, action, err: (again.error as Error)?.message }, 'update outcome unknown');
    throw new Problem(
      503,
      'Outcome unknown',
      'Temporal did not confirm this; nothing is assumed to have changed. Retry.',
      { reason: 'OUTCOME_UNKNOWN', retryAfterSeconds: 1 },
      { 'Retry-After': '1' },
    );
  }

  /** The API's signed word that `principal` sends exactly `message` about request `id`. */
  private async vouch(principal: Principal, id: string, action: AssertedAction, message: object): Promise<string> {
    return signPrincipalAssertion(await this.deps.keys.activeKey(), principal, { accessRequestId: id, action, body: message });
  }

  /** Settles an Update and turns the workflow's refusal (or its absence) into a problem. */
  private async update<Ret, M extends Asserted>(
    id: string,
    update: UpdateDefinition<Ret, [M]>,
    action: AssertedAction,
    principal: Principal,
    message: NoInfer<Omit<M, 'assertion'>>,
  ): Promise<Ret> {
    const outcome = await this.settle(id, update, action, principal, message);
    if (outcome.kind === 'accepted') return outcome.result;
    if (outcome.kind === 'refused') throw rejectionProblem(outcome.rejection);
    throw rejectionProblem(new Rejection('NOT_ACTIVE', `The access request ${id} has ended.`));
  }

  async review(
    principal: Principal,
    id: string,
    input: { decision: 'approve' | 'deny'; comment?: string; requestHash?: string },
    idempotencyKey: string | undefined,
  ): Promise<{ answer: ReviewAnswer; replayed: boolean }> {
    // Refused attempts are recorded (rate-limited per reviewer, so no caller can grow the
    // audit chain without bound), unknown ids counted alike so the limit reveals nothing.
    const refusals = this.deps.config.rateLimits.refusedReviewsPerMinute;
    const notFound = new Problem(404, 'Not found', `No access request ${id} that you may see.`);
    const row = await this.load(id);
    if (!row) {
      await limitRefusedReviewAttempts(this.deps.db, principal.username, refusals);
      throw notFound;
    }
    const review: ReviewInput = {
      reviewer: principal,
      decision: input.decision,
      comment: input.comment,
      requestHash: input.requestHash ?? row.requestHash,
      idempotencyKey,
    };
    const record = (rejection: Rejection) =>
      recordRejectedReviewAttempt(
        this.deps.db,
        { accessRequestId: id, reviewer: principal.username, decision: input.decision, reason: rejection.reason, detail: rejection.detail },
        refusals,
      );
    // The same visibility as GET: a request the caller may not read is not found, and its
    // state and department stay unsaid. Every reviewer sees what they may review.
    if (!mayRead(principal, readable(row))) {
      const unseen = stateFromRecord(row, this.deps.config.policy).judgeReview(review);
      if (unseen instanceof Rejection) await record(unseen);
      throw notFound;
    }
    const replay = replayedReview(row, review);
    if (replay) return { answer: replay, replayed: true };

    const refuse = async (rejection: Rejection, by: 'api' | 'workflow'): Promise<never> => {
      await record(rejection);
      this.deps.log.warn({ accessRequestId: id, reviewer: principal.username, reason: rejection.reason, by }, 'review refused');
      throw rejectionProblem(rejection);
    };
    const early = stateFromRecord(row, this.deps.config.policy).judgeReview(review);
    if (early instanceof Rejection) return refuse(early, 'api');
    await this.assertNotFrozen({
      patientId: row.patientId,
      studyInstanceUids: row.studyInstanceUids,
      usernames: [row.requester, principal.username],
      departmentId: row.departmentId,
    });

    // Each distinct review is its own Update: only a retry of the very same review (same
    // reviewer, key and body) may be answered with an earlier result.
    const updateId = idempotencyKey ? `review-${reviewDigest(review)}` : `review-${randomUUID()}`;
    const outcome = await this.settle(id, reviewUpdate, 'review', principal, review, updateId);
    if (outcome.kind === 'refused') {
      // The workflow records the messages it cannot trust itself: they may not come from here.
      if (outcome.rejection.reason === 'UNVERIFIED_PRINCIPAL') throw rejectionProblem(outcome.rejection);
      return refuse(outcome.rejection, 'workflow');
    }

    // Accepted, or the workflow has closed: the records are final either way.
    const after = (await this.load(id))!;
    const own = ownReview(after, principal.username);
    if (own && sameReview(own, review)) {
      this.deps.log.info({ accessRequestId: id, reviewer: principal.username, decision: input.decision }, 'review recorded');
      return { answer: { ...toView(after), review: reviewView(own) }, replayed: false };
    }
    if (outcome.kind === 'closed') {
      const late = stateFromRecord(after, this.deps.config.policy).judgeReview(review);
      return refuse(
        late instanceof Rejection ? late : new Rejection('NOT_PENDING', `The request is ${after.status}; only a pending request can be reviewed.`),
        'workflow',
      );
    }
    throw new Error(`review of ${id} by ${principal.username} was accepted but is not in the records`);
  }

  async revoke(principal: Principal, id: string, reason: string): Promise<AccessRequestView> {
    const row = await this.loadVisible(principal, id);
    const { byRole } = throwIfRejected(stateFromRecord(row, this.deps.config.policy).judgeRevocation(principal));
    await this.update(id, revokeUpdate, 'revoke', principal, { by: principal, byRole, reason, revocationId: randomUUID() });
    this.deps.log.info({ accessRequestId: id, revokedBy: principal.username, role: byRole }, 'grant revoked');
    return toView((await this.load(id))!);
  }

  async cancel(principal: Principal, id: string, reason: string | undefined): Promise<AccessRequestView> {
    const row = await this.loadVisible(principal, id);
    throwIfRejected(stateFromRecord(row, this.deps.config.policy).judgeCancellation(principal));
    await this.update(id, cancelUpdate, 'cancel', principal, { by: principal, reason });
    this.deps.log.info({ accessRequestId: id, cancelledBy: principal.username }, 'access request withdrawn');
    return toView((await this.load(id))!);
  }

  async issueToken(principal: Principal, id: string): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number }> {
    const { config, db, keys, log } = this.deps;
    const row = await this.loadVisible(principal, id);
    const now = Date.now();
    const grant = stateFromRecord(row, config.policy);
    throwIfRejected(grant.judgeTokenIssue(principal, now));
    await this.assertNotFrozen({
      patientId: row.patientId,
      studyInstanceUids: row.studyInstanceUids,
      usernames: [row.requester],
      departmentId: row.departmentId,
    });
    // One atomic count shared by every API process (a count of issued rows raced); taken
    // only for requests the rules allow, so refusals do not use up the allowance.
    await takeRateLimit(db, 'tokens', principal.username, config.tokens.ratePerMinute);
    const key = await keys.activeKey();
    const jti = randomUUID();
    const { issuedAt, expiresAt } = throwIfRejected(grant.tokenBounds(now, config.tokens.ttlSeconds));
    const authorization = await this.update(id, authorizeTokenUpdate, 'authorizeToken', principal, { by: principal, jti, kid: key.kid, issuedAt, expiresAt });
    const token = await signPacsToken(
      {
        issuer: config.tokens.issuer,
        audience: config.tokens.gatewayAudience,
        subject: principal.username,
        jti,
        issuedAt,
        expiresAt,
        grantId: id,
        studyInstanceUids: row.studyInstanceUids,
        patientId: row.patientId,
        purposeOfUse: row.purposeOfUse,
        subjectRole: row.requesterRole,
        approvers: authorization.approvers,
      },
      key,
    );
    log.info({ accessRequestId: id, jti, kid: key.kid, subject: principal.username }, 'PACS token issued');
    return { access_token: token, token_type: 'Bearer', expires_in: Math.round((expiresAt - now) / 1000) };
  }
}
