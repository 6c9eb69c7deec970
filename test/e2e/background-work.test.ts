import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBackgroundActivities } from '../../activities/background-work.js';
import { startCheckpointSigningWorker, type CheckpointSigningWorker } from '../../api/checkpoint-signing-worker.js';
import type { WorkerConfig } from '../../config/worker-config.js';
import { createDb } from '../../db/client.js';
import { seedDemoDirectory } from '../../db/seed-demo.js';
import { provisionDatabase, scratchDir, startWorkerProcess } from '../../scripts/lib/ephemeral-servers.js';
import type { ManagedProcess } from '../../scripts/lib/processes.js';
import { startBackgroundWork } from '../../worker/background-work.js';
import { backgroundWorkflowId, signingTaskQueue, type BackgroundJob, type HistoryArchiveInput } from '../../workflows/background-jobs.js';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';
import { SyslogReceiver } from '../support/syslog-receiver.js';

// The worker's background work on the real Temporal server: each job a workflow, run once
// however many workers start it. Its own task queue, so that the run's shared worker (and
// its workflows) stay apart, and its own database, so that no other test file's forwarding,
// checkpoints or archive writes can be mistaken for this one's.
const taskQueue = `iar-background-${process.pid}`;
const dir = scratchDir('iar-background-');
const JOBS: BackgroundJob[] = ['history-archive', 'audit-checkpoint', 'audit-forwarding'];
const settings = { ARCHIVE_INTERVAL_SECONDS: '1', AUDIT_FORWARD_INTERVAL_SECONDS: '1', CHECKPOINT_INTERVAL_SECONDS: '3600' };

let database: Awaited<ReturnType<typeof provisionDatabase>>;
let receiver: SyslogReceiver;
let workers: ManagedProcess[] = [];
let api: ApiHarness;
let signing: CheckpointSigningWorker | undefined;

const b64 = (s: string) => Buffer.from(s).toString('base64');
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

async function eventually<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function handle(job: BackgroundJob): WorkflowHandle {
  return api.temporal.workflow.getHandle(backgroundWorkflowId(job, taskQueue));
}

async function events(job: BackgroundJob): Promise<HistoryEvent[]> {
  return (await handle(job).fetchHistory()).events ?? [];
}

/** Results of the job's completed activities of one type, in order. */
function completed(history: HistoryEvent[], activityType: string): unknown[] {
  const scheduled = new Map<string, string>();
  const results: unknown[] = [];
  for (const event of history) {
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes) scheduled.set(String(event.eventId), attributes.activityType?.name ?? '');
    const done = event.activityTaskCompletedEventAttributes;
    if (done && scheduled.get(String(done.scheduledEventId)) === activityType) {
      const payload = done.result?.payloads?.[0];
      results.push(payload ? defaultPayloadConverter.fromPayload(payload) : undefined);
    }
  }
  return results;
}

async function closeCase(): Promise<string> {
  const alice = await api.login('clin.alice');
  const id = (await api.call('POST', '/api/access-requests', { token: alice, body: submission() })).body.id as string;
  expect((await api.call('POST', `/api/access-requests/${id}/cancel`, { token: alice, body: { reason: 'background work test' } })).status).toBe(200);
  await api.temporal.workflow.getHandle(id).result();
  return id;
}

beforeAll(async () => {
  database = await provisionDatabase(dir, { besides: inject('databaseUrl') });
  const seedDb = createDb(database.url, { maxConnections: 1 });
  await seedDemoDirectory(seedDb);
  await seedDb.$disconnect();
  receiver = await SyslogReceiver.create(scratchDir('iar-background-syslog-'));
  // Two worker processes on one task queue, started at the same moment: each starts, or
  // joins, every job.
  workers = await Promise.all(
    [1, 2].map((n) =>
      startWorkerProcess({
        databaseUrl: database.url,
        temporalAddress: inject('temporalAddress'),
        taskQueue,
        logFile: path.join(dir, `worker-${n}.log`),
        env: { ...settings, AUDIT_SYSLOG_URL: `tcp://127.0.0.1:${receiver.port}` },
      }),
    ),
  );
  api = await startApi({ DATABASE_URL: database.url, TEMPORAL_TASK_QUEUE: taskQueue });
});
afterAll(async () => {
  // What started them in the first place: nothing of this file keeps running on the server.
  for (const job of JOBS)
    await handle(job)
      .terminate('test over')
      .catch(() => undefined);
  await signing?.stop();
  await Promise.all(workers.map((w) => w.stop()));
  await receiver?.stop();
  await api?.close();
  await database?.drop();
});

