import { z } from 'zod';
import { INCIDENT_CLOCKS } from '../domain/incident.js';
import { dicomUid, patientIdSchema, usernameSchema } from './identifiers.js';
import { safeText } from './text.js';

// Incidents as the API takes and gives them, and as the web page and the report show them.

export const INCIDENT_ID_PATTERN = /^inc-[0-9a-z-]{8,80}$/;
export const incidentIdSchema = z.string().regex(INCIDENT_ID_PATTERN, 'not an incident id');

const title = safeText({ max: 200, min: 3, minMessage: 'give the incident a title of at least 3 visible characters' });
const description = safeText({ max: 4000, multiline: true });
const notificationText = safeText({ max: 8000, min: 3, minMessage: 'write the notification, at least 3 visible characters', multiline: true });

export const incidentScopeSchema = z
  .object({
    patients: z.array(patientIdSchema).max(50).default([]),
    studies: z.array(dicomUid).max(50).default([]),
    users: z.array(usernameSchema).max(20).default([]),
  })
  .strict();
export type IncidentScope = z.infer<typeof incidentScopeSchema>;

/**
 * A declaration: what is suspected, and since when (the report's window starts there; by
 * default 30 days before the declaration). The scope may start empty when all there is, is a
 * leaked file: tracing it adds what it matched.
 */
export const declareIncidentInputSchema = z
  .object({
    title,
    description: description.optional(),
    scope: incidentScopeSchema,
    windowFrom: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type DeclareIncidentInput = z.infer<typeof declareIncidentInputSchema>;

export const assembleTeamInputSchema = z.object({ members: z.array(usernameSchema).min(2, 'a team is at least two people').max(20) }).strict();

export const NOTIFICATION_AUDIENCES = ['regulator', 'individuals'] as const;
export const INDIVIDUAL_CHANNELS = ['letter', 'sms', 'app'] as const;

export const notifyInputSchema = z.discriminatedUnion('audience', [
  z.object({ audience: z.literal('regulator'), subject: title, body: notificationText }).strict(),
  z.object({ audience: z.literal('individuals'), channel: z.enum(INDIVIDUAL_CHANNELS), subject: title, body: notificationText }).strict(),
]);
export type NotifyInput = z.infer<typeof notifyInputSchema>;

export const signOffInputSchema = z.object({ comment: safeText({ max: 2000, min: 3, minMessage: 'say why it can be closed', multiline: true }) }).strict();

export const clockViewSchema = z.object({
  clock: z.enum(INCIDENT_CLOCKS),
  dueAt: z.string(),
  /** NOT_NEEDED: the incident was closed, by two people, before the clock's act was needed. */
  status: z.enum(['RUNNING', 'MET', 'MISSED', 'NOT_NEEDED']),
  doneAt: z.string().nullable(),
  remindersSent: z.number().int(),
  escalatedAt: z.string().nullable(),
});
export type ClockView = z.infer<typeof clockViewSchema>;

export const notificationViewSchema = z.object({
  id: z.string(),
  audience: z.enum(['regulator', 'individuals', 'team', 'escalation']),
  /** An address, or `patient:<id>` for a letter, SMS or app message the hospital's own service delivers. */
  recipient: z.string(),
  channel: z.enum(['email', ...INDIVIDUAL_CHANNELS]),
  subject: z.string(),
  body: z.string(),
  createdAt: z.string(),
  transport: z.enum(['outbox', 'smtp']),
  status: z.enum(['QUEUED', 'SENT', 'FAILED']),
  sentAt: z.string().nullable(),
});
export type NotificationView = z.infer<typeof notificationViewSchema>;

export const traceViewSchema = z.object({
  id: z.string(),
  fileSha256: z.string(),
  kind: z.enum(['rendered', 'dicom']),
  tracedBy: z.string(),
  tracedAt: z.string(),
  /** The serving the file was traced to, or null when nothing matched with confidence. */
  matched: z
    .object({
      servingId: z.string(),
      grantId: z.string().nullable(),
      username: z.string().nullable(),
      occurredAt: z.string(),
      study: z.string().nullable(),
      instance: z.string().nullable(),
    })
    .nullable(),
  detail: z.string(),
});
export type TraceView = z.infer<typeof traceViewSchema>;

export const incidentViewSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  origin: z.union([z.object({ kind: z.literal('declared') }), z.object({ kind: z.literal('break-glass'), accessRequestId: z.string(), outcome: z.string() })]),
  declaredBy: z.string(),
  declaredAt: z.string(),
  status: z.enum(['OPEN', 'CLOSED']),
  scope: z.object({ patients: z.array(z.string()), studies: z.array(z.string()), users: z.array(z.string()) }),
  windowFrom: z.string(),
  clocks: z.array(clockViewSchema),
  team: z.array(z.string()),
  containment: z.object({ freezeIds: z.array(z.string()), containedAt: z.string() }).nullable(),
  notifications: z.array(notificationViewSchema),
  traces: z.array(traceViewSchema),
  signOff: z.object({ by: z.string(), comment: z.string(), at: z.string() }).nullable(),
  closedAt: z.string().nullable(),
  closedBy: z.array(z.string()),
});
export type IncidentView = z.infer<typeof incidentViewSchema>;
export const incidentListSchema = z.object({ items: z.array(incidentViewSchema) });

