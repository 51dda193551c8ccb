/**
 * Bench support: CPU time and memory of process trees, read from /proc (Linux only).
 *
 * CPU time is utime + stime (/proc/<pid>/stat fields 14 and 15, in clock ticks). A window is two
 * snapshots of a tree: processes alive in both count their difference, processes born during the
 * window count all they used, and processes that ended during it are recovered from the parent's
 * cutime/cstime (Node reaps its children, so their time lands there).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readCmdline, readStatFields } from '../../shared/engines/local/process/proc.ts';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
export const PAGE_SIZE = Number(execFileSync('getconf', ['PAGESIZE']).toString().trim()) || 4096;

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, ticks. */
  ticks: number;
  /** cutime + cstime (reaped children), ticks. */
  childTicks: number;
  /** Start time since boot, ticks (tells a reused pid apart). */
  start: number;
  rssBytes: number;
  state: string;
}

export function readStat(pid: number): ProcStat | null {
  const f = readStatFields(pid);
  if (!f) return null;
  return {
    pid,
    ppid: f.field(4),
    comm: f.comm,
    ticks: f.field(14) + f.field(15),
    childTicks: f.field(16) + f.field(17),
    start: f.field(22),
    rssBytes: f.field(24) * PAGE_SIZE,
    state: f.state,
  };
}

/**
 * CPU time of a process in nanoseconds: the sum over its threads of /proc/<pid>/task/<tid>/schedstat
 * (time on CPU, ns). Far finer than utime + stime (CLK_TCK ticks, 10 ms each: a process using
 * 0.4 % of a core gets 8 ticks in 20 s). Threads that ended are not counted (use it over windows in
 * which the threads live on). Null when unreadable.
 */
export function runNs(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      ns += Number(f.split(' ')[0]);
    }
    return ns;
  } catch {
    return null;
  }
}

/** `runNs` of each pid (the ones readable). */
function runNsOf(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ns = runNs(pid);
    if (ns !== null) out.set(pid, ns);
  }
  return out;
}

export function cmdline(pid: number): string[] {
  return readCmdline(pid) ?? [];
}

/** Every process on the machine (a snapshot). */
export function allProcs(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = readStat(Number(e));
    if (s) out.set(s.pid, s);
  }
  return out;
}

/**
 * The tree rooted at `root` (root included), leaving out the subtrees of `exclude(proc)` (the
 * bench's own helpers: the test source, nginx). Zombies are left out (they use nothing any more
 * and their time is already in the parent's cutime once reaped).
 */
export function tree(root: number, exclude: (p: ProcStat) => boolean, procs = allProcs()): Map<number, ProcStat> {
  const children = new Map<number, ProcStat[]>();
  for (const p of procs.values()) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out = new Map<number, ProcStat>();
  const rootStat = procs.get(root);
  if (!rootStat) return out;
  const stack = [rootStat];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (p.pid !== root && (exclude(p) || p.state === 'Z')) continue;
    out.set(p.pid, p);
    for (const c of children.get(p.pid) ?? []) stack.push(c);
  }
  return out;
}

/** Every descendant of `root` (not root), zombies included: what must be gone at the end. */
export function descendants(root: number): ProcStat[] {
  const procs = allProcs();
  const out: ProcStat[] = [];
  const seen = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs.values()) {
      if (!seen.has(p.pid) && seen.has(p.ppid)) {
        seen.add(p.pid);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

/** The whole machine's CPU ticks by kind (/proc/stat, first line). */
export interface MachineTicks {
  user: number;
  system: number;
  /** Interrupt and softirq time: loopback TCP/UDP delivery often runs here, charged to no process. */
  irq: number;
  idle: number;
}

export function machineTicks(): MachineTicks {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => v[i] ?? 0;
  return { user: at(0) + at(1), system: at(2), irq: at(5) + at(6), idle: at(3) + at(4) };
}

export interface CpuWindow {
  seconds: number;
  /** Cores busy on the whole machine during the window (everything: helpers, sink, kernel), by kind. */
  machine: { cores: number; user: number; system: number; irq: number };
  /** CPU seconds used by the measured process(es) during the window. */
  cpuSeconds: number;
  /** cpuSeconds / seconds: cores used on average (1.0 = one core busy). */
  cores: number;
  /** CPU seconds by role (see `classify`). */
  byRole: Record<string, number>;
  /** Cores used by other processes watched over the same window (not part of `cores`). */
  others: Record<string, number>;
  /** Processes that ended during the window (their time comes from the parent's cutime). */
  ended: number;
  /** Processes that started during the window. */
  born: number;
}

export type Classifier = (p: ProcStat) => string;

/** Ticks of processes outside the measured tree, read at both ends of a window. */
interface Sample {
  st: ProcStat;
  ns: number | null;
}

/** CPU seconds a process used between two samples: schedstat nanoseconds when both have them, else ticks. */
function used(before: Sample, after: Sample): number {
  if (before.ns !== null && after.ns !== null) return Math.max(0, after.ns - before.ns) / 1e9;
  return (after.st.ticks - before.st.ticks) / CLK_TCK;
}

function sample(pid: number, st: ProcStat | null = readStat(pid)): Sample | null {
  return st ? { st, ns: runNs(pid) } : null;
}

/** Processes outside the measured tree, sampled at both ends of a window. */
function othersTicks(others: Record<string, number[]>): Map<string, Map<number, Sample>> {
  const out = new Map<string, Map<number, Sample>>();
  for (const [label, pids] of Object.entries(others)) {
    const m = new Map<number, Sample>();
    for (const pid of pids) {
      const s = sample(pid);
      if (s) m.set(pid, s);
    }
    out.set(label, m);
  }
  return out;
}

function othersCores(a: Map<string, Map<number, Sample>>, b: Map<string, Map<number, Sample>>, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, before] of a) {
    let cpu = 0;
    for (const [pid, s] of before) {
      const after = b.get(label)?.get(pid);
      if (after && after.st.start === s.st.start) cpu += used(s, after);
    }
    out[label] = cpu / seconds;
  }
  return out;
}

