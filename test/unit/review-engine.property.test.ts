import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  REVIEWER_ROLES,
  ROLES,
  type AccessRequestStatus,
  type Principal,
  type ReviewDecision,
  type ReviewInput,
  type ReviewPolicy,
  type ReviewerRole,
  type SubmittedRequest,
} from '../../domain/access-request.js';
import { AccessRequestState, type AccessRequestSnapshot } from '../../domain/review-engine.js';
import { REJECTION_REASONS, Rejection } from '../../domain/review-rejection.js';

// Every property replays random histories through the engine exactly as the workflow does:
// an Update's validator judges, and only then does its handler apply or end. Each property
// is checked after every step, so a counterexample points at the step that broke it.

const NUM_RUNS = 1_000;
const EPOCH = Date.UTC(2025, 0, 1);
const REQUESTER = 'clin.rhea';
const DEPARTMENTS = ['radiology', 'cardiology', 'oncology'] as const;
const RIGHT_HASH = 'a'.repeat(64);
const STALE_HASH = 'b'.repeat(64);
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------------
// Arbitraries

type Op =
  | { kind: 'review'; actor: number; decision: ReviewDecision; comment: string | undefined; sameVersion: boolean }
  | { kind: 'cancel'; actor: number }
  | { kind: 'revoke'; actor: number }
  | { kind: 'token'; actor: number }
  | { kind: 'advance'; ms: number }
  /** Lands the clock just before, on or after expiresAt, where off-by-one bugs live. */
  | { kind: 'advanceToExpiry'; offsetMs: -1 | 0 | 1 }
  | { kind: 'reviewWindowCloses' }
  | { kind: 'expiryTimer' };

interface Scenario {
  policy: ReviewPolicy;
  request: SubmittedRequest;
  /** actors[0] is the requester; the rest is the pool of other callers (see anyone). */
  actors: Principal[];
  ops: Op[];
}

const policyArb: fc.Arbitrary<ReviewPolicy> = fc.record({
  approvalsRequired: fc.integer({ min: 1, max: 3 }),
  requireDistinctRoles: fc.boolean(),
});

// A handful of usernames for 3-7 principals, so the same person often appears twice with
// different roles (a retry from another tab after a role change), and now and then as the
// requester themself.
const usernameArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(REQUESTER) },
  { weight: 6, arbitrary: fc.constantFrom('sup.carol', 'priv.dave', 'rev.erin', 'sec.grace', 'sup.ivan') },
);

function principalArb(departments: readonly string[], username: fc.Arbitrary<string>, roles: fc.Arbitrary<Principal['roles']>) {
  return fc.record({
    username,
    roles,
    departmentId: fc.option(fc.constantFrom(...departments), { nil: undefined }),
    reviewsForDepartments: fc.subarray([...departments]),
  });
}

// Mostly someone holding a reviewer role, or too few reviews would land to ever activate;
// a quarter of the time any mix of roles at all, reviewer or not.
const poolRolesArb: fc.Arbitrary<Principal['roles']> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.subarray([...REVIEWER_ROLES], { minLength: 1 }), fc.subarray(ROLES.filter((role) => !REVIEWER_ROLES.includes(role as ReviewerRole))))
      .map(([reviewer, other]) => ROLES.filter((role) => [...reviewer, ...other].includes(role))),
  },
  { weight: 1, arbitrary: fc.subarray([...ROLES]) },
);

const commentArb = fc.option(fc.constantFrom('no clinical need', 'ok', '', '   ', '\t\n', '\u00a0'), { nil: undefined });

// Actor 0 is the requester; any other number picks from the pool, wrapping around, so ops
// need not depend on the pool's size (which keeps shrinking simple).
const anyone = fc.nat({ max: 7 });
// Reviews come mostly from the pool; the requester trying to review is one case among many.
const mostlyPool = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: fc.integer({ min: 1, max: 7 }) });
// Tokens mostly for the requester, the only one who may get them, so the expiry edge is reached.
const mostlyRequester = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: anyone });

