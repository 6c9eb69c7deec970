import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../db/client.js';
import { seedDemoDirectory } from '../../db/seed-demo.js';
import { provisionDatabase, provisionTemporal, scratchDir, startWorkerProcess } from '../../scripts/lib/ephemeral-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    taskQueue: string;
    keyEncryptionKey: string;
    workDir: string;
  }
}

/** One real PostgreSQL, one real Temporal server and one real worker for the e2e run. */
export default async function setup(project: TestProject) {
  const workDir = scratchDir('iar-test-');
  process.stderr.write(`[iar] test servers' logs: ${workDir}\n`);
  const [database, temporal] = await Promise.all([provisionDatabase(workDir), provisionTemporal(workDir)]);
  const db = createDb(database.url, { maxConnections: 2 });
  await seedDemoDirectory(db);
  await db.$disconnect();
  const taskQueue = `iar-test-${process.pid}`;
  const worker = await startWorkerProcess({ databaseUrl: database.url, temporalAddress: temporal.address, taskQueue, logFile: path.join(workDir, 'worker.log') });

  project.provide('databaseUrl', database.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('taskQueue', taskQueue);
  project.provide('keyEncryptionKey', randomBytes(32).toString('base64'));
  project.provide('workDir', workDir);

  return async () => {
    await worker.stop();
    await temporal.server?.process.stop();
    await database.drop();
    await database.server?.process.stop();
  };
}
