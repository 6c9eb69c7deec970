import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db, DbTransaction } from '../../db/client.js';
import { freezeMatches, type FreezeScope } from '../../domain/freeze.js';
import type { IncidentClock } from '../../domain/incident.js';
import { recordOnce } from '../records/record-once.js';

// What an incident's workflow writes: its declaration with its clocks, the team, containment,
// each leaked file traced, the sign-offs and each clock's reminders and deadline. Each in one
// transaction with its audit event (the event's case id is the incident's), keyed so a
// retried activity is a no-op; only the incident's own workflow run may write.

/** The run asking, as the Temporal server names it: only the incident's own workflow, under its id. */
export function incidentCaller(incidentId: string): { runId: string } {
  const { workflowExecution, workflowType } = Context.current().info;
  if (!workflowExecution || workflowType !== 'incidentWorkflow' || workflowExecution.workflowId !== incidentId) {
    throw ApplicationFailure.nonRetryable(`Only the incident's own workflow may record it (asked by ${workflowType}).`, 'NOT_THE_INCIDENT_WORKFLOW');
  }
  return { runId: workflowExecution.runId };
}

/** Refuses every run but the one that recorded the declaration. */
export async function assertIncidentRun(db: Db, incidentId: string): Promise<void> {
  const { runId } = incidentCaller(incidentId);
  const row = await db.incident.findUnique({ where: { id: incidentId }, select: { workflowRunId: true } });
  if (!row || row.workflowRunId !== runId) throw ApplicationFailure.nonRetryable('The incident was recorded by another workflow run.', 'DUPLICATE_RUN');
}

/** Marks clocks done by an act at `at`: met, or still missed (with when it was done after all). */
export async function markClocksDone(
  tx: DbTransaction,
  incidentId: string,
  outcomes: Partial<Record<IncidentClock, 'MET' | 'MISSED'>>,
  at: Date,
): Promise<void> {
  for (const [clock, outcome] of Object.entries(outcomes)) {
    await tx.incidentClock.updateMany({ where: { incidentId, clock, doneAt: null }, data: { status: outcome, doneAt: at } });
  }
}

export interface BreakGlassOrigin {
  accessRequestId: string;
  /** The parent run as the Temporal server names it (workflowInfo().parent), never as a message says. */
  parentRunId: string;
}

/**
 * The facts behind an incident a break-glass opened by itself: the break-glass exists, was
 * recorded by the very run that started this incident, and its review ended unjustified or
 * unreviewed. Anything else is refused: nobody opens an incident in the system's name.
 */
export async function verifyBreakGlassOrigin(db: Db, origin: BreakGlassOrigin) {
  const row = await db.accessRequest.findUnique({
    where: { id: origin.accessRequestId },
    select: { kind: true, workflowRunId: true, retroStatus: true, requester: true, patientId: true, studyInstanceUids: true, submittedAt: true },
  });
  const outcome = row?.retroStatus;
  if (!row || row.kind !== 'break-glass' || row.workflowRunId !== origin.parentRunId || (outcome !== 'UNJUSTIFIED' && outcome !== 'UNREVIEWED')) {
    throw ApplicationFailure.nonRetryable('No break-glass of this run ended unjustified or unreviewed.', 'UNVERIFIED_PRINCIPAL');
  }
  return { outcome, requester: row.requester, patientId: row.patientId, studies: row.studyInstanceUids, openedAt: row.submittedAt.getTime() };
}

export interface RecordIncidentDeclaredInput {
  incidentId: string;
  title: string;
  description: string;
  origin: { kind: 'declared' } | { kind: 'break-glass'; accessRequestId: string; outcome: string };
  declaredBy: string;
  declaredAt: number;
  scope: { patients: string[]; studies: string[]; users: string[] };
  windowFrom: number;
  clocks: { clock: IncidentClock; dueAt: number }[];
}

