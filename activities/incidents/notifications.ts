import { ApplicationFailure } from '@temporalio/activity';
import { affectedRecords } from '../../audit/read/incident-scope.js';
import type { Db, DbTransaction } from '../../db/client.js';
import type { IncidentClock } from '../../domain/incident.js';
import { recordOnce } from '../records/record-once.js';
import { isMailAddress, type MailSender } from './notifier.js';
import { assertIncidentRun, markClocksDone } from './records.js';

// Notifications: each one a row in the outbox, written with its audit event; e-mail to an
// address is then handed to SMTP (deliverNotifications) when a server is configured. The
// clocks' reminders and escalations go the same way, to the security office and the
// escalation contact, and never carry patient data.

export interface NotificationSettings {
  regulator: string;
  team: string;
  escalation: string;
  /** Whether an SMTP server is configured: e-mail to an address goes there, else it waits in the outbox. */
  smtp: boolean;
}

export type Audience = 'regulator' | 'individuals' | 'team' | 'escalation';
export type Channel = 'email' | 'letter' | 'sms' | 'app';

interface Outgoing {
  incidentId: string;
  notificationId: string;
  audience: Audience;
  channel: Channel;
  subject: string;
  body: string;
  at: Date;
}

/** Writes one outbox row per recipient; the e-mails SMTP will carry are returned to be delivered. */
async function queue(tx: DbTransaction, settings: NotificationSettings, out: Outgoing, recipients: string[]): Promise<string[]> {
  const toDeliver: string[] = [];
  for (const [i, recipient] of recipients.entries()) {
    const smtp = out.channel === 'email' && settings.smtp && isMailAddress(recipient);
    const id = recipients.length === 1 ? out.notificationId : `${out.notificationId}-${i + 1}`;
    await tx.incidentNotification.create({
      data: {
        id,
        incidentId: out.incidentId,
        audience: out.audience,
        recipient,
        channel: out.channel,
        subject: out.subject,
        body: out.body,
        createdAt: out.at,
        transport: smtp ? 'smtp' : 'outbox',
        status: 'QUEUED',
      },
    });
    if (smtp) toDeliver.push(id);
  }
  return toDeliver;
}

