import { createHash } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Db } from '../../db/client.js';

/**
 * Visibility is eventually consistent: a case can be listed a little after a later-closing
 * one was. Each pass looks this far behind its watermark again. Correctness does not rest on
 * it: the database's ended cases are reconciled on every pass.
 */
const VISIBILITY_LAG_MS = 5 * 60_000;

/** Ended cases without an archive are read from the database this many at a time. */
const RECONCILE_BATCH = 100;

/**
 * Temporal deletes a closed history after the namespace's retention period, counted from the
 * close, which comes shortly after the request's end is recorded. A case that ended longer
 * ago than retention and this margin has no history left to copy, so it is not asked for.
 */
const RETENTION_MARGIN_MS = 24 * 3_600_000;

const CASE_WORKFLOW_TYPE = 'accessRequestWorkflow';

export interface ArchivePass {
  /** Cases archived by this pass, from the listing and from the reconciliation together. */
  archived: number;
  /** Of those, the cases the listing did not show. */
  reconciled: number;
  /** Ended cases within retention whose history Temporal no longer has: lost to the archive. */
  missing: number;
  /** The newest close time the listing showed: where the next pass's listing starts. */
  since?: string;
}

/**
 * Copies the event history of every closed case of this deployment into the database, once.
 * Temporal deletes closed histories after the namespace's retention period; auditors need
 * them for years. Safe to run from several processes: an archive row is written once.
 *
 * A case is this deployment's when this database recorded it, and its history is the one of
 * the run that recorded it: another deployment's case (in the same namespace) or another run
 * under a case's id (anyone may start one once the case has closed) is never copied.
 */
export class HistoryArchiver {
  constructor(
    private readonly temporal: Client,
    private readonly db: Db,
    /** The task queue of this deployment's access-request workflows. */
    private readonly taskQueue: string,
  ) {
    // It goes into a visibility query between quotes.
    if (!/^[^\s'"\\]+$/.test(taskQueue)) throw new Error(`A task queue the archive can name in a query has no quotes, backslashes or spaces: ${taskQueue}`);
  }

  /**
   * One pass: the cases the listing shows closed since `since` (ISO 8601; all of them
   * without it, or when it is not a time), then every ended case in the database that has no
   * archive yet. `onCase` is called with each case looked at, so a caller can show progress.
   */
  async archiveClosedCases(since?: string, onCase?: (caseId: string) => void): Promise<ArchivePass> {
    const listed = await this.archiveListed(since, onCase);
    const { reconciled, missing } = await this.reconcile(onCase);
    return { archived: listed.archived + reconciled, reconciled, missing, since: listed.since };
  }

  /** Archives one closed case; false when it was archived already, or is not this deployment's run of it. */
  async archiveCase(workflowId: string, runId: string, closedAt: Date): Promise<boolean> {
    if (await this.db.caseHistoryArchive.findUnique({ where: { accessRequestId: workflowId }, select: { runId: true } })) return false;
    const recorded = await this.db.accessRequest.findUnique({ where: { id: workflowId }, select: { workflowRunId: true } });
    // Requests recorded before runs were kept name none; their case's run is the one there is.
    if (!recorded || (recorded.workflowRunId && recorded.workflowRunId !== runId)) return false;
    const history = await this.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    const json = historyToJSON(history);
    const { count } = await this.db.caseHistoryArchive.createMany({
      data: [
        {
          accessRequestId: workflowId,
          runId,
          closedAt,
          history: json,
          sha256: createHash('sha256').update(json).digest('hex'),
          eventCount: history.events?.length ?? 0,
        },
      ],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** The visibility listing of this task queue's closed cases: quick, but it may show a case late. */
  listingQuery(since?: string): string {
    const query = [`WorkflowType = '${CASE_WORKFLOW_TYPE}'`, `ExecutionStatus != 'Running'`, `TaskQueue = '${this.taskQueue}'`];
    const from = since === undefined ? NaN : Date.parse(since);
    if (Number.isFinite(from)) query.push(`CloseTime >= '${new Date(from - VISIBILITY_LAG_MS).toISOString()}'`);
    return query.join(' AND ');
  }

  private async archiveListed(since: string | undefined, onCase?: (caseId: string) => void): Promise<{ archived: number; since?: string }> {
    const from = since === undefined ? NaN : Date.parse(since);
    let newest = Number.isFinite(from) ? new Date(from) : undefined;
    let archived = 0;
    for await (const execution of this.temporal.workflow.list({ query: this.listingQuery(since) })) {
      onCase?.(execution.workflowId);
      if (!execution.closeTime) continue;
      if (!newest || execution.closeTime > newest) newest = execution.closeTime;
      if (await this.archiveCase(execution.workflowId, execution.runId, execution.closeTime)) archived += 1;
    }
    return { archived, since: newest?.toISOString() };
  }

  /** Every case the database holds as ended, within retention, without an archive: each closed one is archived. */
  private async reconcile(onCase?: (caseId: string) => void): Promise<{ reconciled: number; missing: number }> {
    let reconciled = 0;
    let missing = 0;
    let after = { endedAt: await this.oldestWithHistory(), id: '' };
    for (;;) {
      const batch = await this.db.$queryRaw<{ id: string; workflow_run_id: string | null; ended_at: Date }[]>`
        SELECT a.id, a.workflow_run_id, a.ended_at FROM access_requests a
        WHERE a.ended_at IS NOT NULL
          AND (a.ended_at, a.id) > (${after.endedAt}::timestamptz, ${after.id})
          AND NOT EXISTS (SELECT 1 FROM case_history_archives c WHERE c.access_request_id = a.id)
        ORDER BY a.ended_at, a.id
        LIMIT ${RECONCILE_BATCH}`;
      for (const row of batch) {
        onCase?.(row.id);
        const outcome = await this.archiveEnded(row.id, row.workflow_run_id ?? undefined);
        if (outcome === 'archived') reconciled += 1;
        if (outcome === 'missing') missing += 1;
      }
      if (batch.length < RECONCILE_BATCH) return { reconciled, missing };
      const last = batch[batch.length - 1]!;
      after = { endedAt: last.ended_at, id: last.id };
    }
  }

  private async archiveEnded(caseId: string, runId: string | undefined): Promise<'archived' | 'not-yet' | 'missing'> {
    let execution;
    try {
      execution = await this.temporal.workflow.getHandle(caseId, runId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'missing';
      throw error;
    }
    // Still closing (the end is recorded before the workflow returns), or not a case at all.
    if (execution.status.name === 'RUNNING' || !execution.closeTime || execution.type !== CASE_WORKFLOW_TYPE) return 'not-yet';
    return (await this.archiveCase(caseId, execution.runId, execution.closeTime)) ? 'archived' : 'not-yet';
  }

  /** The end time before which no case's history can still be in Temporal; the epoch when retention is unknown. */
  private async oldestWithHistory(): Promise<Date> {
    const { config } = await this.temporal.workflowService.describeNamespace({ namespace: this.temporal.options.namespace });
    const seconds = Number(config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    if (!Number.isFinite(seconds) || seconds <= 0) return new Date(0);
    return new Date(Date.now() - seconds * 1000 - RETENTION_MARGIN_MS);
  }
}
