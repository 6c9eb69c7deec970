import type { Principal } from './access-request.js';
import { Rejection } from './review-rejection.js';

// Incidents: when images leak, a security officer declares one with its suspected scope, and
// its clocks start. Pure rules and clock arithmetic, shared by the API (which refuses early),
// the incident workflow (which decides) and the web page (which shows the deadlines).

/**
 * The clocks of an incident, each a deadline from the declaration:
 * - team: an incident team assembled (default 30 min);
 * - containment: the affected access frozen (2 h);
 * - regulator: the supervisory authority notified (72 h, GDPR Art. 33);
 * - individuals: the affected patients notified (72 h), with HIPAA's outer bound as a
 *   second limit on the same act (individualsOuter, 60 days).
 */
export const INCIDENT_CLOCKS = ['team', 'containment', 'regulator', 'individuals', 'individualsOuter'] as const;
export type IncidentClock = (typeof INCIDENT_CLOCKS)[number];

/** What meets each clock: the two individuals' clocks are met by the same act. */
export const CLOCK_ACT: Record<IncidentClock, 'team' | 'containment' | 'regulator' | 'individuals'> = {
  team: 'team',
  containment: 'containment',
  regulator: 'regulator',
  individuals: 'individuals',
  individualsOuter: 'individuals',
};

export interface ClockPolicy {
  /** Milliseconds from the declaration to each deadline. */
  dueMs: Record<IncidentClock, number>;
  /** Reminders before a deadline, as fractions of its duration (0.5 = halfway), ascending. */
  reminderFractions: number[];
}

export const DEFAULT_CLOCK_POLICY: ClockPolicy = {
  dueMs: {
    team: 30 * 60_000,
    containment: 2 * 3_600_000,
    regulator: 72 * 3_600_000,
    individuals: 72 * 3_600_000,
    individualsOuter: 60 * 86_400_000,
  },
  reminderFractions: [0.5, 0.9],
};

export type ClockStatus = 'RUNNING' | 'MET' | 'MISSED';

/** One step on a clock's timeline: a reminder before its deadline, or the deadline itself. */
export interface ClockMark {
  clock: IncidentClock;
  kind: 'reminder' | 'deadline';
  /** Epoch ms. */
  at: number;
  /** For a reminder, which one (0-based). */
  index: number;
}

/** Every reminder and deadline of an incident declared at `declaredAt`, in time order. */
export function clockMarks(policy: ClockPolicy, declaredAt: number): ClockMark[] {
  const marks: ClockMark[] = [];
  for (const clock of INCIDENT_CLOCKS) {
    const due = policy.dueMs[clock];
    policy.reminderFractions.forEach((fraction, index) => marks.push({ clock, kind: 'reminder', at: declaredAt + Math.round(due * fraction), index }));
    marks.push({ clock, kind: 'deadline', at: declaredAt + due, index: 0 });
  }
  // Stable: a reminder and a deadline at the same moment keep the reminder first.
  return marks.sort((a, b) => a.at - b.at);
}

/** What the clock was when its act was done at `at`: met before (or at) the deadline, else missed. */
export function clockOutcome(policy: ClockPolicy, declaredAt: number, clock: IncidentClock, at: number): 'MET' | 'MISSED' {
  return at <= declaredAt + policy.dueMs[clock] ? 'MET' : 'MISSED';
}

const OFFICERS = ['security_officer', 'privacy_officer'] as const;
const isOfficer = (p: Principal) => OFFICERS.some((role) => p.roles.includes(role));

/** Security officers declare incidents. */
export function judgeDeclare(principal: Principal): Rejection | undefined {
  if (!principal.roles.includes('security_officer')) return new Rejection('NOT_PERMITTED', 'Only security officers declare incidents.');
  return undefined;
}

/** Who reads incidents: those who run them and those who audit them. */
export function judgeIncidentRead(principal: Principal): Rejection | undefined {
  if (!isOfficer(principal) && !principal.roles.includes('auditor'))
    return new Rejection('NOT_PERMITTED', 'Incidents are open to security officers, privacy officers and auditors.');
  return undefined;
}

/** Assembling the team, containing, notifying and tracing a leaked file: security and privacy officers, while the incident is open. */
export function judgeIncidentAct(principal: Principal, state: { closed: boolean }): Rejection | undefined {
  if (!isOfficer(principal)) return new Rejection('NOT_PERMITTED', 'Only security officers and privacy officers act on an incident.');
  if (state.closed) return new Rejection('NOT_ACTIVE', 'This incident is closed.');
  return undefined;
}

/** Containment freezes access: a security officer's act, as every freeze is. */
export function judgeContain(principal: Principal, state: { closed: boolean; contained: boolean }): Rejection | undefined {
  if (!principal.roles.includes('security_officer')) return new Rejection('NOT_PERMITTED', 'Only security officers contain an incident (it freezes access).');
  if (state.closed) return new Rejection('NOT_ACTIVE', 'This incident is closed.');
  if (state.contained) return new Rejection('NOT_PENDING', 'This incident is already contained.');
  return undefined;
}

export interface SignOffState {
  closed: boolean;
  contained: boolean;
  /** Who signed off so far, with the roles the API vouched for when they did. */
  signedOffBy: Principal | null;
}

/**
 * Closing needs two people: a first sign-off, then a second by someone else; between them at
 * least one security officer, as for lifting a freeze. An incident whose access was never
 * contained cannot be closed.
 */
export function judgeSignOff(principal: Principal, state: SignOffState): Rejection | undefined {
  if (!isOfficer(principal)) return new Rejection('NOT_PERMITTED', 'Only security officers and privacy officers sign an incident off.');
  if (state.closed) return new Rejection('NOT_ACTIVE', 'This incident is already closed.');
  if (!state.contained) return new Rejection('NOT_PENDING', 'The incident is not contained yet: freeze the affected access before closing it.');
  const first = state.signedOffBy;
  if (!first) return undefined;
  if (first.username === principal.username) return new Rejection('SELF_REVIEW', 'A second, different person must sign the incident off.');
  if (!first.roles.includes('security_officer') && !principal.roles.includes('security_officer'))
    return new Rejection('NOT_PERMITTED', 'Closing an incident needs a security officer among the two people.');
  return undefined;
}
