import type { ClockView, IncidentView, NotificationView, TraceView } from '../contracts/incident.js';
import { INCIDENT_CLOCKS, type IncidentClock } from '../domain/incident.js';
import type { Db } from './client.js';

export const withIncidentParts = {
  clocks: true,
  notifications: { orderBy: [{ createdAt: 'asc' as const }, { id: 'asc' as const }] },
  traces: { orderBy: [{ tracedAt: 'asc' as const }, { id: 'asc' as const }] },
};

export async function loadIncident(db: Db, id: string) {
  return db.incident.findUnique({ where: { id }, include: withIncidentParts });
}

export type IncidentRow = NonNullable<Awaited<ReturnType<typeof loadIncident>>>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function clockViews(row: IncidentRow): ClockView[] {
  const order = (clock: string) => INCIDENT_CLOCKS.indexOf(clock as IncidentClock);
  return [...row.clocks]
    .sort((a, b) => order(a.clock) - order(b.clock))
    .map((c) => ({
      clock: c.clock as IncidentClock,
      dueAt: c.dueAt.toISOString(),
      status: c.status as ClockView['status'],
      doneAt: iso(c.doneAt),
      remindersSent: c.remindersSent,
      escalatedAt: iso(c.escalatedAt),
    }));
}

export function notificationViews(row: IncidentRow): NotificationView[] {
  return row.notifications.map((n) => ({
    id: n.id,
    audience: n.audience as NotificationView['audience'],
    recipient: n.recipient,
    channel: n.channel as NotificationView['channel'],
    subject: n.subject,
    body: n.body,
    createdAt: n.createdAt.toISOString(),
    transport: n.transport as NotificationView['transport'],
    status: n.status as NotificationView['status'],
    sentAt: iso(n.sentAt),
  }));
}

export function traceViews(row: IncidentRow): TraceView[] {
  return row.traces.map((t) => {
    const result = t.result as { matched?: TraceView['matched']; detail?: string };
    return {
      id: t.id,
      fileSha256: t.fileSha256,
      kind: t.kind as TraceView['kind'],
      tracedBy: t.tracedBy,
      tracedAt: t.tracedAt.toISOString(),
      matched: result.matched ?? null,
      detail: result.detail ?? '',
    };
  });
}

export function incidentView(row: IncidentRow): IncidentView {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    origin:
      row.originKind === 'break-glass'
        ? { kind: 'break-glass', accessRequestId: row.originRequestId!, outcome: row.originOutcome ?? '' }
        : { kind: 'declared' },
    declaredBy: row.declaredBy,
    declaredAt: row.declaredAt.toISOString(),
    status: row.closedAt ? 'CLOSED' : 'OPEN',
    scope: { patients: row.scopePatients, studies: row.scopeStudies, users: row.scopeUsers },
    windowFrom: row.windowFrom.toISOString(),
    clocks: clockViews(row),
    team: row.team,
    containment: row.containedAt ? { freezeIds: row.freezeIds, containedAt: row.containedAt.toISOString() } : null,
    notifications: notificationViews(row),
    traces: traceViews(row),
    signOff: row.signOffBy && row.signOffAt && !row.closedAt ? { by: row.signOffBy, comment: row.signOffComment ?? '', at: row.signOffAt.toISOString() } : null,
    closedAt: iso(row.closedAt),
    closedBy: row.closedBy,
  };
}
