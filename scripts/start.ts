// `npm start`: the whole system on its embedded defaults (or on TEMPORAL_ADDRESS /
// DATABASE_URL when set), with data that survives a restart. Ctrl-C stops everything.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb } from '../db/client.js';
import { seedDemoDirectory, DEMO_USERS } from '../db/seed-demo.js';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';
import { backgroundWorkflowId, type BackgroundJob } from '../workflows/background-jobs.js';
import { migrate } from './lib/migrate.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './lib/pglite-server.js';
import { startProcess, waitFor, type ManagedProcess } from './lib/processes.js';
import { keyEncryptionKeyFile, requireFreePort, restrictToOwner, Supervisor, tsx } from './lib/start-support.js';
import { SetupError, step } from './lib/progress.js';
import { findOrBuildTemporalCli } from './lib/temporal-cli.js';
import { ORTHANC_MISSING, orthancInstalled, startOrthanc } from './lib/orthanc-server.js';
import { accessionNumberOf, loadSyntheticStudies, syntheticStudies } from './lib/synthetic-studies.js';
import { startTemporalDevServer } from './lib/temporal-server.js';
import { buildWebIfStale, webBuildIsCurrent } from './lib/web-build.js';

// The data folder holds patient images, the database and sealed keys: this user's alone.
// Set before anything is created; every child (PGlite, Temporal, Orthanc) inherits it.
process.umask(0o077);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(process.env.IAR_DATA_DIR ?? path.join(root, '.data'));
const logDir = path.join(dataDir, 'logs');
const apiPort = Number(process.env.API_PORT ?? 3000);
const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
const temporalUiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
const pglitePort = Number(process.env.PGLITE_PORT ?? 5433);
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 3100);
const orthancPort = Number(process.env.ORTHANC_PORT ?? 8042);

const supervisor = new Supervisor();
let embedded: EmbeddedPostgres | undefined;
supervisor.onStopped(async () => {
  await embedded?.stop();
});

