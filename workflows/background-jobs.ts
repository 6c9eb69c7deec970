// The worker's background work as Temporal workflows: what their ids and inputs are, shared
// by the workflows, the worker that starts them and the API that signs for one of them. Each
// job is one workflow per task queue, however many processes serve it.

export const BACKGROUND_JOBS = {
  'history-archive': 'historyArchiveWorkflow',
  'audit-checkpoint': 'auditCheckpointWorkflow',
  'audit-forwarding': 'auditForwardingWorkflow',
} as const;
export type BackgroundJob = keyof typeof BACKGROUND_JOBS;

/**
 * Fixed per job and task queue, so that a second worker process joins the running workflow
 * instead of starting another. The task queue is part of it because deployments (and test
 * runs) that share a namespace are told apart by their task queues. A background workflow
 * refuses to run under any other id.
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

/**
 * A job's run: what it carries from one pass to the next, and how many passes a run makes
 * before it continues as new (tests lower it; otherwise PASSES_PER_RUN). No settings: anyone
 * who reaches the Temporal frontend can start a workflow, so a start says nothing the
 * workflow trusts. The pause between passes comes from the pass itself, which runs on a
 * worker of ours.
 */
export interface BackgroundInput<State> {
  state: State;
  passesPerRun?: number;
}

export interface ArchiveState {
  /**
   * The close time (ISO 8601) of the newest case the listing showed: later passes list from
   * there. Only a shortcut: each pass also archives every ended case the database holds
   * without an archive, so nothing depends on it.
   */
  since?: string;
}

export type HistoryArchiveInput = BackgroundInput<ArchiveState>;
export type AuditCheckpointInput = BackgroundInput<null>;
export type AuditForwardingInput = BackgroundInput<null>;

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
