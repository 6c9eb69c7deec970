import type { Principal } from './access-request.js';
import { Rejection } from './review-rejection.js';

// Freezes: a security officer stops access by patient, study, user, department or everything
// at once, when images leak. Pure rules, shared by the API (which refuses new requests,
// reviews and tokens), the gateway (which refuses images) and the freeze workflow (which
// lifts a freeze only on two people's word).

export const FREEZE_SCOPES = ['patient', 'study', 'user', 'department', 'all'] as const;
export type FreezeScope = (typeof FREEZE_SCOPES)[number];

export interface FreezeTarget {
  scope: FreezeScope;
  /** The patient id, study UID, username or department id; null for `all`. */
  value: string | null;
}

/** What a freeze is matched against: one access request's people and images. */
export interface FrozenCandidate {
  patientId: string;
  studyInstanceUids: readonly string[];
  /** Everyone whose part in the request a user freeze stops: the requester, and a reviewer about to review. */
  usernames: readonly string[];
  departmentId: string;
}

export function freezeMatches(target: FreezeTarget, candidate: FrozenCandidate): boolean {
  switch (target.scope) {
    case 'all':
      return true;
    case 'patient':
      return candidate.patientId === target.value;
    case 'study':
      return target.value !== null && candidate.studyInstanceUids.includes(target.value);
    case 'user':
      return target.value !== null && candidate.usernames.includes(target.value);
    case 'department':
      return candidate.departmentId === target.value;
  }
}

/** The first of `freezes` that stops `candidate`, if any. */
export function firstMatchingFreeze<T extends FreezeTarget>(freezes: readonly T[], candidate: FrozenCandidate): T | undefined {
  return freezes.find((freeze) => freezeMatches(freeze, candidate));
}

/** Only security officers freeze. */
export function judgeFreeze(principal: Principal): Rejection | undefined {
  if (!principal.roles.includes('security_officer')) return new Rejection('NOT_PERMITTED', 'Only security officers freeze access.');
  return undefined;
}

/** Who may take part in lifting a freeze: security officers and privacy officers. */
const LIFT_ROLES = ['security_officer', 'privacy_officer'] as const;

/**
 * A lift is asked for by one person and confirmed by a second, distinct one; between them at
 * least one security officer. One refusal ends that lift request (another may be made).
 */
export function judgeLiftRequest(principal: Principal, state: { lifted: boolean; pendingLift: boolean }): Rejection | undefined {
  if (!LIFT_ROLES.some((role) => principal.roles.includes(role))) {
    return new Rejection('NOT_PERMITTED', 'Only security officers and privacy officers take part in lifting a freeze.');
  }
  if (state.lifted) return new Rejection('NOT_ACTIVE', 'This freeze has already been lifted.');
  if (state.pendingLift) return new Rejection('NOT_PENDING', 'A lift of this freeze is already waiting for a second person.');
  return undefined;
}

export function judgeLiftDecision(
  principal: Principal,
  state: { lifted: boolean; liftRequestedBy: Principal | null },
  decision: 'approve' | 'deny',
): Rejection | undefined {
  if (!LIFT_ROLES.some((role) => principal.roles.includes(role))) {
    return new Rejection('NOT_PERMITTED', 'Only security officers and privacy officers take part in lifting a freeze.');
  }
  if (state.lifted) return new Rejection('NOT_ACTIVE', 'This freeze has already been lifted.');
  const asker = state.liftRequestedBy;
  if (!asker) return new Rejection('NOT_PENDING', 'Nobody has asked for this freeze to be lifted.');
  if (asker.username === principal.username) return new Rejection('SELF_REVIEW', 'The person who asked for the lift cannot also confirm it.');
  const securityOfficerAmongThem = asker.roles.includes('security_officer') || principal.roles.includes('security_officer');
  if (decision === 'approve' && !securityOfficerAmongThem) {
    return new Rejection('NOT_PERMITTED', 'Lifting a freeze needs a security officer among the two people.');
  }
  return undefined;
}

/** Refuses what a freeze stops: a new request, a review, a token. */
export function judgeNotFrozen(freezes: readonly (FreezeTarget & { id: string })[], candidate: FrozenCandidate): Rejection | undefined {
  const freeze = firstMatchingFreeze(freezes, candidate);
  if (!freeze) return undefined;
  const what = freeze.scope === 'all' ? 'all access' : `access by ${freeze.scope}`;
  return new Rejection('ACCESS_FROZEN', `A security officer froze ${what} (${freeze.id}); nothing was changed. Two people must lift the freeze first.`);
}
