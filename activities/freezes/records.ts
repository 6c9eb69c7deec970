import type { Db } from '../../db/client.js';
import type { FreezeScope } from '../../domain/freeze.js';
import { recordOnce } from '../records/record-once.js';

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
        data: { id: input.freezeId, scope: input.scope, value: input.value, reason: input.reason, frozenBy: input.frozenBy, frozenAt: at },
      });
    },
  );
}

export interface RecordLiftRequestInput {
  freezeId: string;
  liftId: string;
  requestedBy: string;
  reason: string;
  requestedAt: number;
}

export async function recordLiftRequest(db: Db, input: RecordLiftRequestInput): Promise<boolean> {
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
        data: { liftRequestedBy: input.requestedBy, liftReason: input.reason, liftRequestedAt: at },
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
