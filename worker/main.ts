import { Client, Connection } from '@temporalio/client';
import { AuditForwarder } from '../audit/forwarding/audit-forwarder.js';
import { SyslogSender } from '../audit/forwarding/syslog-sender.js';
import { createLogger } from '../config/logger.js';
import { loadWorkerConfig } from '../config/worker-config.js';
import { createDb } from '../db/client.js';
import { startBackgroundWork } from './background-work.js';
import { createAccessRequestWorker } from './run-worker.js';

const config = loadWorkerConfig();
const log = createLogger('worker', config.logLevel);
const db = createDb(config.databaseUrl);
const clientConnection = await Connection.connect({ address: config.temporal.address });
const temporal = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
const forwarder = config.auditSyslog ? new AuditForwarder(db, new SyslogSender(config.auditSyslog)) : undefined;
const { worker, connection } = await createAccessRequestWorker({
  ...config.temporal,
  db,
  temporal,
  forwarder,
  background: config.background,
  incidents: config.incidents,
});
const background = await startBackgroundWork(temporal, config);
log.info({ taskQueue: config.temporal.taskQueue, background }, 'worker running');
if (config.incidents.smtp) log.info({ smtp: config.incidents.smtp.url.replace(/\/\/[^@/]*@/, '//') }, 'incident e-mail goes out by SMTP');
if (config.auditSyslog) log.info({ collector: config.auditSyslog.url }, 'forwarding DICOM audit messages to syslog');
// Worker.run installs SIGINT/SIGTERM handlers and drains before it resolves.
await worker.run();
await forwarder?.close();
await clientConnection.close();
await connection.close();
await db.$disconnect();
log.info('worker stopped');
