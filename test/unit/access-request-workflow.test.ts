import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal, ReviewDecision, SubmittedRequest } from '../../domain/access-request.js';
import type { accessRequestWorkflow, AccessRequestWorkflowInput } from '../../workflows/access-request.js';
import {
  authorizeTokenUpdate,
  cancelUpdate,
  retroReviewUpdate,
  reviewUpdate,
  revokeUpdate,
  snapshotQuery,
  submissionRecordedUpdate,
} from '../../workflows/messages.js';
import { mockedActivities, startWorkflowTestEnv, vouch, type MockedActivities, type WorkflowTestEnv } from '../support/workflow-test-env.js';

// The workflow's own logic, driven through its public messages on Temporal's time-skipping
// test server, with every activity mocked: a day's review window or an hour's grant passes
// in milliseconds, and what the workflow asks its activities to record is checked exactly.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const alice: Principal = { username: 'clin.alice', roles: ['clinician'], departmentId: 'radiology', reviewsForDepartments: [] };
const carol: Principal = { username: 'sup.carol', roles: ['supervisor'], departmentId: 'radiology', reviewsForDepartments: ['radiology', 'cardiology'] };
const erin: Principal = { username: 'sup.erin', roles: ['supervisor'], departmentId: 'radiology', reviewsForDepartments: ['radiology'] };
const dave: Principal = { username: 'priv.dave', roles: ['privacy_officer'], reviewsForDepartments: [] };
const grace: Principal = { username: 'sec.grace', roles: ['security_officer'], reviewsForDepartments: [] };
const everyone = [alice, carol, erin, dave, grace];

let testEnv: WorkflowTestEnv;
beforeAll(async () => {
  testEnv = await startWorkflowTestEnv();
}, 600_000);
afterAll(() => testEnv?.close());

type Handle = WorkflowHandle<typeof accessRequestWorkflow>;

function newRequest(overrides: Partial<SubmittedRequest> = {}): SubmittedRequest {
  return {
    id: `ar-${randomUUID()}`,
    requester: alice.username,
    requesterRole: 'clinician',
    departmentId: 'radiology',
    studyInstanceUids: ['1.2.826.0.1.3680043.8.498.10001'],
    patientId: 'SYN-0001',
    purposeOfUse: 'TREAT',
    justification: 'follow-up of a known lesion',
    durationMinutes: 60,
    requestHash: 'a'.repeat(64),
    ...overrides,
  };
}

interface Started {
  handle: Handle;
  request: SubmittedRequest;
}

interface StartOptions {
  request?: SubmittedRequest;
  reviewWindowMs?: number;
  /** The request's id unless a test says otherwise, as the API starts it. */
  workflowId?: string;
  /** The requester vouched for unless a test says otherwise; null for none. */
  assertion?: string | null;
  breakGlass?: boolean;
}

/** Starts the workflow with `activities` behind it. */
async function start(activities: MockedActivities, options: StartOptions = {}): Promise<Started> {
  const request = options.request ?? newRequest();
  const workflowId = options.workflowId ?? request.id;
  testEnv.useActivities(workflowId, activities);
  const input: AccessRequestWorkflowInput = {
    request,
    policy: { approvalsRequired: 2, requireDistinctRoles: true },
    reviewWindowMs: options.reviewWindowMs ?? DAY,
    ...(options.breakGlass ? { breakGlass: true } : {}),
    assertion: options.assertion === null ? undefined : (options.assertion ?? vouch(alice)),
  };
  const handle = await testEnv.env.client.workflow.start<typeof accessRequestWorkflow>('accessRequestWorkflow', {
    workflowId,
    taskQueue: testEnv.taskQueue,
    args: [input],
  });
  return { handle, request };
}

/** Starts it and waits until the submission is recorded, as the API does before it answers. */
async function submit(activities: MockedActivities, options: StartOptions = {}): Promise<Started> {
  const started = await start(activities, options);
  await started.handle.executeUpdate(submissionRecordedUpdate);
  return started;
}

