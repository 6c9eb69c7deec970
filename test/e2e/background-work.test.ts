import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBackgroundActivities, type BackgroundSettings } from '../../activities/background-work.js';
import { startCheckpointSigningWorker, type CheckpointSigningWorker } from '../../api/checkpoint-signing-worker.js';
import { HistoryArchiver } from '../../audit/evidence/history-archiver.js';
import type { WorkerConfig } from '../../config/worker-config.js';
import { createDb } from '../../db/client.js';
import { seedDemoDirectory } from '../../db/seed-demo.js';
import { provisionDatabase, ROOT, scratchDir, startWorkerProcess } from '../../scripts/lib/ephemeral-servers.js';
import { freePort, startProcess, waitFor, type ManagedProcess } from '../../scripts/lib/processes.js';
import { startBackgroundWork } from '../../worker/background-work.js';
import { createAccessRequestWorker } from '../../worker/run-worker.js';
import { backgroundWorkflowId, signingTaskQueue, type BackgroundJob } from '../../workflows/background-jobs.js';
import { ensureClinician, startApi, submission, testEnv, type ApiHarness } from '../support/api-harness.js';
import { SyslogReceiver } from '../support/syslog-receiver.js';

// The worker's background work on the real Temporal server: each job a workflow, run once
// however many workers start it. Its own task queue, so that the run's shared worker (and
// its workflows) stay apart, and its own database, so that no other test file's forwarding,
// checkpoints or archive writes can be mistaken for this one's.
const taskQueue = `iar-background-${process.pid}`;
const dir = scratchDir('iar-background-');
const JOBS: BackgroundJob[] = ['history-archive', 'audit-checkpoint', 'audit-forwarding'];
const settings = { ARCHIVE_INTERVAL_SECONDS: '1', AUDIT_FORWARD_INTERVAL_SECONDS: '1', CHECKPOINT_INTERVAL_SECONDS: '3600' };
/** What those settings make each job's passes ask for (the checkpoint job looks every 5 s). */
const INTERVAL_MS: Record<BackgroundJob, number> = { 'history-archive': 1_000, 'audit-checkpoint': 5_000, 'audit-forwarding': 1_000 };
const PASS_ACTIVITY: Record<BackgroundJob, string> = {
  'history-archive': 'archiveClosedCaseHistories',
  'audit-checkpoint': 'isAuditCheckpointDue',
  'audit-forwarding': 'forwardAuditMessages',
};
const backgroundSettings: BackgroundSettings = {
  archiveIntervalMs: 1_000,
  checkpointPollMs: 5_000,
  checkpointMaxUnsignedMs: 3_600_000,
  forwardIntervalMs: 1_000,
};

let database: Awaited<ReturnType<typeof provisionDatabase>>;
let receiver: SyslogReceiver;
let workers: ManagedProcess[] = [];
let api: ApiHarness;
let signing: CheckpointSigningWorker | undefined;
const closeAfter: { close(): Promise<void> }[] = [];

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

const timeOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  new Date(Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6));

/** The job's completed activities of one type, in order: when each was scheduled, and its result. */
function completedPasses(history: HistoryEvent[], activityType: string): { scheduledAt: Date; result: unknown }[] {
  const scheduled = new Map<string, Date>();
  const passes: { scheduledAt: Date; result: unknown }[] = [];
  for (const event of history) {
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes?.activityType?.name === activityType) scheduled.set(String(event.eventId), timeOf(event.eventTime));
    const done = event.activityTaskCompletedEventAttributes;
    const scheduledAt = done && scheduled.get(String(done.scheduledEventId));
    if (done && scheduledAt) {
      const payload = done.result?.payloads?.[0];
      passes.push({ scheduledAt, result: payload ? defaultPayloadConverter.fromPayload(payload) : undefined });
    }
  }
  return passes;
}

/** Results of the job's completed activities of one type, in order. */
function completed(history: HistoryEvent[], activityType: string): unknown[] {
  return completedPasses(history, activityType).map((p) => p.result);
}

