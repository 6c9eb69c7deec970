import type { Client } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflowsForReplay, replayCase } from '../audit/evidence/replay-case.js';
import { loadHistory } from '../audit/read/case-timeline.js';
import type { ReplayReport } from '../contracts/replay-report.js';
import type { Db } from '../db/client.js';
import { Problem } from './problem.js';

/** Replays queued or running in one process; beyond this an auditor is asked to retry. */
const MAX_IN_LINE = 8;
/** A replay that has not finished by then is reported as failed, and the next one starts. */
const REPLAY_TIMEOUT_MS = 120_000;

/**
 * Replays cases for auditors inside the API process: the workflow code is bundled once, on
 * the first replay, and replays run one at a time, since each holds a workflow sandbox and
 * the API serves everyone else meanwhile. A place in line is taken before the history is
 * loaded, so a crowd of requests cannot each hold a history while waiting to be refused.
 */
export class CaseReplayer {
  private bundle: Promise<WorkflowBundle> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private inLine = 0;

  constructor(private readonly deps: { db: Db; temporal: Client }) {}

  async replay(caseId: string, stillWanted: () => boolean = () => true): Promise<ReplayReport> {
    if (this.inLine >= MAX_IN_LINE) {
      throw new Problem(503, 'Busy', 'Other replays are running in this process; retry in a minute.', { reason: 'REPLAY_BUSY' }, { 'Retry-After': '60' });
    }
    this.inLine += 1;
    const turn = this.tail.then(() => (stillWanted() ? this.run(caseId) : Promise.reject(new Problem(499, 'Gone', 'The caller left.'))));
    // The next replay waits for this one, or for its timeout, never for ever.
    this.tail = turn.catch(() => undefined);
    try {
      return await turn;
    } finally {
      this.inLine -= 1;
    }
  }

  private async run(caseId: string): Promise<ReplayReport> {
    const { history, source } = await loadHistory(this.deps.temporal, this.deps.db, caseId);
    if (!history || source === 'none') {
      throw new Problem(409, 'No history', `Case ${caseId} has no workflow history, live or archived, to replay.`, { reason: 'NO_HISTORY' });
    }
    const workflowBundle = await this.workflowBundle();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ReplayReport>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({ caseId, events: history.events?.length ?? 0, result: 'replay-error', recordedOutcome: null, detail: 'The replay did not finish in time.' }),
        REPLAY_TIMEOUT_MS,
      );
    });
    try {
      return { ...(await Promise.race([replayCase(caseId, history, { workflowBundle }), timeout])), source };
    } finally {
      clearTimeout(timer);
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
