import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { checkpointDue } from '../audit/evidence/checkpoints.js';
import { HistoryArchiver, type ArchivePass } from '../audit/evidence/history-archiver.js';
import type { AuditForwarder } from '../audit/forwarding/audit-forwarder.js';
import type { Db } from '../db/client.js';

/** This worker's own settings for the background passes (config/worker-config.ts). */
export interface BackgroundSettings {
  archiveIntervalMs: number;
  checkpointPollMs: number;
  checkpointMaxUnsignedMs: number;
  forwardIntervalMs: number;
}

/** Every pass says when the next one is due: its worker's setting, read where it runs. */
export interface PassResult {
  nextPassInMs: number;
}

/**
 * The worker's side of the background workflows (workflows/background-work.ts): each activity
 * is one pass of a job, over functions that audit/ keeps usable on their own. Every write
 * they make is idempotent or marked only once done, so a pass Temporal retries is harmless.
 * Settings come from this worker's configuration, never from the workflow: a workflow's
 * start and messages are anyone's to send, the worker process is ours.
 * Checkpoint signing is not here: it needs the API's key (api/checkpoint-signing-worker.ts).
 */
export function createBackgroundActivities(deps: { db: Db; temporal: Client; taskQueue: string; settings: BackgroundSettings; forwarder?: AuditForwarder }) {
  const archiver = new HistoryArchiver(deps.temporal, deps.db, deps.taskQueue);
  const { settings } = deps;
  return {
    async archiveClosedCaseHistories(input: { since?: string }): Promise<ArchivePass & PassResult> {
      const pass = await archiver.archiveClosedCases(input?.since, () => heartbeat());
      return { ...pass, nextPassInMs: settings.archiveIntervalMs };
    },

    async isAuditCheckpointDue(): Promise<{ due: boolean } & PassResult> {
      return { due: await checkpointDue(deps.db, settings.checkpointMaxUnsignedMs), nextPassInMs: settings.checkpointPollMs };
    },

    async forwardAuditMessages(): Promise<{ accessRecords: number; chainEvents: number } & PassResult> {
      // Workers on one task queue may be configured apart. Returning "nothing to send" here
      // would let the workflow sleep while messages wait; failing sends the pass, on retry,
      // to a worker that has the collector.
      if (!deps.forwarder) {
        throw ApplicationFailure.retryable(
          'This worker has no syslog collector (AUDIT_SYSLOG_URL); a worker with one must send these messages.',
          'NO_SYSLOG_COLLECTOR',
        );
      }
      return { ...(await deps.forwarder.forward(() => heartbeat())), nextPassInMs: settings.forwardIntervalMs };
    },
  };
}
