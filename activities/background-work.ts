import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { checkpointDue } from '../audit/evidence/checkpoints.js';
import { HistoryArchiver } from '../audit/evidence/history-archiver.js';
import type { AuditForwarder } from '../audit/forwarding/audit-forwarder.js';
import type { Db } from '../db/client.js';

/**
 * The worker's side of the background workflows (workflows/background-work.ts): each activity
 * is one pass of a job, over functions that audit/ keeps usable on their own. Every write
 * they make is idempotent or marked only once done, so a pass Temporal retries is harmless.
 * Checkpoint signing is not here: it needs the API's key (api/checkpoint-signing-worker.ts).
 */
export function createBackgroundActivities(deps: { db: Db; temporal: Client; forwarder?: AuditForwarder }) {
  const archiver = new HistoryArchiver(deps.temporal, deps.db);
  return {
    async archiveClosedCaseHistories(input: { since?: string }): Promise<{ archived: number; since?: string }> {
      return archiver.archiveClosedCases(input.since, () => heartbeat());
    },

    async isAuditCheckpointDue(input: { maxUnsignedMs: number }): Promise<boolean> {
      return checkpointDue(deps.db, input.maxUnsignedMs);
    },

    async forwardAuditMessages(): Promise<{ accessRecords: number; chainEvents: number }> {
      // Workers on one task queue may be configured apart. Returning "nothing to send" here
      // would let the workflow sleep while messages wait; failing sends the pass, on retry,
      // to a worker that has the collector.
      if (!deps.forwarder) {
        throw ApplicationFailure.retryable(
          'This worker has no syslog collector (AUDIT_SYSLOG_URL); a worker with one must send these messages.',
          'NO_SYSLOG_COLLECTOR',
        );
      }
      return deps.forwarder.forward(() => heartbeat());
    },
  };
}
