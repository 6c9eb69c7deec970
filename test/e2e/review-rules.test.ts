import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalAssertion } from '../../tokens/principal-assertion.js';
import { reviewUpdate } from '../../workflows/messages.js';
import { startApi, submission, tokensFor, STUDY_OF_SYN_0002, type ApiHarness } from '../support/api-harness.js';

let api: ApiHarness;
let users: Awaited<ReturnType<typeof tokensFor>>;

beforeAll(async () => {
  api = await startApi();
  users = await tokensFor(api);
});
afterAll(() => api.close());

async function submit(token = users['clin.alice'], body = submission()): Promise<string> {
  const response = await api.call('POST', '/api/access-requests', { token, body });
  expect(response.status).toBe(201);
  return response.body.id;
}

function review(id: string, token: string, body: Record<string, unknown>) {
  return api.call('POST', `/api/access-requests/${id}/reviews`, { token, body });
}

async function rejectedAttempts(id: string) {
  return api.db.rejectedReviewAttempt.findMany({ where: { accessRequestId: id }, orderBy: { attemptedAt: 'asc' } });
}

async function status(id: string): Promise<string> {
  return (await api.db.accessRequest.findUniqueOrThrow({ where: { id } })).status;
}

describe('review rules', () => {
  it('refuses a self-review and records the attempt with its reason', async () => {
    // clin.alice holds no reviewer role; a supervisor who also requests is the sharper case.
    await api.db.user.upsert({
      where: { username: 'sup.frances' },
      create: { username: 'sup.frances', displayName: 'Frances (supervisor and clinician)', roles: ['supervisor', 'clinician'], departmentId: 'radiology' },
      update: {},
    });
    await api.db.reviewerDepartment.upsert({
      where: { username_departmentId: { username: 'sup.frances', departmentId: 'radiology' } },
      create: { username: 'sup.frances', departmentId: 'radiology' },
      update: {},
    });
    const frances = await api.login('sup.frances');
    const id = await submit(frances);
    const response = await review(id, frances, { decision: 'approve' });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 403, reason: 'SELF_REVIEW' });
    expect(await rejectedAttempts(id)).toEqual([expect.objectContaining({ reviewer: 'sup.frances', reason: 'SELF_REVIEW', decision: 'approve' })]);
    const audit = await api.db.auditEvent.findMany({ where: { accessRequestId: id, type: 'review.rejected' } });
    expect(audit).toHaveLength(1);
    expect(await status(id)).toBe('PENDING_REVIEW');
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(0);
  });

  it('refuses a second review by the same reviewer', async () => {
    const id = await submit();
    expect((await review(id, users['sup.carol'], { decision: 'approve' })).status).toBe(201);
    const again = await review(id, users['sup.carol'], { decision: 'approve' });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('ALREADY_REVIEWED');
    const changedMind = await review(id, users['sup.carol'], { decision: 'deny', comment: 'second thoughts' });
    expect(changedMind.body.reason).toBe('ALREADY_REVIEWED');
    expect((await rejectedAttempts(id)).map((a) => a.reason)).toEqual(['ALREADY_REVIEWED', 'ALREADY_REVIEWED']);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(1);
    expect(await status(id)).toBe('PENDING_REVIEW');
  });

  it('does not activate on two supervisors under the default policy', async () => {
    const id = await submit();
    expect((await review(id, users['sup.carol'], { decision: 'approve' })).status).toBe(201);
    const secondSupervisor = await review(id, users['sup.erin'], { decision: 'approve' });
    expect(secondSupervisor.status).toBe(409);
    expect(secondSupervisor.body.reason).toBe('ROLE_ALREADY_APPROVED');
    expect(await status(id)).toBe('PENDING_REVIEW');
    expect(await api.db.grant.count({ where: { accessRequestId: id } })).toBe(0);
    // The privacy officer's approval completes it.
    const privacy = await review(id, users['priv.dave'], { decision: 'approve' });
    expect(privacy.body.status).toBe('ACTIVE');
    expect(privacy.body.reviews.map((r: { countedToward: string }) => r.countedToward)).toEqual(['supervisor', 'privacy_officer']);
  });

  it('activates on two supervisors when the policy does not require distinct roles', async () => {
    const relaxed = await startApi({ POLICY_REQUIRE_DISTINCT_ROLES: 'false' });
    try {
      const token = await relaxed.login('clin.alice');
      const id = (await relaxed.call('POST', '/api/access-requests', { token, body: submission() })).body.id;
      await relaxed.call('POST', `/api/access-requests/${id}/reviews`, { token: await relaxed.login('sup.carol'), body: { decision: 'approve' } });
      const second = await relaxed.call('POST', `/api/access-requests/${id}/reviews`, {
        token: await relaxed.login('sup.erin'),
        body: { decision: 'approve' },
      });
      expect(second.body.status).toBe('ACTIVE');
    } finally {
      await relaxed.close();
    }
  });

  it('ends the request on one denial', async () => {
    const id = await submit();
    expect((await review(id, users['sup.carol'], { decision: 'approve' })).status).toBe(201);
    const denied = await review(id, users['priv.dave'], { decision: 'deny', comment: 'no clinical need shown' });
    expect(denied.status).toBe(201);
    expect(denied.body.status).toBe('DENIED');
    expect(denied.body.endReason).toBe('no clinical need shown');
    const late = await review(id, users['sup.erin'], { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(late.body.reason).toBe('NOT_PENDING');
    expect(await api.db.grant.count({ where: { accessRequestId: id } })).toBe(0);
    const token = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: users['clin.alice'] });
    expect(token.status).toBe(409);
    const result = await api.temporal.workflow.getHandle(id).result();
    expect(result).toBe('DENIED');
  });

  it('needs a comment to deny: the engine refuses a denial without one, and the attempt is recorded', async () => {
    const id = await submit();
    // No comment, and a comment of blanks (trimmed to nothing by the schema): the engine's rule.
    for (const body of [{ decision: 'deny' }, { decision: 'deny', comment: '   ' }]) {
      const response = await review(id, users['priv.dave'], body);
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({ status: 422, title: 'Unprocessable request', reason: 'COMMENT_REQUIRED' });
    }
    expect((await rejectedAttempts(id)).map((a) => [a.reviewer, a.decision, a.reason])).toEqual([
      ['priv.dave', 'deny', 'COMMENT_REQUIRED'],
      ['priv.dave', 'deny', 'COMMENT_REQUIRED'],
    ]);
    expect(await status(id)).toBe('PENDING_REVIEW');
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(0);
    // Saying why, the same reviewer's denial counts: the refused attempts were not reviews.
    const denied = await review(id, users['priv.dave'], { decision: 'deny', comment: 'no clinical need shown' });
    expect(denied.status).toBe(201);
    expect(denied.body.status).toBe('DENIED');
  });

  it('refuses a supervisor outside the request’s department, and a non-reviewer', async () => {
    const bobs = await submit(users['clin.bob'], submission({ studyInstanceUids: [STUDY_OF_SYN_0002], patientId: 'SYN-0002' }));
    // Neither may see the request: both are told it is not found, nothing about its state or
    // department, and both attempts are recorded with the rule's real reason.
    const erin = await review(bobs, users['sup.erin'], { decision: 'approve' });
    expect(erin.status).toBe(404);
    expect(erin.body.reason).toBeUndefined();
    const alice = await review(bobs, users['clin.alice'], { decision: 'approve' });
    expect(alice.status).toBe(404);
    const security = await review(bobs, users['sec.grace'], { decision: 'approve' });
    expect(security.body.reason).toBe('NOT_A_REVIEWER');
    expect((await rejectedAttempts(bobs)).map((a) => a.reason)).toEqual(['OUT_OF_DEPARTMENT', 'NOT_A_REVIEWER', 'NOT_A_REVIEWER']);
    // sup.carol reviews for cardiology too.
    expect((await review(bobs, users['sup.carol'], { decision: 'approve' })).status).toBe(201);
  });

  it('binds a review to the request hash it saw', async () => {
    const id = await submit();
    const response = await review(id, users['sup.carol'], { decision: 'approve', requestHash: 'f'.repeat(64) });
    expect(response.status).toBe(409);
    expect(response.body.reason).toBe('REQUEST_CHANGED');
  });

  it('enforces the rules in the workflow itself, for callers that bypass the API', async () => {
    const id = await submit();
    const handle = api.temporal.workflow.getHandle(id);
    const requestHash = (await api.db.accessRequest.findUniqueOrThrow({ where: { id } })).requestHash;
    const alice = { username: 'clin.alice', roles: ['supervisor' as const], departmentId: 'radiology', reviewsForDepartments: ['radiology'] };
    const self = handle.executeUpdate(reviewUpdate, { args: [{ reviewer: alice, decision: 'approve', requestHash }] });
    await expect(self).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(self).rejects.toMatchObject({ cause: { type: 'SELF_REVIEW' } });
    // A message counts only with the API's assertion; with one, the rules still apply.
    const carol = { username: 'sup.carol', roles: ['supervisor' as const], reviewsForDepartments: ['radiology'] };
    const carolsReview = { reviewer: carol, decision: 'approve' as const, requestHash };
    const assertion = await signPrincipalAssertion(await api.keys.activeKey(), carol, { accessRequestId: id, action: 'review', body: carolsReview });
    await handle.executeUpdate(reviewUpdate, { args: [{ ...carolsReview, assertion }] });
    const erin = { username: 'sup.erin', roles: ['supervisor' as const], reviewsForDepartments: ['radiology'] };
    await expect(handle.executeUpdate(reviewUpdate, { args: [{ reviewer: erin, decision: 'approve', requestHash }] })).rejects.toMatchObject({
      cause: { type: 'ROLE_ALREADY_APPROVED' },
    });
    // A rejected Update leaves no event in the workflow's history.
    const history = await handle.fetchHistory();
    const accepted = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(2); // submissionRecorded + carol's review
  });
});

