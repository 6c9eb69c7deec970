import { NativeConnection, Worker } from '@temporalio/worker';
import { signCheckpoint } from '../audit/evidence/checkpoints.js';
import type { TemporalSettings } from '../config/env-pieces.js';
import type { Db } from '../db/client.js';
import type { SigningKeyStore } from '../tokens/signing-keys.js';
import { signingTaskQueue, type CheckpointSigningActivities } from '../workflows/background-jobs.js';

/** The one activity the audit-checkpoint workflow needs from a process that holds the signing key. */
export function createCheckpointSigningActivities(db: Db, keys: SigningKeyStore): CheckpointSigningActivities {
  return {
    async signAuditCheckpoint() {
      const checkpoint = await signCheckpoint(db, keys);
      return checkpoint && { seq: checkpoint.seq.toString(), headHash: checkpoint.headHash, kid: checkpoint.kid, signedAt: checkpoint.signedAt.toISOString() };
    },
  };
}

export interface CheckpointSigningWorker {
  /** Settles when the worker has stopped; rejects if it failed. */
  readonly running: Promise<void>;
  stop(): Promise<void>;
}

/**
 * An activity-only Temporal worker in this API process, on the signing task queue: the
 * worker process decides when the chain's head is signed and holds no key, so it asks here.
 * Any API process can take the task; checkpoint writes are idempotent.
 */
export async function startCheckpointSigningWorker(options: { temporal: TemporalSettings; db: Db; keys: SigningKeyStore }): Promise<CheckpointSigningWorker> {
  const connection = await NativeConnection.connect({ address: options.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: signingTaskQueue(options.temporal.taskQueue),
    activities: createCheckpointSigningActivities(options.db, options.keys),
  });
  const running = worker.run().finally(() => connection.close());
  return {
    running,
    async stop() {
      // The SDK's own SIGINT/SIGTERM handler may have begun the shutdown already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
