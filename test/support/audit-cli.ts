import { spawn } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { ROOT } from '../../scripts/lib/ephemeral-servers.js';

/** The auditors' CLI, as `npm run audit` runs it, against the test servers. */
export function auditCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'audit', 'cli.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), TEMPORAL_ADDRESS: inject('temporalAddress'), KEY_ENCRYPTION_KEY: inject('keyEncryptionKey') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
