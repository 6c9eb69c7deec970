import { spawn } from 'node:child_process';
import { run } from './processes.js';
import { SetupError, step } from './progress.js';

// Builds of the Temporal binaries from the Go module proxy, for machines that have Go and
// no binary: `go install pkg@version` into a cache folder outside the checkout.

export async function hasGo(): Promise<boolean> {
  try {
    await run('go', ['version']);
    return true;
  } catch {
    return false;
  }
}

/** `go install` of `packages` (each `path@version`) into `gobin`, with progress every 30 s. */
export function goInstall(packages: readonly string[], gobin: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', ['install', ...packages], {
      env: { ...process.env, GOBIN: gobin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    let downloads = 0;
    const ticker = setInterval(() => step(`  still building ${what} (${downloads} modules fetched)...`), 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      downloads += (text.match(/go: downloading/g) ?? []).length;
      tail = (tail + text).slice(-4000);
    });
    child.once('error', (error) => {
      clearInterval(ticker);
      reject(error);
    });
    child.once('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new SetupError(`Building ${what} failed (go install exited ${code}):\n${tail}`));
    });
  });
}
