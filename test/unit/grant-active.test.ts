import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../db/client.js';
import { ACCESS_REQUEST_STATUSES, DEFAULT_REVIEW_POLICY, type Principal } from '../../domain/access-request.js';
import { isGrantActive } from '../../domain/grant.js';
import { AccessRequestState } from '../../domain/review-engine.js';
import { GrantStatus } from '../../gateway/grant-status.js';
import { radiologyRequest } from '../support/engine-fixtures.js';

// "Is this grant active" has one definition (domain/grant.ts): status ACTIVE and now before
// the end, which is exclusive. The engine and the gateway both ask it; these tests hold
// each of them to it at the boundary, where off-by-one errors live.

const END = Date.UTC(2025, 0, 1, 13, 0, 0, 0);

describe('isGrantActive refuses', () => {
  it('at the end and after it', () => {
    expect(isGrantActive({ status: 'ACTIVE', expiresAt: END }, END)).toBe(false);
    expect(isGrantActive({ status: 'ACTIVE', expiresAt: END }, END + 1)).toBe(false);
    expect(isGrantActive({ status: 'ACTIVE', expiresAt: END }, END + 86_400_000)).toBe(false);
  });

  it.each(ACCESS_REQUEST_STATUSES.filter((s) => s !== 'ACTIVE'))('status %s, even well before the end', (status) => {
    expect(isGrantActive({ status, expiresAt: END }, END - 60_000)).toBe(false);
  });

  it('a grant with no end (never approved), and a status spelled otherwise', () => {
    expect(isGrantActive({ status: 'ACTIVE' }, 0)).toBe(false);
    expect(isGrantActive({ status: 'ACTIVE', expiresAt: undefined }, END - 1)).toBe(false);
    expect(isGrantActive({ status: 'active', expiresAt: END }, END - 1)).toBe(false);
    expect(isGrantActive({ status: ' ACTIVE', expiresAt: END }, END - 1)).toBe(false);
  });
});

describe('isGrantActive accepts', () => {
  it('an ACTIVE grant up to the last millisecond before its end', () => {
    expect(isGrantActive({ status: 'ACTIVE', expiresAt: END }, END - 1)).toBe(true);
    expect(isGrantActive({ status: 'ACTIVE', expiresAt: END }, END - 3_600_000)).toBe(true);
  });
});

describe('the engine uses the same definition', () => {
  const request = radiologyRequest;
  const alice: Principal = { username: 'clin.alice', roles: ['clinician'], departmentId: 'radiology', reviewsForDepartments: [] };
  const carol: Principal = { username: 'sup.carol', roles: ['supervisor'], reviewsForDepartments: ['radiology'] };
  const dave: Principal = { username: 'priv.dave', roles: ['privacy_officer'], reviewsForDepartments: [] };
  function active(): AccessRequestState {
    const state = new AccessRequestState(request, DEFAULT_REVIEW_POLICY);
    state.applyReview({ reviewer: carol, decision: 'approve', requestHash: request.requestHash }, END - 3_700_000);
    state.applyReview({ reviewer: dave, decision: 'approve', requestHash: request.requestHash }, END - 3_600_000);
    expect(state.expiresAt).toBe(END);
    return state;
  }

  it.each([
    [-1, true],
    [0, false],
    [1, false],
  ])('at end %+d ms: active %s, tokens, expiry and the definition agree', (offset, expected) => {
    const state = active();
    const now = END + offset;
    expect(state.grantActive(now)).toBe(expected);
    expect(isGrantActive(state, now)).toBe(expected);
    expect(state.judgeTokenIssue(alice, now) === undefined).toBe(expected);
    // The expiry timer ends exactly what the definition no longer calls active.
    expect(state.expire(now)).toBe(!expected);
    expect(state.status).toBe(expected ? 'ACTIVE' : 'EXPIRED');
  });

  it('a revoked grant is not active however much time it had left', () => {
    const state = active();
    state.applyRevocation(alice, END - 3_000_000, 'no longer needed');
    expect(state.grantActive(END - 2_999_999)).toBe(false);
    expect(state.judgeTokenIssue(alice, END - 2_999_999)?.reason).toBe('NOT_ACTIVE');
  });
});

// ---- The gateway: the same definition over what it reads from the database.

interface Row {
  id: string;
  status: string;
  grant: { expiresAt: Date } | null;
}

