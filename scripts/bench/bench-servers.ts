import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { createApi } from '../../api/app.js';
import { connectApiRuntime, type ApiRuntime } from '../../api/runtime.js';
import { loadConfig, type AppConfig } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';
import { createDb } from '../../db/client.js';
import { seedDemoDirectory } from '../../db/seed-demo.js';
import { provisionDatabase, provisionTemporal, scratchDir, startWorkerProcess, type TemporalKind } from '../lib/ephemeral-servers.js';

export interface BenchServers {
  workDir: string;
  databaseUrl: string;
  temporalAddress: string;
  config: AppConfig;
  runtime: ApiRuntime;
  api: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each benchmark reads the answer field it needs.
  post(route: string, token: string | undefined, body: unknown): Promise<any>;
  login(username: string): Promise<string>;
  close(): Promise<void>;
}

/** Fresh PostgreSQL, a Temporal dev server, a worker process and an API, seeded: what every benchmark stands on. */
export async function startBenchServers(taskQueue: string, env: Record<string, string> = {}, temporalKind: TemporalKind = 'dev'): Promise<BenchServers> {
  const workDir = scratchDir('iar-bench-');
  // The Temporal server on PostgreSQL keeps its state beside the records: the database first.
  const [database, temporalServer] =
    temporalKind === 'postgres'
      ? await provisionDatabase(workDir).then(async (db) => [db, await provisionTemporal(workDir, { kind: 'postgres', databaseUrl: db.url })] as const)
      : await Promise.all([provisionDatabase(workDir), provisionTemporal(workDir)]);
  const setupDb = createDb(database.url, { maxConnections: 2 });
  await seedDemoDirectory(setupDb);
  await setupDb.$disconnect();
  const worker = await startWorkerProcess({
    databaseUrl: database.url,
    temporalAddress: temporalServer.address,
    taskQueue,
    logFile: path.join(workDir, 'worker.log'),
  });
  const config = loadConfig({
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporalServer.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DEV_LOGIN: 'true',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const runtime = await connectApiRuntime(config, { maxConnections: 20 });
  const server = createApi({ config, log: createLogger('bench', 'silent'), ...runtime }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config.tokens.issuer = api;

  const post: BenchServers['post'] = async (route, token, body) => {
    const response = await fetch(`${api}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${route}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    workDir,
    databaseUrl: database.url,
    temporalAddress: temporalServer.address,
    config,
    runtime,
    api,
    post,
    login: async (username) => (await post('/auth/dev-login', undefined, { username })).access_token as string,
    async close() {
      server.close();
      await runtime.close();
      await worker.stop();
      await temporalServer.server?.process.stop();
      await database.drop();
      if (!database.server && temporalServer.server?.databases) await dropDatabases(database.url, Object.values(temporalServer.server.databases));
      await database.server?.process.stop();
    },
  };
}

/** The Temporal server's own databases, on a PostgreSQL server the run did not start. */
async function dropDatabases(besides: string, names: string[]): Promise<void> {
  const admin = new URL(besides);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.end();
}
