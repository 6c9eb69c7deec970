import type { Client } from '@temporalio/client';
import type { WorkerConfig } from '../config/worker-config.js';
import {
  backgroundWorkflowId,
  BACKGROUND_JOBS,
  settingsSignal,
  type AuditCheckpointInput,
  type AuditForwardingInput,
  type BackgroundInput,
  type BackgroundJob,
  type HistoryArchiveInput,
  type PassSettings,
} from '../workflows/background-jobs.js';

/**
 * Starts each background workflow, or joins the one already running under its fixed id
 * (signal-with-start: a second worker process, or a restarted one, starts nothing new), and
 * hands it this worker's settings. Audit forwarding only where a collector is configured.
 * Returns the workflow ids.
 */
export async function startBackgroundWork(temporal: Client, config: Pick<WorkerConfig, 'temporal' | 'background' | 'auditSyslog'>): Promise<string[]> {
  const { background } = config;
  const archive: HistoryArchiveInput = { settings: { intervalMs: background.archiveIntervalMs }, state: {} };
  const checkpoint: AuditCheckpointInput = {
    settings: { intervalMs: background.checkpointPollMs, maxUnsignedMs: background.checkpointMaxUnsignedMs },
    state: null,
  };
  const forwarding: AuditForwardingInput = { settings: { intervalMs: background.forwardIntervalMs }, state: null };
  const jobs: [BackgroundJob, BackgroundInput<PassSettings, unknown>][] = [
    ['history-archive', archive],
    ['audit-checkpoint', checkpoint],
  ];
  if (config.auditSyslog) jobs.push(['audit-forwarding', forwarding]);
  return Promise.all(
    jobs.map(async ([job, input]) => {
      const workflowId = backgroundWorkflowId(job, config.temporal.taskQueue);
      await temporal.workflow.signalWithStart(BACKGROUND_JOBS[job], {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [input],
        signal: settingsSignal(),
        signalArgs: [input.settings],
      });
      return workflowId;
    }),
  );
}
