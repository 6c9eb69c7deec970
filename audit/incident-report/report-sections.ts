import type { IncidentReport, ReportAccess } from '../../contracts/incident.js';
import type { ReportLabels } from './labels.js';
import { summarizeReport } from './report-summary.js';

// What the printed report says, section by section, independent of how it is printed. The
// HTML and the PDF renderers both walk this one layout, so they show the same sections, the
// same columns and the same words; neither decides content on its own.

/** One line inside a cell: an optional label, the recorded value (null: nothing recorded). */
export interface Part {
  label?: string;
  /** The recorded value, or the words for a recorded code (then `code` holds the code). */
  value: string | null;
  /** The code as recorded, printed beside its words as evidence: "Revoked (REVOKED)". */
  code?: string;
  /** Set on words the reader must not miss (the break-glass marker). */
  strong?: boolean;
}
export type Cell = Part[];

/** A part as plain text: what the PDF prints, and what the HTML shows once its markup is read. */
export function partText(part: Part, none: string): string {
  const value = part.value ?? none;
  const coded = part.code === undefined ? value : `${value} (${part.code})`;
  return part.label === undefined ? coded : `${part.label} ${coded}`;
}

export interface Column {
  title: string;
  /** Relative width: the PDF divides the page by these, the HTML sets column percentages. */
  weight: number;
}

/** Row marks are stated in words inside the row too; the mark only adds emphasis. */
export type RowMark = 'break-glass' | 'refused';
export interface Row {
  cells: Cell[];
  marks: RowMark[];
}

export interface Field {
  label: string;
  /** Several values are a list (patients, studies); empty shows "none". */
  values: Part[];
}

export type Block = { kind: 'fields'; fields: Field[] } | { kind: 'table'; columns: Column[]; rows: Row[] } | { kind: 'note'; text: string };

export type SectionId = 'incident' | 'scope' | 'summary' | 'accesses' | 'grants' | 'clocks' | 'notifications' | 'traces';
export interface Section {
  id: SectionId;
  title: string;
  blocks: Block[];
}

export interface ReportLayout {
  lang: string;
  /** The document's title: the kind of report and the incident id. */
  documentTitle: string;
  incidentId: string;
  /** The heading's fields: the incident's title, when it was generated, its window. */
  heading: Field[];
  sections: Section[];
  noneRecorded: string;
  none: string;
}

const one = (value: string | null, label?: string): Part => (label === undefined ? { value } : { label, value });
const list = (values: string[]): Cell => values.map((value) => one(value));

/**
 * A recorded code in the report's words, with the code kept beside them. A code with no words
 * (one recorded before the words were written, or by something else) is shown as recorded.
 */
function coded(code: string | null, words: Readonly<Record<string, string>>): Part {
  if (code === null || !Object.hasOwn(words, code)) return one(code);
  return { value: words[code]!, code };
}

const field = (label: string, values: Part[]): Field => ({ label, values });

/** The incident itself: its status and origin, who declared it, its team, containment, sign-offs and close. */
function incidentSection(report: IncidentReport, labels: ReportLabels): Section {
  const l = labels.closure;
  const codes = labels.codes;
  const { incident } = report;
  const origin: Field[] = [field(l.origin, [coded(incident.origin.kind, codes.origin)])];
  if (incident.origin.kind === 'break-glass') {
    origin.push(field(l.originRequest, [one(incident.origin.accessRequestId)]));
    origin.push(field(l.originOutcome, [coded(incident.origin.outcome, codes.retroStatus)]));
  }
  return {
    id: 'incident',
    title: labels.sections.incident,
    blocks: [
      {
        kind: 'fields',
        fields: [
          field(l.status, [coded(report.status, codes.incidentStatus)]),
          ...origin,
          field(l.declaredBy, [one(incident.declaredBy)]),
          field(l.declaredAt, [one(incident.declaredAt)]),
          field(l.team, list(incident.team)),
          field(l.containedAt, [one(incident.containedAt)]),
          field(l.signOffBy, [one(incident.signOff?.by ?? null)]),
          field(l.signOffAt, [one(incident.signOff?.at ?? null)]),
          field(l.signOffComment, [one(incident.signOff?.comment ?? null)]),
          field(l.closedBy, list(incident.closedBy)),
          field(l.closedAt, [one(incident.closedAt)]),
        ],
      },
    ],
  };
}

