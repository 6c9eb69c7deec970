import { z } from 'zod';
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
  })
  .parse(process.env);

const log = createLogger('worker', env.LOG_LEVEL);
const db = createDb(env.DATABASE_URL);
const { worker, connection } = await createAccessRequestWorker({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE, db });
log.info({ taskQueue: env.TEMPORAL_TASK_QUEUE }, 'worker running');
// Worker.run installs SIGINT/SIGTERM handlers and drains before it resolves.
await worker.run();
await connection.close();
await db.$disconnect();
log.info('worker stopped');
