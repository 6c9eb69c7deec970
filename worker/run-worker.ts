import { NativeConnection, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../workflows/location.js';
import { createPrincipalActivities } from '../activities/principals.js';
import { createRecordActivities } from '../activities/records.js';
import type { Db } from '../db/client.js';

/** A worker for the access-request task queue; resolves when it has shut down. */
export async function createAccessRequestWorker(options: {
  address: string;
  namespace: string;
  taskQueue: string;
  db: Db;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: { ...createRecordActivities(options.db), ...createPrincipalActivities(options.db) },
  });
  return { worker, connection };
}
