/**
 * Pidfile registry: one JSON file per supervised process, so a control plane that crashed (kill -9,
 * OOM killer) can have its leftover FFmpeg process groups killed by the next instance at start-up.
 *
 * How a child is kept from outliving the control plane (Node has no prctl):
 * 1. The supervisor starts children through `setpriv --pdeathsig SIGKILL` (util-linux, present on
 *    every Debian/Ubuntu image). setpriv sets PR_SET_PDEATHSIG and then execs the binary, so the
 *    pid, argv, signals and exit codes are the binary's own and there is no shell. The kernel then
 *    kills the child the moment the control plane dies, however it dies.
 * 2. A process `exit` hook SIGKILLs every live group on an orderly exit.
 * 3. This registry, with `reapOrphans()` called at start-up before anything is spawned, catches what
 *    1 and 2 cannot: setpriv missing (non-Linux), a grandchild left in the group, the short window
 *    between fork and prctl.
 * A per-child watcher process was rejected: a Node watcher costs ~40 MB per destination, and a
 * shell wrapper would put a shell between us and FFmpeg (argv quoting, exit codes, signals).
 *
 * A record never holds a secret: the command is stored redacted, and the exact argv only as a
 * SHA-256 hash, which is compared with `/proc/<pid>/cmdline` before killing anything, so a pid
 * reused by an unrelated process is left alone.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupMembers, isAlive, readCmdline, readProcStat, signalGroup } from './proc.ts';

export interface PidRecord {
  version: 1;
  /** The supervisor's label (e.g. a destination id). */
  name: string;
  pid: number;
  /** Its process group: the supervisor starts each child as a group leader, so pgid = pid. */
  pgid: number;
  /** Epoch ms. */
  startedAt: number;
  /** `/proc/<pid>/stat` start time, to tell the process from a later one with the same pid. */
  startTicks: number | null;
  /** {@link hashArgv} of the binary and its arguments, as `/proc/<pid>/cmdline` shows them. */
  argvHash: string;
  /** The command line, redacted, for humans. */
  command: string[];
  /** The control plane that started it, and its start time. */
  ownerPid: number;
  ownerStartTicks: number | null;
}

/** SHA-256 of the NUL-joined argv (binary first), the same bytes as `/proc/<pid>/cmdline`. */
export function hashArgv(argv: readonly string[]): string {
  return createHash('sha256').update(argv.join('\0')).digest('hex');
}

function fileFor(dir: string, pid: number): string {
  return join(dir, `${pid}.json`);
}

/** Writes a record atomically (temp file + rename), readable by the owner only. */
export function writePidfile(dir: string, record: PidRecord): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = fileFor(dir, record.pid);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

/** Removes a record (synchronous: also used from the process `exit` hook). */
export function removePidfile(dir: string, pid: number): void {
  rmSync(fileFor(dir, pid), { force: true });
}

function isRecord(x: unknown): x is PidRecord {
  const r = x as Partial<PidRecord> | null;
  return typeof r === 'object' && r !== null && r.version === 1 && Number.isInteger(r.pid) && Number.isInteger(r.pgid) && Number.isInteger(r.ownerPid) && typeof r.argvHash === 'string' && (r.pid as number) > 1 && (r.pgid as number) > 1;
}

/** Every record in `dir` (unreadable or malformed files come back with `record: null`). */
export function readPidfiles(dir: string): { path: string; record: PidRecord | null }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+\.json$/.test(n))
    .map((n) => {
      const path = join(dir, n);
      try {
        const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
        return { path, record: isRecord(parsed) ? parsed : null };
      } catch {
        return { path, record: null };
      }
    });
}

/** The start time of the calling process, for `ownerStartTicks`. */
export function selfStartTicks(): number | null {
  return readProcStat(process.pid)?.startTicks ?? null;
}

