import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../workflows/location.js';
import { backgroundWorkflowId, BACKGROUND_JOBS, signingTaskQueue, type BackgroundInput, type BackgroundJob } from '../workflows/background-jobs.js';
import { ROOT } from './lib/ephemeral-servers.js';
import { findOrFetchTemporalTestServer } from './lib/temporal-test-server.js';

// `npm run histories:record:background`: runs each background workflow on Temporal's Java
// test server (time skipped) with stub activities, through a few passes and a continue-as-new,
// and saves its histories under test/histories/background/, each file named by its workflow
// id: the first run (background/), the run it continued as (background/continued/), and a
// start under a foreign id, refused. test/unit/replay.test.ts replays them against the
// current workflow code, so a change that is not replay-safe fails the unit tests.
// Re-record only for a deliberate, versioned change; before-interval-from-pass/ keeps the
// runs of the code before this one, which must go on replaying.

const OUT = path.join(ROOT, 'test', 'histories', 'background');
/** The replay serves this queue too: each workflow checks its id against its task queue. */
const RECORDED_TASK_QUEUE = 'background-histories';
const PASSES_PER_RUN = 3;

Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
let archivePasses = 0;
let checks = 0;
let signed = 0;

/** What the worker's passes would answer: some work done, and its settings, once changed. */
const activities = {
  async archiveClosedCaseHistories() {
    archivePasses += 1;
    const nextPassInMs = archivePasses === 2 ? 10_000 : 30_000;
    return { archived: archivePasses % 2, reconciled: archivePasses === 1 ? 1 : 0, missing: 0, since: at(archivePasses), nextPassInMs };
  },
  async isAuditCheckpointDue() {
    checks += 1;
    return { due: checks % 2 === 1, nextPassInMs: 5_000 };
  },
  async forwardAuditMessages() {
    return { accessRecords: 2, chainEvents: 3, nextPassInMs: 5_000 };
  },
};

const signing = {
  async signAuditCheckpoint() {
    signed += 1;
    return { seq: String(signed), headHash: 'a'.repeat(64), kid: 'recorded-key', signedAt: at(signed) };
  },
};

const FIRST_INPUT: Record<BackgroundJob, BackgroundInput<unknown>> = {
  'history-archive': { state: {}, passesPerRun: PASSES_PER_RUN },
  'audit-checkpoint': { state: null, passesPerRun: PASSES_PER_RUN },
  'audit-forwarding': { state: null, passesPerRun: PASSES_PER_RUN },
};

async function save(folder: string, workflowId: string, history: Parameters<typeof historyToJSON>[0]): Promise<void> {
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, `${workflowId}.json`), historyToJSON(history));
  console.log(`recorded ${path.relative(ROOT, path.join(folder, `${workflowId}.json`))} (${history.events?.length ?? 0} events)`);
}

async function record(env: TestWorkflowEnvironment): Promise<void> {
  for (const job of Object.keys(BACKGROUND_JOBS) as BackgroundJob[]) {
    const workflowId = backgroundWorkflowId(job, RECORDED_TASK_QUEUE);
    const handle = await env.client.workflow.start(BACKGROUND_JOBS[job], { workflowId, taskQueue: RECORDED_TASK_QUEUE, args: [FIRST_INPUT[job] as never] });
    const first = env.client.workflow.getHandle(workflowId, handle.firstExecutionRunId);
    await env.sleep(1_000);
    // A forged settings signal, as the workflows once took: it is in the history, and changes nothing.
    await first.signal('settings', { intervalMs: 10 * 365 * 24 * 3_600_000 });
    while ((await first.describe()).status.name === 'RUNNING') await env.sleep(5_000);
    await save(OUT, workflowId, await first.fetchHistory());
    const second = env.client.workflow.getHandle(workflowId);
    const continued = await second.describe();
    while ((await env.client.workflow.getHandle(workflowId, continued.runId).describe()).status.name === 'RUNNING') await env.sleep(5_000);
    await save(path.join(OUT, 'continued'), workflowId, await env.client.workflow.getHandle(workflowId, continued.runId).fetchHistory());
    await env.client.workflow.getHandle(workflowId).terminate('recorded');
  }
  // A start under an id that is not the job's: refused at once.
  const foreign = backgroundWorkflowId('history-archive', 'another-queue');
  const refused = await env.client.workflow.start(BACKGROUND_JOBS['history-archive'], {
    workflowId: foreign,
    taskQueue: RECORDED_TASK_QUEUE,
    args: [FIRST_INPUT['history-archive'] as never],
  });
  const failure = await refused.result().catch((error: unknown) => error);
  if (!(failure instanceof WorkflowFailedError)) throw new Error(`the start under ${foreign} was not refused`);
  await save(OUT, foreign, await refused.fetchHistory());
}

const env = await TestWorkflowEnvironment.createTimeSkipping({
  server: { executable: { type: 'existing-path', path: await findOrFetchTemporalTestServer() } },
});
try {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: RECORDED_TASK_QUEUE, workflowsPath: WORKFLOWS_PATH, activities });
  const signer = await Worker.create({ connection: env.nativeConnection, taskQueue: signingTaskQueue(RECORDED_TASK_QUEUE), activities: signing });
  await signer.runUntil(worker.runUntil(record(env)));
} finally {
  await env.teardown();
}
