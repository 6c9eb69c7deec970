import type { Db } from '../../db/client.js';
import { smtpSender, type SmtpSettings } from './notifier.js';
import {
  deliverNotifications,
  queueNotification,
  recordActDone,
  recordClockMark,
  type NotificationSettings,
  type QueueNotificationInput,
  type RecordActDoneInput,
  type RecordClockMarkInput,
} from './notifications.js';
import {
  recordContainment,
  recordIncidentDeclared,
  recordSignOff,
  recordTeam,
  recordTrace,
  verifyBreakGlassOrigin,
  type BreakGlassOrigin,
  type RecordContainmentInput,
  type RecordIncidentDeclaredInput,
  type RecordSignOffInput,
  type RecordTeamInput,
  type RecordTraceInput,
} from './records.js';

export interface IncidentActivitySettings {
  smtp: SmtpSettings | null;
  regulator: string;
  team: string;
  escalation: string;
}

/** The incident workflow's activities; the keys are activity names in recorded histories. */
export function createIncidentActivities(db: Db, settings: IncidentActivitySettings) {
  const sender = settings.smtp ? smtpSender(settings.smtp) : null;
  const notify: NotificationSettings = { regulator: settings.regulator, team: settings.team, escalation: settings.escalation, smtp: sender !== null };
  return {
    verifyBreakGlassOrigin: (input: BreakGlassOrigin) => verifyBreakGlassOrigin(db, input),
    recordIncidentDeclared: (input: RecordIncidentDeclaredInput) => recordIncidentDeclared(db, input),
    recordTeam: (input: RecordTeamInput) => recordTeam(db, input),
    recordContainment: (input: RecordContainmentInput) => recordContainment(db, input),
    recordTrace: (input: RecordTraceInput) => recordTrace(db, input),
    recordSignOff: (input: RecordSignOffInput) => recordSignOff(db, input),
    queueNotification: (input: QueueNotificationInput) => queueNotification(db, notify, input),
    deliverNotifications: (input: { incidentId: string; ids: string[] }) => deliverNotifications(db, sender, input),
    recordActDone: (input: RecordActDoneInput) => recordActDone(db, input),
    recordClockMark: (input: RecordClockMarkInput) => recordClockMark(db, notify, input),
  };
}
export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
