import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../db/client.js';
import { seedDemoDirectory } from '../../db/seed-demo.js';
import { provisionDatabase, provisionTemporal, scratchDir, startWorkerProcess } from '../../scripts/lib/ephemeral-servers.js';
import { startOrthanc } from '../../scripts/lib/orthanc-server.js';
import { freePort } from '../../scripts/lib/processes.js';
import { loadSyntheticStudies } from '../../scripts/lib/synthetic-studies.js';
import { buildWebIfStale } from '../../scripts/lib/web-build.js';
import { PACS_STUDIES, TWICE_HELD_STUDY } from './pacs-studies.js';
import { startSmtpCapture } from './smtp-capture.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    taskQueue: string;
    keyEncryptionKey: string;
    workDir: string;
    /** The PACS every test API confirms submissions against (PACS_STUDIES, TWICE_HELD_STUDY). */
    pacsDicomwebUrl: string;
    pacsUsername: string;
    pacsPassword: string;
    /** Why web/dist could not be built ('' when it is current): only the browser tests need it, and they fail with this. */
    webBuildError: string;
    /** Where the local SMTP server writes each e-mail the worker sends (incident notifications). */
    mailDir: string;
  }
}

/** One real PostgreSQL, one real Temporal server, one real worker and one PACS for the e2e run. */
export default async function setup(project: TestProject) {
  const workDir = scratchDir('iar-test-');
  process.stderr.write(`[iar] test servers' logs: ${workDir}\n`);
  const orthancDir = path.join(workDir, 'orthanc');
  // Once per run, alongside the servers: the browser tests load the built web app from the API.
  const webBuild = buildWebIfStale().then(
    () => '',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  const [database, temporal, orthanc, webBuildError] = await Promise.all([
    provisionDatabase(workDir),
    provisionTemporal(workDir),
    freePort().then((httpPort) => startOrthanc({ dataDir: orthancDir, httpPort, logFile: path.join(orthancDir, 'orthanc.log') })),
    webBuild,
  ]);
  await loadSyntheticStudies(orthanc, PACS_STUDIES);
  // The same study UID under a second patient: the PACS holds it twice.
  await loadSyntheticStudies(orthanc, [TWICE_HELD_STUDY[1]], { always: true });
  const db = createDb(database.url, { maxConnections: 2 });
  await seedDemoDirectory(db);
  await db.$disconnect();
  const taskQueue = `iar-test-${process.pid}`;
  const smtp = await startSmtpCapture(path.join(workDir, 'mail'));
  const worker = await startWorkerProcess({
    databaseUrl: database.url,
    temporalAddress: temporal.address,
    taskQueue,
    logFile: path.join(workDir, 'worker.log'),
    env: {
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      INCIDENT_REGULATOR_ADDRESS: 'regulator@dpa.test',
      INCIDENT_TEAM_ADDRESS: 'security-office@hospital.test',
      INCIDENT_ESCALATION_ADDRESS: 'ciso@hospital.test',
    },
  });

  project.provide('databaseUrl', database.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('taskQueue', taskQueue);
  project.provide('keyEncryptionKey', randomBytes(32).toString('base64'));
  project.provide('workDir', workDir);
  project.provide('pacsDicomwebUrl', orthanc.dicomwebUrl);
  project.provide('pacsUsername', orthanc.username);
  project.provide('pacsPassword', orthanc.password);
  project.provide('webBuildError', webBuildError);
  project.provide('mailDir', smtp.dir);

  return async () => {
    await worker.stop();
    await smtp.close();
    await temporal.server?.process.stop();
    await database.drop();
    await database.server?.process.stop();
    await orthanc.process.stop();
  };
}
