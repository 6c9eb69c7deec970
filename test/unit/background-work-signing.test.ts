import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installApiTemporalRuntime, startCheckpointSigningWorker, type CheckpointSigningWorker } from '../../api/checkpoint-signing-worker.js';
import type { Db } from '../../db/client.js';
import type { SigningKeyStore } from '../../tokens/signing-keys.js';
import { findOrFetchTemporalTestServer } from '../../scripts/lib/temporal-test-server.js';

// The API process's side of the checkpoint workflow: its activity-only signing worker, on
// the Temporal runtime the API installs (api/main.ts), against Temporal's Java test server.
// No checkpoint is signed here (test/e2e/background-work.test.ts signs them).

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'] as const;
const listenersBefore = Object.fromEntries(SIGNALS.map((signal) => [signal, process.listenerCount(signal)]));
const lines: { level: number; msg: string; component?: string }[] = [];
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  // As api/main.ts does, before anything of Temporal's runtime starts in this process.
  installApiTemporalRuntime(pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) }));
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: await findOrFetchTemporalTestServer() } } });
}, 600_000);
afterAll(() => env?.teardown());

function signingWorker(): Promise<CheckpointSigningWorker> {
  const taskQueue = `signing-test-${Math.random().toString(36).slice(2)}`;
  // Neither is touched: nothing asks this worker to sign.
  return startCheckpointSigningWorker({ temporal: { address: env.address, namespace: 'default', taskQueue }, db: {} as Db, keys: {} as SigningKeyStore });
}

async function eventually(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the API’s checkpoint signing worker', { timeout: 60_000 }, () => {
  it('leaves every signal to the API process: the runtime listens to none', async () => {
    const worker = await signingWorker();
    for (const signal of SIGNALS) expect(process.listenerCount(signal), signal).toBe(listenersBefore[signal]);
    await worker.stop();
  });

  it('writes the runtime’s messages into the API’s log, the expected "no workflows" warning as debug', async () => {
    const worker = await signingWorker();
    await eventually('the worker’s note that it has no workflows', () => lines.some((l) => l.msg?.startsWith('No workflows registered')));
    const note = lines.find((l) => l.msg.startsWith('No workflows registered'))!;
    expect(note).toMatchObject({ level: 20, component: 'temporal' });
    await worker.stop();
  });

  it('settles when asked to stop, and fails when it stops unasked', async () => {
    await expect((await signingWorker()).stop()).resolves.toBeUndefined();

    const unasked = await signingWorker();
    // What a shutdown signal makes the runtime do, where the runtime takes signals.
    (Runtime.instance() as unknown as { startShutdownSequence(): void }).startShutdownSequence();
    await expect(unasked.running).rejects.toThrow(/stopped without being asked/);
  });
});
