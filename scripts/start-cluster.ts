// `npm run start:cluster`: the production shape on one machine. PostgreSQL (a private,
// durable cluster under the data folder), the Temporal server itself on it, Orthanc, two
// worker, two API and two gateway processes, and Debian's nginx balancing the APIs and the
// gateways. With DATABASE_URL, TEMPORAL_ADDRESS or PACS_DICOMWEB_URL set it uses those
// servers instead. Ctrl-C stops everything.
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import pg from 'pg';
import { createDb } from '../db/client.js';
import { seedDemoDirectory, DEMO_USERS } from '../db/seed-demo.js';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';
import { requireNginx, startLoadBalancer } from './lib/load-balancer.js';
import { migrate } from './lib/migrate.js';
import { ORTHANC_MISSING, orthancInstalled, startOrthanc } from './lib/orthanc-server.js';
import { startPrivatePostgres } from './lib/postgres-server.js';
import { run, startProcess, waitFor } from './lib/processes.js';
import { SetupError, step } from './lib/progress.js';
import { keyEncryptionKeyFile, requireFreePort, restrictToOwner, secret, Supervisor, tsx } from './lib/start-support.js';
import { loadSyntheticStudies } from './lib/synthetic-studies.js';
import { findOrBuildTemporalServer, startTemporalOnPostgres, TEMPORAL_SERVER_VERSION } from './lib/temporal-postgres-server.js';
import { buildWebIfStale } from './lib/web-build.js';

// The data folder holds patient images, the database and sealed keys: this user's alone.
process.umask(0o077);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(process.env.IAR_DATA_DIR ?? path.join(root, '.data-cluster'));
const logDir = path.join(dataDir, 'logs');
const port = (variable: string, fallback: number) => Number(process.env[variable] ?? fallback);
/** The load balancer's ports; each part's processes listen on the next two. */
const apiPort = port('API_PORT', 4000);
const gatewayPort = port('GATEWAY_PORT', 4100);
const postgresPort = port('POSTGRES_PORT', 5434);
const temporalPort = port('TEMPORAL_PORT', 7243);
const orthancPort = port('ORTHANC_PORT', 8043);
const PROCESSES = 2;

const supervisor = new Supervisor();

const replicas = (first: number) => Array.from({ length: PROCESSES }, (_, i) => ({ n: i + 1, port: first + i + 1 }));

