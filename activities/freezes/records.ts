import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../../db/client.js';
import type { FreezeScope } from '../../domain/freeze.js';
import { recordOnce } from '../records/record-once.js';

/**
 * The run asking, as the Temporal server names it (not as the input says): only the freeze's
 * own workflow, under the freeze's id, may write to it. Anyone who reaches the frontend can
 * start a workflow of their own, but not under the run that recorded the freeze.
 */
export function freezeCaller(freezeId: string): { runId: string } {
  const { workflowExecution, workflowType } = Context.current().info;
  if (!workflowExecution || workflowType !== 'freezeWorkflow' || workflowExecution.workflowId !== freezeId) {
    throw ApplicationFailure.nonRetryable(`Only the freeze's own workflow may record it (asked by ${workflowType}).`, 'NOT_THE_FREEZE_WORKFLOW');
  }
  return { runId: workflowExecution.runId };
}

/** Refuses every run but the one that recorded the freeze (a start copied from its history, say). */
export async function assertFreezeRun(db: Db, freezeId: string, runId: string): Promise<void> {
  const row = await db.accessFreeze.findUnique({ where: { id: freezeId }, select: { workflowRunId: true } });
  if (!row || row.workflowRunId !== runId) throw ApplicationFailure.nonRetryable('The freeze was recorded by another workflow run.', 'DUPLICATE_RUN');
}

// What a freeze's workflow writes: the freeze, a lift asked for, a lift decided. Each in one
// transaction with its audit event, keyed so a retried activity is a no-op.

export interface RecordFreezeInput {
  freezeId: string;
  scope: FreezeScope;
  value: string | null;
  reason: string;
  frozenBy: string;
  frozenAt: number;
}

export async function recordFreeze(db: Db, input: RecordFreezeInput): Promise<boolean> {
  const { runId } = freezeCaller(input.freezeId);
  const existing = await db.accessFreeze.findUnique({ where: { id: input.freezeId }, select: { workflowRunId: true } });
  if (existing && existing.workflowRunId !== runId) throw ApplicationFailure.nonRetryable('The freeze was recorded by another workflow run.', 'DUPLICATE_RUN');
  const at = new Date(input.frozenAt);
  return recordOnce(
    db,
    {
      dedupeKey: `freeze:${input.freezeId}`,
      type: 'freeze.imposed',
      actor: input.frozenBy,
      payload: { freezeId: input.freezeId, scope: input.scope, value: input.value, reason: input.reason },
      occurredAt: at,
    },
    async (tx) => {
      await tx.accessFreeze.create({
        data: {
          id: input.freezeId,
          scope: input.scope,
          value: input.value,
          reason: input.reason,
          frozenBy: input.frozenBy,
          frozenAt: at,
          workflowRunId: runId,
        },
      });
    },
  );
}

export interface RecordLiftRequestInput {
  freezeId: string;
  liftId: string;
  requestedBy: string;
  /** As the API vouched for them: the second person is judged against these. */
  requestedByRoles: string[];
  reason: string;
  requestedAt: number;
}

export async function recordLiftRequest(db: Db, input: RecordLiftRequestInput): Promise<boolean> {
  await assertFreezeRun(db, input.freezeId, freezeCaller(input.freezeId).runId);
  const at = new Date(input.requestedAt);
  return recordOnce(
    db,
    {
      dedupeKey: `freeze-lift-requested:${input.liftId}`,
      type: 'freeze.lift-requested',
      actor: input.requestedBy,
      payload: { freezeId: input.freezeId, liftId: input.liftId, reason: input.reason },
      occurredAt: at,
    },
    async (tx) => {
      await tx.accessFreeze.update({
        where: { id: input.freezeId },
        data: { liftRequestedBy: input.requestedBy, liftRequestedRoles: input.requestedByRoles, liftReason: input.reason, liftRequestedAt: at },
      });
    },
  );
}

export interface RecordLiftDecisionInput {
  freezeId: string;
  liftId: string;
  decidedBy: string;
  requestedBy: string;
  decision: 'approve' | 'deny';
  comment: string | null;
  decidedAt: number;
}

export async function recordLiftDecision(db: Db, input: RecordLiftDecisionInput): Promise<boolean> {
  await assertFreezeRun(db, input.freezeId, freezeCaller(input.freezeId).runId);
  const at = new Date(input.decidedAt);
  const lifted = input.decision === 'approve';
  return recordOnce(
    db,
    {
      dedupeKey: `freeze-lift-decided:${input.liftId}`,
      type: lifted ? 'freeze.lifted' : 'freeze.lift-denied',
      actor: input.decidedBy,
      payload: { freezeId: input.freezeId, liftId: input.liftId, requestedBy: input.requestedBy, comment: input.comment },
      occurredAt: at,
    },
    async (tx) => {
      await tx.accessFreeze.update({
        where: { id: input.freezeId },
        // A denial clears the lift asked for; the freeze stays, and a new lift may be asked for.
        data: lifted ? { liftedAt: at, liftedBy: [input.requestedBy, input.decidedBy] } : { liftRequestedBy: null, liftReason: null, liftRequestedAt: null },
      });
    },
  );
}

/** The freeze workflow's record activities; the keys are activity names in recorded histories. */
export function createFreezeRecordActivities(db: Db) {
  return {
    recordFreeze: (input: RecordFreezeInput) => recordFreeze(db, input),
    recordLiftRequest: (input: RecordLiftRequestInput) => recordLiftRequest(db, input),
    recordLiftDecision: (input: RecordLiftDecisionInput) => recordLiftDecision(db, input),
  };
}
export type FreezeRecordActivities = ReturnType<typeof createFreezeRecordActivities>;