function review({ handle, request }: Started, reviewer: Principal, decision: ReviewDecision, extra: { comment?: string; assertion?: string | null } = {}) {
  const assertion = extra.assertion === null ? undefined : (extra.assertion ?? vouch(reviewer));
  return handle.executeUpdate(reviewUpdate, { args: [{ reviewer, decision, requestHash: request.requestHash, comment: extra.comment, assertion }] });
}

async function activate(started: Started) {
  await review(started, carol, 'approve');
  return review(started, dave, 'approve');
}

/** What the workflow failed with. */
async function workflowFailure(handle: Handle): Promise<Error | undefined> {
  const error = await handle.result().then(
    () => expect.fail('the workflow completed'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return (error as WorkflowFailedError).cause;
}

/** The type of the failure an Update was refused with. */
async function refusal(update: Promise<unknown>): Promise<string | undefined> {
  const error = await update.then(
    () => expect.fail('the update was accepted'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return ((error as WorkflowUpdateFailedError).cause as ApplicationFailure | undefined)?.type ?? undefined;
}

/** The names of the record activities called, in order. */
function recordCalls(activities: MockedActivities): string[] {
  const calls = Object.entries(activities)
    .filter(([name]) => name.startsWith('record'))
    .flatMap(([name, fn]) => fn.mock.invocationCallOrder.map((order) => ({ name, order })));
  return calls.sort((a, b) => a.order - b.order).map((c) => c.name);
}

const refusedWith = (type: string) => ApplicationFailure.nonRetryable('the database refused this row', type);

describe('access-request workflow with mocked activities', { timeout: 60_000 }, () => {
  it('becomes ACTIVE on two approvals from distinct reviewers, and EXPIRES when the requested duration has passed', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities, { request: newRequest({ durationMinutes: 90 }) });
    expect((await review(started, carol, 'approve')).status).toBe('PENDING_REVIEW');
    const snapshot = await review(started, dave, 'approve');
    expect(snapshot.status).toBe('ACTIVE');
    expect(snapshot.reviews.map((r) => [r.reviewer, r.countedToward])).toEqual([
      ['sup.carol', 'supervisor'],
      ['priv.dave', 'privacy_officer'],
    ]);
    expect(snapshot.expiresAt! - snapshot.activatedAt!).toBe(90 * 60_000);
    expect(await started.handle.result()).toBe('EXPIRED');

    expect(recordCalls(activities)).toEqual(['recordSubmission', 'recordReview', 'recordReview', 'recordEnd']);
    const [submission] = activities.recordSubmission.mock.calls[0]!;
    expect(submission.reviewDeadline - submission.submittedAt).toBe(DAY);
    expect(submission.runId).toEqual(expect.any(String));
    const [approval] = activities.recordReview.mock.calls[1]!;
    expect(approval).toMatchObject({
      reviewer: 'priv.dave',
      outcome: 'ACTIVE',
      grant: { approvers: ['sup.carol', 'priv.dave'], expiresAt: snapshot.expiresAt },
    });
    const [end] = activities.recordEnd.mock.calls[0]!;
    expect(end).toMatchObject({ status: 'EXPIRED', actor: 'system', reason: 'the granted duration ended' });
    // Never early, and not long after: the time skipped to the grant's end.
    expect(end.endedAt).toBeGreaterThanOrEqual(snapshot.expiresAt!);
    expect(end.endedAt - snapshot.expiresAt!).toBeLessThan(60_000);
  });

  it('refuses a second review by the same person, a second approval for a role already satisfied and a non-reviewer, recording none', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    await review(started, carol, 'approve');
    expect(await refusal(review(started, carol, 'deny', { comment: 'changed my mind' }))).toBe('ALREADY_REVIEWED');
    expect(await refusal(review(started, erin, 'approve'))).toBe('ROLE_ALREADY_APPROVED');
    expect(await refusal(review(started, alice, 'approve'))).toBe('NOT_A_REVIEWER');
    expect((await started.handle.query(snapshotQuery)).status).toBe('PENDING_REVIEW');
    await started.handle.terminate('test over');
    expect(activities.recordReview).toHaveBeenCalledTimes(1);
    expect(activities.recordRefusedMessage).not.toHaveBeenCalled();
  });

  it('ends DENIED on one denial, without waiting for any timer', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    await review(started, carol, 'approve');
    expect((await review(started, dave, 'deny', { comment: 'not the right purpose' })).status).toBe('DENIED');
    expect(await started.handle.result()).toBe('DENIED');
    const [denial] = activities.recordReview.mock.calls[1]!;
    expect(denial).toMatchObject({ reviewer: 'priv.dave', decision: 'deny', outcome: 'DENIED', comment: 'not the right purpose' });
    expect(denial.grant).toBeUndefined();
    expect(activities.recordEnd).not.toHaveBeenCalled();
  });

  it('ends TIMED_OUT when the review window passes without a decision', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities, { reviewWindowMs: 3 * DAY });
    await review(started, carol, 'approve');
    expect(await started.handle.result()).toBe('TIMED_OUT');
    const [submission] = activities.recordSubmission.mock.calls[0]!;
    const [end] = activities.recordEnd.mock.calls[0]!;
    expect(end).toMatchObject({ status: 'TIMED_OUT', actor: 'system', reason: 'no decision within the review window' });
    expect(end.endedAt - submission.submittedAt).toBeGreaterThanOrEqual(3 * DAY);
    expect(end.endedAt - submission.submittedAt).toBeLessThan(3 * DAY + 60_000);
  });

  it('is CANCELLED by its requester while pending, and by no one else', async () => {
    const activities = mockedActivities(everyone);
    const { handle } = await submit(activities);
    expect(await refusal(handle.executeUpdate(cancelUpdate, { args: [{ by: carol, assertion: vouch(carol) }] }))).toBe('NOT_PERMITTED');
    expect((await handle.executeUpdate(cancelUpdate, { args: [{ by: alice, reason: '  ', assertion: vouch(alice) }] })).status).toBe('CANCELLED');
    expect(await handle.result()).toBe('CANCELLED');
    expect(activities.recordEnd.mock.calls.map(([end]) => [end.status, end.actor, end.reason])).toEqual([
      ['CANCELLED', 'clin.alice', 'withdrawn by the requester'],
    ]);
  });

  it('is REVOKED by a security officer while active, and no expiry follows', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    await activate(started);
    const snapshot = await started.handle.executeUpdate(revokeUpdate, {
      args: [{ by: grace, byRole: 'security_officer', reason: 'left the department', revocationId: 'rev-1', assertion: vouch(grace) }],
    });
    expect(snapshot.status).toBe('REVOKED');
    expect(await started.handle.result()).toBe('REVOKED');
    expect(activities.recordRevocation.mock.calls[0]![0]).toMatchObject({
      revokedBy: 'sec.grace',
      revokedByRole: 'security_officer',
      reason: 'left the department',
    });
    expect(activities.recordEnd).not.toHaveBeenCalled();
  });

  it('authorizes a token for the requester within the grant, records its jti, and refuses one that outlives the grant', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    const { expiresAt } = await activate(started);
    const now = await testEnv.env.currentTimeMs();
    const token = (by: Principal, bounds: { issuedAt: number; expiresAt: number }) =>
      started.handle.executeUpdate(authorizeTokenUpdate, { args: [{ by, jti: randomUUID(), kid: 'k1', ...bounds, assertion: vouch(by) }] });
    expect(await refusal(token(alice, { issuedAt: now, expiresAt: expiresAt! + 1 }))).toBe('NOT_ACTIVE');
    expect(await refusal(token(carol, { issuedAt: now, expiresAt: now + 60_000 }))).toBe('NOT_PERMITTED');
    expect(await token(alice, { issuedAt: now, expiresAt: now + 60_000 })).toEqual({ approvers: ['sup.carol', 'priv.dave'], grantExpiresAt: expiresAt });
    await started.handle.terminate('test over');
    expect(activities.recordTokenIssued).toHaveBeenCalledTimes(1);
    expect(activities.recordTokenIssued.mock.calls[0]![0]).toMatchObject({ subject: 'clin.alice', kid: 'k1', issuedAt: now, expiresAt: now + 60_000 });
  });
});

