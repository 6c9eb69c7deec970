import type { Principal } from '../domain/access-request.js';
import type { Prisma } from '../generated/prisma/client.js';

/**
 * Which access requests a principal may read: clinicians their own; supervisors those of
 * the departments they review for and those they reviewed; privacy officers, auditors and
 * security officers all. Returns null when the principal may read none.
 */
export function visibleRequests(principal: Principal): Prisma.AccessRequestWhereInput | null {
  const { roles, username } = principal;
  if (roles.includes('privacy_officer') || roles.includes('auditor') || roles.includes('security_officer')) return {};
  const clauses: Prisma.AccessRequestWhereInput[] = [];
  if (roles.includes('clinician')) clauses.push({ requester: username });
  if (roles.includes('supervisor')) {
    clauses.push({ departmentId: { in: principal.reviewsForDepartments } });
    clauses.push({ reviews: { some: { reviewer: username } } });
  }
  return clauses.length ? { OR: clauses } : null;
}
