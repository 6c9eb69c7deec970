import { describe, expect, it } from 'vitest';
import { reviewInputSchema } from '../../api/schemas.js';
import { DEFAULT_REVIEW_POLICY, type Principal, type ReviewInput } from '../../domain/access-request.js';
import { AccessRequestState, judgeSubmission } from '../../domain/review-engine.js';
import { Rejection } from '../../domain/review-rejection.js';
import { radiologyRequest } from '../support/engine-fixtures.js';

// The rules that used to live outside the engine (in the API's service, its schemas and the
// gateway): who may submit, who may revoke and as what, a token's bounds, and that a denial
// says why. Each refusal is proven; the acceptances only pin down what is allowed.

const EXPIRES_AT = Date.UTC(2025, 0, 1, 13, 0, 0, 250);
const ACTIVATED_AT = EXPIRES_AT - 60 * 60_000;

const request = radiologyRequest;

const person = (username: string, roles: Principal['roles'], extra: Partial<Principal> = {}): Principal => ({
  username,
  roles,
  reviewsForDepartments: [],
  ...extra,
});
const alice = person('clin.alice', ['clinician'], { departmentId: 'radiology' });
const aliceAlsoSecurity = person('clin.alice', ['clinician', 'security_officer'], { departmentId: 'radiology' });
const bob = person('clin.bob', ['clinician'], { departmentId: 'radiology' });
const carol = person('sup.carol', ['supervisor'], { reviewsForDepartments: ['radiology'] });
const carolAlsoSecurity = person('sup.carol', ['supervisor', 'security_officer'], { reviewsForDepartments: ['radiology'] });
const erin = person('sup.erin', ['supervisor'], { reviewsForDepartments: ['radiology'] });
const dave = person('priv.dave', ['privacy_officer']);
const otherPrivacy = person('priv.paula', ['privacy_officer']);
const frank = person('aud.frank', ['auditor']);
const grace = person('sec.grace', ['security_officer']);

const review = (reviewer: Principal, decision: 'approve' | 'deny', comment?: string): ReviewInput => ({
  reviewer,
  decision,
  comment,
  requestHash: request.requestHash,
});

function pending(): AccessRequestState {
  return new AccessRequestState(request, DEFAULT_REVIEW_POLICY);
}

/** Approved by carol and dave, running from ACTIVATED_AT to EXPIRES_AT. */
function active(): AccessRequestState {
  const state = pending();
  state.applyReview(review(carol, 'approve'), ACTIVATED_AT - 1_000);
  state.applyReview(review(dave, 'approve'), ACTIVATED_AT);
  return state;
}

function reasonOf(result: unknown): string | undefined {
  return result instanceof Rejection ? result.reason : undefined;
}

describe('submission: judgeSubmission refuses', () => {
  it.each([
    ['no role at all', person('nobody', [], { departmentId: 'radiology' })],
    ['a supervisor', person('sup.x', ['supervisor'], { departmentId: 'radiology', reviewsForDepartments: ['radiology'] })],
    ['a privacy officer', person('priv.x', ['privacy_officer'], { departmentId: 'radiology' })],
    ['an auditor', person('aud.x', ['auditor'], { departmentId: 'radiology' })],
    ['a security officer', person('sec.x', ['security_officer'], { departmentId: 'radiology' })],
  ])('%s, even with a department', (_name, principal) => {
    const refusal = judgeSubmission(principal);
    expect(reasonOf(refusal)).toBe('NOT_PERMITTED');
    expect((refusal as Rejection).detail).toBe('Only clinicians may request access to studies.');
  });

  it.each([
    ['no department', undefined],
    ['an empty department', ''],
  ])('a clinician with %s: no supervisor could review it', (_name, departmentId) => {
    const refusal = judgeSubmission(person('clin.nodept', ['clinician'], { departmentId }));
    expect(reasonOf(refusal)).toBe('NOT_PERMITTED');
    expect((refusal as Rejection).detail).toContain('clin.nodept belongs to no department');
  });
});

describe('submission: judgeSubmission accepts', () => {
  it('a clinician, filing the request under their own department, not one they review for', () => {
    expect(judgeSubmission(alice)).toEqual({ departmentId: 'radiology' });
    const both = person('clin.sup', ['clinician', 'supervisor'], { departmentId: 'oncology', reviewsForDepartments: ['radiology'] });
    expect(judgeSubmission(both)).toEqual({ departmentId: 'oncology' });
  });
});

