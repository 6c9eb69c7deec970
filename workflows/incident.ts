import { allHandlersFinished, condition, defineQuery, defineUpdate, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Principal } from '../domain/access-request.js';
import {
  CLOCK_ACT,
  INCIDENT_CLOCKS,
  clockMarks,
  clockOutcome,
  judgeContain,
  judgeDeclare,
  judgeIncidentAct,
  judgeSignOff,
  type ClockPolicy,
  type IncidentClock,
} from '../domain/incident.js';
import { Rejection } from '../domain/review-rejection.js';
import type { IncidentActivities } from '../activities/incidents/activities.js';
import type { AssertedAction } from '../contracts/principal-assertion.js';
import type { Asserted } from './messages.js';
import { malformed, notVouched, refuse, voucher } from './vouching.js';

// One incident, from its declaration to its close by two people: recorded with its clocks
// first, then one durable timer at a time through every reminder and deadline, while the
// team, containment, notifications and traced leaks arrive as Updates, each from a principal
// the API vouched for. An incident a break-glass opens runs as that break-glass's child.

export interface IncidentScopeMessage {
  patients: string[];
  studies: string[];
  users: string[];
}

export type IncidentOrigin = { kind: 'declared' } | { kind: 'break-glass'; accessRequestId: string };

export interface IncidentWorkflowInput extends Asserted {
  incident: { id: string; title: string; description: string; scope: IncidentScopeMessage; windowFrom: number };
  /** Who declared it; null for an incident a break-glass opened (the system). */
  by: Principal | null;
  origin: IncidentOrigin;
  declaredAt: number;
  policy: ClockPolicy;
}

export interface TeamMessage extends Asserted {
  by: Principal;
  members: string[];
}
export interface ContainMessage extends Asserted {
  by: Principal;
  freezeIds: string[];
}
export interface NotifyMessage extends Asserted {
  by: Principal;
  notificationId: string;
  audience: 'regulator' | 'individuals';
  channel: 'email' | 'letter' | 'sms' | 'app';
  subject: string;
  body: string;
}
export interface TraceMessage extends Asserted {
  by: Principal;
  traceId: string;
  fileSha256: string;
  kind: 'rendered' | 'dicom';
  matched: { servingId: string; grantId: string | null; username: string | null; occurredAt: string; study: string | null; instance: string | null } | null;
  detail: string;
  /** The matched study's patient, as the grant's request (confirmed with the PACS) names it. */
  patientId: string | null;
}
export interface SignOffMessage extends Asserted {
  by: Principal;
  comment: string;
}

export interface IncidentSnapshot {
  recorded: boolean;
  closed: boolean;
  contained: boolean;
  teamAssembled: boolean;
  done: Record<'team' | 'containment' | 'regulator' | 'individuals', boolean>;
  signedOffBy: string | null;
}

/** Resolves once the incident is in the database, so the API never answers before it. */
export const incidentRecordedUpdate = defineUpdate<IncidentSnapshot>('incidentRecorded');
export const assembleTeamUpdate = defineUpdate<IncidentSnapshot, [TeamMessage]>('assembleTeam');
export const containUpdate = defineUpdate<IncidentSnapshot, [ContainMessage]>('contain');
export const notifyUpdate = defineUpdate<IncidentSnapshot, [NotifyMessage]>('notify');
export const traceLeakUpdate = defineUpdate<IncidentSnapshot, [TraceMessage]>('traceLeak');
export const signOffUpdate = defineUpdate<IncidentSnapshot, [SignOffMessage]>('signOff');
export const incidentSnapshotQuery = defineQuery<IncidentSnapshot>('incidentSnapshot');

const SYSTEM: Principal = { username: 'system', roles: [], reviewsForDepartments: [] };

