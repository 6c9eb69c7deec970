import { ApplicationFailure, continueAsNew, proxyActivities, sleep, workflowInfo, type RetryPolicy } from '@temporalio/workflow';
import type { createBackgroundActivities } from '../activities/background-work.js';
import {
  BACKGROUND_JOBS,
  backgroundWorkflowId,
  signingTaskQueue,
  type ArchiveState,
  type AuditCheckpointInput,
  type AuditForwardingInput,
  type BackgroundInput,
  type BackgroundJob,
  type CheckpointSigningActivities,
  type HistoryArchiveInput,
} from './background-jobs.js';

// Background work that must run once however many processes run: each job is a workflow
// that loops "one pass (an activity), then sleep", so its history shows every pass and what
// it did. Activities retry without limit: a pass that fails is run again, never skipped.
//
// Anyone who reaches the Temporal frontend can start these workflows or send them messages,
// so nothing from outside decides how they run: they take no signals, refuse to run under
// an id that is not their job's, read from their input only a state they check, and sleep
// for what the pass (on a worker of ours) says, kept within bounds.

/**
 * About a dozen events per pass: a run of 250 stays near 3,000 events, under Temporal's
 * limits and quick to replay, and hands its state on to the next run.
 */
const PASSES_PER_RUN = 250;

/** No pass follows another sooner: a zero or negative interval would be a busy loop. */
const SHORTEST_INTERVAL_MS = 1_000;
/** No job sleeps longer: a running sleep cannot be cut short, so a huge one would stop it. */
const LONGEST_INTERVAL_MS = 3_600_000;

/** The pause when a pass names none (a pass recorded before passes named it): each job's default. */
const DEFAULT_INTERVAL_MS: Record<BackgroundJob, number> = {
  'history-archive': 30_000,
  'audit-checkpoint': 5_000,
  'audit-forwarding': 5_000,
};

type BackgroundActivities = ReturnType<typeof createBackgroundActivities>;

const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' };

const archiving = proxyActivities<Pick<BackgroundActivities, 'archiveClosedCaseHistories'>>({
  // The first pass of a new deployment may meet every case ever closed; it heartbeats per case.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { ...retry, initialInterval: '5 seconds', maximumInterval: '2 minutes' },
});

const checking = proxyActivities<Pick<BackgroundActivities, 'isAuditCheckpointDue'>>({ startToCloseTimeout: '30 seconds', retry });

const forwarding = proxyActivities<Pick<BackgroundActivities, 'forwardAuditMessages'>>({
  // A backlog after a long collector outage goes out in batches; it heartbeats per batch.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry,
});

/** The pause before the next pass: what the pass said, within bounds; the job's default if it said no number. */
function intervalAfter(job: BackgroundJob, pass: unknown): number {
  const said = typeof pass === 'object' && pass !== null ? (pass as { nextPassInMs?: unknown }).nextPassInMs : undefined;
  if (typeof said !== 'number' || !Number.isFinite(said)) return DEFAULT_INTERVAL_MS[job];
  return Math.min(LONGEST_INTERVAL_MS, Math.max(SHORTEST_INTERVAL_MS, Math.round(said)));
}

/** A whole number of passes up to PASSES_PER_RUN: fewer only makes runs shorter. */
function passesPerRunOf(input: unknown): number | undefined {
  const requested = typeof input === 'object' && input !== null ? (input as { passesPerRun?: unknown }).passesPerRun : undefined;
  return typeof requested === 'number' && Number.isInteger(requested) && requested >= 1 && requested <= PASSES_PER_RUN ? requested : undefined;
}

/**
 * A watermark is a shortcut the archive may take, never a reason to skip a case: one that is
 * not a time, or lies ahead of the workflow's clock, is dropped and the listing starts over.
 */
function archiveStateOf(input: unknown): ArchiveState {
  const state = typeof input === 'object' && input !== null ? (input as { state?: unknown }).state : undefined;
  const since = typeof state === 'object' && state !== null ? (state as { since?: unknown }).since : undefined;
  if (typeof since !== 'string') return {};
  const at = Date.parse(since);
  return Number.isFinite(at) && at <= Date.now() ? { since: new Date(at).toISOString() } : {};
}

/**
 * A start under any other id is someone else's: run, it would do the job a second time, or
 * under a name the worker never joins. The id names the task queue, and that must be the
 * one this run is served on.
 */
function refuseUnlessOwnId(job: BackgroundJob): void {
  const { workflowId, taskQueue } = workflowInfo();
  const expected = backgroundWorkflowId(job, taskQueue);
  if (workflowId === expected) return;
  throw ApplicationFailure.create({
    type: 'NOT_A_BACKGROUND_WORKFLOW_ID',
    message: `${BACKGROUND_JOBS[job]} runs only as ${expected}, not as ${workflowId}: this start was not the worker's.`,
    nonRetryable: true,
  });
}

/**
 * Runs `pass` until PASSES_PER_RUN passes are done (or Temporal suggests it), sleeping
 * between passes for what each pass said, then continues as new with the state reached.
 */
async function repeatPasses<State>(
  job: BackgroundJob,
  input: unknown,
  first: State,
  pass: (state: State) => Promise<{ state: State; result: unknown }>,
): Promise<never> {
  refuseUnlessOwnId(job);
  const passesPerRun = passesPerRunOf(input);
  let state = first;
  for (let passes = 1; ; passes++) {
    const done = await pass(state);
    state = done.state;
    await sleep(intervalAfter(job, done.result));
    if (passes >= (passesPerRun ?? PASSES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      const next: BackgroundInput<State> = passesPerRun ? { state, passesPerRun } : { state };
      return continueAsNew<(next: BackgroundInput<State>) => Promise<never>>(next);
    }
  }
}

/** Copies closed cases' histories into the database before retention deletes them. */
export async function historyArchiveWorkflow(input: HistoryArchiveInput): Promise<never> {
  return repeatPasses('history-archive', input, archiveStateOf(input), async (state) => {
    const result = await archiving.archiveClosedCaseHistories({ since: state.since });
    return { state: { since: result.since ?? state.since }, result };
  });
}

/**
 * Signs the audit chain's head when it is due. The worker decides (it reads only); an API
 * process signs, on the signing task queue, since only API processes hold the key. While
 * none runs, the signing activity waits in that queue, visible in the workflow's pending
 * activities, and the chain goes unsigned until one starts.
 */
export async function auditCheckpointWorkflow(input: AuditCheckpointInput): Promise<never> {
  const signing = proxyActivities<CheckpointSigningActivities>({
    taskQueue: signingTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    retry,
  });
  return repeatPasses('audit-checkpoint', input, null, async (state) => {
    // A check recorded before checks named their interval answered a bare boolean.
    const result: unknown = await checking.isAuditCheckpointDue();
    const due = result === true || (typeof result === 'object' && result !== null && (result as { due?: unknown }).due === true);
    if (due) await signing.signAuditCheckpoint();
    return { state, result };
  });
}

/** Sends pending DICOM audit messages to the syslog collector, at least once each. */
export async function auditForwardingWorkflow(input: AuditForwardingInput): Promise<never> {
  return repeatPasses('audit-forwarding', input, null, async (state) => {
    const result = await forwarding.forwardAuditMessages();
    return { state, result };
  });
}