describe('messages the API did not vouch for', { timeout: 60_000 }, () => {
  it('refuses a review without an assertion, records it as refused, and counts nothing', async () => {
    const activities = mockedActivities(everyone);
    const ghost: Principal = { username: 'ghost.priv', roles: ['privacy_officer'], reviewsForDepartments: [] };
    const started = await submit(activities);
    await review(started, carol, 'approve');
    expect(await refusal(review(started, ghost, 'approve', { assertion: null }))).toBe('UNVERIFIED_PRINCIPAL');
    expect((await started.handle.query(snapshotQuery)).status).toBe('PENDING_REVIEW');
    await started.handle.terminate('test over');
    expect(activities.recordReview).toHaveBeenCalledTimes(1);
    expect(activities.recordRefusedMessage.mock.calls.map(([m]) => m)).toEqual([
      expect.objectContaining({
        accessRequestId: started.request.id,
        requestRecorded: true,
        action: 'review',
        claimedBy: 'ghost.priv',
        decision: 'approve',
        reason: 'ASSERTION_MISSING',
      }),
    ]);
    // What is checked is the message as sent, less its assertion, bound to this request.
    expect(activities.verifyPrincipal.mock.calls.map(([input]) => input.subject)).toContainEqual({
      accessRequestId: started.request.id,
      action: 'review',
      body: { reviewer: ghost, decision: 'approve', requestHash: started.request.requestHash },
    });
  });

  it('refuses an assertion used twice, and one that vouches for someone other than the message names', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    const carols = vouch(carol);
    await review(started, carol, 'approve', { assertion: carols });
    expect(await refusal(review(started, dave, 'approve', { assertion: carols }))).toBe('UNVERIFIED_PRINCIPAL');
    expect(await refusal(review(started, dave, 'approve', { assertion: vouch(erin) }))).toBe('UNVERIFIED_PRINCIPAL');
    expect((await started.handle.query(snapshotQuery)).status).toBe('PENDING_REVIEW');
    await started.handle.terminate('test over');
    expect(activities.recordRefusedMessage.mock.calls.map(([m]) => [m.claimedBy, m.reason])).toEqual([
      ['priv.dave', 'ASSERTION_REPLAYED'],
      ['priv.dave', 'ASSERTION_MISMATCH'],
    ]);
    expect(activities.recordReview).toHaveBeenCalledTimes(1);
  });

  it('refuses a message whose principal claims more than the assertion vouches for', async () => {
    // One department more than the API vouched for would widen whom carol may review for.
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    const claimed: Principal = { ...carol, reviewsForDepartments: [...carol.reviewsForDepartments, 'oncology'] };
    expect(await refusal(review(started, claimed, 'approve', { assertion: vouch(carol) }))).toBe('UNVERIFIED_PRINCIPAL');
    await started.handle.terminate('test over');
    expect(activities.recordRefusedMessage.mock.calls[0]![0]).toMatchObject({ claimedBy: 'sup.carol', reason: 'ASSERTION_MISMATCH' });
    expect(activities.recordReview).not.toHaveBeenCalled();
  });

  it('refuses a malformed message before any check or record', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    const malformed = { reviewer: { ...carol, username: 42 }, decision: 'approve', requestHash: started.request.requestHash, assertion: vouch(carol) };
    expect(await refusal(started.handle.executeUpdate(reviewUpdate, { args: [malformed as never] }))).toBe('MALFORMED_MESSAGE');
    await started.handle.terminate('test over');
    // Only the submission's own check: the malformed review never reached one.
    expect(activities.verifyPrincipal).toHaveBeenCalledTimes(1);
    expect(activities.recordRefusedMessage).not.toHaveBeenCalled();
  });

  it('fails a workflow started without the API’s word, recording only why', async () => {
    const activities = mockedActivities(everyone);
    const { handle, request } = await start(activities, { assertion: null });
    expect(await workflowFailure(handle)).toMatchObject({ type: 'UNVERIFIED_PRINCIPAL' });
    expect(activities.recordSubmission).not.toHaveBeenCalled();
    expect(activities.recordRefusedMessage.mock.calls.map(([m]) => m)).toEqual([
      expect.objectContaining({ accessRequestId: request.id, requestRecorded: false, action: 'submit', claimedBy: 'clin.alice', reason: 'ASSERTION_MISSING' }),
    ]);
  });

  it('fails a vouched start run under another workflow id than its request', async () => {
    const activities = mockedActivities(everyone);
    const request = newRequest();
    const { handle } = await start(activities, { request, workflowId: `copy-of-${request.id}` });
    expect(await workflowFailure(handle)).toMatchObject({ type: 'UNVERIFIED_PRINCIPAL' });
    expect(activities.recordSubmission).not.toHaveBeenCalled();
    expect(activities.recordRefusedMessage.mock.calls[0]![0]).toMatchObject({ action: 'submit', reason: 'ASSERTION_MISMATCH' });
  });
});