function accessRow(access: ReportAccess, labels: ReportLabels): Row {
  const l = labels.access;
  const codes = labels.codes;
  const purposeOfUse = coded(access.purposeOfUse, codes.purpose);
  const purpose: Cell = access.breakGlass ? [{ value: l.breakGlass, strong: true }, purposeOfUse] : [purposeOfUse];
  const outcome = coded(access.outcome, codes.outcome);
  const marks: RowMark[] = [];
  if (access.breakGlass) marks.push('break-glass');
  if (access.outcome === 'refused') marks.push('refused');
  return {
    marks,
    cells: [
      [one(access.at)],
      [one(access.username)],
      [one(access.grantId)],
      list(access.approvers),
      purpose,
      [one(access.patientId)],
      [one(access.study, l.study), one(access.series, l.series), one(access.instance, l.instance)],
      [one(access.route)],
      access.reason === null ? [outcome] : [outcome, one(access.reason)],
      [one(access.bytes)],
      [one(access.clientIp)],
      [one(access.gatewayId)],
      [one(access.servingId)],
    ],
  };
}

function table(columns: Column[], rows: Row[]): Block {
  return { kind: 'table', columns, rows };
}

export function reportSections(report: IncidentReport, labels: ReportLabels): ReportLayout {
  const summary = summarizeReport(report);
  const a = labels.access;
  const g = labels.grant;
  const c = labels.clock;
  const n = labels.notification;
  const t = labels.trace;
  const codes = labels.codes;
  const sections: Section[] = [
    incidentSection(report, labels),
    {
      id: 'scope',
      title: labels.sections.scope,
      blocks: [
        {
          kind: 'fields',
          fields: [
            field(labels.scope.patients, list(report.scope.patients)),
            field(labels.scope.studies, list(report.scope.studies)),
            field(labels.scope.users, list(report.scope.users)),
            field(labels.scope.affectedPatients, list(report.affectedPatients)),
            field(labels.scope.affectedStudies, list(report.affectedStudies)),
          ],
        },
      ],
    },
    {
      id: 'summary',
      title: labels.sections.summary,
      blocks: [
        {
          kind: 'fields',
          fields: [
            field(labels.summary.served, [one(String(summary.served))]),
            field(labels.summary.refused, [one(String(summary.refused))]),
            field(labels.summary.distinctUsers, [one(String(summary.distinctUsers))]),
            field(labels.summary.grants, [one(String(summary.grants))]),
            field(labels.summary.breakGlass, [one(String(summary.breakGlass))]),
          ],
        },
      ],
    },
    {
      id: 'accesses',
      title: labels.sections.accesses,
      blocks: [
        table(
          [
            { title: a.at, weight: 8 },
            { title: a.user, weight: 7 },
            { title: a.grant, weight: 7 },
            { title: a.approvers, weight: 7 },
            { title: a.purpose, weight: 7 },
            { title: a.patient, weight: 6 },
            { title: a.object, weight: 14 },
            { title: a.route, weight: 8 },
            { title: a.outcome, weight: 8 },
            { title: a.bytes, weight: 4 },
            { title: a.clientIp, weight: 6 },
            { title: a.gateway, weight: 5 },
            { title: a.servingId, weight: 8 },
          ],
          report.accesses.map((access) => accessRow(access, labels)),
        ),
      ],
    },
    {
      id: 'grants',
      title: labels.sections.grants,
      blocks: [
        table(
          [
            { title: g.grantId, weight: 9 },
            { title: g.requester, weight: 7 },
            { title: g.kind, weight: 5 },
            { title: g.purpose, weight: 6 },
            { title: g.justification, weight: 22 },
            { title: g.approvers, weight: 8 },
            { title: g.status, weight: 5 },
            { title: g.activatedAt, weight: 8 },
            { title: g.endedAt, weight: 8 },
          ],
          report.grants.map((grant) => ({
            marks: [],
            cells: [
              [one(grant.grantId)],
              [one(grant.requester)],
              [coded(grant.kind, codes.requestKind)],
              [coded(grant.purposeOfUse, codes.purpose)],
              [one(grant.justification)],
              list(grant.approvers),
              [coded(grant.status, codes.requestStatus)],
              [one(grant.activatedAt)],
              [one(grant.endedAt)],
            ],
          })),
        ),
      ],
    },
    {
      id: 'clocks',
      title: labels.sections.clocks,
      blocks: [
        table(
          [
            { title: c.clock, weight: 6 },
            { title: c.dueAt, weight: 8 },
            { title: c.status, weight: 5 },
            { title: c.doneAt, weight: 8 },
            { title: c.reminders, weight: 4 },
            { title: c.escalatedAt, weight: 8 },
          ],
          report.clocks.map((clock) => ({
            marks: [],
            cells: [
              [coded(clock.clock, codes.clock)],
              [one(clock.dueAt)],
              [coded(clock.status, codes.clockStatus)],
              [one(clock.doneAt)],
              [one(String(clock.remindersSent))],
              [one(clock.escalatedAt)],
            ],
          })),
        ),
      ],
    },
    {
      id: 'notifications',
      title: labels.sections.notifications,
      blocks: [
        { kind: 'note', text: n.bodiesOmitted },
        table(
          [
            { title: n.id, weight: 8 },
            { title: n.audience, weight: 5 },
            { title: n.recipient, weight: 10 },
            { title: n.channel, weight: 4 },
            { title: n.subject, weight: 14 },
            { title: n.createdAt, weight: 8 },
            { title: n.transport, weight: 4 },
            { title: n.status, weight: 4 },
            { title: n.sentAt, weight: 8 },
          ],
          report.notifications.map((note) => ({
            marks: [],
            cells: [
              [one(note.id)],
              [coded(note.audience, codes.audience)],
              [one(note.recipient)],
              [coded(note.channel, codes.channel)],
              [one(note.subject)],
              [one(note.createdAt)],
              [coded(note.transport, codes.transport)],
              [coded(note.status, codes.notificationStatus)],
              [one(note.sentAt)],
            ],
          })),
        ),
      ],
    },
    {
      id: 'traces',
      title: labels.sections.traces,
      blocks: [
        table(
          [
            { title: t.id, weight: 7 },
            { title: t.fileSha256, weight: 12 },
            { title: t.kind, weight: 4 },
            { title: t.tracedBy, weight: 6 },
            { title: t.tracedAt, weight: 8 },
            { title: t.matched, weight: 18 },
            { title: t.detail, weight: 12 },
          ],
          report.traces.map((trace) => ({
            marks: [],
            cells: [
              [one(trace.id)],
              [one(trace.fileSha256)],
              [coded(trace.kind, codes.traceKind)],
              [one(trace.tracedBy)],
              [one(trace.tracedAt)],
              trace.matched === null
                ? [{ value: t.noMatch, strong: true }]
                : [
                    one(trace.matched.servingId, t.servingId),
                    one(trace.matched.grantId, t.grant),
                    one(trace.matched.username, t.user),
                    one(trace.matched.occurredAt, t.occurredAt),
                    one(trace.matched.study, t.study),
                    one(trace.matched.instance, t.instance),
                  ],
              [one(trace.detail)],
            ],
          })),
        ),
      ],
    },
  ];
  return {
    lang: labels.langTag,
    documentTitle: `${labels.documentTitle} ${report.incidentId}`,
    incidentId: report.incidentId,
    heading: [
      field(labels.incident, [one(report.incidentId)]),
      field(labels.title, [one(report.title)]),
      field(labels.generatedAt, [one(report.generatedAt)]),
      field(labels.windowFrom, [one(report.window.from)]),
      field(labels.windowTo, [one(report.window.to)]),
    ],
    sections,
    noneRecorded: labels.noneRecorded,
    none: labels.none,
  };
}
