import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../db/audit-chain.js';
import type { Principal, SubmittedRequest } from '../../domain/access-request.js';
import { ASSERTION_AUDIENCE, ASSERTION_ISSUER, type AssertionSubject } from '../../contracts/principal-assertion.js';
import { assertionClaims, signPrincipalAssertion } from '../../tokens/principal-assertion.js';
import { GrantStatus } from '../../gateway/grant-status.js';
import { authorizeTokenUpdate, retroReviewUpdate, reviewUpdate, revokeUpdate } from '../../workflows/messages.js';
import type { accessRequestWorkflow } from '../../workflows/access-request.js';
import { ensureClinician, startApi, submission, type ApiHarness } from '../support/api-harness.js';

// Whoever reaches the Temporal port can send any message. These send them straight there,
// as an attacker would, and check that nothing counts without the API's word for it.

const REQUESTER = 'clin.forgery';
let api: ApiHarness;
let requesterToken: string;

beforeAll(async () => {
  api = await startApi();
  await ensureClinician(api, REQUESTER, 'Forgery tests (radiology)');
  requesterToken = await api.login(REQUESTER);
});
afterAll(() => api.close());

const ghostSupervisor: Principal = { username: 'ghost.sup', roles: ['supervisor'], reviewsForDepartments: ['radiology'] };
const ghostPrivacyOfficer: Principal = { username: 'ghost.priv', roles: ['privacy_officer'], reviewsForDepartments: [] };
const carol: Principal = { username: 'sup.carol', roles: ['supervisor'], departmentId: 'radiology', reviewsForDepartments: ['radiology', 'cardiology'] };

/** A submission as the workflow receives it, made by hand for a start straight on Temporal. */
function requestStartedOnTemporal(overrides: Partial<SubmittedRequest>): SubmittedRequest {
  return {
    id: `ar-${randomUUID()}`,
    requester: REQUESTER,
    requesterRole: 'clinician',
    departmentId: 'radiology',
    studyInstanceUids: ['1.2.826.0.1.3680043.8.498.10001'],
    patientId: 'SYN-0001',
    purposeOfUse: 'TREAT',
    justification: 'a request made by hand',
    durationMinutes: 60,
    requestHash: 'f'.repeat(64),
    ...overrides,
  };
}

/** The chain verifies; if not, the message names the first bad event and what it holds. */
async function expectChainIntact(): Promise<void> {
  const chain = await verifyAuditChain(api.db);
  if (chain.ok) return;
  const bad =
    chain.firstBadSeq === undefined ? [] : await api.db.auditEvent.findMany({ where: { seq: { gte: chain.firstBadSeq - 1n, lte: chain.firstBadSeq } } });
  const json = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  expect.fail(`audit chain broken: ${json(chain)} ${json(bad)}`);
}

async function submitted(): Promise<{ id: string; requestHash: string }> {
  const response = await api.call('POST', '/api/access-requests', { token: requesterToken, body: submission() });
  expect(response.status).toBe(201);
  return { id: response.body.id, requestHash: response.body.requestHash };
}

async function refusedMessages(id: string) {
  const events = await api.db.auditEvent.findMany({ where: { type: 'message.refused' }, orderBy: { seq: 'asc' } });
  return events.filter((e) => (e.payload as { accessRequestId: string }).accessRequestId === id).map((e) => ({ actor: e.actor, ...(e.payload as object) }));
}

/** An assertion with the API's claims, signed by any key and dated as the test says. */
async function craftedAssertion(key: CryptoKey, kid: string, principal: Principal, subject: AssertionSubject, times: { iat: number; exp: number }) {
  return new SignJWT(assertionClaims(principal, subject))
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'iar-principal+jwt' })
    .setIssuer(ASSERTION_ISSUER)
    .setAudience(ASSERTION_AUDIENCE)
    .setSubject(principal.username)
    .setJti(randomUUID())
    .setIssuedAt(times.iat)
    .setExpirationTime(times.exp)
    .sign(key);
}

