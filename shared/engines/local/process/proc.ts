/**
 * Linux process facts from `/proc`, and process-group signalling. The supervisor and the pidfile
 * reaper need to know whether a pid is still the process we started (its start time and command
 * line) and whether anything of its group survives. `kill(pid, 0)` cannot tell: it succeeds for
 * zombies, and in a container whose PID 1 does not reap, a killed orphan stays a zombie forever.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, X (dead), … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Start time in clock ticks after boot: with the pid, identifies a process across pid reuse. */
  startTicks: number;
}

/**
 * `/proc/<pid>/stat` split into its command name and a field reader (`field(n)` = field n of
 * proc(5), from 3 on); null if the process does not exist (or /proc is unavailable).
 */
export function readStatFields(pid: number): { comm: string; state: string; field: (n: number) => number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain spaces and parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5).
  return { comm: text.slice(open + 1, close), state: fields[0] ?? '?', field: (n) => Number(fields[n - 3]) };
}

/** Parses `/proc/<pid>/stat`; null if the process does not exist (or /proc is unavailable). */
export function readProcStat(pid: number): ProcStat | null {
  const f = readStatFields(pid);
  if (!f) return null;
  // starttime is field 22.
  return { pid, state: f.state, ppid: f.field(4), pgrp: f.field(5), session: f.field(6), startTicks: f.field(22) };
}

/** The argv of a process from `/proc/<pid>/cmdline`; null if it is gone or a zombie (empty). */
export function readCmdline(pid: number): string[] | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
  if (raw === '') return null;
  const parts = raw.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** True if the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X';
}

/** Live (non-zombie) members of a process group. Scans /proc. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readProcStat(Number(e));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push(st.pid);
  }
  return out;
}

/**
 * Sends a signal to every process of a group (`kill(-pgid, sig)`).
 * @returns false if the group no longer exists
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`refusing to signal process group ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
