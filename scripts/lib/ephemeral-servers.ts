import { mkdtempSync, chmodSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from './migrate.js';
import { startPrivatePostgres, type PostgresServer } from './postgres-server.js';
import { freePort, startProcess, waitFor, type ManagedProcess } from './processes.js';
import { step } from './progress.js';
import { findOrBuildTemporalCli } from './temporal-cli.js';
import { findOrBuildTemporalServer, startTemporalOnPostgres, TEMPORAL_SERVER_VERSION } from './temporal-postgres-server.js';
import { startTemporalDevServer } from './temporal-server.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** A scratch folder the `postgres` system user can also reach (mkdtemp makes 0700). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * A fresh, migrated database: on the server of `options.besides` or of DATABASE_URL when
 * either is set (a new database beside the one it names), otherwise on a private PostgreSQL
 * cluster started for this run.
 */
export async function provisionDatabase(
  workDir: string,
  options: { besides?: string } = {},
): Promise<{ url: string; server?: PostgresServer; drop: () => Promise<void> }> {
  let serverUrl = options.besides ?? process.env.DATABASE_URL;
  let server: PostgresServer | undefined;
  if (!serverUrl) {
    server = await startPrivatePostgres({ dataDir: path.join(workDir, 'pg'), port: await freePort(), logFile: path.join(workDir, 'postgres.log') });
    serverUrl = server.url;
  }
  const name = `iar_test_${Date.now()}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  step(`migrating test database ${name}...`);
  await migrate(url.toString());
  return {
    url: url.toString(),
    server,
    async drop() {
      if (server) return; // the whole private cluster goes away
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Which Temporal server a run stands on: the CLI's dev server (SQLite), or the server itself on PostgreSQL. */
export type TemporalKind = 'dev' | 'postgres';

export const TEMPORAL_KIND_NAMES: Record<TemporalKind, string> = {
  dev: 'Temporal dev server (CLI, SQLite)',
  postgres: `Temporal server ${TEMPORAL_SERVER_VERSION} (PostgreSQL)`,
};

/**
 * A Temporal server for a run: the one TEMPORAL_ADDRESS names when set; otherwise the dev
 * server, or with `postgres` the server itself with its state in two new databases on the
 * PostgreSQL server that `databaseUrl` is on.
 */
export async function provisionTemporal(
  workDir: string,
  options: { kind?: TemporalKind; databaseUrl?: string } = {},
): Promise<{ address: string; server?: { process: ManagedProcess; databases?: { history: string; visibility: string } } }> {
  if (process.env.TEMPORAL_ADDRESS) return { address: process.env.TEMPORAL_ADDRESS };
  if (options.kind === 'postgres') {
    if (!options.databaseUrl) throw new Error('A Temporal server on PostgreSQL needs the PostgreSQL server to keep its state on.');
    const admin = new URL(options.databaseUrl);
    admin.pathname = '/postgres';
    const server = await startTemporalOnPostgres({
      binaries: await findOrBuildTemporalServer(),
      adminUrl: admin.toString(),
      databasePrefix: `iar_${Date.now()}_${Math.floor(Math.random() * 1e6)}_`,
      dir: path.join(workDir, 'temporal'),
      port: await freePort(),
      logFile: path.join(workDir, 'temporal.log'),
    });
    return { address: server.address, server };
  }
  const cli = await findOrBuildTemporalCli();
  const server = await startTemporalDevServer({ cli, port: await freePort(), logFile: path.join(workDir, 'temporal.log') });
  return { address: server.address, server };
}

/** A real worker process (not in the test's process), so tests can kill it like an outage. */
export async function startWorkerProcess(options: {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  logFile: string;
  /** More of the worker's settings (config/worker-config.ts). */
  env?: Record<string, string>;
}): Promise<ManagedProcess> {
  const worker = startProcess('worker', process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    logFile: options.logFile,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      ...options.env,
    },
  });
  const startedAt = existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8').split('worker running').length : 1;
  await waitFor(
    `the worker on ${options.taskQueue} (log: ${options.logFile})`,
    async () => readFileSync(options.logFile, 'utf8').split('worker running').length > startedAt,
    { process: worker, timeoutMs: 120_000, intervalMs: 200 },
  );
  return worker;
}
