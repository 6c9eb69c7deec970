import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../workflows/location.js';
import { createBackgroundActivities, type BackgroundSettings } from '../activities/background-work.js';
import { createPrincipalActivities } from '../activities/principals.js';
import { createRecordActivities } from '../activities/records.js';
import { createFreezeRecordActivities } from '../activities/freezes/records.js';
import { createIncidentActivities, type IncidentActivitySettings } from '../activities/incidents/activities.js';
import type { AuditForwarder } from '../audit/forwarding/audit-forwarder.js';
import type { Db } from '../db/client.js';

/**
 * A worker for the task queue: the access-request workflow and its activities, and the
 * background workflows with every activity of theirs but checkpoint signing (the API's).
 */
export async function createAccessRequestWorker(options: {
  address: string;
  namespace: string;
  taskQueue: string;
  db: Db;
  /** For the history archive's activity, which reads Temporal's visibility and histories. */
  temporal: Client;
  /** This worker's settings for the background passes: each pass reports the next one's interval from here. */
  background: BackgroundSettings;
  /** Absent on a worker without a syslog collector: its forwarding activity then fails, to be retried elsewhere. */
  forwarder?: AuditForwarder;
  /** Where incident notifications go, and the SMTP server that carries e-mail. */
  incidents: IncidentActivitySettings;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: {
      ...createRecordActivities(options.db),
      ...createFreezeRecordActivities(options.db),
      ...createIncidentActivities(options.db, options.incidents),
      ...createPrincipalActivities(options.db),
      ...createBackgroundActivities({
        db: options.db,
        temporal: options.temporal,
        taskQueue: options.taskQueue,
        settings: options.background,
        forwarder: options.forwarder,
      }),
    },
  });
  return { worker, connection };
}
