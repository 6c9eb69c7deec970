import type { Client } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflowsForReplay, replayCase } from '../audit/evidence/replay-case.js';
import { loadHistory } from '../audit/read/case-timeline.js';
import type { ReplayReport } from '../contracts/replay-report.js';
import type { Db } from '../db/client.js';
import { Problem } from './problem.js';

/** Replays wait their turn; beyond this many waiting, an auditor is asked to retry. */
const MAX_WAITING = 8;

/**
 * Replays cases for auditors inside the API process: the workflow code is bundled once, on
 * the first replay, and replays run one at a time, since each holds a workflow sandbox and
 * the API serves everyone else meanwhile.
 */
export class CaseReplayer {
  private bundle: Promise<WorkflowBundle> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly deps: { db: Db; temporal: Client }) {}

  async replay(caseId: string): Promise<ReplayReport> {
    const { history, source } = await loadHistory(this.deps.temporal, this.deps.db, caseId);
    if (!history || source === 'none') throw new Problem(409, 'No history', `Case ${caseId} has no workflow history, live or archived, to replay.`);
    if (this.waiting >= MAX_WAITING)
      throw new Problem(503, 'Busy', 'Other replays are running in this process; retry in a minute.', {}, { 'Retry-After': '60' });
    this.waiting += 1;
    const turn = this.tail.then(async () => {
      const workflowBundle = await this.workflowBundle();
      return replayCase(caseId, history, { workflowBundle });
    });
    this.tail = turn.catch(() => undefined);
    try {
      return { ...(await turn), source };
    } finally {
      this.waiting -= 1;
    }
  }

  private workflowBundle(): Promise<WorkflowBundle> {
    this.bundle ??= bundleWorkflowsForReplay().catch((error: unknown) => {
      // A failed build is tried again by the next replay, not remembered.
      this.bundle = undefined;
      throw error;
    });
    return this.bundle;
  }
}