describe('one reviewer, one decision, whatever the interleaving', () => {
  it('accepts exactly one of the same reviewer’s approve and deny sent at the same moment, and records the other as refused', async () => {
    for (let round = 0; round < 3; round++) {
      const id = await submit();
      const [approve, deny] = await Promise.all([
        review(id, users['sup.carol'], { decision: 'approve' }),
        review(id, users['sup.carol'], { decision: 'deny', comment: 'not for this indication' }),
      ]);
      const answers = [
        { sent: 'approve', ...approve },
        { sent: 'deny', ...deny },
      ];
      const accepted = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status !== 201);
      expect(accepted).toHaveLength(1);
      expect(refused).toHaveLength(1);
      // The answer describes the caller’s own review, as recorded.
      expect(accepted[0]!.body.review).toMatchObject({ reviewer: 'sup.carol', decision: accepted[0]!.sent });
      expect(refused[0]!.status).toBe(409);
      expect(refused[0]!.body.reason).toBe('ALREADY_REVIEWED');
      const recorded = await api.db.review.findMany({ where: { accessRequestId: id } });
      expect(recorded.map((r) => r.decision)).toEqual([accepted[0]!.sent]);
      expect((await rejectedAttempts(id)).map((a) => [a.decision, a.reason])).toEqual([[refused[0]!.sent, 'ALREADY_REVIEWED']]);
      expect(await status(id)).toBe(accepted[0]!.sent === 'deny' ? 'DENIED' : 'PENDING_REVIEW');
    }
  });

  it('answers a retry of the same review with the same Idempotency-Key from the first, before and after the request closed', async () => {
    const id = await submit();
    const headers = { 'idempotency-key': `deny-${id}` };
    const body = { decision: 'deny', comment: 'the indication does not need prior imaging' };
    const [first, concurrentRetry] = await Promise.all([
      api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['priv.dave'], body, headers }),
      api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['priv.dave'], body, headers }),
    ]);
    expect([first.status, concurrentRetry.status].sort()).toEqual(expect.arrayContaining([201]));
    for (const answer of [first, concurrentRetry]) {
      expect([200, 201]).toContain(answer.status);
      expect(answer.body.review).toMatchObject({ reviewer: 'priv.dave', decision: 'deny' });
    }
    // The denial closed the workflow; a later retry is answered from the records.
    const late = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['priv.dave'], body, headers });
    expect(late.status).toBe(200);
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(late.body).toMatchObject({ status: 'DENIED', review: { reviewer: 'priv.dave', decision: 'deny' } });
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(1);
    expect(await rejectedAttempts(id)).toEqual([]);
  });

  it('never answers a different decision under the same Idempotency-Key with the first one’s success', async () => {
    const id = await submit();
    const headers = { 'idempotency-key': `same-key-${id}` };
    const [approve, deny] = await Promise.all([
      api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.carol'], body: { decision: 'approve' }, headers }),
      api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.carol'], body: { decision: 'deny', comment: 'changed my mind' }, headers }),
    ]);
    expect([approve.status, deny.status].sort()).toEqual([201, 409]);
    const winner = approve.status === 201 ? 'approve' : 'deny';
    expect((approve.status === 201 ? approve : deny).body.review.decision).toBe(winner);
    // Once recorded, the other decision with that key is still a second review.
    const again = await api.call('POST', `/api/access-requests/${id}/reviews`, {
      token: users['sup.carol'],
      body: winner === 'approve' ? { decision: 'deny', comment: 'changed my mind' } : { decision: 'approve' },
      headers,
    });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('ALREADY_REVIEWED');
    expect(await rejectedAttempts(id)).toHaveLength(2);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(1);
  });

  it('records a review that reaches a closed workflow as refused, not as a server error', async () => {
    const id = await submit();
    // An operator ended the workflow; the record still says pending, so the API's early
    // check lets the review through and only Temporal can say the workflow is gone.
    await api.temporal.workflow.getHandle(id).terminate('closed by an operator in a test');
    const late = await review(id, users['sup.carol'], { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(late.body.reason).toBe('NOT_PENDING');
    expect((await rejectedAttempts(id)).map((a) => a.reason)).toEqual(['NOT_PENDING']);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(0);
  });
});
