import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// What a benchmarked process costs the machine, read from /proc: its own figures and its
// children's (nginx's workers, a node:cluster's workers, Orthanc's threads are in its own).

/** `pid` and every process below it. */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim())
      .map(Number);
  } catch {
    // ps exits 1 when there are none
  }
  return [pid, ...children.flatMap(processTree)];
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time, user and system, that the processes have used so far, in seconds. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone since it was listed
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Resident memory of the processes, in MiB. */
export function rssMiB(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone since it was listed
    }
  }
  return kib / 1024;
}
