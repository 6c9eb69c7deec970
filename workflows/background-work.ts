import { continueAsNew, proxyActivities, setHandler, sleep, workflowInfo, type RetryPolicy } from '@temporalio/workflow';
import type { createBackgroundActivities } from '../activities/background-work.js';
import {
  settingsSignal,
  signingTaskQueue,
  type AuditCheckpointInput,
  type AuditForwardingInput,
  type BackgroundInput,
  type CheckpointSigningActivities,
  type HistoryArchiveInput,
  type PassSettings,
} from './background-jobs.js';

// Background work that must run once however many processes run: each job is a workflow
// that loops "one pass (an activity), then sleep", so its history shows every pass and what
// it did. Activities retry without limit: a pass that fails is run again, never skipped.

/**
 * About a dozen events per pass: a run of 250 stays near 3,000 events, under Temporal's
 * limits and quick to replay, and hands its state on to the next run.
 */
const PASSES_PER_RUN = 250;

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

/**
 * Runs `pass` every `settings.intervalMs` for PASSES_PER_RUN passes (or until Temporal
 * suggests it), then continues as new with the settings and state it has reached.
 */
async function repeatPasses<Settings extends PassSettings, State>(
  input: BackgroundInput<Settings, State>,
  pass: (settings: Settings, state: State) => Promise<State>,
): Promise<never> {
  let { settings, state } = input;
  setHandler(settingsSignal<Settings>(), (next) => {
    settings = next;
  });
  const passesPerRun = input.passesPerRun ?? PASSES_PER_RUN;
  for (let passes = 1; ; passes++) {
    state = await pass(settings, state);
    await sleep(settings.intervalMs);
    if (passes >= passesPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<(next: BackgroundInput<Settings, State>) => Promise<never>>({ ...input, settings, state });
    }
  }
}

/** Copies closed cases' histories into the database before retention deletes them. */
export async function historyArchiveWorkflow(input: HistoryArchiveInput): Promise<never> {
  return repeatPasses(input, async (_settings, state) => {
    const { since } = await archiving.archiveClosedCaseHistories({ since: state.since });
    return { since };
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
  return repeatPasses(input, async (settings, state) => {
    if (await checking.isAuditCheckpointDue({ maxUnsignedMs: settings.maxUnsignedMs })) await signing.signAuditCheckpoint();
    return state;
  });
}

/** Sends pending DICOM audit messages to the syslog collector, at least once each. */
export async function auditForwardingWorkflow(input: AuditForwardingInput): Promise<never> {
  return repeatPasses(input, async (_settings, state) => {
    await forwarding.forwardAuditMessages();
    return state;
  });
}
