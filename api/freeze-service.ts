import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import type { FreezeInput, FreezeView } from '../contracts/freeze.js';
import type { AssertedAction } from '../contracts/principal-assertion.js';
import type { Db } from '../db/client.js';
import { freezeView } from '../db/freezes.js';
import type { Principal } from '../domain/access-request.js';
import { freezeMatches, judgeFreeze, judgeLiftDecision, judgeLiftRequest, type FreezeScope } from '../domain/freeze.js';
import { Rejection } from '../domain/review-rejection.js';
import { signPrincipalAssertion } from '../tokens/principal-assertion.js';
import type { SigningKeyStore } from '../tokens/signing-keys.js';
import { decideLiftUpdate, freezeRecordedUpdate, requestLiftUpdate, type freezeWorkflow } from '../workflows/freeze.js';
import type { AccessRequestService } from './access-request-service.js';
import { workflowRejection } from './access-request-service.js';
import { Problem } from './problem.js';
import { rejectionProblem, throwIfRejected } from './rejection-status.js';

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

  async impose(principal: Principal, input: FreezeInput): Promise<FreezeView> {
    throwIfRejected(judgeFreeze(principal));
    const id = `fz-${randomUUID()}`;
    const freeze = { id, scope: input.scope as FreezeScope, value: 'value' in input ? input.value : null, reason: input.reason };
    const frozenAt = Date.now();
    const start = { freeze, by: principal, frozenAt };
    try {
      await this.deps.temporal.workflow.executeUpdateWithStart(freezeRecordedUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation<typeof freezeWorkflow>('freezeWorkflow', {
          workflowId: id,
          taskQueue: this.deps.config.temporal.taskQueue,
          args: [{ ...start, assertion: await this.vouch(principal, id, 'freeze', start) }],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      });
    } catch (error) {
      const rejection = workflowRejection(error);
      if (rejection) throw rejectionProblem(rejection);
      throw error;
    }
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
    const message = { by: principal, liftId: randomUUID(), reason };
    await this.send(id, () => this.deps.temporal.workflow.getHandle<typeof freezeWorkflow>(id), requestLiftUpdate, 'requestLift', principal, message);
    this.deps.log.warn({ freezeId: id, by: principal.username }, 'lift of a freeze asked for');
    return freezeView(await this.row(id));
  }

  async decideLift(principal: Principal, id: string, decision: 'approve' | 'deny', comment: string | undefined): Promise<FreezeView> {
    const row = await this.row(id);
    // The asker's roles as the engine needs them: their part was vouched for when they asked.
    const asker = row.liftRequestedBy ? await this.askerPrincipal(row.liftRequestedBy) : null;
    throwIfRejected(judgeLiftDecision(principal, { lifted: row.liftedAt !== null, liftRequestedBy: asker }, decision));
    const message = { by: principal, decision, ...(comment ? { comment } : {}) };
    await this.send(id, () => this.deps.temporal.workflow.getHandle<typeof freezeWorkflow>(id), decideLiftUpdate, 'decideLift', principal, message);
    this.deps.log.warn({ freezeId: id, by: principal.username, decision }, 'lift of a freeze decided');
    return freezeView(await this.row(id));
  }

  /** The lift's asker as recorded: a username, with the roles the directory gives (security officer or not). */
  private async askerPrincipal(username: string): Promise<Principal> {
    const user = await this.deps.db.user.findUnique({ where: { username }, select: { roles: true } });
    const roles = (user?.roles ?? []) as Principal['roles'];
    return { username, roles, reviewsForDepartments: [] };
  }

  private async send<M extends object>(
    id: string,
    handle: () => ReturnType<Client['workflow']['getHandle']>,
    update: typeof requestLiftUpdate | typeof decideLiftUpdate,
    action: AssertedAction,
    principal: Principal,
    message: M,
  ): Promise<void> {
    const assertion = await this.vouch(principal, id, action, message);
    try {
      await handle().executeUpdate(update as typeof requestLiftUpdate, { args: [{ ...message, assertion } as never] });
    } catch (error) {
      const rejection = workflowRejection(error);
      if (rejection) throw rejectionProblem(rejection);
      if (error instanceof WorkflowNotFoundError) throw rejectionProblem(new Rejection('NOT_ACTIVE', `The freeze ${id} has been lifted.`));
      throw error;
    }
  }

  /**
   * Revokes, as the security officer who froze, every active grant the freeze matches. Runs
   * as an activity in an API process (it signs each message); run twice, it revokes nothing
   * twice: a grant already ended is skipped.
   */
  async revokeFrozenGrants(freezeId: string): Promise<number> {
    const { db, requests, log } = this.deps;
    const freeze = await this.row(freezeId);
    const target = { scope: freeze.scope as FreezeScope, value: freeze.value };
    const active = await db.accessRequest.findMany({
      where: { status: 'ACTIVE' },
      select: { id: true, patientId: true, studyInstanceUids: true, requester: true, departmentId: true },
    });
    const matching = active.filter((r) => freezeMatches(target, { ...r, usernames: [r.requester] }));
    const by: Principal = { username: freeze.frozenBy, roles: ['security_officer'], reviewsForDepartments: [] };
    const reason = `Frozen (${freezeId}): ${freeze.reason}`;
    let revoked = 0;
    const queue = [...matching];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        try {
          await requests.revoke(by, next.id, reason);
          revoked += 1;
        } catch (error) {
          // Ended meanwhile (expired, revoked by someone else): nothing to stop.
          if (error instanceof Problem && error.extensions.reason === 'NOT_ACTIVE') continue;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: REVOKE_CONCURRENCY }, worker));
    const total = await db.accessFreeze.update({ where: { id: freezeId }, data: { revokedGrants: { increment: revoked } }, select: { revokedGrants: true } });
    log.warn({ freezeId, revoked, matching: matching.length }, 'grants revoked by a freeze');
    return total.revokedGrants;
  }
}
