import { allHandlersFinished, condition, defineQuery, defineUpdate, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Principal } from '../domain/access-request.js';
import { judgeFreeze, judgeLiftDecision, judgeLiftRequest, type FreezeScope } from '../domain/freeze.js';
import type { FreezeRecordActivities } from '../activities/freezes/records.js';
import type { Asserted } from './messages.js';
import { signingTaskQueue } from './background-jobs.js';
import { notVouched, refuse, voucher } from './vouching.js';

// One freeze, from the moment a security officer imposes it to the moment two people lift
// it: recorded first (the gateway and the API refuse from then on), then every matching
// active grant revoked and recorded, then a wait for a lift that two people agree on.

export interface FreezeWorkflowInput extends Asserted {
  freeze: { id: string; scope: FreezeScope; value: string | null; reason: string };
  by: Principal;
  frozenAt: number;
}

export interface LiftRequestMessage extends Asserted {
  by: Principal;
  liftId: string;
  reason: string;
}

export interface LiftDecisionMessage extends Asserted {
  by: Principal;
  decision: 'approve' | 'deny';
  comment?: string;
}

export interface FreezeSnapshot {
  recorded: boolean;
  revokedGrants: number | null;
  liftRequestedBy: string | null;
  lifted: boolean;
}

/** Resolves once the freeze is in the database, so the API never answers before it. */
export const freezeRecordedUpdate = defineUpdate<FreezeSnapshot>('freezeRecorded');
export const requestLiftUpdate = defineUpdate<FreezeSnapshot, [LiftRequestMessage]>('requestLift');
export const decideLiftUpdate = defineUpdate<FreezeSnapshot, [LiftDecisionMessage]>('decideLift');
export const freezeSnapshotQuery = defineQuery<FreezeSnapshot>('freezeSnapshot');

/** Revoking runs where the signing key is (an API process): each revocation is a signed message to a grant's workflow. */
export interface FreezeRevocationActivities {
  /** Revokes every active grant the freeze matches, as the person who froze; returns how many it revoked. */
  revokeFrozenGrants(input: { freezeId: string }): Promise<number>;
}

/** Longer than any review or token request can be in flight between the API's check and the workflow. */
const RESWEEP_AFTER_MS = 60_000;

const records = proxyActivities<FreezeRecordActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '10 seconds' },
});
export async function freezeWorkflow(input: FreezeWorkflowInput): Promise<string> {
  const revocations = proxyActivities<FreezeRevocationActivities>({
    taskQueue: signingTaskQueue(workflowInfo().taskQueue),
    // Thousands of grants take a while; heartbeats let another API process take over within half a minute of one dying.
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  const { freeze } = input;
  const state: FreezeSnapshot = { recorded: false, revokedGrants: null, liftRequestedBy: null, lifted: false };
  let liftAsker: Principal | null = null;
  let liftId: string | null = null;

  const vouchedFor = voucher(freeze.id);

  setHandler(freezeSnapshotQuery, () => ({ ...state }));
  setHandler(freezeRecordedUpdate, async () => {
    await condition(() => state.recorded);
    return { ...state };
  });
  setHandler(
    requestLiftUpdate,
    async (message) => {
      const by = await vouchedFor('requestLift', message.by, message);
      refuse(judgeLiftRequest(by, { lifted: state.lifted, pendingLift: liftAsker !== null }));
      // Taken before the record's await, so that a second message arriving meanwhile is judged against it.
      liftAsker = by;
      liftId = message.liftId;
      state.liftRequestedBy = by.username;
      await records.recordLiftRequest({
        freezeId: freeze.id,
        liftId: message.liftId,
        requestedBy: by.username,
        requestedByRoles: [...by.roles],
        reason: message.reason,
        requestedAt: Date.now(),
      });
      return { ...state };
    },
    { validator: (message) => refuse(judgeLiftRequest(message.by, { lifted: state.lifted, pendingLift: liftAsker !== null })) },
  );
  setHandler(
    decideLiftUpdate,
    async (message) => {
      const by = await vouchedFor('decideLift', message.by, message);
      refuse(judgeLiftDecision(by, { lifted: state.lifted, liftRequestedBy: liftAsker }, message.decision));
      const asker = liftAsker!;
      const decided = liftId!;
      // Decided before the record's await: a second confirmation arriving meanwhile finds it lifted (or no lift asked).
      if (message.decision === 'approve') state.lifted = true;
      liftAsker = null;
      liftId = null;
      state.liftRequestedBy = null;
      await records.recordLiftDecision({
        freezeId: freeze.id,
        liftId: decided,
        decidedBy: by.username,
        requestedBy: asker.username,
        decision: message.decision,
        comment: message.comment ?? null,
        decidedAt: Date.now(),
      });
      return { ...state };
    },
    { validator: (message) => refuse(judgeLiftDecision(message.by, { lifted: state.lifted, liftRequestedBy: liftAsker }, message.decision)) },
  );

  // Started straight on Temporal, without the API's word for a security officer, it does nothing.
  const imposer = await vouchedFor('freeze', input.by, { assertion: input.assertion, freeze, by: input.by, frozenAt: input.frozenAt } as Asserted);
  if (workflowInfo().workflowId !== freeze.id) notVouched('ASSERTION_MISMATCH: The freeze runs under another id than it names.');
  refuse(judgeFreeze(imposer));
  await records.recordFreeze({
    freezeId: freeze.id,
    scope: freeze.scope,
    value: freeze.value,
    reason: freeze.reason,
    frozenBy: imposer.username,
    frozenAt: input.frozenAt,
  });
  state.recorded = true;

  state.revokedGrants = await revocations.revokeFrozenGrants({ freezeId: freeze.id });
  // A review that passed the API's freeze check just before the freeze can activate a grant
  // after the sweep read the active ones: a second sweep, once any such review has landed.
  if (!(await condition(() => state.lifted, RESWEEP_AFTER_MS))) {
    state.revokedGrants = await revocations.revokeFrozenGrants({ freezeId: freeze.id });
  }

  await condition(() => state.lifted);
  await condition(allHandlersFinished);
  return 'LIFTED';
}