const records = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '10 seconds' },
});
// SMTP may be down for a while: the e-mail waits in the outbox, retried with backoff for a day.
const delivery = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes' },
});
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const hasPrincipal = (m: unknown) => {
  const by = (m as { by?: Principal } | null)?.by;
  return typeof by?.username === 'string' && isStringArray(by.roles);
};

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<string> {
  const { incident, policy, declaredAt } = input;
  const done: IncidentSnapshot['done'] = { team: false, containment: false, regulator: false, individuals: false };
  let recorded = false;
  let closed = false;
  let firstSignOff: Principal | null = null;
  let containRounds = 0;
  let containing = false;
  const notificationIds = new Set<string>();
  // Record activities run one after another, so the chain sees the incident's steps in the order taken.
  let queue: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(step: () => Promise<T>): Promise<T> => {
    const next = queue.then(step);
    queue = next.catch(() => undefined);
    return next;
  };
  const snapshot = (): IncidentSnapshot => ({
    recorded,
    closed,
    contained: done.containment,
    teamAssembled: done.team,
    done: { ...done },
    signedOffBy: firstSignOff?.username ?? null,
  });
  const outcomes = (act: keyof typeof done, at: number) => {
    const result: Partial<Record<IncidentClock, 'MET' | 'MISSED'>> = {};
    for (const clock of INCIDENT_CLOCKS) if (CLOCK_ACT[clock] === act) result[clock] = clockOutcome(policy, declaredAt, clock, at);
    return result;
  };

  const vouch = voucher(incident.id);
  const vouchedFor = (action: AssertedAction, message: Asserted & { by: Principal }) => vouch(action, message.by, message);
  const whileOpen = (by: Principal) => refuse(judgeIncidentAct(by, { closed }));
  const notYetRecorded = () => {
    if (!recorded) refuse(new Rejection('NOT_PENDING', 'The incident is not recorded yet.'));
  };

  setHandler(incidentSnapshotQuery, snapshot);
  setHandler(incidentRecordedUpdate, async () => {
    await condition(() => recorded);
    return snapshot();
  });

  setHandler(
    assembleTeamUpdate,
    async (message) => {
      const by = await vouchedFor('assembleTeam', message);
      whileOpen(by);
      if (done.team) refuse(new Rejection('NOT_PENDING', 'The incident team is already assembled.'));
      done.team = true;
      const at = Date.now();
      await inOrder(() =>
        records.recordTeam({ incidentId: incident.id, by: by.username, members: [...new Set(message.members)], at, outcome: outcomes('team', at).team! }),
      );
      return snapshot();
    },
    {
      validator: (message) => {
        if (!hasPrincipal(message) || !isStringArray(message.members) || new Set(message.members).size < 2) malformed('team');
        notYetRecorded();
        whileOpen(message.by);
        if (done.team) refuse(new Rejection('NOT_PENDING', 'The incident team is already assembled.'));
      },
    },
  );

  setHandler(
    containUpdate,
    async (message) => {
      const by = await vouchedFor('contain', message);
      refuse(judgeContain(by, { closed, contained: done.containment || containing }));
      // Taken before the record's await: a second containment arriving meanwhile is refused.
      containing = true;
      const at = Date.now();
      const round = ++containRounds;
      const result = await inOrder(() =>
        records.recordContainment({
          incidentId: incident.id,
          round,
          by: by.username,
          freezeIds: message.freezeIds,
          at,
          outcome: outcomes('containment', at).containment!,
        }),
      ).finally(() => (containing = false));
      if (!result.contained) refuse(new Rejection('NOT_PENDING', `Not contained: no freeze in force stops ${result.uncovered.join(', ')}.`));
      done.containment = true;
      return snapshot();
    },
    {
      validator: (message) => {
        if (!hasPrincipal(message) || !isStringArray(message.freezeIds)) malformed('contain');
        notYetRecorded();
        refuse(judgeContain(message.by, { closed, contained: done.containment }));
      },
    },
  );

  // E-mail still on its way when the incident closes is waited for: the run ends with its outbox empty.
  const deliveries: Promise<unknown>[] = [];
  const deliver = async (ids: string[]) => {
    if (!ids.length) return null;
    const sent = delivery.deliverNotifications({ incidentId: incident.id, ids });
    deliveries.push(sent.catch(() => undefined));
    return sent;
  };

  setHandler(
    notifyUpdate,
    async (message) => {
      const by = await vouchedFor('notify', message);
      whileOpen(by);
      // The same notification again (a retry, a second tab with the same Idempotency-Key): sent once.
      if (notificationIds.has(message.notificationId)) return snapshot();
      notificationIds.add(message.notificationId);
      const queuedAt = Date.now();
      const queued = await inOrder(() =>
        records.queueNotification({
          incidentId: incident.id,
          notificationId: message.notificationId,
          by: by.username,
          audience: message.audience,
          channel: message.channel,
          subject: message.subject,
          body: message.body,
          at: queuedAt,
        }),
      );
      if (queued.recipients === 0) {
        // Nothing was sent: the same notification may be tried again once someone is known.
        notificationIds.delete(message.notificationId);
        refuse(new Rejection('NOT_PENDING', 'Nobody to notify: no affected patient is known from the records yet.'));
      }
      const act = message.audience;
      // The act is done when its message is handed over: to the outbox, or accepted by SMTP.
      const finish = async () => {
        const sentAt = (await deliver(queued.toDeliver)) ?? queuedAt;
        if (done[act]) return;
        done[act] = true;
        await inOrder(() => records.recordActDone({ incidentId: incident.id, by: by.username, act, outcomes: outcomes(act, sentAt), at: sentAt }));
      };
      if (queued.toDeliver.length === 0) await finish();
      // An SMTP server that is slow or down must not hold the officer's request open.
      else void finish().catch(() => undefined);
      return snapshot();
    },
    {
      validator: (message) => {
        const okAudience =
          message?.audience === 'regulator'
            ? message.channel === 'email'
            : message?.audience === 'individuals' && ['letter', 'sms', 'app'].includes(message.channel);
        if (
          !hasPrincipal(message) ||
          !okAudience ||
          typeof message.subject !== 'string' ||
          typeof message.body !== 'string' ||
          typeof message.notificationId !== 'string'
        )
          malformed('notify');
        notYetRecorded();
        whileOpen(message.by);
      },
    },
  );

  setHandler(
    traceLeakUpdate,
    async (message) => {
      const by = await vouchedFor('traceLeak', message);
      whileOpen(by);
      const m = message.matched;
      const after = await inOrder(() =>
        records.recordTrace({
          incidentId: incident.id,
          traceId: message.traceId,
          by: by.username,
          fileSha256: message.fileSha256,
          kind: message.kind,
          matched: m,
          detail: message.detail,
          adds: {
            patients: m && message.patientId ? [message.patientId] : [],
            studies: m?.study ? [m.study] : [],
            users: m?.username ? [m.username] : [],
          },
          at: Date.now(),
        }),
      );
      // A wider scope that no freeze stops yet must be contained again before the incident can close.
      done.containment = after.contained;
      return snapshot();
    },
    {
      validator: (message) => {
        if (
          !hasPrincipal(message) ||
          typeof message.traceId !== 'string' ||
          typeof message.fileSha256 !== 'string' ||
          !['rendered', 'dicom'].includes(message.kind)
        )
          malformed('traceLeak');
        notYetRecorded();
        whileOpen(message.by);
      },
    },
  );

  setHandler(
    signOffUpdate,
    async (message) => {
      const by = await vouchedFor('signOff', message);
      refuse(judgeSignOff(by, { closed, contained: done.containment, signedOffBy: firstSignOff }));
      const first = firstSignOff;
      // Decided before the record's await: a second message arriving meanwhile is judged against it.
      if (first) closed = true;
      else firstSignOff = by;
      await inOrder(() =>
        records.recordSignOff({
          incidentId: incident.id,
          by: by.username,
          roles: [...by.roles],
          comment: message.comment,
          at: Date.now(),
          closes: first !== null,
          firstBy: first?.username ?? null,
        }),
      );
      return snapshot();
    },
    {
      validator: (message) => {
        if (!hasPrincipal(message) || typeof message.comment !== 'string') malformed('signOff');
        notYetRecorded();
        refuse(judgeSignOff(message.by, { closed, contained: done.containment, signedOffBy: firstSignOff }));
      },
    },
  );

  // ---- The declaration: from a security officer the API vouches for, or from the break-glass that is this run's parent.
  if (workflowInfo().workflowId !== incident.id) notVouched('ASSERTION_MISMATCH: The incident runs under another id than it names.');
  let declaredBy: Principal;
  let origin: { kind: 'declared' } | { kind: 'break-glass'; accessRequestId: string; outcome: string };
  if (input.origin.kind === 'break-glass') {
    const parent = workflowInfo().parent;
    // The parent is the server's word, which no client can set: a start from outside has none.
    if (!parent || parent.workflowId !== input.origin.accessRequestId) notVouched('UNVERIFIED_PRINCIPAL: Only the break-glass itself opens its incident.');
    const facts = await records.verifyBreakGlassOrigin({ accessRequestId: parent.workflowId, parentRunId: parent.runId });
    declaredBy = SYSTEM;
    origin = { kind: 'break-glass', accessRequestId: parent.workflowId, outcome: facts.outcome };
  } else {
    if (!input.by) notVouched('ASSERTION_MISSING: A declared incident names who declared it.');
    declaredBy = await vouch('declareIncident', input.by, input);
    refuse(judgeDeclare(declaredBy));
    origin = { kind: 'declared' };
  }
  const marks = clockMarks(policy, declaredAt);
  await inOrder(() =>
    records.recordIncidentDeclared({
      incidentId: incident.id,
      title: incident.title,
      description: incident.description,
      origin,
      declaredBy: declaredBy.username,
      declaredAt,
      scope: incident.scope,
      windowFrom: incident.windowFrom,
      clocks: marks.filter((m) => m.kind === 'deadline').map((m) => ({ clock: m.clock, dueAt: m.at })),
    }),
  );
  recorded = true;

  // ---- The clocks: one durable timer at a time, through every reminder and deadline in time order.
  for (const mark of marks) {
    const wait = mark.at - Date.now();
    if (wait > 0 && (await condition(() => closed, wait))) break;
    if (closed) break;
    if (done[CLOCK_ACT[mark.clock]]) continue;
    const dueAt = declaredAt + policy.dueMs[mark.clock];
    // Behind time (a worker was down): a reminder after its deadline reminds of nothing; the deadline itself still escalates.
    if (mark.kind === 'reminder' && Date.now() >= dueAt) continue;
    const ids = await inOrder(() =>
      records.recordClockMark({ incidentId: incident.id, clock: mark.clock, kind: mark.kind, index: mark.index, dueAt, at: Date.now() }),
    );
    void deliver(ids).catch(() => undefined);
  }

  await condition(() => closed);
  await condition(allHandlersFinished);
  await Promise.all(deliveries);
  await queue;
  return 'CLOSED';
}
