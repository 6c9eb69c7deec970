import { defaultPayloadConverter } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { WORKFLOWS_PATH } from '../../workflows/location.js';
import type { ReplayReport } from '../../contracts/replay-report.js';
import type { loadHistory } from '../read/case-timeline.js';

type History = NonNullable<Awaited<ReturnType<typeof loadHistory>>['history']>;

export type { ReplayReport };

/**
 * For a process that only replays (the auditors' CLI): the replayer's own warnings would
 * repeat the finding on stderr. A process with its own runtime (the API) keeps that one.
 */
export function installQuietReplayRuntime(): void {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
}

/** The workflow code as a bundle, built once for many replays (building takes seconds). */
export function bundleWorkflowsForReplay(workflowsPath = WORKFLOWS_PATH): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') });
}

/**
 * The workflow id a history ran under: its request's id, from the start input. The
 * workflow checks that it runs as the request it was started for, so a replay must too.
 */
export function recordedWorkflowId(history: History, fallback: string): string {
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const value = input ? (defaultPayloadConverter.fromPayload(input) as { request?: { id?: unknown }; incident?: { id?: unknown } } | undefined) : undefined;
  const id = value?.request?.id ?? value?.incident?.id;
  return typeof id === 'string' ? id : fallback;
}

/** The status the workflow returned, as recorded in its history. */
function recordedOutcome(history: History): string | null {
  const completed = history.events?.find((e) => e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  const payload = completed?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
  return payload ? String(defaultPayloadConverter.fromPayload(payload)) : null;
}

/**
 * Runs the current workflow code over a recorded history (no server needed) and says
 * whether it reproduces the recorded decisions. A determinism failure is a finding for the
 * auditor, not a crash.
 */
export async function replayCase(
  caseId: string,
  history: History,
  code: { workflowsPath: string } | { workflowBundle: WorkflowBundle } = { workflowsPath: WORKFLOWS_PATH },
): Promise<ReplayReport> {
  const base = { caseId, events: history.events?.length ?? 0, recordedOutcome: recordedOutcome(history) };
  try {
    await Worker.runReplayHistory({ ...code, replayName: `audit-${caseId}` }, history, recordedWorkflowId(history, caseId));
    return { ...base, result: 'reproduced' };
  } catch (error) {
    const name = (error as Error).name;
    const determinism = name === 'DeterminismViolationError' || /nondetermin/i.test((error as Error).message);
    return { ...base, result: determinism ? 'determinism-failure' : 'replay-error', detail: `${name}: ${(error as Error).message}` };
  }
}
