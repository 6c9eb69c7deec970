import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import { affectedRecords } from '../audit/read/incident-scope.js';
import { incidentReport } from '../audit/read/incident-report.js';
import type { AppConfig } from '../config/config.js';
import type { DeclareIncidentInput, IncidentReport, IncidentView, NotifyInput } from '../contracts/incident.js';
import type { AssertedAction } from '../contracts/principal-assertion.js';
import type { Db } from '../db/client.js';
import { activeFreezes } from '../db/freezes.js';
import { incidentView, loadIncident, withIncidentParts } from '../db/incidents.js';
import type { Principal } from '../domain/access-request.js';
import { freezeMatches, type FreezeTarget } from '../domain/freeze.js';
import { judgeContain, judgeDeclare, judgeIncidentAct, judgeIncidentRead, judgeSignOff } from '../domain/incident.js';
import { Rejection } from '../domain/review-rejection.js';
import { signPrincipalAssertion } from '../tokens/principal-assertion.js';
import type { SigningKeyStore } from '../tokens/signing-keys.js';
import {
  assembleTeamUpdate,
  containUpdate,
  incidentRecordedUpdate,
  notifyUpdate,
  signOffUpdate,
  traceLeakUpdate,
  type TraceMessage,
  type incidentWorkflow,
} from '../workflows/incident.js';
import type { FreezeService } from './freeze-service.js';
import { Problem } from './problem.js';
import { rejectionProblem, throwIfRejected } from './rejection-status.js';
import { sendUpdate, startRecorded } from './workflow-messages.js';
import { derivedUuid } from './request-hash.js';

/** How far back a declared incident's report looks when the declaration does not say. */
const DEFAULT_WINDOW_MS = 30 * 86_400_000;

export interface IncidentServiceDeps {
  config: AppConfig;
  db: Db;
  temporal: Client;
  keys: SigningKeyStore;
  log: Logger;
  freezes: FreezeService;
}

export type IncidentDetail = IncidentView & { affectedPatients: string[]; affectedStudies: string[] };

/**
 * Incidents: each is a workflow (workflows/incident.ts) with its clocks; the API checks the
 * caller, vouches for each message and lets the workflow decide, as for requests and freezes.
 */
export class IncidentService {
  constructor(private readonly deps: IncidentServiceDeps) {}

  private async vouch(principal: Principal, id: string, action: AssertedAction, message: object): Promise<string> {
    return signPrincipalAssertion(await this.deps.keys.activeKey(), principal, { accessRequestId: id, action, body: message });
  }

  private async row(id: string) {
    const row = await loadIncident(this.deps.db, id);
    if (!row) throw new Problem(404, 'Not found', `No incident ${id}.`);
    return row;
  }

  /** With an Idempotency-Key, a retry (or a double click) is answered with the incident the first one declared. */
  async declare(principal: Principal, input: DeclareIncidentInput, idempotencyKey?: string): Promise<{ view: IncidentView; replayed: boolean }> {
    throwIfRejected(judgeDeclare(principal));
    const id = `inc-${idempotencyKey ? derivedUuid('incident', principal.username, idempotencyKey) : randomUUID()}`;
    const earlier = await loadIncident(this.deps.db, id);
    if (earlier) return { view: incidentView(earlier), replayed: true };
    const declaredAt = Date.now();
    const windowFrom = input.windowFrom ? Date.parse(input.windowFrom) : declaredAt - DEFAULT_WINDOW_MS;
    if (windowFrom > declaredAt) throw new Problem(400, 'Bad request', 'The window cannot start after the declaration.', { reason: 'VALIDATION' });
    const start = {
      incident: { id, title: input.title, description: input.description ?? '', scope: input.scope, windowFrom },
      by: principal,
      origin: { kind: 'declared' as const },
      declaredAt,
      policy: this.deps.config.incidents.clocks,
    };
    await startRecorded<typeof incidentWorkflow>(this.deps.temporal, incidentRecordedUpdate as UpdateDefinition<unknown, []>, 'incidentWorkflow', {
      id,
      taskQueue: this.deps.config.temporal.taskQueue,
      args: [{ ...start, assertion: await this.vouch(principal, id, 'declareIncident', start) }],
    });
    this.deps.log.warn({ incidentId: id, declaredBy: principal.username }, 'incident declared');
    return { view: incidentView(await this.row(id)), replayed: false };
  }

  async list(principal: Principal): Promise<IncidentView[]> {
    throwIfRejected(judgeIncidentRead(principal));
    const rows = await this.deps.db.incident.findMany({
      orderBy: [{ declaredAt: 'desc' }, { id: 'desc' }],
      take: 200,
      include: withIncidentParts,
    });
    return rows.map(incidentView);
  }

  async get(principal: Principal, id: string): Promise<IncidentDetail> {
    throwIfRejected(judgeIncidentRead(principal));
    const row = await this.row(id);
    const affected = await affectedRecords(this.deps.db, {
      patients: row.scopePatients,
      studies: row.scopeStudies,
      users: row.scopeUsers,
      windowFrom: row.windowFrom,
      windowTo: new Date(),
    });
    return { ...incidentView(row), affectedPatients: affected.patients, affectedStudies: affected.studies };
  }

  async report(principal: Principal, id: string): Promise<IncidentReport> {
    throwIfRejected(judgeIncidentRead(principal));
    return incidentReport(this.deps.db, await this.row(id));
  }

  async assembleTeam(principal: Principal, id: string, members: string[]): Promise<IncidentView> {
    const row = await this.row(id);
    throwIfRejected(judgeIncidentAct(principal, { closed: row.closedAt !== null }));
    if (row.team.length) throw rejectionProblem(new Rejection('NOT_PENDING', 'The incident team is already assembled.'));
    await this.send(id, assembleTeamUpdate, 'assembleTeam', principal, { by: principal, members });
    return incidentView(await this.row(id));
  }

