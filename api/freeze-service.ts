import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import type { FreezeInput, FreezeView } from '../contracts/freeze.js';
import type { AssertedAction } from '../contracts/principal-assertion.js';
import type { Db } from '../db/client.js';
import { activeFreezes, freezeView } from '../db/freezes.js';
import type { Principal } from '../domain/access-request.js';
import { freezeMatches, judgeFreeze, judgeLiftDecision, judgeLiftRequest, type FreezeScope } from '../domain/freeze.js';
import { Rejection } from '../domain/review-rejection.js';
import { signPrincipalAssertion } from '../tokens/principal-assertion.js';
import type { SigningKeyStore } from '../tokens/signing-keys.js';
import { decideLiftUpdate, freezeRecordedUpdate, requestLiftUpdate, type freezeWorkflow } from '../workflows/freeze.js';
import type { AccessRequestService } from './access-request-service.js';
import { Problem } from './problem.js';
import { rejectionProblem, throwIfRejected } from './rejection-status.js';
import { sendUpdate, startRecorded } from './workflow-messages.js';

/** Revocations a freeze sends at once: enough to stop thousands of grants in minutes, few enough for the database and Temporal. */
const REVOKE_CONCURRENCY = 8;

export interface FreezeServiceDeps {
  config: AppConfig;
  db: Db;
  temporal: Client;
  keys: SigningKeyStore;
  log: Logger;
  requests: AccessRequestService;
}

/** Who may read freezes: those who impose, lift or audit them. */
function judgeFreezeRead(principal: Principal): Rejection | undefined {
  const allowed = ['security_officer', 'privacy_officer', 'auditor'] as const;
  if (!allowed.some((role) => principal.roles.includes(role)))
    return new Rejection('NOT_PERMITTED', 'Freezes are open to security officers, privacy officers and auditors.');
  return undefined;
}

/**
 * Freezes: each is a workflow (workflows/freeze.ts) that records it, revokes what it matches
 * and waits for two people to lift it. The API vouches for each sender, as for requests.
 */
export class FreezeService {
  constructor(private readonly deps: FreezeServiceDeps) {}

  private async vouch(principal: Principal, id: string, action: AssertedAction, message: object): Promise<string> {
    return signPrincipalAssertion(await this.deps.keys.activeKey(), principal, { accessRequestId: id, action, body: message });
  }

  private async row(id: string) {
    const row = await this.deps.db.accessFreeze.findUnique({ where: { id } });
    if (!row) throw new Problem(404, 'Not found', `No freeze ${id}.`);
    return row;
  }

  /** A frozen user takes no part in freezes either: not imposing, and above all not lifting their own. */
  private async assertParticipantNotFrozen(principal: Principal): Promise<void> {
    const frozen = (await activeFreezes(this.deps.db)).find((f) => f.scope === 'user' && f.value === principal.username);
    if (frozen) throw rejectionProblem(new Rejection('ACCESS_FROZEN', `Your account is frozen (${frozen.id}); others must act on freezes.`));
  }

  /** `id`: the freeze's id when the caller derives one, so that a repeated call joins the same freeze. */
  async impose(principal: Principal, input: FreezeInput, options: { id?: string } = {}): Promise<FreezeView> {
    throwIfRejected(judgeFreeze(principal));
    await this.assertParticipantNotFrozen(principal);
    const id = options.id ?? `fz-${randomUUID()}`;
    const freeze = { id, scope: input.scope as FreezeScope, value: 'value' in input ? input.value : null, reason: input.reason };
    const frozenAt = Date.now();
    const start = { freeze, by: principal, frozenAt };
    await startRecorded<typeof freezeWorkflow>(this.deps.temporal, freezeRecordedUpdate as UpdateDefinition<unknown, []>, 'freezeWorkflow', {
      id,
      taskQueue: this.deps.config.temporal.taskQueue,
      args: [{ ...start, assertion: await this.vouch(principal, id, 'freeze', start) }],
    });
    this.deps.log.warn({ freezeId: id, scope: freeze.scope, frozenBy: principal.username }, 'access frozen');
    return freezeView(await this.row(id));
  }

  async list(principal: Principal): Promise<FreezeView[]> {
    throwIfRejected(judgeFreezeRead(principal));
    const rows = await this.deps.db.accessFreeze.findMany({ orderBy: [{ frozenAt: 'desc' }, { id: 'desc' }], take: 200 });
    return rows.map(freezeView);
  }