describe('revocation refuses', () => {
  it.each([
    ['a supervisor of the department who did not review it', erin],
    ['a privacy officer who did not review it', otherPrivacy],
    ['an auditor', frank],
    ['another clinician', bob],
  ])('%s', (_name, principal) => expect(reasonOf(active().judgeRevocation(principal))).toBe('NOT_PERMITTED'));

  it('anyone, even the requester or a security officer, once the grant is not active', () => {
    const denied = pending();
    denied.applyReview(review(dave, 'deny', 'no need'), 1);
    const revoked = active();
    revoked.applyRevocation(grace, ACTIVATED_AT + 1, 'leak');
    const expired = active();
    expired.expire(EXPIRES_AT);
    const cancelled = pending();
    cancelled.applyCancellation(alice, 1, undefined);
    for (const [name, state] of Object.entries({ pending: pending(), denied, revoked, expired, cancelled })) {
      expect(reasonOf(state.judgeRevocation(alice)), name).toBe('NOT_ACTIVE');
      expect(reasonOf(state.judgeRevocation(grace)), name).toBe('NOT_ACTIVE');
    }
  });

  it('without changing anything: applyRevocation throws the refusal', () => {
    const state = active();
    const before = state.snapshot();
    expect(() => state.applyRevocation(erin, ACTIVATED_AT + 1, 'because')).toThrow(Rejection);
    expect(state.snapshot()).toEqual(before);
  });
});

describe('revocation: the role the revoker acts in', () => {
  it('is the closest tie to the request: requester, then reviewer, then security officer', () => {
    expect(active().judgeRevocation(alice)).toEqual({ byRole: 'requester' });
    expect(active().judgeRevocation(aliceAlsoSecurity)).toEqual({ byRole: 'requester' });
    expect(active().judgeRevocation(dave)).toEqual({ byRole: 'reviewer' });
    expect(active().judgeRevocation(carolAlsoSecurity)).toEqual({ byRole: 'reviewer' });
    expect(active().judgeRevocation(grace)).toEqual({ byRole: 'security_officer' });
  });

  it('is returned by applyRevocation, which ends the grant with the reason given', () => {
    const state = active();
    expect(state.applyRevocation(grace, ACTIVATED_AT + 5, 'suspected leak')).toEqual({ byRole: 'security_officer' });
    expect(state).toMatchObject({ status: 'REVOKED', endedAt: ACTIVATED_AT + 5, endReason: 'suspected leak' });
  });
});

describe('cancellation refuses', () => {
  it('anyone but the requester, and the requester once the request is decided', () => {
    for (const principal of [carol, dave, grace, bob]) expect(reasonOf(pending().judgeCancellation(principal)), principal.username).toBe('NOT_PERMITTED');
    expect(reasonOf(active().judgeCancellation(alice))).toBe('NOT_PENDING');
  });

  it('without changing anything: applyCancellation throws the refusal', () => {
    const state = pending();
    expect(() => state.applyCancellation(carol, 1, 'not mine')).toThrow(Rejection);
    expect(state.status).toBe('PENDING_REVIEW');
  });

  it('and, accepted, keeps the requester’s reason or says it was withdrawn', () => {
    const withReason = pending();
    withReason.applyCancellation(alice, 3, '  patient transferred ');
    expect(withReason).toMatchObject({ status: 'CANCELLED', endedAt: 3, endReason: 'patient transferred' });
    const blank = pending();
    blank.applyCancellation(alice, 4, '   ');
    expect(blank.endReason).toBe('withdrawn by the requester');
  });
});