// The review window closes at most once in real life; weighted low so that most histories
// get to a decision first.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 24,
    arbitrary: fc.record({
      kind: fc.constant('review' as const),
      actor: mostlyPool,
      decision: fc.constantFrom<ReviewDecision>('approve', 'approve', 'approve', 'approve', 'deny'),
      comment: commentArb,
      // Mostly the current version, so that stale reviews do not crowd out the rest.
      sameVersion: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), actor: anyone }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), actor: anyone }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('token' as const), actor: mostlyRequester }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 5 * HOUR })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advanceToExpiry' as const), offsetMs: fc.constantFrom<-1 | 0 | 1>(-1, 0, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reviewWindowCloses' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('expiryTimer' as const) }) },
);

// One op in five is sent twice in a row: an exact retry of the same Update.
const opsArb: fc.Arbitrary<Op[]> = fc
  .array(
    fc.tuple(
      opArb,
      fc.nat({ max: 4 }).map((n) => n === 4),
    ),
    { maxLength: 30, size: 'max' },
  )
  .map((pairs) => pairs.flatMap(([op, retried]) => (retried ? [op, op] : [op])));

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 3 }).chain((departmentCount) => {
  const departments = DEPARTMENTS.slice(0, departmentCount);
  return fc
    .record({
      policy: policyArb,
      requester: principalArb(
        departments,
        fc.constant(REQUESTER),
        fc.subarray([...REVIEWER_ROLES]).map((extra): Principal['roles'] => ['clinician', ...extra]),
      ),
      pool: fc.array(principalArb(departments, usernameArb, poolRolesArb), { minLength: 3, maxLength: 7 }),
      departmentId: fc.constantFrom(...departments),
      durationMinutes: fc.integer({ min: 1, max: 240 }),
      ops: opsArb,
    })
    .map(({ policy, requester, pool, departmentId, durationMinutes, ops }): Scenario => ({
      policy,
      request: {
        id: 'ar-prop',
        requester: REQUESTER,
        requesterRole: 'clinician',
        departmentId,
        studyInstanceUids: ['1.2.3'],
        patientId: 'P1',
        purposeOfUse: 'TREAT',
        justification: 'follow-up imaging review',
        durationMinutes,
        requestHash: RIGHT_HASH,
      },
      actors: [requester, ...pool],
      ops,
    }));
});

// ---------------------------------------------------------------------------------------
// The driver and an independent model of what happened

interface ModelReview {
  /** The principal as it was when it reviewed; a later retry may carry other roles. */
  reviewer: Principal;
  decision: ReviewDecision;
  comment: string | undefined;
  requestHash: string;
}

/** What the test itself saw being applied, so the engine is not checked against only its own fields. */
interface Model {
  reviews: ModelReview[];
  denied: boolean;
}

interface Step {
  op: Op;
  now: number;
  before: AccessRequestSnapshot;
  after: AccessRequestSnapshot;
  state: AccessRequestState;
  model: Model;
  scenario: Scenario;
  actor?: Principal;
  /** The review as sent, for review ops. */
  input?: ReviewInput;
  /** For review, cancel, revoke and token ops: the judge's refusal, or undefined if it accepted. */
  refusal?: Rejection;
  judged: boolean;
  /** For timer ops: what timeOut or expire returned. */
  fired?: boolean;
}

/** Actor 0 is the requester; any other number picks from the pool, wrapping around. */
function actorFor(actors: Principal[], n: number): Principal {
  return n === 0 ? actors[0]! : actors[1 + ((n - 1) % (actors.length - 1))]!;
}

