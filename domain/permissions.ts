import type { Principal } from './access-request.js';
import { Rejection } from './review-rejection.js';

// Who may read what. Reading is not a step of a request's life, so these rules sit beside
// the review engine rather than in it; the API asks them before every read, and turns a
// scope into a database filter itself.

/**
 * The access requests a principal may read: all of them, or those matching any one of the
 * clauses. Reviewers must be able to read every request they may review, or they could not
 * review it; clinicians read only their own, since requests name patients.
 */
export type ReadScope = { all: true } | { all: false; requestedBy?: string; departments?: string[]; reviewedBy?: string };

/** What a request must show to be judged against a scope. */
export interface ReadableRequest {
  requester: string;
  departmentId: string;
  reviewers: readonly string[];
}

export function readScope(principal: Principal): ReadScope | Rejection {
  const { roles, username } = principal;
  // Privacy officers review for every department; auditors and security officers oversee all.
  if (roles.includes('privacy_officer') || roles.includes('auditor') || roles.includes('security_officer')) return { all: true };
  const clinician = roles.includes('clinician');
  const supervisor = roles.includes('supervisor');
  if (!clinician && !supervisor) return new Rejection('NOT_PERMITTED', 'Your roles do not let you read access requests.');
  return {
    all: false,
    ...(clinician ? { requestedBy: username } : {}),
    // And what they reviewed, which they may revoke even after leaving that department's rota.
    ...(supervisor ? { departments: [...principal.reviewsForDepartments], reviewedBy: username } : {}),
  };
}

export function mayRead(principal: Principal, request: ReadableRequest): boolean {
  const scope = readScope(principal);
  if (scope instanceof Rejection) return false;
  if (scope.all) return true;
  return (
    (scope.requestedBy !== undefined && request.requester === scope.requestedBy) ||
    (scope.departments?.includes(request.departmentId) ?? false) ||
    (scope.reviewedBy !== undefined && request.reviewers.includes(scope.reviewedBy))
  );
}

/** Cases (a request with everything that followed from it, evidence included) are for auditors. */
export function judgeCaseAccess(principal: Principal): Rejection | undefined {
  if (!principal.roles.includes('auditor')) return new Rejection('NOT_PERMITTED', 'Cases are open to auditors only.');
  return undefined;
}

/** Looking a study up in the PACS is a step of asking for it: requesters only. */
export function judgeStudyLookup(principal: Principal): Rejection | undefined {
  if (!principal.roles.includes('clinician')) return new Rejection('NOT_PERMITTED', 'Only clinicians look studies up, to ask for access to them.');
  return undefined;
}

/**
 * Who looked at a study or a patient's images: auditors, and security officers, who need it
 * first when images leak.
 */
export function judgeAccessLogRead(principal: Principal): Rejection | undefined {
  if (!principal.roles.includes('auditor') && !principal.roles.includes('security_officer')) {
    return new Rejection('NOT_PERMITTED', 'The image access log is open to auditors and security officers only.');
  }
  return undefined;
}