describe('a step the database refuses', { timeout: 60_000 }, () => {
  it('ends the request FAILED when the approval that would activate it cannot be recorded, and grants nothing', async () => {
    const activities = mockedActivities(everyone);
    activities.recordReview.mockImplementation(async (input) => {
      if (input.outcome === 'ACTIVE') throw refusedWith('RECORD_REFUSED');
      return true;
    });
    const started = await submit(activities);
    await review(started, carol, 'approve');
    expect(await refusal(review(started, dave, 'approve'))).toBe('RECORD_REFUSED');
    expect((await started.handle.query(snapshotQuery)).status).toBe('FAILED');
    expect(await started.handle.result()).toBe('FAILED');
    expect(activities.recordFailure.mock.calls.map(([f]) => f.step)).toEqual(['recordReview']);
    // No expiry is recorded for a grant that never was.
    expect(recordCalls(activities)).toEqual(['recordSubmission', 'recordReview', 'recordReview', 'recordFailure']);
  });

  it('ends the request FAILED when the submission itself cannot be recorded, and sets no review timer', async () => {
    const activities = mockedActivities(everyone);
    activities.recordSubmission.mockRejectedValue(refusedWith('RECORD_REFUSED'));
    const { handle } = await start(activities);
    expect(await refusal(handle.executeUpdate(submissionRecordedUpdate))).toBe('RECORD_REFUSED');
    expect(await handle.result()).toBe('FAILED');
    expect(activities.recordFailure.mock.calls.map(([f]) => f.step)).toEqual(['recordSubmission']);
    expect(activities.recordEnd).not.toHaveBeenCalled();
  });

  it('retries a record that failed for another reason, and carries on', async () => {
    const activities = mockedActivities(everyone);
    activities.recordReview.mockRejectedValueOnce(new Error('connection reset'));
    const started = await submit(activities);
    expect((await activate(started)).status).toBe('ACTIVE');
    await started.handle.terminate('test over');
    expect(activities.recordReview).toHaveBeenCalledTimes(3);
    expect(activities.recordFailure).not.toHaveBeenCalled();
  });

  it('does not end the request FAILED for a non-retryable failure of another kind', async () => {
    // DUPLICATE_RUN: another run recorded this request, and this run must not end it.
    const activities = mockedActivities(everyone);
    activities.recordSubmission.mockRejectedValue(refusedWith('DUPLICATE_RUN'));
    const { handle } = await start(activities);
    const failure = await workflowFailure(handle);
    expect(failure).toBeInstanceOf(ActivityFailure);
    expect(failure?.cause).toMatchObject({ type: 'DUPLICATE_RUN' });
    expect(activities.recordFailure).not.toHaveBeenCalled();
  });
});

