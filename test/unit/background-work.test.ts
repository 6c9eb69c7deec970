import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type Mock } from 'vitest';
import { startBackgroundWork } from '../../worker/background-work.js';
import { backgroundWorkflowId, BACKGROUND_JOBS, signingTaskQueue, type BackgroundJob } from '../../workflows/background-jobs.js';
import { WORKFLOWS_PATH } from '../../workflows/location.js';
import { startWorkflowTestEnv, type WorkflowTestEnv } from '../support/workflow-test-env.js';

// The background workflows on Temporal's time-skipping test server, every pass a stub: what
// is tested is what the workflows let a stranger decide. Anyone who reaches the frontend can
// start them, under any id and with any input, and send them any signal; none of that may
// stop a job, speed it into a busy loop, or make the archive skip a case.

const HOUR = 3_600_000;
const TEN_YEARS = 10 * 365 * 24 * HOUR;

interface Stubs {
  archiveClosedCaseHistories: Mock<(input: { since?: string }) => Promise<unknown>>;
  isAuditCheckpointDue: Mock<() => Promise<unknown>>;
  forwardAuditMessages: Mock<() => Promise<unknown>>;
  signAuditCheckpoint: Mock<() => Promise<unknown>>;
}

/** Passes that did nothing and ask for the next one in `nextPassInMs`. */
function stubs(nextPassInMs: unknown = 2_000): Stubs {
  return {
    archiveClosedCaseHistories: vi.fn(async () => ({ archived: 0, reconciled: 0, missing: 0, nextPassInMs })),
    isAuditCheckpointDue: vi.fn(async () => ({ due: false, nextPassInMs })),
    forwardAuditMessages: vi.fn(async () => ({ accessRecords: 0, chainEvents: 0, nextPassInMs })),
    signAuditCheckpoint: vi.fn(async () => null),
  };
}

let testEnv: WorkflowTestEnv;
const taskQueue = `background-test-${randomUUID()}`;
const byWorkflow = new Map<string, Stubs>();
const workers: { shutdown(): void; running: Promise<void> }[] = [];
const started: WorkflowHandle[] = [];

function route(name: keyof Stubs) {
  return (input: never) => {
    const workflowId = Context.current().info.workflowExecution!.workflowId;
    const stub = byWorkflow.get(workflowId);
    if (!stub) throw ApplicationFailure.nonRetryable(`no stubs registered for ${workflowId}`, 'TEST_SETUP');
    return (stub[name] as (input: never) => Promise<unknown>)(input);
  };
}

beforeAll(async () => {
  testEnv = await startWorkflowTestEnv();
  const connection = testEnv.env.nativeConnection;
  const names = Object.keys(stubs()) as (keyof Stubs)[];
  const passes = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: Object.fromEntries(names.filter((n) => n !== 'signAuditCheckpoint').map((n) => [n, route(n)])),
  });
  const signer = await Worker.create({ connection, taskQueue: signingTaskQueue(taskQueue), activities: { signAuditCheckpoint: route('signAuditCheckpoint') } });
  for (const worker of [passes, signer]) workers.push({ shutdown: () => worker.shutdown(), running: worker.run() });
}, 600_000);

afterEach(async () => {
  for (const handle of started.splice(0)) await handle.terminate('test over').catch(() => undefined);
});

afterAll(async () => {
  for (const worker of workers) worker.shutdown();
  await Promise.all(workers.map((w) => w.running));
  await testEnv?.close();
});

/** Starts `type` under `workflowId` on the test's task queue, its passes answered by `with`. */
async function start(type: string, workflowId: string, input: unknown, withStubs: Stubs = stubs()): Promise<WorkflowHandleWithFirstExecutionRunId> {
  byWorkflow.set(workflowId, withStubs);
  const handle = await testEnv.env.client.workflow.start(type, { workflowId, taskQueue, args: [input] });
  started.push(handle);
  return handle;
}

