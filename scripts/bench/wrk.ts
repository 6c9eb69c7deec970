import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

export interface WrkResult {
  perSecond: number;
  /** Answers completed in the run. */
  requests: number;
  p50: number;
  p99: number;
  /** Socket errors wrk counted (connect, read, write, timeout): shown, not fatal. */
  socketErrors: number;
}

/**
 * One wrk run (Debian's wrk: 1 thread, `connections` connections, `seconds` long), with its
 * latency distribution in ms. Any non-2xx answer fails the run: a benchmark of refusals
 * measures nothing. Socket errors (a request past wrk's 2 s timeout on a loaded machine) are
 * counted and reported. Asynchronous: the API the bench runs in its own process must keep
 * answering (a gateway process that has not yet fetched the JWKS asks it during a run).
 */
export async function wrk(url: string, options: { seconds: number; connections: number; headers: Record<string, string> }): Promise<WrkResult> {
  const headerArgs = Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const { stdout: out } = await promisify(execFile)('wrk', ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', ...headerArgs, url], {
    encoding: 'utf8',
  });
  if (/Non-2xx/.test(out)) throw new Error(`wrk saw failures:\n${out}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) throw new Error(`no ${label} in wrk's output:\n${out}`);
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  };
  const socketErrors = errors ? errors.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
  return {
    perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    requests: Number(/(\d+) requests in/.exec(out)![1]),
    p50: ms('50%'),
    p99: ms('99%'),
    socketErrors,
  };
}

/** Whether a command runs at all (wrk --version exits 1 after printing). */
export function hasCommand(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