describe('break-glass', { timeout: 60_000 }, () => {
  const retro = ({ handle, request }: Started, reviewer: Principal, decision: ReviewDecision, comment?: string) =>
    handle.executeUpdate(retroReviewUpdate, { args: [{ reviewer, decision, requestHash: request.requestHash, comment, assertion: vouch(reviewer) }] });

  it('is ACTIVE at once, authorizes tokens without any approval, and EXPIRES after its short duration', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities, { breakGlass: true, request: newRequest({ purposeOfUse: 'BTG' as never, durationMinutes: 60 }) });
    expect((await started.handle.query(snapshotQuery)).status).toBe('ACTIVE');
    const [opened] = activities.recordBreakGlassOpened.mock.calls[0]!;
    expect(opened.expiresAt - opened.openedAt).toBe(HOUR);
    expect(opened.retroDeadline - opened.openedAt).toBe(DAY);
    expect(activities.recordSubmission).not.toHaveBeenCalled();
    const now = Date.now();
    await started.handle.executeUpdate(authorizeTokenUpdate, {
      args: [
        {
          by: alice,
          jti: randomUUID(),
          kid: 'k1',
          issuedAt: Math.floor(now / 1000) * 1000,
          expiresAt: Math.floor(now / 1000) * 1000 + 300_000,
          assertion: vouch(alice),
        },
      ],
    });
    expect(activities.recordTokenIssued).toHaveBeenCalledTimes(1);
    // Justified by two people, then the grant runs out.
    await retro(started, carol, 'approve');
    await retro(started, dave, 'approve');
    expect(await started.handle.result()).toBe('EXPIRED');
    expect(activities.recordRetroReview.mock.calls.map(([r]) => r.retroStatus)).toEqual(['PENDING', 'JUSTIFIED']);
    expect(activities.recordRetroUnreviewed).not.toHaveBeenCalled();
  });

  it('holds its review afterwards to every review rule: not the requester, distinct roles, a denial says why', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities, { breakGlass: true });
    expect(await refusal(retro(started, alice, 'approve'))).toBe('NOT_A_REVIEWER');
    await retro(started, carol, 'approve');
    expect(await refusal(retro(started, erin, 'approve'))).toBe('ROLE_ALREADY_APPROVED');
    expect(await refusal(retro(started, dave, 'deny'))).toBe('COMMENT_REQUIRED');
    // The ordinary review is for requests awaiting approval, not for a break-glass.
    expect(await refusal(review(started, erin, 'approve'))).toBe('NOT_PENDING');
    await retro(started, dave, 'deny', 'No emergency recorded for this patient');
    expect(activities.recordRetroReview.mock.calls.map(([r]) => r.retroStatus)).toEqual(['PENDING', 'UNJUSTIFIED']);
    // Judged not justified while it ran: the grant ends, revoked by the reviewer, and no expiry follows.
    expect((await started.handle.query(snapshotQuery)).status).toBe('REVOKED');
    expect(activities.recordRevocation.mock.calls[0]![0]).toMatchObject({ revokedBy: 'priv.dave', revokedByRole: 'reviewer' });
  });

  it('ends its review UNREVIEWED when two people have not reviewed it within the window', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities, { breakGlass: true, reviewWindowMs: DAY });
    await retro(started, carol, 'approve');
    expect(await started.handle.result()).toBe('EXPIRED');
    const [opened] = activities.recordBreakGlassOpened.mock.calls[0]!;
    const [unreviewed] = activities.recordRetroUnreviewed.mock.calls[0]!;
    expect(unreviewed.at - opened.openedAt).toBeGreaterThanOrEqual(DAY);
    expect(recordCalls(activities)).toEqual(['recordBreakGlassOpened', 'recordRetroReview', 'recordEnd', 'recordRetroUnreviewed']);
  });

  it('is not reviewed afterwards when it is an ordinary request', async () => {
    const activities = mockedActivities(everyone);
    const started = await submit(activities);
    expect(await refusal(retro(started, carol, 'approve'))).toBe('NOT_PERMITTED');
    await started.handle.terminate('test over');
  });
});