function drive(scenario: Scenario, check: (step: Step) => void): void {
  const { request, policy, actors, ops } = scenario;
  const state = new AccessRequestState(request, policy);
  const model: Model = { reviews: [], denied: false };
  let now = EPOCH;

  for (const op of ops) {
    const before = state.snapshot();
    const actor = 'actor' in op ? actorFor(actors, op.actor) : undefined;
    let input: ReviewInput | undefined;
    let refusal: Rejection | undefined;
    let judged = false;
    let fired: boolean | undefined;

    switch (op.kind) {
      case 'review': {
        input = {
          reviewer: actor!,
          decision: op.decision,
          requestHash: op.sameVersion ? RIGHT_HASH : STALE_HASH,
          ...(op.comment === undefined ? {} : { comment: op.comment }),
        };
        judged = true;
        const verdict = state.judgeReview(input);
        if (verdict instanceof Rejection) {
          refusal = verdict;
        } else {
          state.applyReview(input, now);
          model.reviews.push({ reviewer: actor!, decision: op.decision, comment: op.comment, requestHash: input.requestHash });
          if (op.decision === 'deny') model.denied = true;
        }
        break;
      }
      case 'cancel':
        judged = true;
        refusal = state.judgeCancellation(actor!);
        if (!refusal) state.applyCancellation(actor!, now, undefined);
        break;
      case 'revoke': {
        judged = true;
        const verdict = state.judgeRevocation(actor!);
        if (verdict instanceof Rejection) refusal = verdict;
        else state.applyRevocation(actor!, now, 'revoked');
        break;
      }
      case 'token':
        judged = true;
        refusal = state.judgeTokenIssue(actor!, now);
        break;
      case 'advance':
        now += op.ms;
        break;
      case 'advanceToExpiry':
        // Time never runs backwards: if expiry is already past, the clock stays put.
        if (state.expiresAt !== undefined) now = Math.max(now, state.expiresAt + op.offsetMs);
        break;
      case 'reviewWindowCloses':
        fired = state.timeOut(now);
        break;
      case 'expiryTimer':
        fired = state.expire(now);
        break;
    }

    check({ op, now, before, after: state.snapshot(), state, model, scenario, actor, input, refusal, judged, fired });
  }
}

function property(check: (step: Step) => void): void {
  fc.assert(
    fc.property(scenarioArb, (scenario) => drive(scenario, check)),
    { numRuns: NUM_RUNS },
  );
}

/**
 * expect(actual, what).toEqual(expected), reaching for expect() only when the values differ:
 * it costs tens of microseconds a call, and each property checks some 10^4 steps.
 */
function same<T>(what: string, actual: T, expected: T): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual, what).toEqual(expected);
}

/** The reviewer roles a principal may act in for this department, derived here rather than by the engine. */
function eligibleRoles(principal: Principal, departmentId: string): ReviewerRole[] {
  const roles: ReviewerRole[] = [];
  if (principal.roles.includes('supervisor') && principal.reviewsForDepartments.includes(departmentId)) roles.push('supervisor');
  if (principal.roles.includes('privacy_officer')) roles.push('privacy_officer');
  return roles;
}

/** Whether each approver can be given a different eligible role: a tiny bipartite matching. */
function distinctRolesPossible(approvers: Principal[], departmentId: string, used: ReadonlySet<ReviewerRole> = new Set()): boolean {
  const [first, ...rest] = approvers;
  if (!first) return true;
  return eligibleRoles(first, departmentId).some((role) => !used.has(role) && distinctRolesPossible(rest, departmentId, new Set([...used, role])));
}

function modelApprovers(model: Model): Principal[] {
  return model.reviews.filter((r) => r.decision === 'approve').map((r) => r.reviewer);
}

function distinctCount(values: string[]): number {
  return new Set(values).size;
}

const ENDED: readonly AccessRequestStatus[] = ['DENIED', 'CANCELLED', 'TIMED_OUT', 'REVOKED', 'EXPIRED'];
const GRANTED: readonly AccessRequestStatus[] = ['ACTIVE', 'REVOKED', 'EXPIRED'];

// ---------------------------------------------------------------------------------------
// Properties