  /**
   * Freezes every patient, study and user in the incident's scope that no freeze in force
   * already stops (each freeze its own workflow, revoking what it matches), then tells the
   * incident, which checks the freezes with the database before it counts as contained.
   */
  async contain(principal: Principal, id: string): Promise<IncidentView> {
    const row = await this.row(id);
    throwIfRejected(judgeContain(principal, { closed: row.closedAt !== null, contained: row.containedAt !== null }));
    const targets: FreezeTarget[] = [
      ...row.scopePatients.map((value) => ({ scope: 'patient' as const, value })),
      ...row.scopeStudies.map((value) => ({ scope: 'study' as const, value })),
      ...row.scopeUsers.map((value) => ({ scope: 'user' as const, value })),
    ];
    if (!targets.length)
      throw rejectionProblem(new Rejection('NOT_PENDING', 'The incident names nothing to freeze yet: trace a leaked file or declare its scope.'));
    const freezeIds = new Set<string>();
    // Derived from the incident, the target and the containment round: two tabs (or a retry)
    // containing at once join the same freezes instead of imposing two of each.
    const round = await this.deps.db.auditEvent.count({ where: { accessRequestId: id, type: 'incident.contained' } });
    const none = { patientId: '', studyInstanceUids: [] as string[], usernames: [] as string[], departmentId: '' };
    const candidate = (t: FreezeTarget) =>
      t.scope === 'patient'
        ? { ...none, patientId: t.value! }
        : t.scope === 'study'
          ? { ...none, studyInstanceUids: [t.value!] }
          : { ...none, usernames: [t.value!] };
    for (const target of targets) {
      const standing = (await activeFreezes(this.deps.db)).find((f) => freezeMatches(f, candidate(target)));
      if (standing) {
        freezeIds.add(standing.id);
        continue;
      }
      const input = { scope: target.scope as 'patient', value: target.value!, reason: `Incident ${id}: ${row.title}` };
      const derived = `fz-${derivedUuid('containment', id, String(round), target.scope, target.value!)}`;
      const view = await this.deps.freezes.impose(principal, input, { id: derived }).catch((error: unknown) => {
        // That freeze was imposed and lifted within this round: a new one.
        if (error instanceof WorkflowExecutionAlreadyStartedError) return this.deps.freezes.impose(principal, input);
        throw error;
      });
      freezeIds.add(view.id);
    }
    await this.send(id, containUpdate, 'contain', principal, { by: principal, freezeIds: [...freezeIds].sort() });
    this.deps.log.warn({ incidentId: id, by: principal.username, freezes: freezeIds.size }, 'incident contained');
    return incidentView(await this.row(id));
  }

  /** With an Idempotency-Key, a retry (or a double click) sends nothing twice. */
  async notify(principal: Principal, id: string, input: NotifyInput, idempotencyKey?: string): Promise<IncidentView> {
    const row = await this.row(id);
    const notificationId = `ntf-${idempotencyKey ? derivedUuid('notification', id, principal.username, idempotencyKey) : randomUUID()}`;
    if (idempotencyKey && row.notifications.some((n) => n.id.startsWith(notificationId))) return incidentView(row);
    throwIfRejected(judgeIncidentAct(principal, { closed: row.closedAt !== null }));
    const channel = input.audience === 'regulator' ? 'email' : input.channel;
    const message = { by: principal, notificationId, audience: input.audience, channel, subject: input.subject, body: input.body };
    await this.send(id, notifyUpdate, 'notify', principal, message);
    this.deps.log.warn({ incidentId: id, by: principal.username, audience: input.audience, channel }, 'incident notification queued');
    return incidentView(await this.row(id));
  }

  /** Records a leaked file's trace on the incident; a match adds its study, patient and viewer to the scope. */
  async recordTrace(principal: Principal, id: string, trace: Omit<TraceMessage, 'by' | 'assertion' | 'traceId' | 'patientId'>): Promise<IncidentView> {
    const row = await this.row(id);
    throwIfRejected(judgeIncidentAct(principal, { closed: row.closedAt !== null }));
    // The patient as the grant's request names it: confirmed with the PACS when it was submitted.
    const grant = trace.matched?.grantId
      ? await this.deps.db.accessRequest.findUnique({ where: { id: trace.matched.grantId }, select: { patientId: true } })
      : null;
    await this.send(id, traceLeakUpdate, 'traceLeak', principal, {
      by: principal,
      traceId: `trc-${randomUUID()}`,
      ...trace,
      patientId: grant?.patientId ?? null,
    });
    return incidentView(await this.row(id));
  }

  async signOff(principal: Principal, id: string, comment: string): Promise<IncidentView> {
    const row = await this.row(id);
    const first = row.signOffBy ? { username: row.signOffBy, roles: row.signOffRoles as Principal['roles'], reviewsForDepartments: [] } : null;
    throwIfRejected(judgeSignOff(principal, { closed: row.closedAt !== null, contained: row.containedAt !== null, signedOffBy: first }));
    await this.send(id, signOffUpdate, 'signOff', principal, { by: principal, comment });
    this.deps.log.warn({ incidentId: id, by: principal.username, closes: first !== null }, 'incident signed off');
    return incidentView(await this.row(id));
  }

  private async send(id: string, update: { name: string }, action: AssertedAction, principal: Principal, message: object): Promise<void> {
    const assertion = await this.vouch(principal, id, action, message);
    await sendUpdate(this.deps.temporal, id, update as UpdateDefinition<unknown, [never]>, { ...message, assertion }, 'incident');
  }
}