describe('messages sent straight to Temporal', () => {
  it('do not count without the API’s assertion: two invented reviewers cannot make a request active', async () => {
    const { id, requestHash } = await submitted();
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
    for (const ghost of [ghostSupervisor, ghostPrivacyOfficer]) {
      const forged = handle.executeUpdate(reviewUpdate, { args: [{ reviewer: ghost, decision: 'approve', requestHash }] });
      await expect(forged).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(forged).rejects.toMatchObject({ cause: { type: 'UNVERIFIED_PRINCIPAL' } });
    }
    const row = await api.db.accessRequest.findUniqueOrThrow({ where: { id }, include: { reviews: true, grant: true } });
    expect(row.status).toBe('PENDING_REVIEW');
    expect(row.reviews).toEqual([]);
    expect(row.grant).toBeNull();
    const token = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: requesterToken });
    expect(token.status).toBe(409);
    // Recorded as refused, by the workflow, since the API never saw them.
    const attempts = await api.db.rejectedReviewAttempt.findMany({ where: { accessRequestId: id }, orderBy: { attemptedAt: 'asc' } });
    expect(attempts.map((a) => [a.reviewer, a.reason])).toEqual([
      ['ghost.sup', 'ASSERTION_MISSING'],
      ['ghost.priv', 'ASSERTION_MISSING'],
    ]);
    expect((await refusedMessages(id)).map((e) => [e.actor, (e as { reason?: string }).reason])).toEqual([
      ['ghost.sup', 'ASSERTION_MISSING'],
      ['ghost.priv', 'ASSERTION_MISSING'],
    ]);
    await expectChainIntact();
  });

  it('refuses an assertion signed by a foreign key, even under the API’s key id, and an expired one signed by the API', async () => {
    const { id, requestHash } = await submitted();
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
    const message = { reviewer: carol, decision: 'approve' as const, requestHash };
    const subject: AssertionSubject = { accessRequestId: id, action: 'review', body: message };
    const now = Math.floor(Date.now() / 1000);
    const apiKey = await api.keys.activeKey();
    const foreign = await generateKeyPair('ES256');
    const foreignAssertion = await craftedAssertion(foreign.privateKey, apiKey.kid, carol, subject, { iat: now, exp: now + 60 });
    await expect(handle.executeUpdate(reviewUpdate, { args: [{ ...message, assertion: foreignAssertion }] })).rejects.toMatchObject({
      cause: { type: 'UNVERIFIED_PRINCIPAL' },
    });
    const expired = await craftedAssertion(apiKey.key, apiKey.kid, carol, subject, { iat: now - 600, exp: now - 300 });
    await expect(handle.executeUpdate(reviewUpdate, { args: [{ ...message, assertion: expired }] })).rejects.toMatchObject({
      cause: { type: 'UNVERIFIED_PRINCIPAL' },
    });
    // The control: the same message with a good assertion counts.
    const good = await signPrincipalAssertion(apiKey, carol, subject);
    await handle.executeUpdate(reviewUpdate, { args: [{ ...message, assertion: good }] });
    const row = await api.db.accessRequest.findUniqueOrThrow({ where: { id }, include: { reviews: true } });
    expect(row.reviews.map((r) => r.reviewer)).toEqual(['sup.carol']);
    expect((await api.db.rejectedReviewAttempt.findMany({ where: { accessRequestId: id }, orderBy: { attemptedAt: 'asc' } })).map((a) => a.reason)).toEqual([
      'ASSERTION_INVALID',
      'ASSERTION_EXPIRED',
    ]);
  });

  it('refuses an assertion made for another request or another message, and one used twice', async () => {
    const first = await submitted();
    const second = await submitted();
    const apiKey = await api.keys.activeKey();
    const message = { reviewer: carol, decision: 'approve' as const, requestHash: first.requestHash };
    const forFirst = await signPrincipalAssertion(apiKey, carol, { accessRequestId: first.id, action: 'review', body: message });
    // Replayed on another request (same request hash: the same clinician asked the same).
    const otherRequest = api.temporal.workflow
      .getHandle<typeof accessRequestWorkflow>(second.id)
      .executeUpdate(reviewUpdate, { args: [{ ...message, assertion: forFirst }] });
    await expect(otherRequest).rejects.toMatchObject({ cause: { type: 'UNVERIFIED_PRINCIPAL' } });
    // Kept, but the decision changed.
    const changed = api.temporal.workflow
      .getHandle<typeof accessRequestWorkflow>(first.id)
      .executeUpdate(reviewUpdate, { args: [{ ...message, decision: 'deny', comment: 'changed', assertion: forFirst }] });
    await expect(changed).rejects.toMatchObject({ cause: { type: 'UNVERIFIED_PRINCIPAL' } });
    expect((await api.db.rejectedReviewAttempt.findMany({ where: { accessRequestId: { in: [first.id, second.id] } } })).map((a) => a.reason).sort()).toEqual([
      'ASSERTION_MISMATCH',
      'ASSERTION_MISMATCH',
    ]);

    // Used twice on the same request: an authorized token message, sent again.
    const dave = await api.login('priv.dave');
    expect(
      (await api.call('POST', `/api/access-requests/${first.id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } })).status,
    ).toBe(201);
    expect((await api.call('POST', `/api/access-requests/${first.id}/reviews`, { token: dave, body: { decision: 'approve' } })).status).toBe(201);
    const requester: Principal = { username: REQUESTER, roles: ['clinician'], departmentId: 'radiology', reviewsForDepartments: [] };
    const issuedAt = Math.floor(Date.now() / 1000) * 1000;
    const issue = { by: requester, jti: randomUUID(), kid: apiKey.kid, issuedAt, expiresAt: issuedAt + 60_000 };
    const assertion = await signPrincipalAssertion(apiKey, requester, { accessRequestId: first.id, action: 'authorizeToken', body: issue });
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(first.id);
    await handle.executeUpdate(authorizeTokenUpdate, { args: [{ ...issue, assertion }] });
    await expect(handle.executeUpdate(authorizeTokenUpdate, { args: [{ ...issue, assertion }] })).rejects.toMatchObject({
      cause: { type: 'UNVERIFIED_PRINCIPAL' },
    });
    expect(await api.db.issuedToken.count({ where: { accessRequestId: first.id } })).toBe(1);
    expect((await refusedMessages(first.id)).map((e) => (e as { reason?: string }).reason)).toContain('ASSERTION_REPLAYED');
  });

  it('fails a workflow started without the API, and records nothing but why', async () => {
    const request = requestStartedOnTemporal({ justification: 'started straight on Temporal' });
    const { id } = request;
    const handle = await api.temporal.workflow.start('accessRequestWorkflow', {
      workflowId: id,
      taskQueue: api.config.temporal.taskQueue,
      args: [{ request, policy: { approvalsRequired: 1, requireDistinctRoles: false }, reviewWindowMs: 60_000 }],
    });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(await api.db.accessRequest.findUnique({ where: { id } })).toBeNull();
    expect(await refusedMessages(id)).toEqual([expect.objectContaining({ actor: REQUESTER, action: 'submit', reason: 'ASSERTION_MISSING' })]);
  });

  it('refuses an ordinary start turned into a break-glass: the flag is part of what the API vouched for', async () => {
    const request = requestStartedOnTemporal({ justification: 'vouched as an ordinary request' });
    const requester: Principal = { username: REQUESTER, roles: ['clinician'], departmentId: 'radiology', reviewsForDepartments: [] };
    const start = { request, policy: { approvalsRequired: 2, requireDistinctRoles: true }, reviewWindowMs: 60_000 };
    const assertion = await signPrincipalAssertion(await api.keys.activeKey(), requester, { accessRequestId: request.id, action: 'submit', body: start });
    // The API's word for an ordinary request, sent with `breakGlass: true` added.
    const handle = await api.temporal.workflow.start('accessRequestWorkflow', {
      workflowId: request.id,
      taskQueue: api.config.temporal.taskQueue,
      args: [{ ...start, breakGlass: true, assertion }],
    });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(await api.db.accessRequest.findUnique({ where: { id: request.id } })).toBeNull();
    expect(await api.db.grant.findUnique({ where: { accessRequestId: request.id } })).toBeNull();
    expect(await refusedMessages(request.id)).toEqual([expect.objectContaining({ action: 'submit', reason: 'ASSERTION_MISMATCH' })]);
  });

  it('refuses a review assertion sent as a review afterwards: the action is part of what the API vouched for', async () => {
    const opened = await api.call('POST', '/api/break-glass', {
      token: requesterToken,
      body: { studyInstanceUids: submission().studyInstanceUids, patientId: submission().patientId, justification: 'an emergency for the forgery test' },
    });
    expect(opened.status).toBe(201);
    const { id, requestHash } = opened.body as { id: string; requestHash: string };
    const message = { reviewer: carol, decision: 'approve' as const, requestHash };
    const asReview = await signPrincipalAssertion(await api.keys.activeKey(), carol, { accessRequestId: id, action: 'review', body: message });
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
    const refused = await handle.executeUpdate(retroReviewUpdate, { args: [{ ...message, assertion: asReview }] }).then(
      () => expect.fail('accepted'),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((refused as WorkflowUpdateFailedError).cause as { type?: string }).type).toBe('UNVERIFIED_PRINCIPAL');
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id }, include: { reviews: true } })).reviews).toEqual([]);
  });

  it('records text it cannot store visibly repaired, never stuck, and a revocation with such a reason stops the grant', async () => {
    const { id, requestHash } = await submitted();
    const apiKey = await api.keys.activeKey();
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
    // A message the API would refuse, vouched for anyway (as a compromised or buggy API might).
    const dave: Principal = { username: 'priv.dave', roles: ['privacy_officer'], reviewsForDepartments: [] };
    const approve = { reviewer: dave, decision: 'approve' as const, comment: 'ok\u0000 \ud800 fine', requestHash };
    await handle.executeUpdate(reviewUpdate, {
      args: [{ ...approve, assertion: await signPrincipalAssertion(apiKey, dave, { accessRequestId: id, action: 'review', body: approve }) }],
    });
    expect((await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } })).status).toBe(
      201,
    );

    const grants = new GrantStatus(api.db, 1_000);
    grants.start();
    try {
      await grants.assertActive(id);
      const grace: Principal = { username: 'sec.grace', roles: ['security_officer'], reviewsForDepartments: [] };
      const revoke = { by: grace, byRole: 'security_officer', reason: 'leak\u0000suspected \udc00', revocationId: randomUUID() };
      await handle.executeUpdate(revokeUpdate, {
        args: [{ ...revoke, assertion: await signPrincipalAssertion(apiKey, grace, { accessRequestId: id, action: 'revoke', body: revoke }) }],
      });
      const row = await api.db.accessRequest.findUniqueOrThrow({ where: { id }, include: { reviews: true, grant: true, revocations: true } });
      expect(row.status).toBe('REVOKED');
      expect(row.grant!.endedAt).not.toBeNull();
      expect(row.revocations[0]!.reason).toBe('leak\ufffdsuspected \ufffd');
      expect(row.reviews.find((r) => r.reviewer === 'priv.dave')!.comment).toBe('ok\ufffd \ufffd fine');
      // The gateway's own check refuses the grant within its bound.
      await new Promise((r) => setTimeout(r, 1_100));
      await expect(grants.assertActive(id)).rejects.toMatchObject({ status: 403 });
    } finally {
      grants.stop();
    }
    // No activity is left failing and retrying.
    const description = await handle.describe();
    expect((description.raw.pendingActivities ?? []).map((a) => a.activityType?.name)).toEqual([]);
    await expectChainIntact();
  });

  it('records a refused message whose claimed name cannot be stored, instead of retrying for ever', async () => {
    const { id, requestHash } = await submitted();
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
    const ghost: Principal = { username: `ghost\u0000${'x'.repeat(5000)}`, roles: ['privacy_officer'], reviewsForDepartments: [] };
    await expect(handle.executeUpdate(reviewUpdate, { args: [{ reviewer: ghost, decision: 'approve', requestHash }] })).rejects.toMatchObject({
      cause: { type: 'UNVERIFIED_PRINCIPAL' },
    });
    const [attempt] = await api.db.rejectedReviewAttempt.findMany({ where: { accessRequestId: id } });
    expect(attempt!.reviewer.startsWith('ghost\ufffdxxx')).toBe(true);
    expect(attempt!.reviewer.length).toBeLessThanOrEqual(201);
    expect((await handle.describe()).raw.pendingActivities ?? []).toEqual([]);
  });

  it.each([
    ['a duration PostgreSQL cannot hold', { durationMinutes: 10_000_000_000 }, 60_000],
    ['a review deadline past any date', {}, 1e16],
  ])('ends a request whose submission the database refuses (%s) as FAILED, instead of retrying for ever', async (_label, overrides, reviewWindowMs) => {
    const request = requestStartedOnTemporal({ justification: 'vouched for by a faulty API', ...overrides });
    const { id } = request;
    // Vouched for, as a faulty API would: only the database can refuse it.
    const start = { request, policy: { approvalsRequired: 2, requireDistinctRoles: true }, reviewWindowMs };
    const requester: Principal = { username: REQUESTER, roles: ['clinician'], departmentId: 'radiology', reviewsForDepartments: [] };
    const assertion = await signPrincipalAssertion(await api.keys.activeKey(), requester, { accessRequestId: id, action: 'submit', body: start });
    const handle = await api.temporal.workflow.start('accessRequestWorkflow', {
      workflowId: id,
      taskQueue: api.config.temporal.taskQueue,
      args: [{ ...start, assertion }],
    });
    expect(await handle.result()).toBe('FAILED');
    expect(await api.db.accessRequest.findUnique({ where: { id } })).toBeNull();
    const failed = await api.db.auditEvent.findMany({ where: { accessRequestId: id, type: 'access_request.failed' } });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload).toMatchObject({ step: 'recordSubmission' });
    await expectChainIntact();
  });

  it('refuses a message whose fields are not shaped as the API sends them, before anything is recorded', async () => {
    const { id, requestHash } = await submitted();
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
    const odd = { reviewer: { username: 'x', roles: ['privacy_officer'], reviewsForDepartments: [] }, decision: 7, requestHash };
    await expect(handle.executeUpdate(reviewUpdate, { args: [odd as never] })).rejects.toMatchObject({ cause: { type: 'MALFORMED_MESSAGE' } });
    const numericName = { reviewer: { username: 42, roles: ['privacy_officer'], reviewsForDepartments: [] }, decision: 'approve', requestHash };
    await expect(handle.executeUpdate(reviewUpdate, { args: [numericName as never] })).rejects.toMatchObject({ cause: { type: 'MALFORMED_MESSAGE' } });
    expect((await handle.describe()).raw.pendingActivities ?? []).toEqual([]);
    // The request still takes a real review.
    expect((await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } })).status).toBe(
      201,
    );
  });

  it('refuses a start copied from a request’s history, under another id or as a second run of the same id', async () => {
    const { id } = await submitted();
    const handle = api.temporal.workflow.getHandle<typeof accessRequestWorkflow>(id);
    const history = await handle.fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const copied = JSON.parse(Buffer.from(payload.data!).toString('utf8'));
    expect(copied.assertion).toEqual(expect.any(String));

    const elsewhere = await api.temporal.workflow.start('accessRequestWorkflow', {
      workflowId: `ar-${randomUUID()}`,
      taskQueue: api.config.temporal.taskQueue,
      args: [copied],
    });
    await expect(elsewhere.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    // Closed by a denial, then started again under its own id with the very same input.
    expect(
      (
        await api.call('POST', `/api/access-requests/${id}/reviews`, {
          token: await api.login('priv.dave'),
          body: { decision: 'deny', comment: 'not indicated' },
        })
      ).status,
    ).toBe(201);
    await handle.result();
    const before = await api.db.accessRequest.findUniqueOrThrow({ where: { id } });
    const again = await api.temporal.workflow.start('accessRequestWorkflow', { workflowId: id, taskQueue: api.config.temporal.taskQueue, args: [copied] });
    await expect(again.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const after = await api.db.accessRequest.findUniqueOrThrow({ where: { id } });
    expect(after).toEqual(before);
    expect(after.status).toBe('DENIED');
    await expectChainIntact();
  });
});
