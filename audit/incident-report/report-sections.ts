import type { IncidentReport, ReportAccess } from '../../contracts/incident.js';
import type { ReportLabels } from './labels.js';
import { summarizeReport } from './report-summary.js';

// What the printed report says, section by section, independent of how it is printed. The
// HTML and the PDF renderers both walk this one layout, so they show the same sections, the
// same columns and the same words; neither decides content on its own.

/** One line inside a cell: an optional label, the recorded value (null: nothing recorded). */
export interface Part {
  label?: string;
  value: string | null;
  /** Set on words the reader must not miss (the break-glass marker). */
  strong?: boolean;
}
export type Cell = Part[];

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
  values: string[];
}

export type Block = { kind: 'fields'; fields: Field[] } | { kind: 'table'; columns: Column[]; rows: Row[] } | { kind: 'note'; text: string };

export type SectionId = 'scope' | 'summary' | 'accesses' | 'grants' | 'clocks' | 'notifications' | 'traces';
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

function accessRow(access: ReportAccess, labels: ReportLabels): Row {
  const l = labels.access;
  const purpose: Cell = access.breakGlass ? [{ value: l.breakGlass, strong: true }, one(access.purposeOfUse)] : [one(access.purposeOfUse)];
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
      access.reason === null ? [one(access.outcome)] : [one(access.outcome), one(access.reason)],
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
  const sections: Section[] = [
    {
      id: 'scope',
      title: labels.sections.scope,
      blocks: [
        {
          kind: 'fields',
          fields: [
            { label: labels.scope.patients, values: report.scope.patients },
            { label: labels.scope.studies, values: report.scope.studies },
            { label: labels.scope.users, values: report.scope.users },
            { label: labels.scope.affectedPatients, values: report.affectedPatients },
            { label: labels.scope.affectedStudies, values: report.affectedStudies },
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
            { label: labels.summary.served, values: [String(summary.served)] },
            { label: labels.summary.refused, values: [String(summary.refused)] },
            { label: labels.summary.distinctUsers, values: [String(summary.distinctUsers)] },
            { label: labels.summary.grants, values: [String(summary.grants)] },
            { label: labels.summary.breakGlass, values: [String(summary.breakGlass)] },
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
              [one(grant.kind)],
              [one(grant.purposeOfUse)],
              [one(grant.justification)],
              list(grant.approvers),
              [one(grant.status)],
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
              [one(clock.clock)],
              [one(clock.dueAt)],
              [one(clock.status)],
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
              [one(note.audience)],
              [one(note.recipient)],
              [one(note.channel)],
              [one(note.subject)],
              [one(note.createdAt)],
              [one(note.transport)],
              [one(note.status)],
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
              [one(trace.kind)],
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
      { label: labels.incident, values: [report.incidentId] },
      { label: labels.title, values: [report.title] },
      { label: labels.generatedAt, values: [report.generatedAt] },
      { label: labels.windowFrom, values: [report.window.from] },
      { label: labels.windowTo, values: [report.window.to] },
    ],
    sections,
    noneRecorded: labels.noneRecorded,
    none: labels.none,
  };
}
