import type { StoredAccessRecord } from '../../contracts/access-record.js';
import type { Db } from '../../db/client.js';

/** One gateway request as an auditor reads it: the access record, dated in ISO 8601. */
export type AccessRow = { at: string } & Pick<
  StoredAccessRecord,
  'username' | 'grantId' | 'jti' | 'route' | 'study' | 'series' | 'instance' | 'status' | 'outcome' | 'reason' | 'clientIp'
>;

/** Every request through the gateway for a study, or for any study of a patient. */
export async function whoAccessed(db: Db, query: { study?: string; patient?: string; from?: string; to?: string }): Promise<AccessRow[]> {
  const time = { ...(query.from ? { gte: new Date(query.from) } : {}), ...(query.to ? { lte: new Date(query.to) } : {}) };
  let scope: object;
  if (query.study) scope = { study: query.study };
  else {
    const cases = await db.accessRequest.findMany({ where: { patientId: query.patient }, select: { id: true, studyInstanceUids: true } });
    const studies = [...new Set(cases.flatMap((c) => c.studyInstanceUids))];
    // A patient's studies as any grant named them, and any access under that patient's grants.
    scope = { OR: [{ study: { in: studies } }, { grantId: { in: cases.map((c) => c.id) } }] };
  }
  const rows = await db.gatewayAccessRecord.findMany({
    where: { AND: [scope, Object.keys(time).length ? { occurredAt: time } : {}] },
    orderBy: { occurredAt: 'asc' },
  });
  return rows.map((r) => ({
    at: r.occurredAt.toISOString(),
    username: r.username,
    grantId: r.grantId,
    jti: r.jti,
    route: r.route,
    study: r.study,
    series: r.series,
    instance: r.instance,
    status: r.status,
    outcome: r.outcome,
    reason: r.reason,
    clientIp: r.clientIp,
  }));
}
