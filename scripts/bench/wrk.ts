import { execFileSync } from 'node:child_process';

export interface WrkResult {
  perSecond: number;
  p50: number;
  p99: number;
}

/**
 * One wrk run (Debian's wrk: 1 thread, `connections` connections, `seconds` long), with its
 * latency distribution in ms. Any non-2xx answer or socket error fails the run: a benchmark
 * of refusals measures nothing.
 */
export function wrk(url: string, options: { seconds: number; connections: number; headers: Record<string, string> }): WrkResult {
  const headerArgs = Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const out = execFileSync('wrk', ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', ...headerArgs, url], { encoding: 'utf8' });
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk saw failures:\n${out}`);
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) throw new Error(`no ${label} in wrk's output:\n${out}`);
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  };
  return { perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), p50: ms('50%'), p99: ms('99%') };
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
