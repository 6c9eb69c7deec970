import type { FreezeView } from '../contracts/freeze.js';
import type { FreezeScope, FreezeTarget } from '../domain/freeze.js';
import type { Db } from './client.js';

export type ActiveFreeze = FreezeTarget & { id: string };

/** The freezes in force: read by the API before every request, review and token, and by the gateway. */
export async function activeFreezes(db: Db): Promise<ActiveFreeze[]> {
  const rows = await db.accessFreeze.findMany({ where: { liftedAt: null }, select: { id: true, scope: true, value: true }, orderBy: { frozenAt: 'asc' } });
  return rows.map((row) => ({ id: row.id, scope: row.scope as FreezeScope, value: row.value }));
}

type FreezeRow = NonNullable<Awaited<ReturnType<Db['accessFreeze']['findUnique']>>>;

export function freezeView(row: FreezeRow): FreezeView {
  return {
    id: row.id,
    scope: row.scope as FreezeScope,
    value: row.value,
    reason: row.reason,
    frozenBy: row.frozenBy,
    frozenAt: row.frozenAt.toISOString(),
    status: row.liftedAt ? 'LIFTED' : 'ACTIVE',
    revokedGrants: row.revokedGrants,
    liftRequest:
      row.liftRequestedBy && row.liftRequestedAt && !row.liftedAt
        ? { by: row.liftRequestedBy, reason: row.liftReason ?? '', at: row.liftRequestedAt.toISOString() }
        : null,
    liftedAt: row.liftedAt?.toISOString() ?? null,
    liftedBy: row.liftedBy,
  };
}