/** Lets workflow time pass, `stepMs` at a time, until `done` holds (or 30 s of real time). */
async function until(what: string, done: () => boolean | Promise<boolean>, stepMs = 1_000): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await testEnv.env.sleep(stepMs);
  }
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

async function events(handle: WorkflowHandle, runId?: string): Promise<HistoryEvent[]> {
  return (await testEnv.env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
}

/** Every sleep the run started, in milliseconds. */
async function sleeps(handle: WorkflowHandle): Promise<number[]> {
  return (await events(handle)).flatMap((e) => {
    const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
    return timeout ? [Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6)] : [];
  });
}

/** What the workflow failed with, if it failed within 10 s of real time. */
async function failure(handle: WorkflowHandle): Promise<unknown> {
  const outcome = await Promise.race([
    handle.result().then(
      () => 'completed',
      (error: unknown) => error,
    ),
    new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000)),
  ]);
  expect(outcome).toBeInstanceOf(WorkflowFailedError);
  return (outcome as WorkflowFailedError).cause;
}

describe('the background workflows take nothing from a stranger', { timeout: 60_000 }, () => {
  it('take no settings signal: a forged ten-year interval changes no sleep', async () => {
    const id = backgroundWorkflowId('history-archive', taskQueue);
    const passes = stubs(2_000);
    const handle = await start('historyArchiveWorkflow', id, { state: {} }, passes);
    await until('the first pass', () => passes.archiveClosedCaseHistories.mock.calls.length >= 1);
    await handle.signal('settings', { intervalMs: TEN_YEARS });
    await handle.signal('settings', { intervalMs: 0 });
    await until('three more passes', () => passes.archiveClosedCaseHistories.mock.calls.length >= 4);
    expect(new Set(await sleeps(handle))).toEqual(new Set([2_000]));
  });

  it('sleep what each pass says, within 1 s … 1 h, and the default for anything not a number', async () => {
    const said: unknown[] = [0, -5, null, 'abc', '100y', 1e12, 2_500, 60_000, 1_000];
    const expected = [1_000, 1_000, 5_000, 5_000, 5_000, HOUR, 2_500, 60_000];
    const passes = stubs();
    let pass = 0;
    passes.forwardAuditMessages.mockImplementation(async () => ({ accessRecords: 0, chainEvents: 0, nextPassInMs: said[Math.min(pass++, said.length - 1)] }));
    const handle = await start('auditForwardingWorkflow', backgroundWorkflowId('audit-forwarding', taskQueue), { state: null }, passes);
    await until('nine passes', () => passes.forwardAuditMessages.mock.calls.length >= 9, 60_000);
    expect((await sleeps(handle)).slice(0, expected.length)).toEqual(expected);
  });

  it('take a changed interval at the next pass: the worker that ran the pass decides', async () => {
    const passes = stubs();
    let pass = 0;
    passes.isAuditCheckpointDue.mockImplementation(async () => ({ due: false, nextPassInMs: ++pass <= 2 ? 5_000 : 20_000 }));
    const handle = await start('auditCheckpointWorkflow', backgroundWorkflowId('audit-checkpoint', taskQueue), { state: null }, passes);
    await until('four checks', () => passes.isAuditCheckpointDue.mock.calls.length >= 4, 5_000);
    expect((await sleeps(handle)).slice(0, 3)).toEqual([5_000, 5_000, 20_000]);
  });

  it('refuse to run under any id but their own job’s on their task queue', async () => {
    const forged: [BackgroundJob, string][] = [
      ['history-archive', backgroundWorkflowId('history-archive', 'another-queue')],
      ['history-archive', `history-archive-copy@${taskQueue}`],
      ['audit-checkpoint', backgroundWorkflowId('history-archive', taskQueue)],
      ['audit-forwarding', 'audit-forwarding'],
    ];
    for (const [job, workflowId] of forged) {
      const passes = stubs();
      const handle = await start(BACKGROUND_JOBS[job], workflowId, { state: job === 'history-archive' ? {} : null }, passes);
      const cause = await failure(handle);
      expect(cause, workflowId).toBeInstanceOf(ApplicationFailure);
      expect(cause, workflowId).toMatchObject({ type: 'NOT_A_BACKGROUND_WORKFLOW_ID', nonRetryable: true });
      for (const stub of Object.values(passes)) expect(stub, workflowId).not.toHaveBeenCalled();
    }
  });

  it('never take a watermark from the start that is not a time, or lies ahead of the workflow’s clock', async () => {
    const id = backgroundWorkflowId('history-archive', taskQueue);
    const cases: [unknown, string | undefined][] = [
      ['2100-01-01T00:00:00.000Z', undefined],
      ['not a time', undefined],
      [42, undefined],
      ['2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z'],
    ];
    for (const [since, used] of cases) {
      const passes = stubs();
      const handle = await start('historyArchiveWorkflow', id, { state: { since } }, passes);
      await until('the first pass', () => passes.archiveClosedCaseHistories.mock.calls.length >= 1);
      expect(passes.archiveClosedCaseHistories.mock.calls[0]![0], String(since)).toEqual({ since: used });
      await handle.terminate('next case');
    }
  });

  it('run their passes whatever else the start carries', async () => {
    const id = backgroundWorkflowId('history-archive', taskQueue);
    for (const input of [
      null,
      'settings',
      { settings: { intervalMs: TEN_YEARS }, state: 'x' },
      { state: {}, passesPerRun: -1 },
      { state: {}, passesPerRun: 'x' },
    ]) {
      const passes = stubs(2_000);
      const handle = await start('historyArchiveWorkflow', id, input, passes);
      await until(`three passes of ${JSON.stringify(input)}`, () => passes.archiveClosedCaseHistories.mock.calls.length >= 3);
      expect(new Set(await sleeps(handle)), JSON.stringify(input)).toEqual(new Set([2_000]));
      await handle.terminate('next case');
    }
  });

  it('continue as new after their passes, carrying the state reached and nothing else', async () => {
    const id = backgroundWorkflowId('history-archive', taskQueue);
    const passes = stubs(1_000);
    let pass = 0;
    passes.archiveClosedCaseHistories.mockImplementation(async () => ({
      archived: 1,
      reconciled: 0,
      missing: 0,
      since: new Date(Date.UTC(2020, 0, 1, 0, ++pass)).toISOString(),
      nextPassInMs: 1_000,
    }));
    const handle = await start('historyArchiveWorkflow', id, { state: {}, passesPerRun: 2, settings: { intervalMs: TEN_YEARS } }, passes);
    const first = testEnv.env.client.workflow.getHandle(id, handle.firstExecutionRunId);
    await until('the first run to continue as new', async () => (await first.describe()).status.name !== 'RUNNING');
    expect((await first.describe()).status.name).toBe('CONTINUED_AS_NEW');
    const history = await events(handle, handle.firstExecutionRunId);
    const next = history.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)!.workflowExecutionContinuedAsNewEventAttributes!;
    expect(defaultPayloadConverter.fromPayload(next.input!.payloads![0]!)).toEqual({ state: { since: '2020-01-01T00:02:00.000Z' }, passesPerRun: 2 });
    await until('the next run’s first pass', () => passes.archiveClosedCaseHistories.mock.calls.length >= 3);
    expect(passes.archiveClosedCaseHistories.mock.calls[2]![0]).toEqual({ since: '2020-01-01T00:02:00.000Z' });
  });

  it('sign a checkpoint only when the check says it is due, on the signing task queue', async () => {
    const passes = stubs();
    const due = [true, false, true];
    let check = 0;
    passes.isAuditCheckpointDue.mockImplementation(async () => ({ due: due[check++] ?? false, nextPassInMs: 5_000 }));
    const handle = await start('auditCheckpointWorkflow', backgroundWorkflowId('audit-checkpoint', taskQueue), { state: null }, passes);
    await until('four checks', () => passes.isAuditCheckpointDue.mock.calls.length >= 4, 5_000);
    expect(passes.signAuditCheckpoint).toHaveBeenCalledTimes(2);
    const scheduledOn = (await events(handle)).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'signAuditCheckpoint' ? [e.activityTaskScheduledEventAttributes.taskQueue?.name] : [],
    );
    expect(scheduledOn).toEqual([signingTaskQueue(taskQueue), signingTaskQueue(taskQueue)]);
  });
});

