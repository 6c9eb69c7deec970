import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { vi, type Mock } from 'vitest';
import type { AssertionCheck, AssertionSubject } from '../../contracts/principal-assertion.js';
import type { Principal } from '../../domain/access-request.js';
import type { createPrincipalActivities } from '../../activities/principals.js';
import type { createRecordActivities } from '../../activities/records.js';
import { findOrFetchTemporalTestServer } from '../../scripts/lib/temporal-test-server.js';
import { WORKFLOWS_PATH } from '../../workflows/location.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';

// The access-request workflow on Temporal's time-skipping test server, with every activity
// a mock: what is tested is the workflow's own wiring of rules, messages and timers.

type Activities = ReturnType<typeof createRecordActivities> & ReturnType<typeof createPrincipalActivities>;
export type MockedActivities = { [K in keyof Activities]: Mock<Activities[K]> };

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  /** The task queue of the one worker, which runs every workflow of the test file. */
  taskQueue: string;
  /** The activities that the workflow with this id calls. */
  useActivities(workflowId: string, activities: MockedActivities): void;
  close(): Promise<void>;
}

/**
 * The SDK logs each worker's state changes at INFO and each failed activity or workflow at
 * WARN, and these tests fail both on purpose: only errors are worth reading here.
 */
function quietRuntime(): void {
  try {
    // The test server lacks capabilities that core warns about at every worker start.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  } catch {
    // Installed already in this process (by an earlier test file): it keeps its logger.
  }
}

/**
 * The server started by the SDK from the cached jars, the search attributes registered, and
 * one worker for the whole file: each workflow reaches the mocks registered under its id,
 * so tests do not pay for a worker's start and drain each.
 */
export async function startWorkflowTestEnv(): Promise<WorkflowTestEnv> {
  quietRuntime();
  const executable = await findOrFetchTemporalTestServer();
  const [env, workflowBundle] = await Promise.all([
    withRetry(() => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } })),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') }),
  ]);
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });

  const byWorkflow = new Map<string, MockedActivities>();
  const route = (name: keyof Activities) => (input: never) => {
    // Set for every activity a workflow schedules; only a standalone activity lacks it.
    const workflowId = Context.current().info.workflowExecution!.workflowId;
    const mocks = byWorkflow.get(workflowId);
    if (!mocks) throw ApplicationFailure.nonRetryable(`no activities registered for workflow ${workflowId}`, 'TEST_SETUP');
    return (mocks[name] as (input: never) => unknown)(input);
  };
  const names = Object.keys(mockedActivities([])) as (keyof Activities)[];
  const taskQueue = `workflow-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: Object.fromEntries(names.map((name) => [name, route(name)])),
  });
  const running = worker.run();
  return {
    env,
    taskQueue,
    useActivities: (workflowId, activities) => byWorkflow.set(workflowId, activities),
    async close() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/**
 * The SDK gives the server a few seconds to answer; a JVM starting on a busy two-core
 * machine can take longer, so a start that timed out is tried again.
 */
async function withRetry<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

/**
 * Every activity as a mock recording true. The principal check is mocked too: an assertion
 * `vouch:<username>:<jti>` vouches for that known principal; anything else is refused as the
 * real check would refuse it.
 */
export function mockedActivities(known: Principal[]): MockedActivities {
  const byName = new Map(known.map((p) => [p.username, p]));
  const recorded = () => vi.fn(async () => true);
  return {
    recordSubmission: recorded(),
    recordReview: recorded(),
    recordRevocation: recorded(),
    recordEnd: recorded(),
    recordRefusedMessage: recorded(),
    recordFailure: recorded(),
    recordTokenIssued: recorded(),
    recordBreakGlassOpened: recorded(),
    recordRetroReview: recorded(),
    recordRetroUnreviewed: recorded(),
    verifyPrincipal: vi.fn(async ({ assertion }: { assertion?: string; subject: AssertionSubject }): Promise<AssertionCheck> => {
      if (!assertion) return { ok: false, reason: 'ASSERTION_MISSING', detail: 'The message carries no assertion.' };
      const [kind, username, jti] = assertion.split(':');
      const principal = kind === 'vouch' ? byName.get(username!) : undefined;
      if (!principal || !jti) return { ok: false, reason: 'ASSERTION_INVALID', detail: 'The assertion could not be checked.' };
      return { ok: true, principal, jti };
    }),
  };
}

let issued = 0;
/** An assertion the mocked check accepts for `principal`, with a jti never used before. */
export function vouch(principal: Principal): string {
  return `vouch:${principal.username}:jti-${++issued}`;
}
