import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type ReplayResult, type ReplayWorkerOptions } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordedWorkflowId } from '../../audit/evidence/replay-case.js';
import { WORKFLOWS_PATH } from '../../workflows/location.js';

// No server needed: the recorded histories (test/histories, from `npm run
// histories:record`) are replayed against the workflow code as it is now.
// histories/ holds the current version; before-assertions/ the runs recorded before
// messages had to carry the API's assertion, which must still replay (patched()).
const folder = fileURLToPath(new URL('../histories', import.meta.url));
// Each is replayed under its own workflow id (the request id, from its start input): the
// workflow checks that it runs as the request it was started for.
const read = (sub: string) =>
  readdirSync(path.join(folder, sub))
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(folder, sub, f), 'utf8')));
      return { name: `${sub ? `${sub}/` : ''}${path.basename(f, '.json')}`, workflowId: recordedWorkflowId(history, f), history };
    });
const histories = [...read(''), ...read('before-assertions')];
const nameOf = new Map(histories.map((h) => [h.workflowId, h.name]));

async function replay(workflowsPath: string): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) results.push(result);
  return results;
}

// The background workflows' histories (scripts/record-background-histories.ts), each file
// named by its workflow id: background/ holds each job's first run and a refused start,
// continued/ the run each continued as, before-interval-from-pass/ the runs of the code that
// took its intervals from a settings signal, which a deployed workflow may still be in.
const readBackground = (sub: string) => {
  const dir = path.join(folder, 'background', sub);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
      const taskQueue = history.events?.[0]?.workflowExecutionStartedEventAttributes?.taskQueue?.name ?? '';
      return { name: path.join('background', sub, path.basename(f, '.json')), workflowId: path.basename(f, '.json'), taskQueue, history };
    });
};
const background = [...readBackground(''), ...readBackground('continued'), ...readBackground('before-interval-from-pass')];

/**
 * Replays the background histories of one task queue at a time, on that queue: the workflows
 * check their id against the task queue they run on. ReplayWorkerOptions leaves the task
 * queue out of its type, but the replayer takes it (Worker.constructReplayWorker spreads the
 * options over its made-up queue).
 */
async function replayBackground(workflowsPath: string): Promise<{ name: string; error?: Error }[]> {
  const results: { name: string; error?: Error }[] = [];
  for (const taskQueue of new Set(background.map((h) => h.taskQueue))) {
    const batch = background.filter((h) => h.taskQueue === taskQueue);
    const options = { workflowsPath, taskQueue } as ReplayWorkerOptions;
    let i = 0;
    for await (const result of Worker.runReplayHistories(options, batch)) results.push({ name: batch[i++]!.name, error: result.error });
  }
  return results;
}

beforeAll(() => {
  // The non-determinism below is expected; keep the core's warnings about it out of the output.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
});

describe('workflow replay', () => {
  it('has recorded histories for every way a request ends, a break-glass that opens an incident, and an incident', () => {
    const paths = ['cancelled', 'denied', 'expired', 'reviewed-then-cancelled', 'revoked', 'timed-out'];
    // Break-glass and incidents came after assertions: they have no run from before them.
    const later = ['break-glass', 'break-glass-unreviewed', 'incident'];
    expect(histories.map((h) => h.name).sort()).toEqual([...paths, ...later, ...paths.map((p) => `before-assertions/${p}`)].sort());
  });

  it('replays every recorded history with the current workflow code', async () => {
    const results = await replay(WORKFLOWS_PATH);
    expect(results.map((r) => [nameOf.get(r.workflowId), r.error?.message])).toEqual(histories.map((h) => [h.name, undefined]));
  }, 120_000);

  it('has recorded histories for every background job, continued as new, and a refused start', () => {
    const jobs = ['audit-checkpoint', 'audit-forwarding', 'history-archive'].map((job) => `${job}@background-histories`);
    expect(background.map((h) => h.name).sort()).toEqual(
      [
        ...jobs.map((id) => `background/${id}`),
        'background/history-archive@another-queue',
        ...jobs.map((id) => `background/continued/${id}`),
        ...jobs.map((id) => `background/before-interval-from-pass/${id}`),
      ].sort(),
    );
  });

  it('replays every background history with the current workflow code', async () => {
    const results = await replayBackground(WORKFLOWS_PATH);
    expect(results.map((r) => [r.name, r.error?.message])).toEqual(background.map((h) => [h.name, undefined]));
  }, 120_000);

  it('fails on a background workflow change that is not replay-safe', async () => {
    const changed = fileURLToPath(new URL('../fixtures/nondeterministic-background/index.ts', import.meta.url));
    const results = await replayBackground(changed);
    expect(results).toHaveLength(background.length);
    for (const result of results) {
      expect(result.error, result.name).toBeDefined();
      expect(result.error!.name, result.name).toMatch(/Determinism/);
    }
  }, 120_000);

  it('fails on a workflow change that is not replay-safe', async () => {
    const changed = fileURLToPath(new URL('../fixtures/nondeterministic-workflow/index.ts', import.meta.url));
    const results = await replay(changed);
    expect(results).toHaveLength(histories.length);
    for (const result of results) {
      expect(result.error, nameOf.get(result.workflowId)).toBeDefined();
      expect(result.error!.name, nameOf.get(result.workflowId)).toMatch(/Determinism/);
    }
  }, 120_000);
});
