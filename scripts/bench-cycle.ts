// npm run bench:cycle — N concurrent full cycles (submit, two approvals, first token) on
// local servers, beside a no-op workflow (start → result) on the same server in the same
// run. Ratios only: absolute figures on a shared 2-core machine are noise.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { AddressInfo } from 'node:net';
import { createApi } from '../api/app.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { createDb } from '../db/client.js';
import { seedDemoDirectory } from '../db/seed-demo.js';
import { SigningKeyStore } from '../tokens/signing-keys.js';
import { measure, type RunStats } from './bench/stats.js';
import { provisionDatabase, provisionTemporal, scratchDir, startWorkerProcess } from './lib/ephemeral-servers.js';
import { step } from './lib/progress.js';

const cycles = Number(process.env.BENCH_CYCLES ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);

const workDir = scratchDir('iar-bench-');
const [database, temporalServer] = await Promise.all([provisionDatabase(workDir), provisionTemporal(workDir)]);
const setupDb = createDb(database.url, { maxConnections: 2 });
await seedDemoDirectory(setupDb);
await setupDb.$disconnect();

const taskQueue = 'bench-cycle';
const cycleWorker = await startWorkerProcess({ databaseUrl: database.url, temporalAddress: temporalServer.address, taskQueue, logFile: path.join(workDir, 'worker.log') });
// The baseline worker also runs in its own process's share of the machine: same server, no database.
const noopConnection = await NativeConnection.connect({ address: temporalServer.address });
const noopWorker = await Worker.create({
  connection: noopConnection,
  taskQueue: 'bench-noop',
  workflowsPath: new URL('./bench/noop-workflow.ts', import.meta.url).pathname,
});
const noopRun = noopWorker.run();

const config = loadConfig({
  DATABASE_URL: database.url,
  TEMPORAL_ADDRESS: temporalServer.address,
  TEMPORAL_TASK_QUEUE: taskQueue,
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  DEV_LOGIN: 'true',
  TOKEN_RATE_LIMIT_PER_MINUTE: '600',
  LOG_LEVEL: 'silent',
});
const db = createDb(config.databaseUrl, { maxConnections: 20 });
const connection = await Connection.connect({ address: temporalServer.address });
const temporal = new Client({ connection });
const keys = new SigningKeyStore(db, config.keyEncryptionKey, { rotationDays: 30, longestTokenSeconds: 3600 });
const server = createApi({ config, db, temporal, keys, log: createLogger('bench', 'silent') }).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
config.tokens.issuer = api;

async function post(route: string, token: string | undefined, body: unknown): Promise<any> {
  const response = await fetch(`${api}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}
const login = async (username: string) => (await post('/auth/dev-login', undefined, { username })).access_token as string;
const [alice, carol, dave] = await Promise.all(['clin.alice', 'sup.carol', 'priv.dave'].map(login));

async function cycle(): Promise<void> {
  const { id } = await post('/api/access-requests', alice, {
    studyInstanceUids: ['1.2.826.0.1.3680043.8.498.1'],
    patientId: 'BENCH-1',
    purposeOfUse: 'TREAT',
    justification: 'benchmark of the full review cycle',
    durationMinutes: 60,
  });
  await post(`/api/access-requests/${id}/reviews`, carol, { decision: 'approve' });
  await post(`/api/access-requests/${id}/reviews`, dave, { decision: 'approve' });
  await post(`/api/access-requests/${id}/tokens`, alice, {});
}

async function noop(i: number): Promise<void> {
  await temporal.workflow.execute('noopWorkflow', { taskQueue: 'bench-noop', workflowId: `noop-${Date.now()}-${i}` });
}

step('warming up...');
await measure(10, 5, noop);
await measure(5, 5, cycle);
step(`measuring ${cycles} no-op workflows and ${cycles} full cycles, ${concurrency} at a time...`);
const baseline = await measure(cycles, concurrency, noop);
const full = await measure(cycles, concurrency, cycle);

const row = (name: string, s: RunStats) => `${name.padEnd(34)} ${s.p50.toFixed(1).padStart(9)} ${s.p99.toFixed(1).padStart(9)} ${s.perSecond.toFixed(1).padStart(9)}`;
process.stdout.write(`
bench:cycle  (${cycles} runs, concurrency ${concurrency}; PostgreSQL ${process.env.DATABASE_URL ? 'at DATABASE_URL' : 'private cluster'}, Temporal dev server)
${'run'.padEnd(34)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'per s'.padStart(9)}
${row('no-op workflow (start → result)', baseline)}
${row('full cycle (submit, 2 reviews, token)', full)}
ratio full / no-op:  p50 ×${(full.p50 / baseline.p50).toFixed(1)}   p99 ×${(full.p99 / baseline.p99).toFixed(1)}   throughput ×${(full.perSecond / baseline.perSecond).toFixed(2)}
`);

server.close();
noopWorker.shutdown();
await noopRun;
await noopConnection.close();
await connection.close();
await db.$disconnect();
await cycleWorker.stop();
await temporalServer.server?.process.stop();
await database.drop();
await database.server?.process.stop();
