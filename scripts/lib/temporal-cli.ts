import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goInstall, hasGo } from './go-install.js';
import { run } from './processes.js';
import { SetupError, step } from './progress.js';

// v1.5.1 is the newest tag `go install pkg@version` accepts: from v1.6.0 the CLI's go.mod
// carries a `replace` directive, which `go install` refuses. It bundles Temporal server 1.29.1.
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** Outside the checkout, so that a fresh clone (as CI makes) reuses an earlier build. */
export function cliCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'imaging-access-review', 'temporal-cli', TEMPORAL_CLI_VERSION);
}

async function answers(executable: string): Promise<boolean> {
  try {
    await run(executable, ['--version']);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Temporal CLI to run the dev server with: TEMPORAL_CLI, else `temporal` on PATH, else
 * an earlier build in the cache, else a build from the Go module proxy.
 */
export async function findOrBuildTemporalCli(): Promise<string> {
  const named = process.env.TEMPORAL_CLI;
  if (named) {
    if (await answers(named)) return named;
    throw new SetupError(`TEMPORAL_CLI=${named} does not answer to --version.`);
  }
  if (await answers('temporal')) return 'temporal';
  const cached = path.join(cliCacheDir(), 'temporal');
  if (existsSync(cached) && (await answers(cached))) return cached;

  if (!(await hasGo())) {
    throw new SetupError(
      'No Temporal CLI found and no Go toolchain to build one. Install either: the Temporal CLI ' +
        '(https://docs.temporal.io/cli, then put `temporal` on PATH or set TEMPORAL_CLI), or Go >= 1.25.',
    );
  }
  mkdirSync(cliCacheDir(), { recursive: true });
  step(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go (first run only; several minutes)...`);
  await goInstall([`${MODULE}@${TEMPORAL_CLI_VERSION}`], cliCacheDir(), `the Temporal CLI ${TEMPORAL_CLI_VERSION}`);
  if (!(await answers(cached))) throw new SetupError(`The Temporal CLI build finished but ${cached} does not run.`);
  step(`Temporal CLI built: ${cached}`);
  return cached;
}
