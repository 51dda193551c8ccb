/**
 * CPU time of a local process, measured from Linux's /proc/<pid>/stat (utime + stime, fields 14
 * and 15, in clock ticks) with the process's start time (field 22) so a reused pid is not taken
 * for the same process. Null when the process is gone or /proc is not there.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK` (USER_HZ), read once; 100 when getconf is missing (Linux's value on every common architecture). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      ticksPerSecond = Number.isFinite(v) && v > 0 ? v : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcessCpu {
  /** utime + stime, in seconds. */
  seconds: number;
  /** The start time in ticks since boot, as text (identifies the process with its pid). */
  start: string;
}

/** Parses one /proc/<pid>/stat line (the command name in parentheses may hold spaces and parentheses). */
export function parseProcStat(line: string, hz: number): ProcessCpu | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  // Fields after the name start at field 3 (state): utime is field 14, stime 15, starttime 22.
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  const start = rest[22 - 3];
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || start === undefined) return null;
  return { seconds: (utime + stime) / hz, start };
}

export function readProcessCpu(pid: number): ProcessCpu | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond());
  } catch {
    return null;
  }
}