function watch(child: ManagedProcess, logFile: string): void {
  supervisor.watch(child, logFile);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void supervisor.stopAll(0));
  process.on('SIGTERM', () => void supervisor.stopAll(0));
  mkdirSync(logDir, { recursive: true });
  restrictToOwner(dataDir);
  await requireFreePort(apiPort, 'the API', 'API_PORT');
  await requireFreePort(gatewayPort, 'the PACS gateway', 'GATEWAY_PORT');

  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    step('using the PostgreSQL server at DATABASE_URL');
  } else {
    await requireFreePort(pglitePort, 'the embedded PostgreSQL', 'PGLITE_PORT');
    step(`starting the embedded PostgreSQL (PGlite) with data in ${path.join(dataDir, 'pglite')}...`);
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pglite'), port: pglitePort });
    databaseUrl = embedded.url;
  }
  step('applying database migrations...');
  await migrate(databaseUrl);
  const db = createDb(databaseUrl, { maxConnections: 2 });
  await seedDemoDirectory(db);
  await db.$disconnect();

  // Before the servers: a web app that does not build stops the start here, not in a browser.
  step(webBuildIsCurrent() ? 'the web app is built and current' : 'building the web app (vite build into web/dist)...');
  await buildWebIfStale();

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  let temporalUi: string | undefined;
  if (temporalAddress) {
    step(`using the Temporal server at ${temporalAddress}`);
  } else {
    await requireFreePort(temporalPort, 'the Temporal server', 'TEMPORAL_PORT');
    await requireFreePort(temporalUiPort, 'the Temporal Web UI', 'TEMPORAL_UI_PORT');
    const cli = await findOrBuildTemporalCli();
    step('starting the Temporal dev server...');
    const logFile = path.join(logDir, 'temporal.log');
    const server = await startTemporalDevServer({
      cli,
      port: temporalPort,
      uiPort: temporalUiPort,
      dbFile: path.join(dataDir, 'temporal', 'temporal.sqlite'),
      logFile,
    });
    watch(server.process, logFile);
    temporalAddress = server.address;
    temporalUi = server.uiUrl;
  }

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    API_PORT: String(apiPort),
    DEV_LOGIN: process.env.OIDC_ISSUER ? 'false' : (process.env.DEV_LOGIN ?? 'true'),
    ...(process.env.KEY_ENCRYPTION_KEY || process.env.KEY_ENCRYPTION_KEY_FILE ? {} : { KEY_ENCRYPTION_KEY_FILE: keyEncryptionKeyFile(dataDir) }),
  };
  step('starting the worker...');
  const workerLog = path.join(logDir, 'worker.log');
  watch(startProcess('worker', ...tsx('worker/main.ts'), { env, cwd: root, logFile: workerLog }), workerLog);
  // The PACS before the API: the API asks it, at every submission, which patient each study
  // belongs to. Without a PACS the API starts and refuses every submission (503).
  const pacs = await startPacs();
  const pacsEnv = pacs ? { PACS_DICOMWEB_URL: pacs.dicomwebUrl, PACS_USERNAME: pacs.username, PACS_PASSWORD: pacs.password } : {};
  step('starting the API...');
  const apiLog = path.join(logDir, 'api.log');
  // The page learns both addresses from the API (GET /api/web-config); the gateway's is also
  // the one origin besides the API's own that the page's CSP lets it connect to.
  const webEnv = {
    ...(pacs && !process.env.GATEWAY_PUBLIC_URL ? { GATEWAY_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}` } : {}),
    ...(temporalUi && !process.env.TEMPORAL_UI_URL ? { TEMPORAL_UI_URL: temporalUi } : {}),
  };
  const api = startProcess('api', ...tsx('api/main.ts'), { env: { ...env, ...pacsEnv, ...webEnv }, cwd: root, logFile: apiLog });
  watch(api, apiLog);
  await waitFor(`the API at ${apiUrl}/healthz (log: ${apiLog})`, async () => (await fetch(`${apiUrl}/healthz`)).ok, { process: api, timeoutMs: 120_000 });

  let gatewayUrl: string | undefined;
  if (pacs) {
    step('starting the PACS gateway...');
    const gatewayLog = path.join(logDir, 'gateway.log');
    const gateway = startProcess('gateway', ...tsx('gateway/main.ts', GATEWAY_NODE_FLAGS), {
      cwd: root,
      logFile: gatewayLog,
      env: {
        ...env,
        GATEWAY_PORT: String(gatewayPort),
        TOKEN_ISSUER: process.env.TOKEN_ISSUER ?? apiUrl,
        PACS_DICOMWEB_URL: pacs.dicomwebUrl,
        PACS_USERNAME: pacs.username,
        PACS_PASSWORD: pacs.password,
        ACCESS_JOURNAL_DIR: path.join(dataDir, 'gateway-journal'),
        // The web app's pages, and only they, may read the gateway's answers from a browser.
        WEB_ORIGINS: process.env.WEB_ORIGINS ?? [apiUrl, `http://localhost:${apiPort}`].join(','),
      },
    });
    watch(gateway, gatewayLog);
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await waitFor(`the gateway at ${gatewayUrl}/healthz (log: ${gatewayLog})`, async () => (await fetch(`${gatewayUrl}/healthz`)).ok, {
      process: gateway,
      timeoutMs: 60_000,
    });
  }
  printWelcome(apiUrl, temporalUi, gatewayUrl);
}

/** The PACS: PACS_DICOMWEB_URL when set, else Orthanc from Debian's packages with synthetic studies. */
async function startPacs(): Promise<{ dicomwebUrl: string; username: string; password: string } | undefined> {
  if (process.env.PACS_DICOMWEB_URL) {
    step('using the PACS at PACS_DICOMWEB_URL');
    const username = process.env.PACS_USERNAME;
    const password = process.env.PACS_PASSWORD;
    if (!username || !password) throw new SetupError('PACS_DICOMWEB_URL needs PACS_USERNAME and PACS_PASSWORD (the gateway’s own account on the PACS).');
    return { dicomwebUrl: process.env.PACS_DICOMWEB_URL, username, password };
  }
  if (!orthancInstalled()) {
    step(`${ORTHANC_MISSING} Starting without the PACS gateway.`);
    return undefined;
  }
  await requireFreePort(orthancPort, 'Orthanc', 'ORTHANC_PORT');
  step('starting Orthanc (the PACS, loopback only)...');
  const logFile = path.join(logDir, 'orthanc.log');
  const orthanc = await startOrthanc({ dataDir: path.join(dataDir, 'orthanc'), httpPort: orthancPort, logFile });
  watch(orthanc.process, logFile);
  step('loading synthetic studies into Orthanc...');
  await loadSyntheticStudies(orthanc);
  return orthanc;
}

