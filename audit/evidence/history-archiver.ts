import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Db } from '../../db/client.js';

/**
 * Copies the event history of every closed access-request workflow into the database, once.
 * Temporal deletes closed histories after the namespace's retention period; auditors need
 * them for years. Safe to run from several processes: an archive row is written once.
 */
export class HistoryArchiver {
  /** Close time of the newest case already archived by this process: later passes list only newer ones. */
  private since?: Date;

  constructor(
    private readonly temporal: Client,
    private readonly db: Db,
  ) {}

  async archiveClosedCases(): Promise<number> {
    const query = [`WorkflowType = 'accessRequestWorkflow'`, `ExecutionStatus != 'Running'`];
    if (this.since) query.push(`CloseTime >= '${this.since.toISOString()}'`);
    let archived = 0;
    let newest = this.since;
    for await (const execution of this.temporal.workflow.list({ query: query.join(' AND ') })) {
      if (!execution.closeTime) continue;
      if (!newest || execution.closeTime > newest) newest = execution.closeTime;
      if (await this.archiveCase(execution.workflowId, execution.runId, execution.closeTime)) archived += 1;
    }
    this.since = newest;
    return archived;
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