export async function recordIncidentDeclared(db: Db, input: RecordIncidentDeclaredInput): Promise<boolean> {
  const { runId } = incidentCaller(input.incidentId);
  const existing = await db.incident.findUnique({ where: { id: input.incidentId }, select: { workflowRunId: true } });
  if (existing && existing.workflowRunId !== runId)
    throw ApplicationFailure.nonRetryable('The incident was recorded by another workflow run.', 'DUPLICATE_RUN');
  const at = new Date(input.declaredAt);
  const breakGlass = input.origin.kind === 'break-glass' ? input.origin : null;
  return recordOnce(
    db,
    {
      dedupeKey: `incident:${input.incidentId}:declared`,
      type: 'incident.declared',
      actor: input.declaredBy,
      accessRequestId: input.incidentId,
      payload: {
        origin: input.origin,
        title: input.title,
        // Who and what is in scope is in the incident's rows; the chain holds how much.
        scopeSize: { patients: input.scope.patients.length, studies: input.scope.studies.length, users: input.scope.users.length },
        windowFrom: new Date(input.windowFrom).toISOString(),
        clocks: input.clocks.map((c) => ({ clock: c.clock, dueAt: new Date(c.dueAt).toISOString() })),
      },
      occurredAt: at,
    },
    async (tx) => {
      await tx.incident.create({
        data: {
          id: input.incidentId,
          title: input.title,
          description: input.description,
          originKind: input.origin.kind,
          originRequestId: breakGlass?.accessRequestId ?? null,
          originOutcome: breakGlass?.outcome ?? null,
          declaredBy: input.declaredBy,
          declaredAt: at,
          scopePatients: input.scope.patients,
          scopeStudies: input.scope.studies,
          scopeUsers: input.scope.users,
          windowFrom: new Date(input.windowFrom),
          workflowRunId: runId,
          clocks: { create: input.clocks.map((c) => ({ clock: c.clock, dueAt: new Date(c.dueAt), status: 'RUNNING' })) },
        },
      });
    },
  );
}

export interface RecordTeamInput {
  incidentId: string;
  by: string;
  members: string[];
  at: number;
  outcome: 'MET' | 'MISSED';
}

export async function recordTeam(db: Db, input: RecordTeamInput): Promise<boolean> {
  await assertIncidentRun(db, input.incidentId);
  const at = new Date(input.at);
  return recordOnce(
    db,
    {
      dedupeKey: `incident:${input.incidentId}:team`,
      type: 'incident.team-assembled',
      actor: input.by,
      accessRequestId: input.incidentId,
      payload: { members: input.members, clock: input.outcome },
      occurredAt: at,
    },
    async (tx) => {
      await tx.incident.update({ where: { id: input.incidentId }, data: { team: input.members } });
      await markClocksDone(tx, input.incidentId, { team: input.outcome }, at);
    },
  );
}

type FreezeRow = { scope: string; value: string | null };

/** The patients, studies and users in `scope` that none of `freezes` stops. */
function uncoveredTargets(scope: { patients: string[]; studies: string[]; users: string[] }, freezes: FreezeRow[]): string[] {
  const targets = freezes.map((f) => ({ scope: f.scope as FreezeScope, value: f.value }));
  const covered = (candidate: Parameters<typeof freezeMatches>[1]) => targets.some((t) => freezeMatches(t, candidate));
  const none = { patientId: '', studyInstanceUids: [] as string[], usernames: [] as string[], departmentId: '' };
  return [
    ...scope.patients.filter((p) => !covered({ ...none, patientId: p })).map((p) => `patient ${p}`),
    ...scope.studies.filter((s) => !covered({ ...none, studyInstanceUids: [s] })).map((s) => `study ${s}`),
    ...scope.users.filter((u) => !covered({ ...none, usernames: [u] })).map((u) => `user ${u}`),
  ];
}

export interface RecordContainmentInput {
  incidentId: string;
  /** 1 for the first containment; more when a traced leak widened the scope after it. */
  round: number;
  by: string;
  freezeIds: string[];
  at: number;
  outcome: 'MET' | 'MISSED';
}

/**
 * Contained means: every patient, study and user in the incident's scope is stopped by a
 * freeze in force, as the database says now (not as the message says). Records it when so;
 * otherwise answers what is still open and records nothing.
 */
export async function recordContainment(db: Db, input: RecordContainmentInput): Promise<{ contained: boolean; uncovered: string[] }> {
  await assertIncidentRun(db, input.incidentId);
  const incident = await db.incident.findUniqueOrThrow({ where: { id: input.incidentId } });
  const freezes = await db.accessFreeze.findMany({ where: { id: { in: input.freezeIds }, liftedAt: null } });
  const uncovered = uncoveredTargets({ patients: incident.scopePatients, studies: incident.scopeStudies, users: incident.scopeUsers }, freezes);
  const scopeSize = incident.scopePatients.length + incident.scopeStudies.length + incident.scopeUsers.length;
  if (uncovered.length || scopeSize === 0) return { contained: false, uncovered: scopeSize === 0 ? ['(the scope is empty)'] : uncovered };
  const at = new Date(input.at);
  await recordOnce(
    db,
    {
      dedupeKey: `incident:${input.incidentId}:contained:${input.round}`,
      type: 'incident.contained',
      actor: input.by,
      accessRequestId: input.incidentId,
      payload: { freezeIds: freezes.map((f) => f.id), clock: input.outcome, round: input.round },
      occurredAt: at,
    },
    async (tx) => {
      await tx.incident.update({ where: { id: input.incidentId }, data: { containedAt: at, freezeIds: freezes.map((f) => f.id) } });
      await markClocksDone(tx, input.incidentId, { containment: input.outcome }, at);
    },
  );
  return { contained: true, uncovered: [] };
}