function machineDelta(m0: MachineTicks, m1: MachineTicks, seconds: number): CpuWindow['machine'] {
  const c = (k: keyof MachineTicks): number => (m1[k] - m0[k]) / CLK_TCK / seconds;
  return { cores: c('user') + c('system') + c('irq'), user: c('user'), system: c('system'), irq: c('irq') };
}

/**
 * Measures the CPU time a tree uses over `seconds` (and, over the same window, the processes in
 * `others` and the whole machine). The bench must not do work of its own meanwhile.
 */
export async function measureCpu(root: number, exclude: (p: ProcStat) => boolean, classify: Classifier, seconds: number, others: Record<string, number[]> = {}): Promise<CpuWindow> {
  const a = tree(root, exclude);
  const nsA = runNsOf(a.keys());
  const roles = new Map<number, string>();
  for (const p of a.values()) roles.set(p.pid, classify(p));
  const oa = othersTicks(others);
  const m0 = machineTicks();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = tree(root, exclude);
  const nsB = runNsOf(b.keys());
  const ob = othersTicks(others);
  const t1 = process.hrtime.bigint();
  const m1 = machineTicks();
  const byRole: Record<string, number> = {};
  const add = (role: string, ticks: number): void => {
    byRole[role] = (byRole[role] ?? 0) + ticks / CLK_TCK;
  };
  let born = 0;
  let ended = 0;
  for (const p of b.values()) {
    const before = a.get(p.pid);
    if (before && before.start === p.start) {
      const cpu = used({ st: before, ns: nsA.get(p.pid) ?? null }, { st: p, ns: nsB.get(p.pid) ?? null });
      add(roles.get(p.pid) ?? classify(p), cpu * CLK_TCK);
    } else {
      born++;
      add(classify(p), p.ticks);
    }
  }
  // Ended processes: their parent's cutime grew by their whole life; count only what fell in the
  // window (the parent's growth minus what they had used before it).
  const endedBefore = new Map<number, number>();
  for (const p of a.values()) {
    const after = b.get(p.pid);
    if (after && after.start === p.start) continue;
    ended++;
    endedBefore.set(p.ppid, (endedBefore.get(p.ppid) ?? 0) + p.ticks);
  }
  for (const [ppid, usedBefore] of endedBefore) {
    const parentBefore = a.get(ppid);
    const parentAfter = b.get(ppid);
    if (parentBefore && parentAfter && parentAfter.start === parentBefore.start) add('ended', Math.max(0, parentAfter.childTicks - parentBefore.childTicks - usedBefore));
  }
  const secondsElapsed = Number(t1 - t0) / 1e9;
  const cpuSeconds = Object.values(byRole).reduce((s, v) => s + v, 0);
  return {
    seconds: secondsElapsed,
    machine: machineDelta(m0, m1, secondsElapsed),
    cpuSeconds,
    cores: cpuSeconds / secondsElapsed,
    byRole,
    others: othersCores(oa, ob, secondsElapsed),
    ended,
    born,
  };
}

/** CPU seconds one process (no tree) uses over `seconds`, with `others` and the machine over the same window. */
export async function measureCpuOf(pid: number, label: string, seconds: number, others: Record<string, number[]> = {}): Promise<CpuWindow> {
  const w = await measureCpu(
    pid,
    (p) => p.pid !== pid,
    () => label,
    seconds,
    others,
  );
  return w;
}

/** VmRSS of a process, bytes (null if gone). */
export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * PSS of a process, bytes: its private pages plus its share of shared ones (libraries mapped by
 * every FFmpeg count once over all of them, unlike RSS). Null if unreadable.
 */
export function pssOf(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Whether `pid` still exists as a live (non-zombie) process. */
export function alive(pid: number): boolean {
  const s = readStat(pid);
  return s !== null && s.state !== 'Z';
}