/** One access in an investigation report: who, on whose approval, for what, what was served, from where. */
export const reportAccessSchema = z.object({
  at: z.string(),
  username: z.string().nullable(),
  grantId: z.string().nullable(),
  approvers: z.array(z.string()),
  purposeOfUse: z.string().nullable(),
  breakGlass: z.boolean(),
  patientId: z.string().nullable(),
  study: z.string().nullable(),
  series: z.string().nullable(),
  instance: z.string().nullable(),
  route: z.string(),
  outcome: z.enum(['served', 'refused']),
  reason: z.string().nullable(),
  bytes: z.string(),
  clientIp: z.string().nullable(),
  gatewayId: z.string(),
  servingId: z.string(),
});
export type ReportAccess = z.infer<typeof reportAccessSchema>;

/**
 * The incident itself as the report states it: who declared it (or the break-glass that opened
 * it), its team and containment, and how it was closed. `signOff` is the first of the two
 * sign-offs, kept once the incident is closed; `closedBy` names both people who closed it.
 */
export const reportIncidentSchema = z.object({
  declaredBy: z.string(),
  declaredAt: z.string(),
  origin: z.union([z.object({ kind: z.literal('declared') }), z.object({ kind: z.literal('break-glass'), accessRequestId: z.string(), outcome: z.string() })]),
  signOff: z.object({ by: z.string(), at: z.string(), comment: z.string() }).nullable(),
  closedAt: z.string().nullable(),
  closedBy: z.array(z.string()),
  team: z.array(z.string()),
  containedAt: z.string().nullable(),
});
export type ReportIncident = z.infer<typeof reportIncidentSchema>;

/** The investigation report: built from the records, the same in JSON, HTML, PDF and the evidence bundle. */
export const incidentReportSchema = z.object({
  format: z.literal('imaging-access-review/incident-report@1'),
  incidentId: z.string(),
  title: z.string(),
  /** CLOSED once two people signed it off: its window then ends at the close. */
  status: z.enum(['OPEN', 'CLOSED']),
  incident: reportIncidentSchema,
  generatedAt: z.string(),
  window: z.object({ from: z.string(), to: z.string() }),
  scope: z.object({ patients: z.array(z.string()), studies: z.array(z.string()), users: z.array(z.string()) }),
  affectedPatients: z.array(z.string()),
  affectedStudies: z.array(z.string()),
  accesses: z.array(reportAccessSchema),
  /** Each grant behind an access, once: who asked, who approved, why. */
  grants: z.array(
    z.object({
      grantId: z.string(),
      requester: z.string(),
      kind: z.string(),
      purposeOfUse: z.string(),
      justification: z.string(),
      approvers: z.array(z.string()),
      status: z.string(),
      activatedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
    }),
  ),
  clocks: z.array(clockViewSchema),
  notifications: z.array(notificationViewSchema.omit({ body: true })),
  traces: z.array(traceViewSchema),
});
export type IncidentReport = z.infer<typeof incidentReportSchema>;