/** The e-mail of one notification still waiting for SMTP. */
async function pendingMail(db: Db, incidentId: string, notificationId: string): Promise<string[]> {
  const rows = await db.incidentNotification.findMany({
    where: { incidentId, id: { startsWith: notificationId }, status: 'QUEUED', transport: 'smtp' },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

export interface QueueNotificationInput {
  incidentId: string;
  notificationId: string;
  by: string;
  audience: 'regulator' | 'individuals';
  channel: Channel;
  subject: string;
  body: string;
  at: number;
}

export interface QueuedNotification {
  recipients: number;
  /** Rows SMTP must still carry: the act is done once they are sent. Empty: done when queued. */
  toDeliver: string[];
}

/**
 * The regulator's notification, or one to each affected patient (as the records say now).
 * Returns how many were queued; none when there is nobody to notify, and then nothing is written.
 */
export async function queueNotification(db: Db, settings: NotificationSettings, input: QueueNotificationInput): Promise<QueuedNotification> {
  await assertIncidentRun(db, input.incidentId);
  let recipients: string[];
  if (input.audience === 'regulator') recipients = [settings.regulator];
  else {
    const incident = await db.incident.findUniqueOrThrow({ where: { id: input.incidentId } });
    const affected = await affectedRecords(db, {
      patients: incident.scopePatients,
      studies: incident.scopeStudies,
      users: incident.scopeUsers,
      windowFrom: incident.windowFrom,
      windowTo: new Date(input.at),
    });
    recipients = affected.patients.map((p) => `patient:${p}`);
  }
  if (recipients.length === 0) return { recipients: 0, toDeliver: [] };
  const at = new Date(input.at);
  let toDeliver: string[] = [];
  await recordOnce(
    db,
    {
      dedupeKey: `incident:${input.incidentId}:notify:${input.notificationId}`,
      type: 'incident.notification-queued',
      actor: input.by,
      accessRequestId: input.incidentId,
      // The content and recipients are in the outbox rows; the chain holds how many and a digest-free summary.
      payload: { notificationId: input.notificationId, audience: input.audience, channel: input.channel, recipients: recipients.length },
      occurredAt: at,
    },
    async (tx) => {
      toDeliver = await queue(tx, settings, { ...input, at }, recipients);
    },
  );
  if (toDeliver.length === 0) {
    // Recorded by an earlier attempt: what it left for SMTP is still in the outbox.
    const pending = await db.incidentNotification.findMany({
      where: { incidentId: input.incidentId, id: { startsWith: input.notificationId }, status: 'QUEUED', transport: 'smtp' },
    });
    toDeliver = pending.map((p) => p.id);
  }
  return { recipients: recipients.length, toDeliver };
}

/**
 * Hands queued e-mail to SMTP; answers when the last was accepted. A row already sent is
 * skipped, so a retry sends nothing twice, except a message whose acceptance was not yet
 * written when the worker died (at least once, and its Message-ID names the row).
 */
export async function deliverNotifications(db: Db, sender: MailSender | null, input: { incidentId: string; ids: string[] }): Promise<number> {
  await assertIncidentRun(db, input.incidentId);
  if (!sender) throw new Error('No SMTP server is configured on this worker; another worker may carry the e-mail.');
  let lastSentAt = 0;
  for (const id of input.ids) {
    const row = await db.incidentNotification.findUniqueOrThrow({ where: { id } });
    if (row.incidentId !== input.incidentId) throw ApplicationFailure.nonRetryable(`Notification ${id} is another incident's.`, 'NOT_THE_INCIDENT_WORKFLOW');
    if (row.status === 'SENT') {
      lastSentAt = Math.max(lastSentAt, row.sentAt!.getTime());
      continue;
    }
    try {
      const { messageId } = await sender.send({ id, to: row.recipient, subject: row.subject, body: row.body });
      const sentAt = new Date();
      await db.incidentNotification.update({ where: { id }, data: { status: 'SENT', sentAt, smtpMessageId: messageId, lastError: null } });
      lastSentAt = Math.max(lastSentAt, sentAt.getTime());
    } catch (error) {
      await db.incidentNotification.update({ where: { id }, data: { lastError: (error as Error).message.slice(0, 500) } });
      throw error;
    }
  }
  return lastSentAt;
}

export interface RecordActDoneInput {
  incidentId: string;
  by: string;
  act: 'regulator' | 'individuals';
  outcomes: Partial<Record<IncidentClock, 'MET' | 'MISSED'>>;
  at: number;
}

/** A notification act done (queued for the outbox, or accepted by SMTP): its clocks are met or stay missed. */
export async function recordActDone(db: Db, input: RecordActDoneInput): Promise<boolean> {
  await assertIncidentRun(db, input.incidentId);
  const at = new Date(input.at);
  return recordOnce(
    db,
    {
      dedupeKey: `incident:${input.incidentId}:done:${input.act}`,
      type: 'incident.clock-done',
      actor: input.by,
      accessRequestId: input.incidentId,
      payload: { act: input.act, outcomes: input.outcomes },
      occurredAt: at,
    },
    (tx) => markClocksDone(tx, input.incidentId, input.outcomes, at),
  );
}

export interface RecordClockMarkInput {
  incidentId: string;
  clock: IncidentClock;
  kind: 'reminder' | 'deadline';
  index: number;
  dueAt: number;
  at: number;
}

const CLOCK_WORDS: Record<IncidentClock, string> = {
  team: 'assemble the incident team',
  containment: 'contain the incident (freeze the affected access)',
  regulator: 'notify the supervisory authority (GDPR Art. 33)',
  individuals: 'notify the affected individuals',
  individualsOuter: "notify the affected individuals (HIPAA's 60-day outer bound)",
};

/**
 * A reminder before a deadline (to the security office), or a missed deadline (recorded as
 * missed, and escalated to the escalation contact). Returns the e-mails SMTP must carry.
 */
export async function recordClockMark(db: Db, settings: NotificationSettings, input: RecordClockMarkInput): Promise<string[]> {
  await assertIncidentRun(db, input.incidentId);
  const at = new Date(input.at);
  const already = (id: string) => `incident:${id}`;
  const due = new Date(input.dueAt).toISOString();
  const reminder = input.kind === 'reminder';
  const out: Outgoing = {
    incidentId: input.incidentId,
    notificationId: `${input.incidentId}:${reminder ? `reminder:${input.clock}:${input.index + 1}` : `escalation:${input.clock}`}`,
    audience: reminder ? 'team' : 'escalation',
    channel: 'email',
    subject: reminder
      ? `Reminder: incident ${input.incidentId}, ${CLOCK_WORDS[input.clock]} by ${due}`
      : `Escalation: incident ${input.incidentId} missed its deadline to ${CLOCK_WORDS[input.clock]}`,
    body: reminder
      ? `Incident ${input.incidentId}: the deadline to ${CLOCK_WORDS[input.clock]} is ${due}. It has not been done yet.`
      : `Incident ${input.incidentId}: the deadline to ${CLOCK_WORDS[input.clock]} passed at ${due} and it has not been done. This is recorded as missed.`,
    at,
  };
  // Recorded by an earlier attempt: what it left for SMTP is still in the outbox.
  if (await db.auditEvent.findUnique({ where: { dedupeKey: already(out.notificationId) }, select: { seq: true } }))
    return pendingMail(db, input.incidentId, out.notificationId);
  // The workflow queues its records one after another, so an act that met the clock just
  // before its deadline is in the database by now: nothing to remind of, nothing missed.
  const clock = await db.incidentClock.findUniqueOrThrow({ where: { incidentId_clock: { incidentId: input.incidentId, clock: input.clock } } });
  if (clock.status !== 'RUNNING') return [];
  let toDeliver: string[] = [];
  await recordOnce(
    db,
    {
      dedupeKey: already(out.notificationId),
      type: reminder ? 'incident.clock-reminder' : 'incident.clock-missed',
      actor: 'system',
      accessRequestId: input.incidentId,
      payload: { clock: input.clock, dueAt: due, ...(reminder ? { reminder: input.index + 1 } : {}) },
      occurredAt: at,
    },
    async (tx) => {
      if (reminder)
        await tx.incidentClock.updateMany({ where: { incidentId: input.incidentId, clock: input.clock }, data: { remindersSent: { increment: 1 } } });
      // Still RUNNING only: an act done meanwhile has set the clock already.
      else
        await tx.incidentClock.updateMany({
          where: { incidentId: input.incidentId, clock: input.clock, status: 'RUNNING' },
          data: { status: 'MISSED', escalatedAt: at },
        });
      toDeliver = await queue(tx, settings, out, [reminder ? settings.team : settings.escalation]);
    },
  );
  return toDeliver;
}
