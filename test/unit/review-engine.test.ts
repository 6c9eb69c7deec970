import { describe, expect, it } from 'vitest';
import { DEFAULT_REVIEW_POLICY, type Principal, type ReviewInput } from '../../domain/access-request.js';
import { AccessRequestState } from '../../domain/review-engine.js';
import { Rejection } from '../../domain/review-rejection.js';
import { radiologyRequest } from '../support/engine-fixtures.js';

const request = radiologyRequest;

const person = (username: string, roles: Principal['roles'], reviewsForDepartments: string[] = []): Principal => ({ username, roles, reviewsForDepartments });
const carol = person('sup.carol', ['supervisor'], ['radiology']);
const erin = person('sup.erin', ['supervisor'], ['radiology']);
const outsider = person('sup.olaf', ['supervisor'], ['cardiology']);
const dave = person('priv.dave', ['privacy_officer']);
const alice = person('clin.alice', ['clinician', 'supervisor'], ['radiology']);
const grace = person('sec.grace', ['security_officer']);
const bob = person('clin.bob', ['clinician']);

const approve = (reviewer: Principal, extra: Partial<ReviewInput> = {}): ReviewInput => ({
  reviewer,
  decision: 'approve',
  requestHash: request.requestHash,
  ...extra,
});
const deny = (reviewer: Principal, comment?: string): ReviewInput => ({ reviewer, decision: 'deny', comment, requestHash: request.requestHash });

function fresh(policy = DEFAULT_REVIEW_POLICY) {
  return new AccessRequestState(request, policy);
}

function reasonOf(result: unknown): string | undefined {
  return result instanceof Rejection ? result.reason : undefined;
}

describe('judgeReview refuses', () => {
  it('someone with no reviewer role', () => expect(reasonOf(fresh().judgeReview(approve(bob)))).toBe('NOT_A_REVIEWER'));
  it('a security officer or auditor', () => expect(reasonOf(fresh().judgeReview(approve(grace)))).toBe('NOT_A_REVIEWER'));
  it('the requester, even with a reviewer role', () => expect(reasonOf(fresh().judgeReview(approve(alice)))).toBe('SELF_REVIEW'));
  it('a supervisor outside the request’s department', () => expect(reasonOf(fresh().judgeReview(approve(outsider)))).toBe('OUT_OF_DEPARTMENT'));
  it('a review of another version of the request', () =>
    expect(reasonOf(fresh().judgeReview(approve(carol, { requestHash: 'x'.repeat(64) })))).toBe('REQUEST_CHANGED'));
  it('a denial without a comment', () => {
    expect(reasonOf(fresh().judgeReview(deny(dave)))).toBe('COMMENT_REQUIRED');
    expect(reasonOf(fresh().judgeReview(deny(dave, '   ')))).toBe('COMMENT_REQUIRED');
  });
  it('a second review by the same reviewer', () => {
    const state = fresh();
    state.applyReview(approve(carol), 0);
    expect(reasonOf(state.judgeReview(approve(carol)))).toBe('ALREADY_REVIEWED');
    expect(reasonOf(state.judgeReview(deny(carol, 'changed my mind')))).toBe('ALREADY_REVIEWED');
  });
  it('a second approval from the same role under the default policy', () => {
    const state = fresh();
    state.applyReview(approve(carol), 0);
    expect(reasonOf(state.judgeReview(approve(erin)))).toBe('ROLE_ALREADY_APPROVED');
  });
  it('any review once the request is decided', () => {
    const state = fresh();
    state.applyReview(deny(dave, 'no need'), 0);
    expect(reasonOf(state.judgeReview(approve(carol)))).toBe('NOT_PENDING');
    const active = fresh();
    active.applyReview(approve(carol), 0);
    active.applyReview(approve(dave), 0);
    expect(reasonOf(active.judgeReview(approve(erin)))).toBe('NOT_PENDING');
  });
  it('without changing the state (applyReview throws the rejection)', () => {
    const state = fresh();
    expect(() => state.applyReview(approve(bob), 0)).toThrow(Rejection);
    expect(state.snapshot()).toEqual({
      status: 'PENDING_REVIEW',
      reviews: [],
      activatedAt: undefined,
      expiresAt: undefined,
      endedAt: undefined,
      endReason: undefined,
    });
  });
});

