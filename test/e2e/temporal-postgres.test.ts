import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorkerProcess } from '../../scripts/lib/ephemeral-servers.js';
import { freePort, type ManagedProcess } from '../../scripts/lib/processes.js';
import { findOrBuildTemporalServer, startTemporalOnPostgres, type TemporalPostgresServer } from '../../scripts/lib/temporal-postgres-server.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { grantAndToken } from '../support/gateway-harness.js';
import { STUDY_A } from '../support/pacs-studies.js';

// The production shape of the workflow engine (issue 13): the Temporal server itself, its
// state in PostgreSQL, not the CLI's dev server with SQLite. A worker process and an API of
// this file's own run the whole cycle on it.

const REQUESTER = 'clin.tpg';
const admin = new URL(inject('databaseUrl'));
admin.pathname = '/postgres';
const prefix = `iar_t${process.pid}_${Math.floor(Math.random() * 1e6)}_`;
let temporal: TemporalPostgresServer;
let worker: ManagedProcess;
let api: ApiHarness;

beforeAll(async () => {
  // A first run on a machine builds the server with Go: minutes.
  const binaries = await findOrBuildTemporalServer();
  const dir = path.join(inject('workDir'), `temporal-postgres-${process.pid}`);
  temporal = await startTemporalOnPostgres({
    binaries,
    adminUrl: admin.toString(),
    databasePrefix: prefix,
    dir,
    port: await freePort(),
    logFile: path.join(dir, 'server.log'),
  });
  const taskQueue = `iar-tpg-${process.pid}`;
  worker = await startWorkerProcess({
    databaseUrl: inject('databaseUrl'),
    temporalAddress: temporal.address,
    taskQueue,
    logFile: path.join(dir, 'worker.log'),
  });
  api = await startApi({ TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: taskQueue });
  await ensureClinician(api, REQUESTER, 'Tess (clinician, Temporal on PostgreSQL)');
}, 20 * 60_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await temporal?.process.stop();
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  for (const database of Object.values(temporal?.databases ?? {})) await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await client.end();
});

async function inTemporalsDatabase<T extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[]> {
  const url = new URL(admin);
  url.pathname = `/${temporal.databases.history}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe('the Temporal server on PostgreSQL', () => {
  it('runs the whole cycle, and keeps the request’s workflow in its PostgreSQL database', async () => {
    const { id, token } = await grantAndToken(api, [STUDY_A], REQUESTER);
    expect(token.split('.')).toHaveLength(3);
    const view = await api.call('GET', `/api/access-requests/${id}`, { token: await api.login(REQUESTER) });
    expect(view.body.status).toBe('ACTIVE');
    expect(view.body.reviews.map((r: { reviewer: string }) => r.reviewer).sort()).toEqual(['priv.dave', 'sup.carol']);

    // Not some other server's: the workflow's row and its history are in this server's database.
    const rows = await inTemporalsDatabase<{ workflow_id: string }>('SELECT workflow_id FROM current_executions WHERE workflow_id = $1', [id]);
    expect(rows.map((r) => r.workflow_id)).toEqual([id]);
    const [history] = await inTemporalsDatabase<{ nodes: string }>('SELECT count(*) AS nodes FROM history_node', []);
    expect(Number(history?.nodes)).toBeGreaterThan(0);
  });

  it('answers visibility queries on the search attributes it registered', async () => {
    const { id } = await grantAndToken(api, [STUDY_A], REQUESTER);
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection });
      // Visibility is written after the workflow task: a moment later, not at once.
      let found: string[] = [];
      for (let i = 0; i < 50 && !found.includes(id); i++) {
        found = [];
        for await (const execution of client.workflow.list({ query: `AccessRequestStatus = 'ACTIVE' AND AccessRequestRequester = '${REQUESTER}'` }))
          found.push(execution.workflowId);
        if (!found.includes(id)) await new Promise((r) => setTimeout(r, 200));
      }
      expect(found).toContain(id);
    } finally {
      await connection.close();
    }
  });
});
