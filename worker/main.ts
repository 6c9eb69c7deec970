import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { AuditForwarder } from '../audit/forwarding/audit-forwarder.js';
import { HistoryArchiver } from '../audit/evidence/history-archiver.js';
import { SyslogSender } from '../audit/forwarding/syslog-sender.js';
import { createLogger } from '../config/logger.js';
import { createDb } from '../db/client.js';
import { createAccessRequestWorker } from './run-worker.js';

// The worker needs only the database and Temporal: no keys, no identity provider.
const env = z
  .object({
    DATABASE_URL: z.string().url(),
    TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_TASK_QUEUE: z.string().default('access-requests'),
    LOG_LEVEL: z.string().default('info'),
    /** How often closed cases' histories are copied into the database. */
    ARCHIVE_INTERVAL_SECONDS: z.coerce.number().min(1).default(30),
    /** The syslog collector for DICOM audit messages: tcp://host:port or tls://host:port. */
    AUDIT_SYSLOG_URL: z
      .string()
      .regex(/^(tcp|tls):\/\/[^/]+:\d+$/)
      .optional(),
    AUDIT_SYSLOG_CA_FILE: z.string().optional(),
  })
  .parse(process.env);

const log = createLogger('worker', env.LOG_LEVEL);
const db = createDb(env.DATABASE_URL);
const { worker, connection } = await createAccessRequestWorker({
  address: env.TEMPORAL_ADDRESS,
  namespace: env.TEMPORAL_NAMESPACE,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  db,
});
log.info({ taskQueue: env.TEMPORAL_TASK_QUEUE }, 'worker running');

const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
const archiver = new HistoryArchiver(new Client({ connection: clientConnection, namespace: env.TEMPORAL_NAMESPACE }), db);
let archiving = false;
const archiveTimer = setInterval(async () => {
  if (archiving) return;
  archiving = true;
  try {
    const archived = await archiver.archiveClosedCases();
    if (archived) log.info({ archived }, 'closed case histories archived');
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'archiving closed case histories failed; will retry');
  } finally {
    archiving = false;
  }
}, env.ARCHIVE_INTERVAL_SECONDS * 1000);

const forwarder = env.AUDIT_SYSLOG_URL
  ? new AuditForwarder(db, new SyslogSender({ url: env.AUDIT_SYSLOG_URL, caFile: env.AUDIT_SYSLOG_CA_FILE }), (error) =>
      log.warn({ err: error.message }, 'audit messages not forwarded yet; will retry'),
    )
  : undefined;
forwarder?.start();
if (forwarder) log.info({ collector: env.AUDIT_SYSLOG_URL }, 'forwarding DICOM audit messages to syslog');
// Worker.run installs SIGINT/SIGTERM handlers and drains before it resolves.
await worker.run();
clearInterval(archiveTimer);
await forwarder?.stop();
await clientConnection.close();
await connection.close();
await db.$disconnect();
log.info('worker stopped');
