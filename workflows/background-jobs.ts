import { defineSignal } from '@temporalio/workflow';

// The worker's background work as Temporal workflows: what their ids, inputs and messages
// are, shared by the workflows, the worker that starts them and the API that signs for
// one of them. Each job is one workflow per task queue, however many processes serve it.

export const BACKGROUND_JOBS = {
  'history-archive': 'historyArchiveWorkflow',
  'audit-checkpoint': 'auditCheckpointWorkflow',
  'audit-forwarding': 'auditForwardingWorkflow',
} as const;
export type BackgroundJob = keyof typeof BACKGROUND_JOBS;

/**
 * Fixed per job and task queue, so that a second worker process joins the running workflow
 * instead of starting another. The task queue is part of it because deployments (and test
 * runs) that share a namespace are told apart by their task queues.
 */
export function backgroundWorkflowId(job: BackgroundJob, taskQueue: string): string {
  return `${job}@${taskQueue}`;
}

/**
 * Checkpoints are signed with the API's signing key, which only API processes hold (the
 * worker holds none). Each API process serves this task queue with an activity-only worker.
 */
export function signingTaskQueue(taskQueue: string): string {
  return `${taskQueue}-signing`;
}

export interface PassSettings {
  /** The pause between the end of one pass and the start of the next. */
  intervalMs: number;
}

export interface CheckpointSettings extends PassSettings {
  /** The longest the chain's head goes unsigned while events arrive (a closed case signs sooner). */
  maxUnsignedMs: number;
}

/**
 * A job's run: its settings, what it carries from one pass to the next, and how many passes
 * a run makes before it continues as new (tests lower it; otherwise PASSES_PER_RUN).
 */
export interface BackgroundInput<Settings extends PassSettings, State> {
  settings: Settings;
  state: State;
  passesPerRun?: number;
}

export interface ArchiveState {
  /** The close time (ISO 8601) of the newest case seen archived: later passes list from there. */
  since?: string;
}

export type HistoryArchiveInput = BackgroundInput<PassSettings, ArchiveState>;
export type AuditCheckpointInput = BackgroundInput<CheckpointSettings, null>;
export type AuditForwardingInput = BackgroundInput<PassSettings, null>;

/**
 * Sent with every start. A workflow id outlives any one worker process, so a worker started
 * with other intervals re-sets the running workflow instead of being ignored by it.
 */
export function settingsSignal<Settings extends PassSettings>() {
  return defineSignal<[Settings]>('settings');
}

export interface SignedCheckpoint {
  seq: string;
  headHash: string;
  kid: string;
  signedAt: string;
}

/** What the checkpoint workflow asks of an API process, on the signing task queue. */
export interface CheckpointSigningActivities {
  /** Signs the chain's current head unless it is signed already; null while the chain is empty. */
  signAuditCheckpoint(): Promise<SignedCheckpoint | null>;
}
