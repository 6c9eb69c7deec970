import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import type { WorkerConfig } from '../config/worker-config.js';
import { backgroundWorkflowId, BACKGROUND_JOBS, type BackgroundInput, type BackgroundJob } from '../workflows/background-jobs.js';

const FIRST_INPUT: Record<BackgroundJob, BackgroundInput<unknown>> = {
  'history-archive': { state: {} },
  'audit-checkpoint': { state: null },
  'audit-forwarding': { state: null },
};

/**
 * Starts each background workflow, or joins the one already running under its fixed id
 * (`USE_EXISTING`: a second worker process, or a restarted one, starts nothing new). Nothing
 * is handed over: each pass reads its worker's own settings. Audit forwarding only where a
 * collector is configured. Returns the workflow ids.
 */
export async function startBackgroundWork(temporal: Client, config: Pick<WorkerConfig, 'temporal' | 'auditSyslog'>): Promise<string[]> {
  const jobs: BackgroundJob[] = ['history-archive', 'audit-checkpoint'];
  if (config.auditSyslog) jobs.push('audit-forwarding');
  return Promise.all(jobs.map((job) => startJob(temporal, job, config.temporal.taskQueue)));
}

/**
 * The fixed id is only a name, and anyone who reaches the Temporal frontend can take it
 * first: with another workflow type, on a task queue no worker of ours polls, or with start
 * options that stop the job later (a time limit, a first run held back by a delay or a cron
 * schedule). Joining such a run would leave the job undone, so it is ended and the job started.
 */
async function startJob(temporal: Client, job: BackgroundJob, taskQueue: string): Promise<string> {
  const workflowId = backgroundWorkflowId(job, taskQueue);
  const start = () =>
    temporal.workflow.start(BACKGROUND_JOBS[job], { workflowId, taskQueue, workflowIdConflictPolicy: 'USE_EXISTING', args: [FIRST_INPUT[job]] });
  await start();
  const running = await temporal.workflow.getHandle(workflowId).describe();
  const unfit = unfitForTheJob(running, job, taskQueue);
  if (!unfit) return workflowId;
  await temporal.workflow
    .getHandle(workflowId, running.runId)
    .terminate(`not fit to be the ${job} job (${unfit}): a worker of ${taskQueue} takes its id back`)
    // Another worker starting at the same moment may have ended it first.
    .catch(() => undefined);
  await start();
  const restarted = unfitForTheJob(await temporal.workflow.getHandle(workflowId).describe(), job, taskQueue);
  if (restarted) throw new Error(`${workflowId} is held by a run not fit to be the ${job} job (${restarted}); the job cannot start.`);
  return workflowId;
}

/** No worker of ours limits these runs in time; a test server's default limit is ten years. */
const SHORTEST_LIMIT_MS = 365 * 86_400_000;
/** A worker's start runs at once; a run of the chain starts its first task when it begins. */
const LONGEST_HOLD_MS = 60_000;
/** The server's default, which a worker's start keeps. */
const SHORTEST_TASK_TIMEOUT_MS = 5_000;

/** Why the run under the job's id is not one a worker of ours started; undefined when it may be. */
function unfitForTheJob(run: WorkflowExecutionDescription, job: BackgroundJob, taskQueue: string): string | undefined {
  const config = run.raw.executionConfig;
  const ms = (duration: Parameters<typeof optionalTsToMs>[0]) => optionalTsToMs(duration) ?? 0;
  const limit = Math.min(...[config?.workflowExecutionTimeout, config?.workflowRunTimeout].map(ms).filter((t) => t > 0));
  if (run.type !== BACKGROUND_JOBS[job]) return `a ${run.type}`;
  if (run.taskQueue !== taskQueue) return `on the task queue ${run.taskQueue}`;
  if (limit < SHORTEST_LIMIT_MS) return `limited to ${limit} ms`;
  if (run.executionTime && run.executionTime.getTime() - run.startTime.getTime() > LONGEST_HOLD_MS) return `held back until ${run.executionTime.toISOString()}`;
  if (ms(config?.defaultWorkflowTaskTimeout) < SHORTEST_TASK_TIMEOUT_MS) return 'with a workflow task timeout too short to run';
  return undefined;
}