async function main(): Promise<void> {
  process.on('SIGINT', () => void supervisor.stopAll(0));
  process.on('SIGTERM', () => void supervisor.stopAll(0));
  // What is missing is said before anything starts.
  requireNginx();
  mkdirSync(logDir, { recursive: true });
  restrictToOwner(dataDir);
  for (const { port: p } of [{ port: apiPort }, ...replicas(apiPort)]) await requireFreePort(p, 'the API or its load balancer', 'API_PORT');
  for (const { port: p } of [{ port: gatewayPort }, ...replicas(gatewayPort)]) await requireFreePort(p, 'a gateway or its load balancer', 'GATEWAY_PORT');

  const databaseUrl = await records();
  step('applying database migrations...');
  await migrate(databaseUrl);
  const db = createDb(databaseUrl, { maxConnections: 2 });
  await seedDemoDirectory(db);
  await db.$disconnect();
  await buildWebIfStale();

  const temporalAddress = await temporalServer(databaseUrl);
  const pacs = await startPacs();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    PACS_DICOMWEB_URL: pacs.dicomwebUrl,
    PACS_USERNAME: pacs.username,
    PACS_PASSWORD: pacs.password,
    // Every process names the load balancer: tokens from either API carry the same issuer.
    TOKEN_ISSUER: process.env.TOKEN_ISSUER ?? apiUrl,
    DEV_LOGIN: process.env.OIDC_ISSUER ? 'false' : (process.env.DEV_LOGIN ?? 'true'),
    ...(process.env.KEY_ENCRYPTION_KEY || process.env.KEY_ENCRYPTION_KEY_FILE ? {} : { KEY_ENCRYPTION_KEY_FILE: keyEncryptionKeyFile(dataDir) }),
  };

  const workers = replicas(0).map(({ n }) => {
    step(`starting worker ${n}...`);
    const log = path.join(logDir, `worker-${n}.log`);
    const start = () => startProcess(`worker ${n}`, ...tsx('worker/main.ts'), { env, cwd: root, logFile: log });
    return supervisor.watch(start(), log, start);
  });
  // Running means answering: a review is an Update, which waits for a worker to take it.
  await waitFor(`${PROCESSES} workers polling Temporal (logs: ${logDir}/worker-*.log)`, () => polling(temporalAddress, PROCESSES), {
    process: workers[0],
    timeoutMs: 180_000,
    intervalMs: 500,
  });
  // One after the other: the first makes the signing key, the second finds it.
  for (const { n, port: p } of replicas(apiPort)) {
    step(`starting API ${n} on ${p}...`);
    const log = path.join(logDir, `api-${n}.log`);
    const start = () =>
      startProcess(`api ${n}`, ...tsx('api/main.ts'), {
        env: { ...env, API_PORT: String(p), GATEWAY_PUBLIC_URL: process.env.GATEWAY_PUBLIC_URL ?? gatewayUrl },
        cwd: root,
        logFile: log,
      });
    const api = supervisor.watch(start(), log, start);
    await waitFor(`API ${n} (log: ${log})`, async () => (await fetch(`http://127.0.0.1:${p}/healthz`)).ok, { process: api, timeoutMs: 120_000 });
  }
  for (const { n, port: p } of replicas(gatewayPort)) {
    step(`starting gateway ${n} on ${p}...`);
    const log = path.join(logDir, `gateway-${n}.log`);
    const start = () =>
      startProcess(`gateway ${n}`, ...tsx('gateway/main.ts', GATEWAY_NODE_FLAGS), {
        env: {
          ...env,
          GATEWAY_PORT: String(p),
          GATEWAY_ID: `gateway-${n}`,
          // A journal has one writer: each gateway process its own.
          ACCESS_JOURNAL_DIR: path.join(dataDir, `gateway-journal-${n}`),
          WEB_ORIGINS: process.env.WEB_ORIGINS ?? [apiUrl, `http://localhost:${apiPort}`].join(','),
        },
        cwd: root,
        logFile: log,
      });
    // A gateway started again flushes what its journal holds before it serves: nothing is lost.
    const gateway = supervisor.watch(start(), log, start);
    await waitFor(`gateway ${n} (log: ${log})`, async () => (await fetch(`http://127.0.0.1:${p}/healthz`)).ok, { process: gateway, timeoutMs: 60_000 });
  }
  step('starting the load balancer (nginx)...');
  const lbLog = path.join(logDir, 'load-balancer.log');
  const lb = await startLoadBalancer({
    dir: path.join(dataDir, 'load-balancer'),
    logFile: lbLog,
    pools: [
      { name: 'the API', port: apiPort, upstreams: replicas(apiPort).map((r) => r.port) },
      { name: 'the PACS gateway', port: gatewayPort, upstreams: replicas(gatewayPort).map((r) => r.port) },
    ],
  });
  supervisor.watch(lb.process, lbLog);
  process.stdout.write(`
Imaging access review is running as a cluster: ${PROCESSES} API, ${PROCESSES} worker and ${PROCESSES} gateway processes.

  Open ${apiUrl}/   (the web app, through the load balancer)
  API:              ${apiUrl}   (processes on ${replicas(apiPort)
    .map((r) => r.port)
    .join(', ')})
  PACS gateway:     ${gatewayUrl}/dicom-web   (processes on ${replicas(gatewayPort)
    .map((r) => r.port)
    .join(', ')})
  Temporal:         ${temporalAddress}${process.env.TEMPORAL_ADDRESS ? '' : ` (server ${TEMPORAL_SERVER_VERSION}, PostgreSQL; no Web UI in this shape)`}
  Data:             ${dataDir}   Logs: ${logDir}
  Demo users:       ${DEMO_USERS.map((u) => u.username).join(', ')}

Press Ctrl-C to stop everything.
`);
}

/** Whether `count` workers poll the task queue's workflow tasks. */
async function polling(address: string, count: number): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: { name: process.env.TEMPORAL_TASK_QUEUE ?? 'access-requests' },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return new Set((pollers ?? []).map((p) => p.identity)).size >= count;
  } finally {
    await connection.close();
  }
}

