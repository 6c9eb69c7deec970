import { Connection } from '@temporalio/client';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startProcess, waitFor, type ManagedProcess } from './processes.js';
import { step } from './progress.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';

export interface TemporalDevServer {
  readonly address: string;
  readonly uiUrl?: string;
  readonly process: ManagedProcess;
}

/**
 * Starts the Temporal CLI's dev server (the real server, SQLite persistence) on loopback and
 * waits until its frontend answers. Without `dbFile` the state lives in memory.
 */
export async function startTemporalDevServer(options: {
  cli: string;
  port: number;
  uiPort?: number;
  dbFile?: string;
  logFile: string;
}): Promise<TemporalDevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--namespace', 'default', '--log-level', 'warn'];
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  // The SDK's own launcher enables these; updates (reviews) depend on them.
  for (const flag of [
    'frontend.enableUpdateWorkflowExecution=true',
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    'frontend.enableExecuteMultiOperation=true',
  ]) {
    args.push('--dynamic-config-value', flag);
  }
  const proc = startProcess('temporal server', options.cli, args, { logFile: options.logFile });
  const address = `127.0.0.1:${options.port}`;
  step(`waiting for the Temporal server on ${address}...`);
  await waitFor(
    `the Temporal server on ${address} (log: ${options.logFile})`,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return true;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs: 120_000, intervalMs: 500, process: proc },
  );
  return { address, uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined, process: proc };
}
