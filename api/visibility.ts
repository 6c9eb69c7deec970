import type { Principal } from '../domain/access-request.js';
import { readScope } from '../domain/permissions.js';
import { Rejection } from '../domain/review-rejection.js';
import type { Prisma } from '../generated/prisma/client.js';

/** The read rule's scope (domain/permissions.ts) as a database filter, for lists. */
export function visibleRequests(principal: Principal): Prisma.AccessRequestWhereInput | Rejection {
  const scope = readScope(principal);
  if (scope instanceof Rejection) return scope;
  if (scope.all) return {};
  const clauses: Prisma.AccessRequestWhereInput[] = [];
  if (scope.requestedBy !== undefined) clauses.push({ requester: scope.requestedBy });
  if (scope.departments !== undefined) clauses.push({ departmentId: { in: scope.departments } });
  if (scope.reviewedBy !== undefined) clauses.push({ reviews: { some: { reviewer: scope.reviewedBy } } });
  return { OR: clauses };
}
