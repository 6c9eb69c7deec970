import type { Principal, Role } from '../../domain/access-request.js';
import type { Db } from '../../db/client.js';

/**
 * Roles come from the verified token; departments come from the directory in the database,
 * because a department scopes what a supervisor may approve.
 */
export async function resolvePrincipal(db: Db, username: string, roles: Role[]): Promise<Principal> {
  const user = await db.user.findUnique({ where: { username }, include: { reviewsFor: true } });
  return {
    username,
    roles,
    departmentId: user?.departmentId ?? undefined,
    reviewsForDepartments: user?.reviewsFor.map((r) => r.departmentId) ?? [],
  };
}
