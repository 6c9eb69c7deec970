import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../worker/run-worker.js';

// No server needed: the recorded histories (test/histories, from `npm run
// histories:record`) are replayed against the workflow code as it is now.
const folder = fileURLToPath(new URL('../histories', import.meta.url));
const histories = readdirSync(folder)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ workflowId: path.basename(f, '.json'), history: historyFromJSON(JSON.parse(readFileSync(path.join(folder, f), 'utf8'))) }));

async function replay(workflowsPath: string): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) results.push(result);
  return results;
}

beforeAll(() => {
  // The non-determinism below is expected; keep the core's warnings about it out of the output.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
});

describe('workflow replay', () => {
  it('has recorded histories for every way a request ends', () => {
    expect(histories.map((h) => h.workflowId).sort()).toEqual(['cancelled', 'denied', 'expired', 'reviewed-then-cancelled', 'revoked', 'timed-out']);
  });

  it('replays every recorded history with the current workflow code', async () => {
    const results = await replay(WORKFLOWS_PATH);
    expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(histories.map((h) => [h.workflowId, undefined]));
  }, 120_000);

  it('fails on a workflow change that is not replay-safe', async () => {
    const changed = fileURLToPath(new URL('../fixtures/nondeterministic-workflow/index.ts', import.meta.url));
    const results = await replay(changed);
    expect(results).toHaveLength(histories.length);
    for (const result of results) {
      expect(result.error, result.workflowId).toBeDefined();
      expect(result.error!.name, result.workflowId).toMatch(/Determinism/);
    }
  }, 120_000);
});
