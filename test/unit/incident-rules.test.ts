import { describe, expect, it } from 'vitest';
import { ConfigError, incidentClocks } from '../../config/config.js';
import type { Principal } from '../../domain/access-request.js';
import {
  DEFAULT_CLOCK_POLICY,
  INCIDENT_CLOCKS,
  clockMarks,
  clockOutcome,
  judgeContain,
  judgeDeclare,
  judgeIncidentAct,
  judgeIncidentRead,
  judgeSignOff,
} from '../../domain/incident.js';

const person = (username: string, ...roles: Principal['roles']): Principal => ({ username, roles, reviewsForDepartments: [] });
const grace = person('sec.grace', 'security_officer');
const ivan = person('sec.ivan', 'security_officer');
const dave = person('priv.dave', 'privacy_officer');
const petra = person('priv.petra', 'privacy_officer');
const frank = person('aud.frank', 'auditor');
const alice = person('clin.alice', 'clinician');

describe('who does what to an incident', () => {
  it('security officers declare; officers act; auditors read; clinicians do none of it', () => {
    expect(judgeDeclare(grace)).toBeUndefined();
    expect(judgeDeclare(dave)?.reason).toBe('NOT_PERMITTED');
    expect(judgeIncidentAct(dave, { closed: false })).toBeUndefined();
    expect(judgeIncidentAct(frank, { closed: false })?.reason).toBe('NOT_PERMITTED');
    expect(judgeIncidentAct(grace, { closed: true })?.reason).toBe('NOT_ACTIVE');
    expect(judgeIncidentRead(frank)).toBeUndefined();
    expect(judgeIncidentRead(alice)?.reason).toBe('NOT_PERMITTED');
  });

  it('containment freezes, so only a security officer contains, and once', () => {
    expect(judgeContain(grace, { closed: false, contained: false })).toBeUndefined();
    expect(judgeContain(dave, { closed: false, contained: false })?.reason).toBe('NOT_PERMITTED');
    expect(judgeContain(grace, { closed: false, contained: true })?.reason).toBe('NOT_PENDING');
  });

  it('closes on two different people, a security officer among them, and only once contained', () => {
    const open = { closed: false, contained: true, signedOffBy: null };
    expect(judgeSignOff(dave, { ...open, contained: false })?.reason).toBe('NOT_PENDING');
    expect(judgeSignOff(alice, open)?.reason).toBe('NOT_PERMITTED');
    expect(judgeSignOff(dave, open)).toBeUndefined();
    expect(judgeSignOff(grace, { ...open, signedOffBy: grace })?.reason).toBe('SELF_REVIEW');
    expect(judgeSignOff(petra, { ...open, signedOffBy: dave })?.reason).toBe('NOT_PERMITTED');
    expect(judgeSignOff(grace, { ...open, signedOffBy: dave })).toBeUndefined();
    expect(judgeSignOff(dave, { ...open, signedOffBy: ivan })).toBeUndefined();
    expect(judgeSignOff(ivan, { ...open, closed: true, signedOffBy: grace })?.reason).toBe('NOT_ACTIVE');
  });
});

describe('the clocks', () => {
  it('default to 30 min, 2 h, 72 h, 72 h and 60 days', () => {
    expect(INCIDENT_CLOCKS.map((c) => DEFAULT_CLOCK_POLICY.dueMs[c])).toEqual([30 * 60_000, 7_200_000, 72 * 3_600_000, 72 * 3_600_000, 60 * 86_400_000]);
  });

  it('mark every reminder before its deadline, all in time order', () => {
    const marks = clockMarks(
      { dueMs: { team: 100, containment: 200, regulator: 300, individuals: 300, individualsOuter: 1000 }, reminderFractions: [0.5, 0.9] },
      1_000,
    );
    expect(marks).toHaveLength(INCIDENT_CLOCKS.length * 3);
    expect(marks.map((m) => m.at)).toEqual([...marks.map((m) => m.at)].sort((a, b) => a - b));
    expect(marks.filter((m) => m.clock === 'team').map((m) => [m.kind, m.at])).toEqual([
      ['reminder', 1_050],
      ['reminder', 1_090],
      ['deadline', 1_100],
    ]);
  });

  it('count an act at its deadline as met, and a moment later as missed', () => {
    expect(clockOutcome(DEFAULT_CLOCK_POLICY, 0, 'team', 30 * 60_000)).toBe('MET');
    expect(clockOutcome(DEFAULT_CLOCK_POLICY, 0, 'team', 30 * 60_000 + 1)).toBe('MISSED');
  });

  it('are configured as clock=duration pairs and refuse anything else', () => {
    expect(incidentClocks('team=10m, containment=1h,individualsOuter=30d', '0.25,0.75')).toEqual({
      dueMs: { ...DEFAULT_CLOCK_POLICY.dueMs, team: 600_000, containment: 3_600_000, individualsOuter: 30 * 86_400_000 },
      reminderFractions: [0.25, 0.75],
    });
    expect(incidentClocks('', '')).toEqual({ ...DEFAULT_CLOCK_POLICY, reminderFractions: [] });
    for (const [clocks, reminders] of [
      ['teams=10m', '0.5'],
      ['team=10', '0.5'],
      ['team=0s', '0.5'],
      ['individuals=90d', '0.5'],
      ['', '0.9,0.5'],
      ['', '1'],
    ]) {
      expect(() => incidentClocks(clocks!, reminders!)).toThrow(ConfigError);
    }
  });
});
