import type { AccessLog, AccessLogRow } from '../../contracts/access-log.js';
import type { AccessOutcome } from '../../contracts/access-record.js';
import type { Db } from '../../db/client.js';

export type AccessRow = AccessLogRow;

/**
 * Every request through the gateway for a study, or for any study of a patient, oldest first;
 * with `limit`, at most that many, and `truncated` says whether more matched.
 */
export async function whoAccessed(
  db: Db,
  query: { study?: string; patient?: string; grantId?: string; from?: string; to?: string; limit?: number },
): Promise<AccessLog> {
  const time = { ...(query.from ? { gte: new Date(query.from) } : {}), ...(query.to ? { lte: new Date(query.to) } : {}) };
  let scope: object;
  if (query.grantId) scope = { grantId: query.grantId };
  else if (query.study) scope = { study: query.study };
  else {
    const cases = await db.accessRequest.findMany({ where: { patientId: query.patient }, select: { id: true, studyInstanceUids: true } });
    const studies = [...new Set(cases.flatMap((c) => c.studyInstanceUids))];
    // A patient's studies as any grant named them, and any access under that patient's grants.
    scope = { OR: [{ study: { in: studies } }, { grantId: { in: cases.map((c) => c.id) } }] };
  }
  const rows = await db.gatewayAccessRecord.findMany({
    where: { AND: [scope, Object.keys(time).length ? { occurredAt: time } : {}] },
    orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }],
    ...(query.limit ? { take: query.limit + 1 } : {}),
  });
  const truncated = query.limit !== undefined && rows.length > query.limit;
  const items = (truncated ? rows.slice(0, query.limit) : rows).map((r) => ({
    at: r.occurredAt.toISOString(),
    username: r.username,
    grantId: r.grantId,
    jti: r.jti,
    route: r.route,
    study: r.study,
    series: r.series,
    instance: r.instance,
    status: r.status,
    outcome: r.outcome as AccessOutcome,
    reason: r.reason,
    clientIp: r.clientIp,
    purposeOfUse: r.purposeOfUse,
  }));
  return { items, truncated };
}