describe('review engine, under random histories driven as the workflow drives it', () => {
  it('every grant, live or ended, rests on enough distinct, eligible approvers other than the requester', () => {
    property(({ after, model, scenario }) => {
      const everGranted = after.activatedAt !== undefined;
      same('a granted status has an activation time', GRANTED.includes(after.status) && !everGranted, false);
      if (!everGranted) return;

      // Judged from what the test itself applied, not from the engine's own bookkeeping.
      const { policy, request } = scenario;
      const approvers = modelApprovers(model);
      const usernames = approvers.map((p) => p.username);
      same('enough distinct approvers', distinctCount(usernames) >= policy.approvalsRequired, true);
      same(
        'approvers who are the requester',
        usernames.filter((u) => u === request.requester),
        [],
      );
      same(
        'approvers with no eligible reviewer role',
        approvers.filter((p) => eligibleRoles(p, request.departmentId).length === 0),
        [],
      );

      // The engine's record agrees with what was applied, and counts each approval toward a
      // role that approver could really act in.
      same(
        'recorded reviews',
        after.reviews.map((r) => [r.reviewer, r.decision, r.comment]),
        model.reviews.map((r) => [r.reviewer.username, r.decision, r.comment]),
      );
      const approvals = after.reviews.filter((r) => r.decision === 'approve');
      same(
        'approvals counted toward a role the approver could not act in',
        approvals.filter((r, i) => !eligibleRoles(approvers[i]!, request.departmentId).includes(r.countedToward)),
        [],
      );

      if (policy.requireDistinctRoles) {
        const counted = approvals.map((r) => r.countedToward);
        same('approvals counted toward distinct roles', distinctCount(counted), counted.length);
        same('approvers can fill distinct roles', distinctRolesPossible(approvers, request.departmentId), true);
      }
    });
  });

  it('every recorded review, approval or denial, is an eligible outsider’s, on the submitted version; a denial says why', () => {
    property(({ after, model, scenario, input, refusal }) => {
      const { request } = scenario;
      // The model only grows, so each of its reviews needs checking once: when it lands.
      if (input && !refusal) {
        const { reviewer, decision, comment, requestHash } = model.reviews.at(-1)!;
        same('reviewer is the requester', reviewer.username === request.requester, false);
        same('reviewer eligible for this department', eligibleRoles(reviewer, request.departmentId).length > 0, true);
        same('reviewed the submitted version', requestHash, request.requestHash);
        if (decision === 'deny') same('a denial carries a comment', Boolean(comment?.trim()), true);
      }
      same('one recorded review per applied review', after.reviews.length, model.reviews.length);
      same(
        'reviews counted toward a role the reviewer could not act in',
        after.reviews.filter((r, i) => !eligibleRoles(model.reviews[i]!.reviewer, request.departmentId).includes(r.countedToward)),
        [],
      );
    });
  });

  it('only an accepted approval activates, never after a denial, and never later than the approvals required', () => {
    property(({ op, now, before, after, model, scenario, refusal }) => {
      const { policy, request } = scenario;
      const approvalCount = distinctCount(modelApprovers(model).map((p) => p.username));

      if (model.denied) same('after a denial', [after.status, after.activatedAt], ['DENIED', undefined]);
      if (before.activatedAt === undefined && after.activatedAt !== undefined) {
        same('activated by', op.kind === 'review' && op.decision === 'approve' && refusal === undefined, true);
        same('enough approvals at activation', approvalCount >= policy.approvalsRequired, true);
        same('the grant', [after.status, after.activatedAt, after.expiresAt], ['ACTIVE', now, now + request.durationMinutes * 60_000]);
      }
      // A request still pending has not yet collected what it needs.
      if (after.status === 'PENDING_REVIEW') same('pending with approvals to spare', approvalCount < policy.approvalsRequired, true);
    });
  });

  it('a decided request never changes its decision', () => {
    property(({ before, after }) => {
      if (before.status === 'PENDING_REVIEW') {
        same('a pending request jumped to', after.status === 'REVOKED' || after.status === 'EXPIRED', false);
        return;
      }
      same('reviews after the decision', after.reviews, before.reviews);
      if (ENDED.includes(before.status)) {
        same('an ended request', after, before);
      } else {
        same(`ACTIVE became ${after.status}`, GRANTED.includes(after.status), true);
        same('the grant', [after.activatedAt, after.expiresAt], [before.activatedAt, before.expiresAt]);
      }
    });
  });

  it('one reviewer, one review, however many tabs or roles they retry from', () => {
    property(({ after, model }) => {
      const recorded = after.reviews.map((r) => r.reviewer);
      same('distinct reviewers recorded', distinctCount(recorded), recorded.length);
      const applied = model.reviews.map((r) => r.reviewer.username);
      same('distinct reviewers applied', distinctCount(applied), applied.length);
    });
  });

  it('tokens go to the requester alone, only while the grant is active and unexpired, and record nothing', () => {
    property(({ op, now, before, after, actor, refusal, scenario }) => {
      if (op.kind !== 'token') return;
      const mayIssue = actor!.username === scenario.request.requester && before.status === 'ACTIVE' && before.expiresAt !== undefined && now < before.expiresAt;
      same('token issued', refusal === undefined, mayIssue);
      same('state after a token request', after, before);
    });
  });

  it('timers end only what they should: expiry never early, the review window only a pending request', () => {
    property(({ op, now, before, after, fired }) => {
      if (op.kind === 'expiryTimer') {
        const due = before.status === 'ACTIVE' && before.expiresAt !== undefined && now >= before.expiresAt;
        same('expire() ended the grant', fired, due);
        same('state after expire()', after, due ? { ...before, status: 'EXPIRED', endedAt: now, endReason: after.endReason } : before);
      } else if (op.kind === 'reviewWindowCloses') {
        const due = before.status === 'PENDING_REVIEW';
        same('timeOut() ended the request', fired, due);
        same('state after timeOut()', after, due ? { ...before, status: 'TIMED_OUT', endedAt: now, endReason: after.endReason } : before);
      }
      // Whatever the step, only the timers end a request this way, and expiry never early.
      if (after.status === 'EXPIRED' && before.status !== 'EXPIRED') same('expired by', [op.kind, now >= after.expiresAt!], ['expiryTimer', true]);
      if (after.status === 'TIMED_OUT' && before.status !== 'TIMED_OUT') same('timed out by', op.kind, 'reviewWindowCloses');
    });
  });

  it('every refusal carries a stable reason code the API can map', () => {
    property(({ judged, refusal }) => {
      if (!judged || refusal === undefined) return;
      same('a Rejection', refusal instanceof Rejection, true);
      same(`reason ${refusal.reason} is a known code`, Object.hasOwn(REJECTION_REASONS, refusal.reason), true);
      same('has a detail', refusal.detail.trim() !== '', true);
    });
  });

  it('a refused review changes nothing, and applying it anyway throws the same refusal', () => {
    property(({ op, now, before, after, state, input, refusal }) => {
      if (op.kind !== 'review' || refusal === undefined) return;
      same('state after a refused review', after, before);
      // The workflow's handler re-judges in applyReview, because state may have moved since
      // its validator ran; that path must refuse the same way and leave no trace either.
      let thrown: unknown;
      try {
        state.applyReview(input!, now);
      } catch (error) {
        thrown = error;
      }
      same('applyReview threw', thrown instanceof Rejection ? thrown.reason : thrown, refusal.reason);
      same('state after applyReview threw', state.snapshot(), before);
    });
  });

  // Guards the properties above against going vacuous: if a change to the generators made
  // some status unreachable, the invariants about it would pass without testing anything.
  it('the generated histories reach every status', () => {
    const seen = new Set<AccessRequestStatus>();
    for (const scenario of fc.sample(scenarioArb, 1_000)) drive(scenario, ({ after }) => void seen.add(after.status));
    expect([...seen].sort()).toEqual(['ACTIVE', 'CANCELLED', 'DENIED', 'EXPIRED', 'PENDING_REVIEW', 'REVOKED', 'TIMED_OUT']);
  });
});
