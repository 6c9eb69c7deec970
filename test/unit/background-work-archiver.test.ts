import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { describe, expect, it, vi } from 'vitest';
import { HistoryArchiver } from '../../audit/evidence/history-archiver.js';
import { ConfigError } from '../../config/env-pieces.js';
import { loadWorkerConfig } from '../../config/worker-config.js';
import type { Db } from '../../db/client.js';

// The history archive's choices, over a Temporal and a database made of maps: which cases it
// lists, which it copies, and that the database's ended cases are archived whatever the
// listing shows. test/e2e/background-work.test.ts runs it on the real servers.

const QUEUE = 'access-requests';
const history = proto.temporal.api.history.v1.History.fromObject({ events: [{ eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' }] });

interface Execution {
  workflowId: string;
  runId: string;
  type?: string;
  taskQueue?: string;
  status?: string;
  closeTime?: Date;
}

/** A namespace holding `executions` (the latest run of an id last), of which the listing shows `listed`. */
function fakeTemporal(executions: Execution[], listed: Execution[] = []) {
  const fetched: string[] = [];
  const queries: string[] = [];
  const find = (id: string, runId?: string) => executions.filter((e) => e.workflowId === id && (!runId || e.runId === runId)).at(-1);
  const client = {
    options: { namespace: 'default' },
    workflowService: { describeNamespace: vi.fn(async () => ({ config: { workflowExecutionRetentionTtl: { seconds: 7 * 86_400 } } })) },
    workflow: {
      list: ({ query }: { query: string }) => {
        queries.push(query);
        return (async function* () {
          yield* listed;
        })();
      },
      getHandle: (id: string, runId?: string) => ({
        async describe() {
          const found = find(id, runId);
          if (!found) throw new WorkflowNotFoundError('not found', id, runId);
          return { type: 'accessRequestWorkflow', taskQueue: QUEUE, ...found, status: { name: found.status ?? 'COMPLETED' } };
        },
        async fetchHistory() {
          fetched.push(`${id}/${runId}`);
          return history;
        },
      }),
    },
  };
  return { client: client as unknown as Client, fetched, queries };
}

/** A database of `requests` (id → the run that recorded it; ended unless said otherwise). */
function fakeDb(requests: Record<string, { runId: string | null; ended?: boolean }>) {
  const archives = new Map<string, { runId: string; history: string }>();
  const db = {
    caseHistoryArchive: {
      findUnique: async ({ where }: { where: { accessRequestId: string } }) => archives.get(where.accessRequestId) ?? null,
      createMany: async ({ data }: { data: { accessRequestId: string; runId: string; history: string }[] }) => {
        for (const row of data) archives.set(row.accessRequestId, row);
        return { count: data.length };
      },
    },
    accessRequest: {
      findUnique: async ({ where }: { where: { id: string } }) => (where.id in requests ? { workflowRunId: requests[where.id]!.runId } : null),
    },
    // The reconciliation's one query: ended requests without an archive, after the cursor.
    $queryRaw: vi.fn(async (_sql: TemplateStringsArray, endedAfter: Date, afterId: string) =>
      Object.entries(requests)
        .filter(([id, r]) => r.ended !== false && !archives.has(id) && id > afterId)
        .map(([id, r]) => ({ id, workflow_run_id: r.runId, ended_at: new Date(endedAfter.getTime() + 1) })),
    ),
  };
  return { db: db as unknown as Db, archives, queryRaw: db.$queryRaw };
}

const closed = (workflowId: string, runId: string, minute = 0): Execution => ({ workflowId, runId, closeTime: new Date(Date.UTC(2026, 0, 1, 0, minute)) });

describe('the history archive', () => {
  it('lists only its own task queue’s closed cases, five minutes behind its watermark', () => {
    const archiver = new HistoryArchiver(fakeTemporal([]).client, fakeDb({}).db, QUEUE);
    expect(archiver.listingQuery()).toBe(`WorkflowType = 'accessRequestWorkflow' AND ExecutionStatus != 'Running' AND TaskQueue = '${QUEUE}'`);
    expect(archiver.listingQuery('2026-01-01T00:10:00.000Z')).toContain(`TaskQueue = '${QUEUE}' AND CloseTime >= '2026-01-01T00:05:00.000Z'`);
    // A watermark that is not a time lists everything rather than failing every pass.
    expect(archiver.listingQuery('not a time')).not.toContain('CloseTime');
  });

  it('refuses a task queue it cannot name in a query, as the configuration does', () => {
    for (const queue of ["a' OR TaskQueue != '", 'a"b', 'a\\b', 'a b', '']) {
      expect(() => new HistoryArchiver(fakeTemporal([]).client, fakeDb({}).db, queue), queue).toThrow();
      if (queue) expect(() => loadWorkerConfig({ DATABASE_URL: 'postgresql://localhost/x', TEMPORAL_TASK_QUEUE: queue }), queue).toThrow(ConfigError);
    }
    expect(loadWorkerConfig({ DATABASE_URL: 'postgresql://localhost/x', TEMPORAL_TASK_QUEUE: 'iar-test-1' }).temporal.taskQueue).toBe('iar-test-1');
  });

  it('is configured at most hourly, as the workflow sleeps no longer', () => {
    const env = { DATABASE_URL: 'postgresql://localhost/x' };
    expect(loadWorkerConfig({ ...env, ARCHIVE_INTERVAL_SECONDS: '3600' }).background.archiveIntervalMs).toBe(3_600_000);
    expect(() => loadWorkerConfig({ ...env, ARCHIVE_INTERVAL_SECONDS: '3601' })).toThrow(ConfigError);
  });

  it('copies a listed case only when its database recorded it, and only the run that recorded it', async () => {
    const ours = closed('ar-ours', 'run-1', 1);
    const foreign = closed('ar-foreign', 'run-f', 2);
    const rerun = closed('ar-rerun', 'run-forged', 3);
    const temporal = fakeTemporal([ours, foreign, closed('ar-rerun', 'run-2'), rerun], [ours, foreign, rerun]);
    const { db, archives } = fakeDb({ 'ar-ours': { runId: 'run-1', ended: false }, 'ar-rerun': { runId: 'run-2', ended: false } });
    const pass = await new HistoryArchiver(temporal.client, db, QUEUE).archiveClosedCases();
    expect(pass).toMatchObject({ archived: 1, reconciled: 0, since: '2026-01-01T00:03:00.000Z' });
    expect([...archives.keys()]).toEqual(['ar-ours']);
    expect(temporal.fetched).toEqual(['ar-ours/run-1']);
  });

  it('archives every ended case of its database that the listing did not show, by the run that recorded it', async () => {
    const temporal = fakeTemporal([
      closed('ar-late', 'run-1'),
      closed('ar-old', 'run-2'),
      { workflowId: 'ar-closing', runId: 'run-3', status: 'RUNNING' },
      closed('ar-rerun', 'run-4'),
      closed('ar-rerun', 'run-forged'),
    ]);
    const { db, archives } = fakeDb({
      'ar-late': { runId: 'run-1' },
      // Recorded before requests kept their run: the run there is.
      'ar-old': { runId: null },
      'ar-closing': { runId: 'run-3' },
      'ar-rerun': { runId: 'run-4' },
      // Its history is gone (retention, or never here): counted, not retried as an error.
      'ar-gone': { runId: 'run-5' },
    });
    const seen: string[] = [];
    const pass = await new HistoryArchiver(temporal.client, db, QUEUE).archiveClosedCases('2026-06-01T00:00:00.000Z', (id) => seen.push(id));
    expect(pass).toMatchObject({ archived: 3, reconciled: 3, missing: 1 });
    expect([...archives.keys()].sort()).toEqual(['ar-late', 'ar-old', 'ar-rerun']);
    expect(archives.get('ar-rerun')!.runId).toBe('run-4');
    expect(temporal.fetched.sort()).toEqual(['ar-late/run-1', 'ar-old/run-2', 'ar-rerun/run-4']);
    expect(seen.sort()).toEqual(['ar-closing', 'ar-gone', 'ar-late', 'ar-old', 'ar-rerun']);
  });

  it('asks only about cases that ended within the namespace’s retention', async () => {
    const { db, queryRaw } = fakeDb({});
    const before = Date.now();
    await new HistoryArchiver(fakeTemporal([]).client, db, QUEUE).archiveClosedCases();
    const after = Date.now();
    const endedAfter = queryRaw.mock.calls[0]![1].getTime();
    // Seven days of retention, and a day's margin for the close coming after the recorded end.
    expect(endedAfter).toBeGreaterThanOrEqual(before - 8 * 86_400_000);
    expect(endedAfter).toBeLessThanOrEqual(after - 8 * 86_400_000);
  });
});
