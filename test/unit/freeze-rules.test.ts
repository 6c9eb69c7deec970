import { describe, expect, it } from 'vitest';
import type { Principal } from '../../domain/access-request.js';
import { freezeMatches, judgeFreeze, judgeLiftDecision, judgeLiftRequest, judgeNotFrozen, type FrozenCandidate } from '../../domain/freeze.js';

const person = (username: string, ...roles: Principal['roles']): Principal => ({ username, roles, reviewsForDepartments: [] });
const grace = person('sec.grace', 'security_officer');
const sam = person('sec.sam', 'security_officer');
const dave = person('priv.dave', 'privacy_officer');
const petra = person('priv.petra', 'privacy_officer');

const request: FrozenCandidate = {
  patientId: 'SYN-0001',
  studyInstanceUids: ['1.2.3', '1.2.4'],
  usernames: ['clin.alice', 'sup.carol'],
  departmentId: 'radiology',
};

describe('what a freeze stops', () => {
  it.each([
    ['patient', 'SYN-0001', true],
    ['patient', 'SYN-00011', false],
    ['study', '1.2.4', true],
    ['study', '1.2', false],
    ['user', 'clin.alice', true],
    ['user', 'sup.carol', true],
    ['user', 'clin.bob', false],
    ['department', 'radiology', true],
    ['department', 'cardiology', false],
    ['all', null, true],
  ] as const)('%s %s → %s', (scope, value, stops) => {
    expect(freezeMatches({ scope, value }, request)).toBe(stops);
  });

  it('names the freeze in the refusal, and refuses nothing without one', () => {
    expect(judgeNotFrozen([], request)).toBeUndefined();
    const refusal = judgeNotFrozen([{ id: 'fz-1', scope: 'department', value: 'radiology' }], request);
    expect(refusal).toMatchObject({ reason: 'ACCESS_FROZEN' });
    expect(refusal?.detail).toContain('fz-1');
  });
});

describe('who freezes and who lifts', () => {
  it('lets only security officers freeze', () => {
    expect(judgeFreeze(grace)).toBeUndefined();
    for (const other of [dave, person('aud.frank', 'auditor'), person('clin.alice', 'clinician'), person('sup.carol', 'supervisor')]) {
      expect(judgeFreeze(other)?.reason, other.username).toBe('NOT_PERMITTED');
    }
  });

  it('takes one lift request at a time, from a security or privacy officer, for a freeze still in force', () => {
    expect(judgeLiftRequest(grace, { lifted: false, pendingLift: false })).toBeUndefined();
    expect(judgeLiftRequest(dave, { lifted: false, pendingLift: false })).toBeUndefined();
    expect(judgeLiftRequest(person('aud.frank', 'auditor'), { lifted: false, pendingLift: false })?.reason).toBe('NOT_PERMITTED');
    expect(judgeLiftRequest(grace, { lifted: false, pendingLift: true })?.reason).toBe('NOT_PENDING');
    expect(judgeLiftRequest(grace, { lifted: true, pendingLift: false })?.reason).toBe('NOT_ACTIVE');
  });

  it('needs a second, distinct person to confirm, with a security officer among the two', () => {
    const state = (asker: Principal | null) => ({ lifted: false, liftRequestedBy: asker });
    expect(judgeLiftDecision(dave, state(grace), 'approve')).toBeUndefined();
    expect(judgeLiftDecision(sam, state(grace), 'approve')).toBeUndefined();
    expect(judgeLiftDecision(grace, state(dave), 'approve')).toBeUndefined();
    expect(judgeLiftDecision(grace, state(grace), 'approve')?.reason).toBe('SELF_REVIEW');
    expect(judgeLiftDecision(grace, state(grace), 'deny')?.reason).toBe('SELF_REVIEW');
    // Two privacy officers may not lift a freeze between them, but one may refuse the other's lift.
    expect(judgeLiftDecision(petra, state(dave), 'approve')?.reason).toBe('NOT_PERMITTED');
    expect(judgeLiftDecision(petra, state(dave), 'deny')).toBeUndefined();
    expect(judgeLiftDecision(dave, state(null), 'approve')?.reason).toBe('NOT_PENDING');
    expect(judgeLiftDecision(dave, { lifted: true, liftRequestedBy: grace }, 'approve')?.reason).toBe('NOT_ACTIVE');
    expect(judgeLiftDecision(person('sup.carol', 'supervisor'), state(grace), 'approve')?.reason).toBe('NOT_PERMITTED');
  });
});