describe('background work as Temporal workflows', () => {
  it('runs each job once, however many workers start it', async () => {
    for (const job of JOBS) {
      const id = backgroundWorkflowId(job, taskQueue);
      const runs = await eventually(`the ${job} workflow in visibility`, async () => {
        const found = [];
        for await (const execution of api.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) found.push(execution);
        return found.length > 0 && found;
      });
      expect(runs.map((r) => r.status.name)).toEqual(['RUNNING']);
      // Both workers handed it their settings: the second joined the first's run.
      const signals = (await events(job)).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'settings');
      expect(signals, job).toHaveLength(2);
    }

    // A third start (a restarted worker, say) joins too.
    const before = await Promise.all(JOBS.map(async (job) => (await handle(job).describe()).runId));
    const config: Pick<WorkerConfig, 'temporal' | 'background' | 'auditSyslog'> = {
      temporal: api.config.temporal,
      background: { archiveIntervalMs: 1_000, checkpointPollMs: 5_000, checkpointMaxUnsignedMs: 3_600_000, forwardIntervalMs: 1_000 },
      auditSyslog: { url: `tcp://127.0.0.1:${receiver.port}` },
    };
    expect(await startBackgroundWork(api.temporal, config)).toEqual(JOBS.map((job) => backgroundWorkflowId(job, taskQueue)));
    const after = await Promise.all(JOBS.map(async (job) => (await handle(job).describe()).runId));
    expect(after).toEqual(before);
  });

  it('signs a checkpoint through the workflow, on the signing task queue an API process serves', async () => {
    const id = await closeCase();
    const head = await api.db.auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
    // Due, but nothing signs while no API process serves the signing queue.
    await eventually('the signing activity waiting for an API process', async () => {
      const pending = (await handle('audit-checkpoint').describe()).raw.pendingActivities ?? [];
      return pending.some((a) => a.activityType?.name === 'signAuditCheckpoint');
    });
    expect(await api.db.auditCheckpoint.count()).toBe(0);

    signing = await startCheckpointSigningWorker({ temporal: api.config.temporal, db: api.db, keys: api.keys });
    const checkpoint = await eventually('a checkpoint at the closed case', () => api.db.auditCheckpoint.findFirst({ where: { seq: { gte: head.headSeq } } }));
    const history = await events('audit-checkpoint');
    const signed = completed(history, 'signAuditCheckpoint') as { seq: string; kid: string }[];
    expect(signed.map((s) => s.seq)).toContain(checkpoint.seq.toString());
    expect(signed[0]!.kid).toBe((await api.keys.activeKey()).kid);
    const scheduledOn = history.flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'signAuditCheckpoint' ? [e.activityTaskScheduledEventAttributes.taskQueue?.name] : [],
    );
    expect(new Set(scheduledOn)).toEqual(new Set([signingTaskQueue(taskQueue)]));
    expect(await api.db.auditEvent.count({ where: { accessRequestId: id } })).toBeGreaterThan(0);
  });

  it('archives closed cases through the workflow, carrying its watermark from pass to pass', async () => {
    const id = await closeCase();
    const archive = await eventually('the case archived', () => api.db.caseHistoryArchive.findUnique({ where: { accessRequestId: id } }));
    expect(archive.eventCount).toBeGreaterThan(5);
    const passes = completed(await events('history-archive'), 'archiveClosedCaseHistories') as { archived: number; since?: string }[];
    expect(passes.reduce((sum, p) => sum + p.archived, 0)).toBeGreaterThanOrEqual(1);
    expect(passes.at(-1)!.since! >= archive.closedAt.toISOString()).toBe(true);
  });

  it('forwards audit messages to a real rsyslog, and marks nothing sent while it is down', async () => {
    const alice = await api.login('clin.alice');
    const id = (await api.call('POST', '/api/access-requests', { token: alice, body: submission() })).body.id as string;
    await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } });
    const granted = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
    expect(granted.body.status).toBe('ACTIVE');
    // The grant, from the audit chain, as a DICOM "User Security Attributes Changed".
    await eventually('the grant at the collector', async () => receiver.lines().some((l) => l.includes(b64(id)) && l.includes('110137')));

    await receiver.stop();
    // An access record, as the gateway writes it.
    const record = await api.db.gatewayAccessRecord.create({
      data: {
        id: randomUUID(),
        occurredAt: new Date(),
        gatewayId: 'background-work-test',
        username: 'clin.alice',
        grantId: id,
        study: submission().studyInstanceUids[0],
        route: 'study-metadata',
        method: 'GET',
        path: '/dicom-web/studies/x/metadata',
        status: 200,
        bytes: 10n,
        durationMs: 1,
        outcome: 'served',
      },
    });
    // The pass fails and is retried; it never skips the record.
    await eventually(
      'a failed forwarding pass being retried',
      async () => {
        const pending = (await handle('audit-forwarding').describe()).raw.pendingActivities ?? [];
        return pending.some((a) => a.activityType?.name === 'forwardAuditMessages' && (a.attempt ?? 0) >= 2);
      },
      30_000,
    );
    expect((await api.db.gatewayAccessRecord.findUniqueOrThrow({ where: { id: record.id } })).forwardedAt).toBeNull();

    await receiver.start();
    await eventually('the access record at the collector', async () => receiver.lines().some((l) => l.includes(b64(record.id))));
    await eventually(
      'the access record marked sent',
      async () => (await api.db.gatewayAccessRecord.findUniqueOrThrow({ where: { id: record.id } })).forwardedAt,
    );
    await api.call('POST', `/api/access-requests/${id}/revoke`, { token: await api.login('sec.grace'), body: { reason: 'background work test over' } });
  });

  it('fails, rather than skips, a forwarding pass on a worker without a collector', async () => {
    const activities = createBackgroundActivities({ db: api.db, temporal: api.temporal });
    const failure = await activities.forwardAuditMessages().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'NO_SYSLOG_COLLECTOR', nonRetryable: false });
  });

  it('continues as new after its passes, with the state it reached', async () => {
    const workflowId = `history-archive-continue-as-new@${taskQueue}`;
    const input: HistoryArchiveInput = { settings: { intervalMs: 100 }, state: {}, passesPerRun: 2 };
    const first = await api.temporal.workflow.start('historyArchiveWorkflow', { workflowId, taskQueue, args: [input] });
    try {
      const runs = await eventually('a second run', async () => {
        const found = [];
        for await (const execution of api.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) found.push(execution);
        return found.length >= 2 && found;
      });
      const continued = runs.find((r) => r.runId === first.firstExecutionRunId)!;
      expect(continued.status.name).toBe('CONTINUED_AS_NEW');
      const firstHistory = (await api.temporal.workflow.getHandle(workflowId, first.firstExecutionRunId).fetchHistory()).events ?? [];
      const passes = completed(firstHistory, 'archiveClosedCaseHistories') as { since?: string }[];
      expect(passes).toHaveLength(2);
      const next = firstHistory.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)!.workflowExecutionContinuedAsNewEventAttributes!;
      const carried = defaultPayloadConverter.fromPayload(next.input!.payloads![0]!) as HistoryArchiveInput;
      expect(carried).toEqual({ ...input, state: { since: passes[1]!.since } });
      expect(carried.state.since).toBeDefined();
    } finally {
      await api.temporal.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
  });
});