/** The background workflows' ids, as the worker starts them (audit forwarding only with a collector). */
function backgroundWork(): string {
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE ?? 'access-requests';
  const jobs: BackgroundJob[] = ['history-archive', 'audit-checkpoint', ...(process.env.AUDIT_SYSLOG_URL ? (['audit-forwarding'] as const) : [])];
  return jobs.map((job) => backgroundWorkflowId(job, taskQueue)).join(', ');
}

function printWelcome(apiUrl: string, temporalUi: string | undefined, gatewayUrl: string | undefined): void {
  const study = syntheticStudies()[0]!;
  const login = (user: string) =>
    `$(curl -s -X POST ${apiUrl}/auth/dev-login -H 'content-type: application/json' -d '{"username":"${user}"}' | jq -r .access_token)`;
  process.stdout.write(`
Imaging access review is running.

  Open ${apiUrl}/   (the web app; sign in as one of the demo users below)

  API:              ${apiUrl}   (OpenAPI: ${apiUrl}/openapi.json, JWKS: ${apiUrl}/.well-known/jwks.json)
  Temporal Web UI:  ${temporalUi ?? '(external Temporal server)'}
  Background work:  workflows ${backgroundWork()}
  PACS gateway:     ${
    gatewayUrl
      ? `${gatewayUrl}/dicom-web\n  Synthetic studies (patient, accession number, UID):\n${syntheticStudies()
          .map((s) => `                    ${s.patientId}  ${accessionNumberOf(s).padEnd(5)} ${s.studyInstanceUid}  ${s.description}`)
          .join('\n')}`
      : '(not started: no PACS)'
  }
  Data:             ${dataDir}   Logs: ${logDir}
  Demo users:       ${DEMO_USERS.map((u) => u.username).join(', ')}

Walk through the cycle (needs curl and jq):
  ALICE=${login('clin.alice')}
  CAROL=${login('sup.carol')}
  DAVE=${login('priv.dave')}
  ID=$(curl -s -X POST ${apiUrl}/api/access-requests -H "authorization: Bearer $ALICE" -H 'content-type: application/json' \\
    -d '{"studyInstanceUids":["${study.studyInstanceUid}"],"patientId":"${study.patientId}","purposeOfUse":"TREAT",'\\
'"justification":"Follow-up of a suspected fracture","durationMinutes":60}' | jq -r .id)
  curl -s -X POST ${apiUrl}/api/access-requests/$ID/reviews -H "authorization: Bearer $CAROL" \\
    -H 'content-type: application/json' -d '{"decision":"approve"}' | jq .status
  curl -s -X POST ${apiUrl}/api/access-requests/$ID/reviews -H "authorization: Bearer $DAVE" \\
    -H 'content-type: application/json' -d '{"decision":"approve"}' | jq .status
  TOKEN=$(curl -s -X POST ${apiUrl}/api/access-requests/$ID/tokens -H "authorization: Bearer $ALICE" | jq -r .access_token)
${
  gatewayUrl
    ? `  curl -s ${gatewayUrl}/dicom-web/studies/${study.studyInstanceUid}/series -H "authorization: Bearer $TOKEN" | jq length
  curl -s -o watermarked.jpg -H "authorization: Bearer $TOKEN" \\
    ${gatewayUrl}/dicom-web/studies/${study.studyInstanceUid}/series/${study.series[0]!.seriesInstanceUid}/instances/${study.series[0]!.instances[0]}/rendered
`
    : ''
}
Press Ctrl-C to stop everything.
`);
}

main().catch(async (error: unknown) => {
  step(error instanceof SetupError ? error.message : `start failed: ${error instanceof Error ? error.stack : String(error)}`);
  await supervisor.stopAll(1);
});