describe('the worker starting its background work', { timeout: 60_000 }, () => {
  const config = () => ({ temporal: { address: testEnv.env.address, namespace: 'default', taskQueue }, auditSyslog: { url: 'tcp://127.0.0.1:1' } });
  const jobs: BackgroundJob[] = ['history-archive', 'audit-checkpoint', 'audit-forwarding'];
  const ids = jobs.map((job) => backgroundWorkflowId(job, taskQueue));

  async function runningRuns() {
    return Promise.all(ids.map((id) => testEnv.env.client.workflow.getHandle(id).describe()));
  }

  async function squat(type: string, workflowId: string, options: { taskQueue?: string; workflowExecutionTimeout?: string; cronSchedule?: string } = {}) {
    const handle = await testEnv.env.client.workflow.start(type, { workflowId, taskQueue, args: [{ state: null }], ...options });
    started.push(handle);
    return handle;
  }

  async function expectTerminated(squatters: WorkflowHandleWithFirstExecutionRunId[]) {
    for (const squatter of squatters) {
      const run = await testEnv.env.client.workflow.getHandle(squatter.workflowId, squatter.firstExecutionRunId).describe();
      expect(run.status.name, squatter.workflowId).toBe('TERMINATED');
    }
  }

  it('takes back its fixed ids from runs it did not start, and joins its own running workflows', async () => {
    for (const id of ids) byWorkflow.set(id, stubs());
    // Another workflow type; the right type on a task queue no worker of ours polls; the right
    // type and queue, but with a time limit.
    const squatters = [
      await squat('auditForwardingWorkflow', ids[0]!, { taskQueue: `${taskQueue}-nobody` }),
      await squat('auditCheckpointWorkflow', ids[1]!, { taskQueue: `${taskQueue}-nobody` }),
      await squat('auditForwardingWorkflow', ids[2]!, { workflowExecutionTimeout: '1 hour' }),
    ];

    expect(await startBackgroundWork(testEnv.env.client, config())).toEqual(ids);
    await expectTerminated(squatters);
    const runs = await runningRuns();
    for (const [i, job] of jobs.entries()) {
      started.push(testEnv.env.client.workflow.getHandle(ids[i]!));
      expect(runs[i], job).toMatchObject({ type: BACKGROUND_JOBS[job], taskQueue, status: { name: 'RUNNING' } });
    }

    // A second worker's start (or a restarted one's) joins the same runs and sends them nothing.
    expect(await startBackgroundWork(testEnv.env.client, config())).toEqual(ids);
    expect((await runningRuns()).map((r) => r.runId)).toEqual(runs.map((r) => r.runId));
    for (const id of ids) {
      const history = await testEnv.env.client.workflow.getHandle(id).fetchHistory();
      expect(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes) ?? [], id).toEqual([]);
    }

    // The right type and queue, its first task held back by a cron schedule until next year.
    await testEnv.env.client.workflow.getHandle(ids[0]!).terminate('make room');
    const held = await squat('historyArchiveWorkflow', ids[0]!, { cronSchedule: '0 0 1 1 *' });
    expect(await startBackgroundWork(testEnv.env.client, config())).toEqual(ids);
    await expectTerminated([held]);
    expect((await runningRuns())[0]).toMatchObject({ type: 'historyArchiveWorkflow', taskQueue, status: { name: 'RUNNING' } });
  });
});
