import type { ClockView, IncidentReport, NotificationView, ReportIncident, TraceView } from '../../contracts/incident.js';
import type { Db } from '../../db/client.js';
import { clockViews, notificationViews, traceViews, type IncidentRow } from '../../db/incidents.js';
import { affectedRecords } from './incident-scope.js';

/** The incident's own rows as the view and the report share them. */
export interface IncidentFacts {
  id: string;
  title: string;
  status: IncidentReport['status'];
  /** Who declared it and why, its team and containment, its sign-offs and close. */
  incident: ReportIncident;
  scope: { patients: string[]; studies: string[]; users: string[] };
  windowFrom: Date;
  clocks: ClockView[];
  notifications: NotificationView[];
  traces: TraceView[];
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * The investigation report: every request through the gateway, served or refused, to an
 * affected study, under an affected patient's grant, or by a user in scope, from the window's
 * start until now; with the grant behind each (who asked, who approved, why).
 */
export async function buildIncidentReport(db: Db, incident: IncidentFacts, now = new Date()): Promise<IncidentReport> {
  const window = { from: incident.windowFrom, to: now };
  const affected = await affectedRecords(db, { ...incident.scope, windowFrom: window.from, windowTo: window.to });
  const rows = await db.gatewayAccessRecord.findMany({
    where: {
      occurredAt: { gte: window.from, lte: window.to },
      OR: [
        ...(affected.studies.length ? [{ study: { in: affected.studies } }] : []),
        ...(affected.grantIds.length ? [{ grantId: { in: affected.grantIds } }] : []),
        ...(incident.scope.users.length ? [{ username: { in: incident.scope.users } }] : []),
      ],
    },
    orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }],
  });
  // An empty scope matches nothing, not everything.
  const accesses = affected.studies.length || affected.grantIds.length || incident.scope.users.length ? rows : [];
  const grantIds = [...new Set(accesses.flatMap((a) => (a.grantId ? [a.grantId] : [])))];
  const requests = await db.accessRequest.findMany({ where: { id: { in: grantIds } }, include: { grant: true } });
  const byId = new Map(requests.map((r) => [r.id, r]));
  return {
    format: 'imaging-access-review/incident-report@1',
    incidentId: incident.id,
    title: incident.title,
    status: incident.status,
    incident: incident.incident,
    generatedAt: now.toISOString(),
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    scope: incident.scope,
    affectedPatients: affected.patients,
    affectedStudies: affected.studies,
    accesses: accesses.map((a) => {
      const request = a.grantId ? byId.get(a.grantId) : undefined;
      return {
        at: a.occurredAt.toISOString(),
        username: a.username,
        grantId: a.grantId,
        approvers: request?.grant?.approvers ?? [],
        purposeOfUse: a.purposeOfUse,
        breakGlass: a.purposeOfUse === 'BTG' || request?.kind === 'break-glass',
        patientId: request?.patientId ?? null,
        study: a.study,
        series: a.series,
        instance: a.instance,
        route: a.route,
        outcome: a.outcome === 'served' ? 'served' : 'refused',
        reason: a.reason,
        bytes: a.bytes.toString(),
        clientIp: a.clientIp,
        gatewayId: a.gatewayId,
        servingId: a.id,
      };
    }),
    grants: requests
      .map((r) => ({
        grantId: r.id,
        requester: r.requester,
        kind: r.kind,
        purposeOfUse: r.purposeOfUse,
        justification: r.justification,
        approvers: r.grant?.approvers ?? [],
        status: r.status,
        activatedAt: iso(r.grant?.activatedAt ?? null),
        endedAt: iso(r.endedAt),
      }))
      .sort((a, b) => a.grantId.localeCompare(b.grantId)),
    clocks: incident.clocks,
    notifications: incident.notifications.map(({ body: _body, ...rest }) => rest),
    traces: incident.traces,
  };
}

/**
 * The incident's own record for the report. Unlike the view (which shows a pending sign-off
 * only while one is awaited), the first sign-off stays here once the incident is closed: the
 * report of a closed incident names both sign-offs.
 */
export function reportIncident(row: IncidentRow): ReportIncident {
  return {
    declaredBy: row.declaredBy,
    declaredAt: row.declaredAt.toISOString(),
    origin:
      row.originKind === 'break-glass'
        ? { kind: 'break-glass', accessRequestId: row.originRequestId ?? '', outcome: row.originOutcome ?? '' }
        : { kind: 'declared' },
    signOff: row.signOffBy && row.signOffAt ? { by: row.signOffBy, at: row.signOffAt.toISOString(), comment: row.signOffComment ?? '' } : null,
    closedAt: iso(row.closedAt),
    closedBy: row.closedBy,
    team: row.team,
    containedAt: iso(row.containedAt),
  };
}

/**
 * The report of an incident as its rows stand: the API, the CLI and the evidence bundle share
 * it. A closed incident's window ends at its close, so its report no longer changes.
 */
export function incidentReport(db: Db, row: IncidentRow, now = row.closedAt ?? new Date()): Promise<IncidentReport> {
  return buildIncidentReport(
    db,
    {
      id: row.id,
      title: row.title,
      status: row.closedAt ? 'CLOSED' : 'OPEN',
      incident: reportIncident(row),
      scope: { patients: row.scopePatients, studies: row.scopeStudies, users: row.scopeUsers },
      windowFrom: row.windowFrom,
      clocks: clockViews(row),
      notifications: notificationViews(row),
      traces: traceViews(row),
    },
    now,
  );
}
