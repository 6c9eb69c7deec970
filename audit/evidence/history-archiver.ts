import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Db } from '../../db/client.js';

/**
 * Visibility is eventually consistent: a case can be listed a little after a later-closing
 * one was. Each pass looks this far behind its watermark again, so none is skipped for good.
 */
const VISIBILITY_LAG_MS = 5 * 60_000;

/**
 * Copies the event history of every closed access-request workflow into the database, once.
 * Temporal deletes closed histories after the namespace's retention period; auditors need
 * them for years. Safe to run from several processes: an archive row is written once.
 */
export class HistoryArchiver {
  constructor(
    private readonly temporal: Client,
    private readonly db: Db,
  ) {}

  /**
   * One pass over the cases closed since `since` (ISO 8601; all of them without it). Returns
   * how many it archived and the watermark for the next pass: the newest close time seen.
   * `onCase` is called for each case looked at, so a caller can show it is making progress.
   */
  async archiveClosedCases(since?: string, onCase?: () => void): Promise<{ archived: number; since?: string }> {
    const query = [`WorkflowType = 'accessRequestWorkflow'`, `ExecutionStatus != 'Running'`];
    if (since) query.push(`CloseTime >= '${new Date(Date.parse(since) - VISIBILITY_LAG_MS).toISOString()}'`);
    let archived = 0;
    let newest = since ? new Date(since) : undefined;
    for await (const execution of this.temporal.workflow.list({ query: query.join(' AND ') })) {
      onCase?.();
      if (!execution.closeTime) continue;
      if (!newest || execution.closeTime > newest) newest = execution.closeTime;
      if (await this.archiveCase(execution.workflowId, execution.runId, execution.closeTime)) archived += 1;
    }
    return { archived, since: newest?.toISOString() };
  }

  /** Archives one closed case; false when it was already archived. */
  async archiveCase(workflowId: string, runId: string, closedAt: Date): Promise<boolean> {
    if (await this.db.caseHistoryArchive.findUnique({ where: { accessRequestId: workflowId }, select: { runId: true } })) return false;
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
}