/** The records' database: DATABASE_URL, or `iar` on a private, durable PostgreSQL under the data folder. */
async function records(): Promise<string> {
  if (process.env.DATABASE_URL) {
    step('using the PostgreSQL server at DATABASE_URL');
    return process.env.DATABASE_URL;
  }
  await requireFreePort(postgresPort, 'PostgreSQL', 'POSTGRES_PORT');
  // As root, PostgreSQL runs as the `postgres` user (it refuses root), which must pass through
  // the data folder to its own: traverse only, no listing; everything inside stays private.
  if (process.getuid?.() === 0) {
    chmodSync(dataDir, 0o711);
    const reachable = await run('runuser', ['-u', 'postgres', '--', 'test', '-x', dataDir]).then(
      () => true,
      () => false,
    );
    if (!reachable) {
      throw new SetupError(
        `PostgreSQL runs as the postgres user, which cannot reach ${dataDir} (a folder above it is closed to it). ` +
          'Set IAR_DATA_DIR to a folder outside it (e.g. /var/lib/imaging-access-review), or DATABASE_URL to a server you run.',
      );
    }
  }
  step(`starting PostgreSQL with data in ${path.join(dataDir, 'postgres')}...`);
  const log = path.join(logDir, 'postgres.log');
  const server = await startPrivatePostgres({
    dataDir: path.join(dataDir, 'postgres'),
    port: postgresPort,
    logFile: log,
    durable: true,
    password: secret(dataDir, 'postgres-password'),
  });
  supervisor.watch(server.process, log);
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'iar'");
  if (!rowCount) await admin.query('CREATE DATABASE iar');
  await admin.end();
  const url = new URL(server.url);
  url.pathname = '/iar';
  return url.toString();
}

/** TEMPORAL_ADDRESS, or the Temporal server itself with its state on the records' PostgreSQL server. */
async function temporalServer(databaseUrl: string): Promise<string> {
  if (process.env.TEMPORAL_ADDRESS) {
    step(`using the Temporal server at ${process.env.TEMPORAL_ADDRESS}`);
    return process.env.TEMPORAL_ADDRESS;
  }
  await requireFreePort(temporalPort, 'the Temporal server', 'TEMPORAL_PORT');
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const log = path.join(logDir, 'temporal.log');
  const server = await startTemporalOnPostgres({
    binaries: await findOrBuildTemporalServer(),
    adminUrl: admin.toString(),
    // Prefixed: on a PostgreSQL server the hospital shares, never an existing Temporal's databases.
    databasePrefix: 'iar_',
    dir: path.join(dataDir, 'temporal'),
    port: temporalPort,
    logFile: log,
  });
  supervisor.watch(server.process, log);
  return server.address;
}

/** PACS_DICOMWEB_URL, or Orthanc with the synthetic studies. */
async function startPacs(): Promise<{ dicomwebUrl: string; username: string; password: string }> {
  if (process.env.PACS_DICOMWEB_URL) {
    const { PACS_USERNAME: username, PACS_PASSWORD: password } = process.env;
    if (!username || !password) throw new SetupError('PACS_DICOMWEB_URL needs PACS_USERNAME and PACS_PASSWORD (the gateway’s own account on the PACS).');
    return { dicomwebUrl: process.env.PACS_DICOMWEB_URL, username, password };
  }
  if (!orthancInstalled()) throw new SetupError(ORTHANC_MISSING);
  await requireFreePort(orthancPort, 'Orthanc', 'ORTHANC_PORT');
  step('starting Orthanc (the PACS, loopback only)...');
  const log = path.join(logDir, 'orthanc.log');
  const orthanc = await startOrthanc({ dataDir: path.join(dataDir, 'orthanc'), httpPort: orthancPort, logFile: log });
  supervisor.watch(orthanc.process, log);
  await loadSyntheticStudies(orthanc);
  return orthanc;
}

main().catch(async (error: unknown) => {
  step(error instanceof SetupError ? error.message : `start:cluster failed: ${error instanceof Error ? error.stack : String(error)}`);
  await supervisor.stopAll(1);
});