/** Whether the control plane that wrote a record is still running (same pid and start time). */
function ownerAlive(r: PidRecord): boolean {
  if (r.ownerPid === process.pid) return true;
  const st = readProcStat(r.ownerPid);
  if (!st || st.state === 'Z') return false;
  return r.ownerStartTicks === null || st.startTicks === r.ownerStartTicks;
}

export type ReapOutcome =
  /** Its group (the leader, or what was left of the group) was signalled and is gone. */
  | 'killed'
  /** Nothing was running under that pid any more. */
  | 'already-gone'
  /** The pid now belongs to another program (cmdline, start time or group differ): left alone. */
  | 'not-ours'
  /** The control plane that started it is still running: left alone, record kept. */
  | 'owner-alive'
  /** The file could not be read or parsed: removed. */
  | 'unreadable'
  /** Signalled, but something of the group survived SIGKILL (should not happen). */
  | 'survived';

export interface ReapResult {
  path: string;
  pid: number | null;
  name: string | null;
  outcome: ReapOutcome;
}

export interface ReapOptions {
  /** Time between SIGINT (FFmpeg closes its outputs cleanly) and SIGKILL. Default 2000. */
  graceMs?: number;
  /** Poll interval while waiting. Default 50. */
  pollMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Live processes in the group and session that the supervisor's setsid() created. */
function remnants(pgid: number): number[] {
  return groupMembers(pgid).filter((pid) => readProcStat(pid)?.session === pgid);
}

async function waitGroupGone(pid: number, pgid: number, deadline: number, pollMs: number): Promise<boolean> {
  for (;;) {
    if (!isAlive(pid) && remnants(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

/**
 * Kills the process groups left behind by a previous control plane that crashed. Call it at
 * start-up, before starting any supervisor on the same directory. A record is acted on only if
 * its owner is dead and either `/proc/<pid>` still shows the same start time, process group and
 * argv hash, or the leader is gone but members of its group and session remain; the group then
 * gets SIGINT, and SIGKILL after `graceMs`. Records of dead or foreign processes are deleted;
 * records of live owners are kept.
 */
export async function reapOrphans(dir: string, options: ReapOptions = {}): Promise<ReapResult[]> {
  const graceMs = options.graceMs ?? 2000;
  const pollMs = options.pollMs ?? 50;
  const results: ReapResult[] = [];
  for (const { path, record: r } of readPidfiles(dir)) {
    if (!r) {
      rmSync(path, { force: true });
      results.push({ path, pid: null, name: null, outcome: 'unreadable' });
      continue;
    }
    const done = (outcome: ReapOutcome, keep = false): void => {
      if (!keep) rmSync(path, { force: true });
      results.push({ path, pid: r.pid, name: r.name ?? null, outcome });
    };
    if (ownerAlive(r)) {
      done('owner-alive', true);
      continue;
    }
    const st = readProcStat(r.pid);
    if (!st || st.state === 'Z' || st.state === 'X') {
      // The leader is gone (its parent-death signal killed it) but descendants may remain in its
      // group. Linux never hands out a pid that still names a live process group or session, so
      // members of the group and session we created are ours, whatever their command line.
      if (remnants(r.pgid).length === 0) {
        done('already-gone');
        continue;
      }
    } else {
      const cmdline = readCmdline(r.pid);
      const same = cmdline !== null && hashArgv(cmdline) === r.argvHash && st.pgrp === r.pgid && (r.startTicks === null || st.startTicks === r.startTicks);
      if (!same) {
        done('not-ours');
        continue;
      }
    }
    signalGroup(r.pgid, 'SIGINT');
    if (!(await waitGroupGone(r.pid, r.pgid, Date.now() + graceMs, pollMs))) {
      signalGroup(r.pgid, 'SIGKILL');
      if (!(await waitGroupGone(r.pid, r.pgid, Date.now() + 2000, pollMs))) {
        done('survived', true);
        continue;
      }
    }
    done('killed');
  }
  return results;
}