type FreezeRow = { id: string; scope: string; value: string | null };

function fakeDb(read: () => Promise<Row[]>, freezes: FreezeRow[] | (() => Promise<FreezeRow[]>) = []) {
  const findMany = vi.fn(read);
  const readFreezes = typeof freezes === 'function' ? freezes : async () => freezes;
  return { db: { accessRequest: { findMany }, accessFreeze: { findMany: readFreezes } } as unknown as Db, findMany };
}

const activeRow = (expiresAt = END): Row => ({
  id: 'ar-1',
  status: 'ACTIVE',
  grant: { expiresAt: new Date(expiresAt) },
  ...{ patientId: 'SYN-0001', studyInstanceUids: ['1.2.3'], requester: 'clin.alice', departmentId: 'radiology' },
});

function refusalOf(promise: Promise<void>) {
  return promise.then(
    () => undefined,
    (error: { status: number; reason: string }) => ({ status: error.status, reason: error.reason }),
  );
}

describe('the gateway refuses', () => {
  let clock = 0;
  const now = () => clock;
  afterEach(() => vi.useRealTimers());

  it('a grant at or past its end, though its recorded status is still ACTIVE', async () => {
    const { db, findMany } = fakeDb(async () => [activeRow()]);
    const grants = new GrantStatus(db, 2_000, now);
    clock = END - 1;
    expect(await refusalOf(grants.assertActive('ar-1'))).toBeUndefined();
    // The cached row says ACTIVE and is fresh; the clock alone ends the grant.
    clock = END;
    expect(await refusalOf(grants.assertActive('ar-1'))).toEqual({ status: 403, reason: 'GRANT_NOT_ACTIVE' });
    clock = END + 1;
    expect(await refusalOf(grants.assertActive('ar-1'))).toEqual({ status: 403, reason: 'GRANT_NOT_ACTIVE' });
    expect(findMany).toHaveBeenCalledTimes(1);
  });

  it.each(['REVOKED', 'EXPIRED', 'PENDING_REVIEW', 'DENIED', 'FAILED'])('a grant whose request is %s, before its end', async (status) => {
    const { db } = fakeDb(async () => [{ ...activeRow(), status }]);
    clock = END - 60_000;
    expect(await refusalOf(new GrantStatus(db, 2_000, now).assertActive('ar-1'))).toEqual({ status: 403, reason: 'GRANT_NOT_ACTIVE' });
  });

  it('an unknown grant, and an ACTIVE request with no grant row', async () => {
    clock = END - 60_000;
    expect(await refusalOf(new GrantStatus(fakeDb(async () => []).db, 2_000, now).assertActive('ar-1'))).toEqual({
      status: 403,
      reason: 'GRANT_NOT_ACTIVE',
    });
    const noGrant = fakeDb(async () => [{ id: 'ar-1', status: 'ACTIVE', grant: null }]);
    expect(await refusalOf(new GrantStatus(noGrant.db, 2_000, now).assertActive('ar-1'))).toEqual({ status: 403, reason: 'GRANT_NOT_ACTIVE' });
  });

  it('a revocation seen once the cached state is older than the staleness bound', async () => {
    let status = 'ACTIVE';
    const { db, findMany } = fakeDb(async () => [{ ...activeRow(), status }]);
    const grants = new GrantStatus(db, 2_000, now);
    clock = END - 60_000;
    expect(await refusalOf(grants.assertActive('ar-1'))).toBeUndefined();
    status = 'REVOKED';
    clock += 2_000;
    // Within the bound the cached answer stands (what the bound allows) ...
    expect(await refusalOf(grants.assertActive('ar-1'))).toBeUndefined();
    clock += 1;
    // ... and past it the grant is read again.
    expect(await refusalOf(grants.assertActive('ar-1'))).toEqual({ status: 403, reason: 'GRANT_NOT_ACTIVE' });
    expect(findMany).toHaveBeenCalledTimes(2);
  });

  it('with 503 when the database fails or does not answer in time (fail closed)', async () => {
    clock = END - 60_000;
    const failing = fakeDb(async () => {
      throw new Error('connection refused');
    });
    expect(await refusalOf(new GrantStatus(failing.db, 2_000, now).assertActive('ar-1'))).toEqual({ status: 503, reason: 'GRANT_STATE_UNKNOWN' });
    vi.useFakeTimers();
    const hanging = fakeDb(() => new Promise<Row[]>(() => undefined));
    const pending = refusalOf(new GrantStatus(hanging.db, 2_000, now).assertActive('ar-1'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await pending).toEqual({ status: 503, reason: 'GRANT_STATE_UNKNOWN' });
  });
});

describe('the gateway accepts', () => {
  it('an ACTIVE grant before its end, read once and then from its cache', async () => {
    const { db, findMany } = fakeDb(async () => [activeRow()]);
    let clock = END - 60_000;
    const grants = new GrantStatus(db, 2_000, () => clock);
    await expect(grants.assertActive('ar-1')).resolves.toBeUndefined();
    clock += 1_000;
    await expect(grants.assertActive('ar-1')).resolves.toBeUndefined();
    expect(findMany).toHaveBeenCalledTimes(1);
  });
});

describe('the gateway and freezes', () => {
  it('refuses an active grant a freeze matches (patient, study, user, department, everything), and serves the others', async () => {
    const cases: [string, string | null, boolean][] = [
      ['patient', 'SYN-0001', true],
      ['patient', 'SYN-0002', false],
      ['study', '1.2.3', true],
      ['study', '1.2.4', false],
      ['user', 'clin.alice', true],
      ['user', 'clin.bob', false],
      ['department', 'radiology', true],
      ['department', 'cardiology', false],
      ['all', null, true],
    ];
    for (const [scope, value, stops] of cases) {
      const { db } = fakeDb(async () => [activeRow(Date.now() + 60_000)], [{ id: 'fz-1', scope, value }]);
      const refusal = await refusalOf(new GrantStatus(db, 2_000).assertActive('ar-1'));
      expect(refusal, `${scope} ${value}`).toEqual(stops ? { status: 403, reason: 'ACCESS_FROZEN' } : undefined);
    }
  });

  it('refuses with 503 when it cannot read the freezes in force (fail closed), and sees a new freeze within the bound', async () => {
    const failing = fakeDb(
      async () => [activeRow(Date.now() + 60_000)],
      async () => {
        throw new Error('database down');
      },
    );
    expect(await refusalOf(new GrantStatus(failing.db, 2_000).assertActive('ar-1'))).toEqual({ status: 503, reason: 'GRANT_STATE_UNKNOWN' });

    let clock = 0;
    let freezes: FreezeRow[] = [];
    const { db } = fakeDb(
      async () => [activeRow(Date.now() + 60_000)],
      async () => freezes,
    );
    const grants = new GrantStatus(db, 2_000, () => clock);
    expect(await refusalOf(grants.assertActive('ar-1'))).toBeUndefined();
    freezes = [{ id: 'fz-2', scope: 'user', value: 'clin.alice' }];
    // Within the bound the cached "no freeze" may still serve; past it, the freeze is read.
    clock = 2_001;
    expect(await refusalOf(grants.assertActive('ar-1'))).toEqual({ status: 403, reason: 'ACCESS_FROZEN' });
  });
});

describe('warming up before the gateway serves', () => {
  let clock = 0;
  const now = () => clock;
  it('reads the freezes and a grant once, waits longer than a request would, and keeps no probe', async () => {
    clock = END - 60_000;
    // Slower than a request's bound (half the staleness: 1 s), as a fresh process's first query can be.
    const { db, findMany } = fakeDb(() => new Promise((resolve) => setTimeout(() => resolve([]), 1_500)));
    const grants = new GrantStatus(db, 2_000, now);
    expect(await grants.warmUp(5_000)).toBe(true);
    expect(findMany).toHaveBeenCalledTimes(1);
    // The freezes it read serve the next request; the probe grant is not polled afterwards.
    const { db: second, findMany: reads } = fakeDb(async () => [activeRow()]);
    const warmed = new GrantStatus(second, 2_000, now);
    await warmed.warmUp();
    expect(await refusalOf(warmed.assertActive('ar-1'))).toBeUndefined();
    const asked = (reads.mock.calls as unknown as [{ where: { id: { in: string[] } } }][]).map(([query]) => query.where.id.in);
    expect(asked).toEqual([['ar-warm-up'], ['ar-1']]);
  });

  it('says so, and does not throw, when the database does not answer', async () => {
    const { db } = fakeDb(() => new Promise(() => undefined));
    expect(await new GrantStatus(db, 2_000, now).warmUp(300)).toBe(false);
  });
});