export interface RecordTraceInput {
  incidentId: string;
  traceId: string;
  by: string;
  fileSha256: string;
  kind: 'rendered' | 'dicom';
  matched: { servingId: string; grantId: string | null; username: string | null; occurredAt: string; study: string | null; instance: string | null } | null;
  detail: string;
  /** What the match adds to the scope: the study, its patient (as the grant's confirmed request names it) and the viewer. */
  adds: { patients: string[]; studies: string[]; users: string[] };
  at: number;
}

/**
 * Records a trace; a match widens the scope. An incident contained before is contained no
 * longer when the widened scope holds a target no freeze in force stops: it must be contained
 * again before it can close. Answers whether it is contained after the trace.
 */
export async function recordTrace(db: Db, input: RecordTraceInput): Promise<{ contained: boolean }> {
  await assertIncidentRun(db, input.incidentId);
  const at = new Date(input.at);
  await recordOnce(
    db,
    {
      dedupeKey: `incident:${input.incidentId}:trace:${input.traceId}`,
      type: 'incident.leak-traced',
      actor: input.by,
      accessRequestId: input.incidentId,
      payload: {
        traceId: input.traceId,
        fileSha256: input.fileSha256,
        kind: input.kind,
        servingId: input.matched?.servingId ?? null,
        grantId: input.matched?.grantId ?? null,
      },
      occurredAt: at,
    },
    async (tx) => {
      await tx.incidentTrace.create({
        data: {
          id: input.traceId,
          incidentId: input.incidentId,
          fileSha256: input.fileSha256,
          kind: input.kind,
          matchedServingId: input.matched?.servingId ?? null,
          result: { matched: input.matched, detail: input.detail },
          tracedBy: input.by,
          tracedAt: at,
        },
      });
      const row = await tx.incident.findUniqueOrThrow({
        where: { id: input.incidentId },
        select: { scopePatients: true, scopeStudies: true, scopeUsers: true, containedAt: true },
      });
      const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
      const scope = {
        patients: union(row.scopePatients, input.adds.patients),
        studies: union(row.scopeStudies, input.adds.studies),
        users: union(row.scopeUsers, input.adds.users),
      };
      const inForce = await tx.accessFreeze.findMany({ where: { liftedAt: null }, select: { scope: true, value: true } });
      const reopen = row.containedAt !== null && uncoveredTargets(scope, inForce).length > 0;
      await tx.incident.update({
        where: { id: input.incidentId },
        data: { scopePatients: scope.patients, scopeStudies: scope.studies, scopeUsers: scope.users, ...(reopen ? { containedAt: null } : {}) },
      });
    },
  );
  const after = await db.incident.findUniqueOrThrow({ where: { id: input.incidentId }, select: { containedAt: true } });
  return { contained: after.containedAt !== null };
}

export interface RecordSignOffInput {
  incidentId: string;
  by: string;
  roles: string[];
  comment: string;
  at: number;
  /** The second sign-off: the incident closes, and clocks still running are no longer needed. */
  closes: boolean;
  firstBy: string | null;
}

export async function recordSignOff(db: Db, input: RecordSignOffInput): Promise<boolean> {
  await assertIncidentRun(db, input.incidentId);
  const at = new Date(input.at);
  return recordOnce(
    db,
    {
      dedupeKey: `incident:${input.incidentId}:sign-off:${input.closes ? 'second' : 'first'}`,
      type: input.closes ? 'incident.closed' : 'incident.signed-off',
      actor: input.by,
      accessRequestId: input.incidentId,
      payload: { comment: input.comment, ...(input.closes ? { closedBy: [input.firstBy, input.by] } : {}) },
      occurredAt: at,
    },
    async (tx) => {
      if (!input.closes) {
        await tx.incident.update({
          where: { id: input.incidentId },
          data: { signOffBy: input.by, signOffRoles: input.roles, signOffComment: input.comment, signOffAt: at },
        });
        return;
      }
      await tx.incident.update({ where: { id: input.incidentId }, data: { closedAt: at, closedBy: [input.firstBy!, input.by] } });
      await tx.incidentClock.updateMany({ where: { incidentId: input.incidentId, status: 'RUNNING' }, data: { status: 'NOT_NEEDED' } });
    },
  );
}