describe('token bounds refuse', () => {
  it('a grant that is pending, revoked, or at or past its end', () => {
    expect(reasonOf(pending().tokenBounds(ACTIVATED_AT, 300))).toBe('NOT_ACTIVE');
    const revoked = active();
    revoked.applyRevocation(alice, ACTIVATED_AT + 1, 'done');
    expect(reasonOf(revoked.tokenBounds(ACTIVATED_AT + 2, 300))).toBe('NOT_ACTIVE');
    expect(reasonOf(active().tokenBounds(EXPIRES_AT, 300))).toBe('NOT_ACTIVE');
    expect(reasonOf(active().tokenBounds(EXPIRES_AT + 1, 300))).toBe('NOT_ACTIVE');
  });

  it('a grant that ends within the current second: a whole-second token would be expired when issued', () => {
    const lastSecond = Math.floor(EXPIRES_AT / 1000) * 1000;
    for (const now of [lastSecond, lastSecond + 100, EXPIRES_AT - 1]) {
      const refusal = active().tokenBounds(now, 300);
      expect(reasonOf(refusal), String(now)).toBe('NOT_ACTIVE');
      expect((refusal as Rejection).detail).toContain('within the second');
    }
  });

  it('in the workflow: a token that outlives its grant, or ends before it starts', () => {
    const state = active();
    const now = ACTIVATED_AT + 10_000;
    const end = Math.floor(EXPIRES_AT / 1000) * 1000;
    expect(reasonOf(state.judgeTokenIssue(alice, now, { issuedAt: now, expiresAt: EXPIRES_AT + 1 }))).toBe('NOT_ACTIVE');
    expect(reasonOf(state.judgeTokenIssue(alice, now, { issuedAt: now, expiresAt: now }))).toBe('NOT_ACTIVE');
    expect(reasonOf(state.judgeTokenIssue(alice, now, { issuedAt: now + 1, expiresAt: now }))).toBe('NOT_ACTIVE');
    expect(state.judgeTokenIssue(alice, now, { issuedAt: now, expiresAt: end })).toBeUndefined();
    expect(state.judgeTokenIssue(alice, now, { issuedAt: now, expiresAt: EXPIRES_AT })).toBeUndefined();
  });

  it('in the workflow: someone other than the requester, whatever the bounds', () => {
    const now = ACTIVATED_AT + 10_000;
    for (const principal of [carol, dave, grace, bob]) {
      expect(reasonOf(active().judgeTokenIssue(principal, now, { issuedAt: now, expiresAt: now + 1000 })), principal.username).toBe('NOT_PERMITTED');
    }
  });
});

describe('token bounds accept', () => {
  it('at most the TTL, in whole seconds, never past the grant’s end', () => {
    const now = ACTIVATED_AT + 10_123;
    const issuedAt = Math.floor(now / 1000) * 1000;
    expect(active().tokenBounds(now, 300)).toEqual({ issuedAt, expiresAt: issuedAt + 300_000 });
    // Near the end, the grant's end (rounded down to the second) caps it.
    const late = EXPIRES_AT - 90_000;
    expect(active().tokenBounds(late, 300)).toEqual({ issuedAt: Math.floor(late / 1000) * 1000, expiresAt: Math.floor(EXPIRES_AT / 1000) * 1000 });
  });

  it('that the workflow then accepts', () => {
    const state = active();
    const now = EXPIRES_AT - 90_000;
    const bounds = state.tokenBounds(now, 300);
    expect(bounds).not.toBeInstanceOf(Rejection);
    expect(state.judgeTokenIssue(alice, now, bounds as { issuedAt: number; expiresAt: number })).toBeUndefined();
  });
});

describe('a denial without a comment', () => {
  it.each([
    ['no comment', undefined],
    ['an empty comment', ''],
    ['blanks', '   '],
    ['line breaks and tabs', '\n\t \r\n'],
  ])('is refused by the engine (COMMENT_REQUIRED): %s', (_name, comment) => {
    expect(reasonOf(pending().judgeReview(review(dave, 'deny', comment)))).toBe('COMMENT_REQUIRED');
  });

  it('changes nothing when applied anyway', () => {
    const state = pending();
    expect(() => state.applyReview(review(dave, 'deny'), 1)).toThrow(Rejection);
    expect(state.snapshot().reviews).toEqual([]);
    expect(state.status).toBe('PENDING_REVIEW');
  });

  it('is refused for a weightier reason first when there is one', () => {
    expect(reasonOf(pending().judgeReview(review(bob, 'deny')))).toBe('NOT_A_REVIEWER');
    expect(reasonOf(pending().judgeReview(review(person('sup.olaf', ['supervisor'], { reviewsForDepartments: ['cardiology'] }), 'deny')))).toBe(
      'OUT_OF_DEPARTMENT',
    );
    expect(reasonOf(active().judgeReview(review(erin, 'deny')))).toBe('NOT_PENDING');
  });

  it('is no longer the schema’s to refuse: it passes the API’s schema so the engine can judge it', () => {
    expect(reviewInputSchema.safeParse({ decision: 'deny' }).success).toBe(true);
    // Blanks are trimmed to nothing, which the engine then refuses.
    expect(reviewInputSchema.parse({ decision: 'deny', comment: '   ' })).toEqual({ decision: 'deny', comment: '' });
    // What the schema does refuse is still refused: unsafe text, unknown fields.
    expect(reviewInputSchema.safeParse({ decision: 'deny', comment: '\u200B'.repeat(10) }).success).toBe(false);
    expect(reviewInputSchema.safeParse({ decision: 'deny', comment: 'why', extra: 1 }).success).toBe(false);
  });

  it('is accepted once it says why', () => {
    expect(pending().applyReview(review(dave, 'deny', 'no clinical need'), 1)).toEqual({ countedToward: 'privacy_officer', outcome: 'DENIED' });
  });
});
