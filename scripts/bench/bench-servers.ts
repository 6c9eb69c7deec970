import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApi } from '../../api/app.js';
import { connectApiRuntime, type ApiRuntime } from '../../api/runtime.js';
import { loadConfig, type AppConfig } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';
import { createDb } from '../../db/client.js';
import { seedDemoDirectory } from '../../db/seed-demo.js';
import { provisionDatabase, provisionTemporal, scratchDir, startWorkerProcess } from '../lib/ephemeral-servers.js';

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
export async function startBenchServers(taskQueue: string, env: Record<string, string> = {}): Promise<BenchServers> {
  const workDir = scratchDir('iar-bench-');
  const [database, temporalServer] = await Promise.all([provisionDatabase(workDir), provisionTemporal(workDir)]);
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
      await database.server?.process.stop();
    },
  };
}
