import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPortOpen, type ManagedProcess } from './processes.js';
import { SetupError, step } from './progress.js';

// What `npm start` and `npm run start:cluster` share: the data folder's rules, the sealed
// keys' key, and the processes they watch and stop together.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One of the project's own TypeScript entry points (`api/main.ts`, ...) as a node command line. */
export function tsx(script: string, nodeFlags: readonly string[] = []): [string, string[]] {
  return [process.execPath, [...nodeFlags, '--import', 'tsx', path.join(ROOT, script)]];
}

export async function requireFreePort(port: number, what: string, variable: string): Promise<void> {
  if (await isPortOpen(port)) throw new SetupError(`Port ${port} (${what}) is in use. Stop what holds it, or set ${variable} to another port.`);
}

/**
 * Takes group and other access away from everything under `dir`: a data folder made by an
 * earlier version (or by PGlite, which creates its files 0666) may still be readable by all.
 * Symbolic links are left alone, and not followed.
 */
export function restrictToOwner(dir: string): void {
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink()) return;
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, stat.mode & 0o700);
  if (stat.isDirectory()) for (const entry of readdirSync(dir)) restrictToOwner(path.join(dir, entry));
}

/** A secret of the data folder's (`secrets/<name>`): generated once, readable by this user only. */
function secretFile(dataDir: string, name: string, encoding: 'base64' | 'base64url'): string {
  const file = path.join(dataDir, 'secrets', name);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString(encoding), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return file;
}

/** The key that seals signing keys at rest. */
export function keyEncryptionKeyFile(dataDir: string): string {
  return secretFile(dataDir, 'key-encryption-key', 'base64');
}

/** A secret's value, such as the private PostgreSQL's password. */
export function secret(dataDir: string, name: string): string {
  // URL-safe: it goes into connection URLs as it is.
  return readFileSync(secretFile(dataDir, name, 'base64url'), 'utf8').trim();
}

const RESTART_DELAY_MS = 1000;
/** Started again at most this often in a minute; the next death means it is broken, not unlucky: everything stops, and says why. */
const MAX_RESTARTS_PER_MINUTE = 5;

/** Processes started together and stopped together, in reverse order; one that dies stops the rest. */
export class Supervisor {
  private readonly children: ManagedProcess[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];
  private stopping: Promise<never> | undefined;
  private readonly restarts = new Map<string, number[]>();

  /**
   * Stops everything when `child` exits on its own; with `restart`, starts it again instead
   * (a cluster's process: the load balancer routes around it meanwhile), unless it keeps dying.
   */
  watch(child: ManagedProcess, logFile: string, restart?: () => ManagedProcess): ManagedProcess {
    this.children.push(child);
    void child.exited.then((code) => {
      if (this.stopping) return;
      this.children.splice(this.children.indexOf(child), 1);
      const now = Date.now();
      const recent = (this.restarts.get(child.name) ?? []).filter((at) => now - at < 60_000);
      if (restart && recent.length < MAX_RESTARTS_PER_MINUTE) {
        this.restarts.set(child.name, [...recent, now]);
        step(`${child.name} exited (${code}); starting it again; see ${logFile}`);
        setTimeout(() => {
          if (!this.stopping) this.watch(restart(), logFile, restart);
        }, RESTART_DELAY_MS);
        return;
      }
      step(`${child.name} exited unexpectedly (${code}); see ${logFile}`);
      void this.stopAll(1);
    });
    return child;
  }

  /** Something to do after every process has stopped (an in-process server's own stop). */
  onStopped(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** Idempotent: Ctrl-C reaches this process twice (from the terminal and relayed by tsx). */
  stopAll(code: number): Promise<never> {
    this.stopping ??= (async () => {
      step('stopping...');
      for (const child of [...this.children].reverse()) await child.stop('SIGTERM');
      for (const cleanup of this.cleanups) await cleanup();
      step('stopped.');
      process.exit(code);
    })();
    return this.stopping;
  }
}