  async requestLift(principal: Principal, id: string, reason: string): Promise<FreezeView> {
    const row = await this.row(id);
    throwIfRejected(judgeLiftRequest(principal, { lifted: row.liftedAt !== null, pendingLift: row.liftRequestedBy !== null }));
    await this.assertParticipantNotFrozen(principal);
    const message = { by: principal, liftId: randomUUID(), reason };
    await this.send(id, requestLiftUpdate, 'requestLift', principal, message);
    this.deps.log.warn({ freezeId: id, by: principal.username }, 'lift of a freeze asked for');
    return freezeView(await this.row(id));
  }

  async decideLift(principal: Principal, id: string, decision: 'approve' | 'deny', comment: string | undefined): Promise<FreezeView> {
    const row = await this.row(id);
    // The asker's roles as the API vouched for them when they asked, as the workflow judges them.
    const asker = row.liftRequestedBy
      ? { username: row.liftRequestedBy, roles: row.liftRequestedRoles as Principal['roles'], reviewsForDepartments: [] }
      : null;
    throwIfRejected(judgeLiftDecision(principal, { lifted: row.liftedAt !== null, liftRequestedBy: asker }, decision));
    await this.assertParticipantNotFrozen(principal);
    const message = { by: principal, decision, ...(comment ? { comment } : {}) };
    await this.send(id, decideLiftUpdate, 'decideLift', principal, message);
    this.deps.log.warn({ freezeId: id, by: principal.username, decision }, 'lift of a freeze decided');
    return freezeView(await this.row(id));
  }

  private async send(
    id: string,
    update: typeof requestLiftUpdate | typeof decideLiftUpdate,
    action: AssertedAction,
    principal: Principal,
    message: object,
  ): Promise<void> {
    const assertion = await this.vouch(principal, id, action, message);
    await sendUpdate(this.deps.temporal, id, update as UpdateDefinition<unknown, [never]>, { ...message, assertion }, 'freeze');
  }

  /**
   * Revokes, as the security officer who froze, every active grant the freeze matches. Runs
   * as an activity in an API process (it signs each message), for the freeze's own workflow
   * run only; run again, it revokes nothing twice (a grant already ended is skipped), and it
   * stops as soon as the freeze is lifted. `progress` is called after each grant (heartbeats).
   */
  async revokeFrozenGrants(freezeId: string, caller: { runId: string }, progress: () => void = () => undefined): Promise<number> {
    const { db, requests, log } = this.deps;
    const freeze = await this.row(freezeId);
    if (freeze.workflowRunId !== caller.runId)
      throw new Problem(403, 'Forbidden', 'Only the run that recorded the freeze may act on it.', { reason: 'DUPLICATE_RUN' });
    const stillFrozen = async () => (await db.accessFreeze.findUniqueOrThrow({ where: { id: freezeId }, select: { liftedAt: true } })).liftedAt === null;
    if (!(await stillFrozen())) return freeze.revokedGrants;
    const target = { scope: freeze.scope as FreezeScope, value: freeze.value };
    const active = await db.accessRequest.findMany({
      where: { status: 'ACTIVE' },
      select: { id: true, patientId: true, studyInstanceUids: true, requester: true, departmentId: true },
    });
    const matching = active.filter((r) => freezeMatches(target, { ...r, usernames: [r.requester] }));
    const by: Principal = { username: freeze.frozenBy, roles: ['security_officer'], reviewsForDepartments: [] };
    // The freeze's own reason stays with the freeze: requesters read their revocation's reason.
    const reason = `Frozen (${freezeId})`;
    let revoked = 0;
    let processed = 0;
    let lifted = false;
    const queue = [...matching];
    const worker = async () => {
      for (let next = queue.shift(); next && !lifted; next = queue.shift()) {
        try {
          await requests.revoke(by, next.id, reason);
          revoked += 1;
          // Counted as it goes, so a sweep cut short still says how far it got.
          await db.accessFreeze.update({ where: { id: freezeId }, data: { revokedGrants: { increment: 1 } } });
        } catch (error) {
          // Ended meanwhile (expired, revoked by someone else): nothing to stop.
          if (!(error instanceof Problem && error.extensions.reason === 'NOT_ACTIVE')) throw error;
        }
        progress();
        processed += 1;
        if (processed % 25 === 0 && !(await stillFrozen())) lifted = true;
      }
    };
    await Promise.all(Array.from({ length: REVOKE_CONCURRENCY }, worker));
    log.warn({ freezeId, revoked, matching: matching.length, stoppedByLift: lifted }, 'grants revoked by a freeze');
    return (await this.row(freezeId)).revokedGrants;
  }
}
