import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Problem } from './problem.js';
import type { Logger } from 'pino';
import { signCheckpoint } from '../audit/evidence/checkpoints.js';
import type { TemporalSettings } from '../config/env-pieces.js';
import type { Db } from '../db/client.js';
import type { SigningKeyStore } from '../tokens/signing-keys.js';
import { signingTaskQueue, type CheckpointSigningActivities } from '../workflows/background-jobs.js';
import type { FreezeRevocationActivities } from '../workflows/freeze.js';
import type { FreezeService } from './freeze-service.js';

/** The one activity the audit-checkpoint workflow needs from a process that holds the signing key. */
export function createCheckpointSigningActivities(db: Db, keys: SigningKeyStore): CheckpointSigningActivities {
  return {
    async signAuditCheckpoint() {
      const checkpoint = await signCheckpoint(db, keys);
      return checkpoint && { seq: checkpoint.seq.toString(), headHash: checkpoint.headHash, kid: checkpoint.kid, signedAt: checkpoint.signedAt.toISOString() };
    },
  };
}

/** A freeze's revocations, signed here as the security officer who froze. */
export function createFreezeRevocationActivities(freezes: FreezeService): FreezeRevocationActivities {
  return {
    async revokeFrozenGrants({ freezeId }) {
      // The caller as the Temporal server names it: only the freeze's own workflow run may have this process sign revocations.
      const { workflowExecution, workflowType } = Context.current().info;
      if (!workflowExecution || workflowType !== 'freezeWorkflow' || workflowExecution.workflowId !== freezeId) {
        throw ApplicationFailure.nonRetryable('Only a freeze workflow may revoke what it freezes.', 'NOT_THE_FREEZE_WORKFLOW');
      }
      try {
        return await freezes.revokeFrozenGrants(freezeId, { runId: workflowExecution.runId }, () => Context.current().heartbeat());
      } catch (error) {
        if (error instanceof Problem && error.extensions.reason === 'DUPLICATE_RUN') throw ApplicationFailure.nonRetryable(error.message, 'DUPLICATE_RUN');
        throw error;
      }
    },
  };
}

/** The SDK warns about this for every worker without workflows; this one has none by design. */
const EXPECTED_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks']);

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** The Temporal runtime's messages (the SDK's and, forwarded, its core's) as lines of the process's own log. */
class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly target: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const at = level === 'WARN' && EXPECTED_WARNINGS.has(message) ? 'DEBUG' : level;
    this.target[PINO_LEVEL[at]]({ ...meta }, message);
  }
  trace = (message: string, meta?: LogMetadata) => this.log('TRACE', message, meta);
  debug = (message: string, meta?: LogMetadata) => this.log('DEBUG', message, meta);
  info = (message: string, meta?: LogMetadata) => this.log('INFO', message, meta);
  warn = (message: string, meta?: LogMetadata) => this.log('WARN', message, meta);
  error = (message: string, meta?: LogMetadata) => this.log('ERROR', message, meta);
}

/**
 * The API process's Temporal runtime, installed before the signing worker connects. By
 * default the runtime takes SIGINT, SIGTERM, SIGQUIT and SIGUSR2 and stops every worker on
 * them, behind the process's back: on SIGQUIT or SIGUSR2 the signing worker stopped and
 * the API went on serving. Here the runtime takes no signal (api/main.ts owns them all), and
 * its messages go to the API's log.
 */
export function installApiTemporalRuntime(log: Logger): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new PinoTemporalLogger(log.child({ component: 'temporal' })),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
}

export interface CheckpointSigningWorker {
  /** Settles once the worker has stopped: rejects if it failed, or stopped without stop() asking. */
  readonly running: Promise<void>;
  stop(): Promise<void>;
}

/**
 * An activity-only Temporal worker in this API process, on the signing task queue: the
 * worker process decides when the chain's head is signed and holds no key, so it asks here.
 * Any API process can take the task; checkpoint writes are idempotent.
 */
export async function startCheckpointSigningWorker(options: {
  temporal: TemporalSettings;
  db: Db;
  keys: SigningKeyStore;
  /** Other activities that need this process's key: a freeze's revocations. */
  freezes?: FreezeService;
}): Promise<CheckpointSigningWorker> {
  const connection = await NativeConnection.connect({ address: options.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: signingTaskQueue(options.temporal.taskQueue),
    activities: {
      ...createCheckpointSigningActivities(options.db, options.keys),
      ...(options.freezes ? createFreezeRevocationActivities(options.freezes) : {}),
    },
  });
  let asked = false;
  const running = worker
    .run()
    .finally(() => connection.close())
    .then(() => {
      // A process that signs no checkpoint must not look as if it did.
      if (!asked) throw new Error('the checkpoint signing worker stopped without being asked to');
    });
  return {
    running,
    async stop() {
      asked = true;
      // The SDK's own signal handler (where the runtime has one) may have begun the shutdown already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