describe('judgeReview accepts', () => {
  it('one supervisor and one privacy officer, and activates for the requested duration from approval', () => {
    const state = fresh();
    expect(state.applyReview(approve(carol), 1_000)).toEqual({ countedToward: 'supervisor', outcome: 'PENDING_REVIEW' });
    expect(state.status).toBe('PENDING_REVIEW');
    expect(state.applyReview(approve(dave), 5_000)).toEqual({ countedToward: 'privacy_officer', outcome: 'ACTIVE' });
    expect(state.status).toBe('ACTIVE');
    expect(state.activatedAt).toBe(5_000);
    expect(state.expiresAt).toBe(5_000 + 60 * 60_000);
    expect(state.approvers()).toEqual(['sup.carol', 'priv.dave']);
  });
  it('in either order', () => {
    const state = fresh();
    state.applyReview(approve(dave), 0);
    expect(state.applyReview(approve(carol), 0).outcome).toBe('ACTIVE');
  });
  it('a reviewer holding both roles toward the role still missing', () => {
    const both = person('rev.both', ['supervisor', 'privacy_officer'], ['radiology']);
    const state = fresh();
    state.applyReview(approve(carol), 0);
    expect(state.applyReview(approve(both), 0)).toEqual({ countedToward: 'privacy_officer', outcome: 'ACTIVE' });
  });
  it('two supervisors when the policy allows the same role twice', () => {
    const state = fresh({ approvalsRequired: 2, requireDistinctRoles: false });
    state.applyReview(approve(carol), 0);
    expect(state.applyReview(approve(erin), 0).outcome).toBe('ACTIVE');
  });
  it('a single denial, which ends the request', () => {
    const state = fresh();
    state.applyReview(approve(carol), 0);
    expect(state.applyReview(deny(dave, 'no clinical need'), 7).outcome).toBe('DENIED');
    expect(state).toMatchObject({ status: 'DENIED', endedAt: 7, endReason: 'denied by priv.dave' });
  });
});

describe('revocation, cancellation and tokens', () => {
  function active() {
    const state = fresh();
    state.applyReview(approve(carol), 0);
    state.applyReview(approve(dave), 0);
    return state;
  }
  it('revocation: requester, reviewers of it and security officers only, and only while active', () => {
    expect(active().judgeRevocation(alice)).toEqual({ byRole: 'requester' });
    expect(active().judgeRevocation(carol)).toEqual({ byRole: 'reviewer' });
    expect(active().judgeRevocation(grace)).toEqual({ byRole: 'security_officer' });
    expect(reasonOf(active().judgeRevocation(erin))).toBe('NOT_PERMITTED');
    expect(reasonOf(active().judgeRevocation(bob))).toBe('NOT_PERMITTED');
    expect(reasonOf(fresh().judgeRevocation(grace))).toBe('NOT_ACTIVE');
  });
  it('cancellation: the requester only, while pending', () => {
    expect(fresh().judgeCancellation(alice)).toBeUndefined();
    expect(reasonOf(fresh().judgeCancellation(carol))).toBe('NOT_PERMITTED');
    expect(reasonOf(active().judgeCancellation(alice))).toBe('NOT_PENDING');
  });
  it('tokens: the requester only, while active and before the grant ends', () => {
    const state = active();
    expect(state.judgeTokenIssue(alice, 1)).toBeUndefined();
    expect(reasonOf(state.judgeTokenIssue(carol, 1))).toBe('NOT_PERMITTED');
    expect(reasonOf(state.judgeTokenIssue(alice, state.expiresAt!))).toBe('NOT_ACTIVE');
    expect(reasonOf(fresh().judgeTokenIssue(alice, 1))).toBe('NOT_ACTIVE');
    state.end('REVOKED', 2, 'leak');
    expect(reasonOf(state.judgeTokenIssue(alice, 3))).toBe('NOT_ACTIVE');
  });
  it('a snapshot restores the same state', () => {
    const state = active();
    const restored = AccessRequestState.fromSnapshot(request, DEFAULT_REVIEW_POLICY, state.snapshot());
    expect(restored.snapshot()).toEqual(state.snapshot());
    expect(reasonOf(restored.judgeReview(approve(erin)))).toBe('NOT_PENDING');
  });
});