/** A case submitted and withdrawn through `on` (this file's API unless another is named), once its workflow has closed. */
async function closeCase(on: ApiHarness = api, username = 'clin.alice'): Promise<string> {
  const requester = await on.login(username);
  const submitted = await on.call('POST', '/api/access-requests', { token: requester, body: submission() });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  const id = submitted.body.id as string;
  expect((await on.call('POST', `/api/access-requests/${id}/cancel`, { token: requester, body: { reason: 'background work test' } })).status).toBe(200);
  await on.temporal.workflow.getHandle(id).result();
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
  for (const other of closeAfter.reverse()) await other.close().catch(() => undefined);
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
      // The second worker joined the first's run and sent it nothing.
      expect(
        (await events(job)).filter((e) => e.workflowExecutionSignaledEventAttributes),
        job,
      ).toEqual([]);
      // Each pass asks for the next one as its worker is configured, and the workflow sleeps that long.
      const history = await eventually(`two completed ${job} passes`, async () => {
        const found = await events(job);
        return completed(found, PASS_ACTIVITY[job]).length >= 2 && found;
      });
      for (const pass of completed(history, PASS_ACTIVITY[job])) expect(pass, job).toMatchObject({ nextPassInMs: INTERVAL_MS[job] });
      const sleeps = history.flatMap((e) => (e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds) * 1000] : []));
      expect(new Set(sleeps), job).toEqual(new Set([INTERVAL_MS[job]]));
    }

    // A third start (a restarted worker, say) joins too.
    const before = await Promise.all(JOBS.map(async (job) => (await handle(job).describe()).runId));
    const config: Pick<WorkerConfig, 'temporal' | 'auditSyslog'> = {
      temporal: api.config.temporal,
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

  it('archives every case its database recorded, listed or not, and never looks at another task queue', async () => {
    type Pass = { archived: number; reconciled: number; since?: string };
    const passes = async () => completedPasses(await events('history-archive'), 'archiveClosedCaseHistories') as { scheduledAt: Date; result: Pass }[];

    // Listed: a case of this task queue, and a completed pass whose watermark has reached it
    // (the pass that wrote the row may still be heartbeating through other cases).
    const listed = await closeCase();
    const archive = await eventually('the case archived', () => api.db.caseHistoryArchive.findUnique({ where: { accessRequestId: listed } }));
    expect(archive.eventCount).toBeGreaterThan(5);
    await eventually('a completed pass whose watermark covers the case', async () =>
      (await passes()).some((p) => p.result.since !== undefined && p.result.since >= archive.closedAt.toISOString()),
    );

    // Another deployment's: a case of the run's shared task queue and database. A whole pass
    // after it closed, it is not archived here, and the listing never even showed it.
    const foreignApi = await startApi();
    closeAfter.push(foreignApi);
    await ensureClinician(foreignApi, 'clin.background', 'Background (clinician, background work tests)');
    const foreign = await closeCase(foreignApi, 'clin.background');
    const { closeTime } = await foreignApi.temporal.workflow.getHandle(foreign).describe();
    await eventually('a completed pass begun after the foreign case closed', async () => (await passes()).some((p) => p.scheduledAt > closeTime!));
    expect(await api.db.caseHistoryArchive.findUnique({ where: { accessRequestId: foreign } })).toBeNull();
    const seen: string[] = [];
    await new HistoryArchiver(api.temporal, api.db, taskQueue).archiveClosedCases(undefined, (caseId) => seen.push(caseId));
    expect(seen).toContain(listed);
    expect(seen).not.toContain(foreign);

    // Missed by the listing: a case this database recorded, run on another task queue (as
    // after TEMPORAL_TASK_QUEUE was renamed). Only the reconciliation with the database finds it.
    const elsewhere = `${taskQueue}-elsewhere`;
    const { worker, connection } = await createAccessRequestWorker({
      address: inject('temporalAddress'),
      namespace: 'default',
      taskQueue: elsewhere,
      db: api.db,
      temporal: api.temporal,
      background: backgroundSettings,
      incidents: { smtp: null, regulator: 'supervisory-authority', team: 'security-office', escalation: 'escalation-contact' },
    });
    const serving = worker.run();
    closeAfter.push({
      async close() {
        worker.shutdown();
        await serving;
        await connection.close();
      },
    });
    const elsewhereApi = await startApi({ DATABASE_URL: database.url, TEMPORAL_TASK_QUEUE: elsewhere });
    closeAfter.push(elsewhereApi);
    const missed = await closeCase(elsewhereApi);
    const reconciled = await eventually('the unlisted case archived', () => api.db.caseHistoryArchive.findUnique({ where: { accessRequestId: missed } }));
    const { runId } = await api.temporal.workflow.getHandle(missed).describe();
    expect(reconciled.runId).toBe(runId);
    await eventually('a completed pass that archived it by reconciliation', async () => (await passes()).some((p) => p.result.reconciled >= 1));
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
    const activities = createBackgroundActivities({ db: api.db, temporal: api.temporal, taskQueue, settings: backgroundSettings });
    const failure = await activities.forwardAuditMessages().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'NO_SYSLOG_COLLECTOR', nonRetryable: false });
  });

  it('runs the API as its own process: it owns its signals, and Temporal’s runtime writes into its log', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'api.log');
    // Its own task queue: its signing worker must not sign for this file's checkpoint workflow.
    const env = testEnv({ DATABASE_URL: database.url, TEMPORAL_TASK_QUEUE: `${taskQueue}-api-process`, API_PORT: String(port), LOG_LEVEL: 'debug' });
    const apiProcess = startProcess('api', process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'main.ts')], {
      cwd: ROOT,
      logFile,
      env: { ...process.env, ...env },
    });
    closeAfter.push({ close: () => apiProcess.stop('SIGKILL') });
    const log = () => readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    await waitFor('the API process listening', async () => log().some((l) => l.includes('API listening')), { process: apiProcess, timeoutMs: 90_000 });
    await waitFor('the signing worker’s note that it has no workflows', async () => log().some((l) => l.includes('No workflows registered')), {
      process: apiProcess,
      timeoutMs: 30_000,
    });
    // Every line is the API's own JSON: the runtime's messages too, the expected note as debug.
    const lines = log().map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.find((l) => l.msg.startsWith('No workflows registered'))).toMatchObject({ level: 20, component: 'temporal' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    // SIGUSR2 used to stop the signing worker behind the API's back, which went on serving.
    apiProcess.child.kill('SIGUSR2');
    const exited = await Promise.race([apiProcess.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
    expect(exited).not.toBe('still running');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
