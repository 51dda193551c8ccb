/**
 * `ProcessSupervisor` keeps ONE child process (FFmpeg or the SRT ingest) in the state its owner
 * wants: it starts it, watches it, restarts it with backoff when it dies or stalls, stops it
 * cleanly, and reports what happened as typed data with every secret redacted.
 *
 * - `spawn(binary, argv)`, never a shell; the environment is PATH plus what the owner passes.
 * - Each child leads its own process group (`detached: true`); signals go to the whole group, and
 *   whatever is left of the group after the leader exits gets SIGKILL.
 * - Stop: SIGINT, then SIGKILL after `stopGraceMs`. An FFmpeg that is transcoding while its input
 *   has gone silent (a live SRT feed that stopped) ignores the first SIGINT, because its
 *   blocked read only gives up on a second one (Ctrl+C twice): so a second SIGINT follows after
 *   `REPEAT_SIGINT_MS` (or half the grace period, if shorter). Any exit after our SIGINT is a clean stop:
 *   FFmpeg exits 255 ("Exiting normally, received signal 2"), but exits 1 ("Immediate exit
 *   requested") when interrupted while connecting, and srt-live-transmit exits 0.
 * - A child reading its input from the stdin we give it (`stdin: 'stream'`) has that stdin closed
 *   along with the first SIGINT: FFmpeg blocked reading an empty pipe ignores every SIGINT (its
 *   handler is installed with SA_RESTART, so the read just resumes), but ends at EOF (measured:
 *   SIGKILL after the grace period without the close, exit 255 within milliseconds with it).
 * - A child never outlives the control plane: see `pidfile.ts` (setpriv --pdeathsig, an exit
 *   hook, and the pidfile registry with `reapOrphans()`).
 * - Any exit the owner did not ask for is a failure, exit code 0 included: FFmpeg exits 0 when
 *   its SRT input goes away.
 * - A watchdog fed by the progress parser (`progressFd`, with `-progress pipe:N` in argv) kills a
 *   run whose progress stops advancing for `stallTimeoutMs`, or that never starts in
 *   `startTimeoutMs`. Without a progress pipe the run counts as running once spawned.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { accessSync, closeSync, constants as fsConstants, existsSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Backoff, type RetryPolicy } from './backoff.ts';
import { LineRing, LineSplitter } from './lines.ts';
import { hashArgv, removePidfile, selfStartTicks, writePidfile } from './pidfile.ts';
import { readProcStat, signalGroup } from './proc.ts';
import { ProgressParser, type ProgressSnapshot } from './progress.ts';
import { redact, redactArgv } from '../../../secrets/redact.ts';
import { type ClassifiedError, classifyStderr, errorFor } from './stderr-classifier.ts';

/** Observed state of the supervised process. */
export type SupervisorState = 'idle' | 'starting' | 'running' | 'stopping' | 'backoff' | 'failed';
/** What the owner wants. */
export type DesiredState = 'running' | 'stopped';

/*
 * Every legal transition; `#setState` rejects any other with IllegalTransitionError.
 *
 *   idle     → starting   start()
 *   starting → running    first progress block (or spawned, when there is no progress pipe)
 *   starting → stopping   stop(), or the start watchdog fired
 *   starting → backoff    it exited (or failed to spawn) before running; a retry is allowed
 *   starting → failed     same, but the error is not retryable or attempts are exhausted
 *   running  → stopping   stop(), or the stall watchdog fired
 *   running  → backoff    it exited on its own; a retry is allowed
 *   running  → failed     it exited on its own; not retryable, or attempts exhausted
 *   stopping → idle       it exited after stop()
 *   stopping → starting   it exited after stop(), and start() was called meanwhile
 *   stopping → backoff    it exited after a watchdog kill; a retry is allowed
 *   stopping → failed     it exited after a watchdog kill; attempts exhausted
 *   backoff  → starting   the retry delay elapsed
 *   backoff  → idle       stop() cancelled the pending retry
 *   failed   → starting   start() (the owner tries again; the failure count starts over)
 *   failed   → idle       stop()
 */
export const TRANSITIONS: Readonly<Record<SupervisorState, readonly SupervisorState[]>> = Object.freeze({
  idle: ['starting'],
  starting: ['running', 'stopping', 'backoff', 'failed'],
  running: ['stopping', 'backoff', 'failed'],
  stopping: ['idle', 'starting', 'backoff', 'failed'],
  backoff: ['starting', 'idle'],
  failed: ['starting', 'idle'],
});

/** A transition not in {@link TRANSITIONS}: a bug in the supervisor, never a runtime condition. */
export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly from: SupervisorState,
    readonly to: SupervisorState,
  ) {
    super(`illegal supervisor transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Why a run ended. */
export type ExitCause =
  /** stop() was called and the process exited within the grace period. */
  | 'stop'
  /** stop() was called and the process had to be SIGKILLed. */
  | 'stop-escalated'
  /** The stall or start watchdog killed it. */
  | 'watchdog'
  /** It exited, or was killed, without us asking: a crash. */
  | 'unexpected';

/** One exit, as recorded for every run. */
export interface ExitRecord {
  pid: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Epoch ms. */
  at: number;
  /** How long the run lasted. */
  runMs: number;
  cause: ExitCause;
  /** A stop we asked for, completed without SIGKILL. */
  clean: boolean;
}

export interface SupervisorStatus {
  name: string;
  state: SupervisorState;
  desired: DesiredState;
  pid: number | null;
  /** Consecutive failed runs since the last stable run (0 = healthy). */
  attempt: number;
  /** When the pending retry is due (epoch ms), in `backoff` only. */
  nextRetryAt: number | null;
  /** The last failure (kept until the next start()). */
  lastError: ClassifiedError | null;
  lastExit: ExitRecord | null;
  /** Start of the current (or last) run, epoch ms. */
  startedAt: number | null;
  /** Automatic restarts since start(). */
  restarts: number;
  /** The latest progress block of the current run. */
  progress: ProgressSnapshot | null;
  /** Why it stopped retrying, in `failed`. */
  giveUpReason: string | null;
  /** The command line, redacted. */
  command: string[];
}

export interface StateChange {
  from: SupervisorState;
  to: SupervisorState;
  at: number;
  status: SupervisorStatus;
}

export interface LogLine {
  /** stderr, or the `reportFd` ('report'). */
  stream: 'stderr' | 'report';
  /** Redacted. */
  line: string;
  at: number;
}

/** Events, with their payloads. Listeners run synchronously and must not throw. */
export interface SupervisorEvents {
  state: StateChange;
  progress: ProgressSnapshot;
  exit: ExitRecord;
  log: LogLine;
  /** Each launch's stdout, when `stdout: 'stream'` (FFmpeg writing media to `pipe:1`). */
  stdout: { stream: Readable; at: number };
  /**
   * Each launch's stdin, when `stdin: 'stream'` (FFmpeg reading media from `pipe:0`). Writes to it
   * may fail once the child is gone (EPIPE): the supervisor already listens for its 'error' (the
   * exit is what reports a dead child), and closes it when the run is stopped or ends.
   */
  stdin: { stream: Writable; at: number };
}

export interface SupervisorOptions {
  /** A label for logs and pidfiles (e.g. the destination id). */
  name?: string;
  /** Program name (looked up on PATH) or path. */
  binary: string;
  /** Arguments, without the program name. May contain secrets: list them in `secrets`. */
  argv: readonly string[];
  /** Extra environment variables; PATH defaults to the control plane's. Nothing else is passed. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Values to replace by `***` everywhere (stream keys, passphrases). */
  secrets?: readonly string[];
  retry?: Partial<RetryPolicy>;
  /** Between SIGINT and SIGKILL. Default 5000. */
  stopGraceMs?: number;
  /** The child's fd carrying `-progress pipe:N` output; null (default) = no progress, no watchdog. */
  progressFd?: number | null;
  /** Kill a running child whose progress has not advanced for this long. Default 10000; 0 = off. */
  stallTimeoutMs?: number;
  /** Kill a child that has not produced progress this long after spawning. Default 30000; 0 = off. */
  startTimeoutMs?: number;
  /**
   * 'stream': each launch's stdout is handed out raw by the `stdout` event (media: FFmpeg writing
   * FLV to `pipe:1`, srt-live-transmit writing MPEG-TS to `file://con`). Default 'ignore'.
   */
  stdout?: 'ignore' | 'stream';
  /** 'stream': each launch gets a stdin pipe, handed out by the `stdin` event. Default 'ignore'. */
  stdin?: 'ignore' | 'stream';
  /**
   * A child fd carrying line-oriented reports, which the child writes (the SRT ingest's events)
   * or opens by path (srt-live-transmit's `-statsout:/dev/fd/3`); its lines are `log` events with stream 'report'. It is a FIFO
   * (see `openReportFifo`), because the pipes Node gives a child are socket pairs, which cannot be
   * opened through /dev/fd (ENXIO). Its lines are not kept in `logTail()`. Null (default) = none.
   */
  reportFd?: number | null;
  /** Lines of output kept. Default 200. */
  logLines?: number;
  /** Directory for the pidfile registry; null (default) = none. */
  pidDir?: string | null;
  /**
   * Signal the kernel sends the child if the control plane dies (via `setpriv --pdeathsig`).
   * Default SIGKILL; null = none. The kernel sends it when the *thread* that spawned the child
   * exits: construct supervisors on the main thread, not in a worker that may end.
   */
  parentDeathSignal?: NodeJS.Signals | null;
  /** Default /usr/bin/setpriv. If missing, the parent-death signal is skipped. */
  setprivPath?: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** A second SIGINT this long after the first, if the child is still there (see the module comment). */
export const REPEAT_SIGINT_MS = 1000;
/** After the leader exits, how long to wait for its pipes to close before closing them ourselves. */
const CLOSE_FALLBACK_MS = 1000;

/* Process groups alive in this control plane, SIGKILLed by an exit hook as a last resort. */
const liveGroups = new Map<number, string | null>();
let exitHookInstalled = false;
function trackGroup(pgid: number, pidDir: string | null): void {
  liveGroups.set(pgid, pidDir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [pg, dir] of liveGroups) {
      try {
        process.kill(-pg, 'SIGKILL');
      } catch {
        /* already gone */
      }
      if (dir) removePidfile(dir, pg);
    }
  });
}

/** Finds a program the way execvp would; null if it is not there or not executable. */
export function resolveBinary(binary: string, path: string): string | null {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (binary.includes('/')) return executable(binary) ? binary : null;
  for (const dir of path.split(delimiter)) {
    if (dir && executable(join(dir, binary))) return join(dir, binary);
  }
  return null;
}

/**
 * A FIFO for a child's report fd (`reportFd`), made in `dir` and unlinked at once: the child reaches
 * it only through the fd it inherits (opening /dev/fd/N of a FIFO works, unlike a socket's).
 * Opened here read-write and non-blocking, so the child's open never waits for a reader and our
 * reader never sees EOF; the supervisor closes it when the run is over.
 * @returns the fd to hand the child and the stream that reads it, or why there is none
 */
export function openReportFifo(dir: string, env: Readonly<Record<string, string>>): { fd: number; stream: Socket } | string {
  const path = join(dir, `.report-${process.pid}-${randomBytes(6).toString('hex')}.fifo`);
  const made = spawnSync('mkfifo', ['-m', '600', path], { env, stdio: 'ignore' });
  if (made.status !== 0) return made.error ? `mkfifo: ${made.error.message}` : `mkfifo exited ${made.status}`;
  try {
    const fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
    return { fd, stream: new Socket({ fd, readable: true, writable: false }) };
  } catch (err) {
    return String(err);
  } finally {
    rmSync(path, { force: true });
  }
}

interface Run {
  id: number;
  child: ChildProcess;
  pid: number | null;
  startedAt: number;
  lines: LineRing;
  stderr: LineSplitter;
  report: { stream: Socket; lines: LineSplitter } | null;
  parser: ProgressParser;
  lastProgress: ProgressSnapshot | null;
  terminate: 'stop' | 'stall' | 'start-timeout' | null;
  escalated: boolean;
  exitedAt: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError: Error | null;
  finished: boolean;
  timers: Set<NodeJS.Timeout>;
  watchdog: NodeJS.Timeout | null;
}

/** Supervises one child process. See the module comment for the behaviour. */
export class ProcessSupervisor {
  readonly name: string;
  readonly #opts: Required<Omit<SupervisorOptions, 'name' | 'cwd' | 'env' | 'retry'>> & Pick<SupervisorOptions, 'cwd'>;
  readonly #env: Record<string, string>;
  readonly #command: string[];
  readonly #backoff: Backoff;
  readonly #events = new EventEmitter();
  readonly #log: LineRing;
  #state: SupervisorState = 'idle';
  #desired: DesiredState = 'stopped';
  #run: Run | null = null;
  #runs = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #lastError: ClassifiedError | null = null;
  #lastExit: ExitRecord | null = null;
  #startedAt: number | null = null;
  #restarts = 0;
  #progress: ProgressSnapshot | null = null;
  #giveUpReason: string | null = null;
  #stopWaiters: (() => void)[] = [];

  constructor(options: SupervisorOptions) {
    const o = options;
    const problems: string[] = [];
    if (!o.binary) problems.push('binary is required');
    const nonNegative = (k: string, v: number | undefined): void => {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) problems.push(`${k} must be >= 0, got ${v}`);
    };
    nonNegative('stopGraceMs', o.stopGraceMs);
    nonNegative('stallTimeoutMs', o.stallTimeoutMs);
    nonNegative('startTimeoutMs', o.startTimeoutMs);
    for (const k of ['progressFd', 'reportFd'] as const) {
      const fd = o[k];
      if (fd != null && !(Number.isInteger(fd) && fd >= 3)) problems.push(`${k} must be an integer >= 3, got ${fd}`);
    }
    if (o.progressFd != null && o.progressFd === o.reportFd) problems.push('progressFd and reportFd must differ');
    if (problems.length > 0) throw new RangeError(`invalid supervisor options: ${problems.join('; ')}`);
    this.name = o.name ?? o.binary;
    this.#opts = Object.freeze({
      binary: o.binary,
      argv: Object.freeze([...o.argv]),
      cwd: o.cwd,
      secrets: Object.freeze([...(o.secrets ?? [])]),
      stopGraceMs: o.stopGraceMs ?? 5000,
      progressFd: o.progressFd ?? null,
      stallTimeoutMs: o.stallTimeoutMs ?? 10_000,
      startTimeoutMs: o.startTimeoutMs ?? 30_000,
      stdout: o.stdout ?? 'ignore',
      stdin: o.stdin ?? 'ignore',
      reportFd: o.reportFd ?? null,
      logLines: o.logLines ?? 200,
      pidDir: o.pidDir ?? null,
      parentDeathSignal: o.parentDeathSignal === undefined ? 'SIGKILL' : o.parentDeathSignal,
      setprivPath: o.setprivPath ?? '/usr/bin/setpriv',
    });
    // The one environment variable read from the control plane: so the binary resolves as in its shell.
    this.#env = { PATH: process.env['PATH'] ?? DEFAULT_PATH, ...(o.env ?? {}) };
    this.#command = redactArgv([o.binary, ...o.argv], this.#opts.secrets);
    this.#backoff = new Backoff(o.retry ?? {});
    this.#log = new LineRing(this.#opts.logLines);
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof SupervisorEvents>(event: K, listener: (payload: SupervisorEvents[K]) => void): () => void {
    this.#events.on(event, listener);
    return () => this.#events.off(event, listener);
  }

  /** A snapshot of everything known, safe to serialise (no secrets). */
  status(): SupervisorStatus {
    return {
      name: this.name,
      state: this.#state,
      desired: this.#desired,
      pid: this.#run?.exitedAt === null ? this.#run.pid : null,
      attempt: this.#backoff.attempt,
      nextRetryAt: this.#state === 'backoff' ? this.#backoff.nextRetryAt : null,
      lastError: this.#lastError ? { ...this.#lastError } : null,
      lastExit: this.#lastExit ? { ...this.#lastExit } : null,
      startedAt: this.#startedAt,
      restarts: this.#restarts,
      progress: this.#progress,
      giveUpReason: this.#giveUpReason,
      command: [...this.#command],
    };
  }

  /** The last output lines across runs (redacted), oldest first. */
  logTail(): string[] {
    return this.#log.lines();
  }

  /**
   * Wants the process running. From `idle` or `failed` it starts now with a fresh failure count;
   * in `stopping` it starts again once the old process has exited; otherwise nothing changes.
   */
  start(): void {
    this.#desired = 'running';
    if (this.#state !== 'idle' && this.#state !== 'failed') return;
    this.#freshStart();
  }

  /**
   * Waiting in backoff with the process wanted: starts it now, with a fresh failure count (the
   * owner knows the cause is gone, e.g. media is back). Otherwise nothing changes. Synchronous, so
   * that no `stop()` can come between (a stop-then-start from outside could restart a process its
   * owner had stopped meanwhile, and leave it running with nobody holding it).
   * @returns whether it started
   */
  retryNow(): boolean {
    if (this.#state !== 'backoff' || this.#desired !== 'running') return false;
    this.#clearRetry();
    this.#freshStart();
    return true;
  }

  /** A new order from the owner: the failure history starts over. */
  #freshStart(): void {
    this.#backoff.reset();
    this.#restarts = 0;
    this.#lastError = null;
    this.#giveUpReason = null;
    this.#launch();
  }

  /**
   * Wants the process stopped: cancels a pending retry, or sends SIGINT to the group and SIGKILL
   * after `stopGraceMs`. Resolves once no process is left.
   */
  stop(): Promise<void> {
    this.#desired = 'stopped';
    switch (this.#state) {
      case 'idle':
        return Promise.resolve();
      case 'backoff':
        this.#clearRetry();
        this.#setState('idle');
        return Promise.resolve();
      case 'failed':
        this.#setState('idle');
        return Promise.resolve();
      case 'starting':
      case 'running':
        this.#terminate('stop');
        return this.#waitStopped();
      case 'stopping': {
        const run = this.#run;
        // A watchdog kill in progress becomes a requested stop.
        if (run && run.terminate !== 'stop') run.terminate = 'stop';
        return this.#waitStopped();
      }
    }
  }

  #waitStopped(): Promise<void> {
    return new Promise((resolve) => this.#stopWaiters.push(resolve));
  }

  #setState(to: SupervisorState): void {
    const from = this.#state;
    if (!TRANSITIONS[from].includes(to)) throw new IllegalTransitionError(from, to);
    this.#state = to;
    if (from === 'stopping') {
      const waiters = this.#stopWaiters;
      this.#stopWaiters = [];
      for (const w of waiters) w();
    }
    this.#events.emit('state', { from, to, at: Date.now(), status: this.status() } satisfies StateChange);
  }

  #logLine(stream: LogLine['stream'], raw: string, run: Run | null): void {
    const line = redact(raw, this.#opts.secrets);
    // Reports are data (statistics), not what explains an exit: only stderr is kept for that.
    if (stream === 'stderr') {
      run?.lines.push(line);
      this.#log.push(line);
    }
    this.#events.emit('log', { stream, line, at: Date.now() } satisfies LogLine);
  }

  #timer(run: Run, ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      run.timers.delete(t);
      fn();
    }, ms);
    run.timers.add(t);
    return t;
  }

  #clearTimer(run: Run, t: NodeJS.Timeout | null): void {
    if (!t) return;
    clearTimeout(t);
    run.timers.delete(t);
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#backoff.clearRetry();
  }

  #launch(): void {
    const o = this.#opts;
    this.#progress = null;
    this.#startedAt = Date.now();
    const resolved = resolveBinary(o.binary, this.#env['PATH'] ?? DEFAULT_PATH);
    if (resolved === null) {
      // Not worth a retry: nothing will put the binary there while we wait.
      this.#setState('starting');
      this.#lastError = errorFor('SPAWN_FAILED', `${o.binary}: not found or not executable (PATH ${this.#env['PATH']})`, o.secrets);
      this.#giveUpReason = 'the binary cannot be executed';
      this.#setState('failed');
      return;
    }
    const pdeath = o.parentDeathSignal && process.platform === 'linux' && existsSync(o.setprivPath) ? o.parentDeathSignal : null;
    const [cmd, args] = pdeath ? [o.setprivPath, ['--pdeathsig', pdeath.replace(/^SIG/, ''), '--', o.binary, ...o.argv]] : [o.binary, [...o.argv]];
    const stdio: ('pipe' | 'ignore' | number)[] = [o.stdin === 'stream' ? 'pipe' : 'ignore', o.stdout === 'stream' ? 'pipe' : 'ignore', 'pipe'];
    const extra = (fd: number, what: 'pipe' | number): void => {
      while (stdio.length <= fd) stdio.push('ignore');
      stdio[fd] = what;
    };
    if (o.progressFd !== null) extra(o.progressFd, 'pipe');
    let report: Run['report'] = null;
    let devNull: number | null = null;
    let reportProblem: string | null = null;
    if (o.reportFd !== null) {
      const fifo = openReportFifo(o.pidDir ?? tmpdir(), this.#env);
      if (typeof fifo === 'string') {
        // The child still gets an fd to open (/dev/null): srt-live-transmit would otherwise fall
        // back to writing its reports to stdout, into the media.
        reportProblem = fifo;
        devNull = openSync('/dev/null', 'w');
        extra(o.reportFd, devNull);
      } else {
        report = { stream: fifo.stream, lines: new LineSplitter() };
        extra(o.reportFd, fifo.fd);
      }
    }
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { detached: true, env: this.#env, cwd: o.cwd, stdio, windowsHide: true });
    } catch (err) {
      report?.stream.destroy();
      throw err;
    } finally {
      // The child has its own copy now.
      if (devNull !== null) closeSync(devNull);
    }
    const run: Run = {
      id: ++this.#runs,
      child,
      pid: child.pid ?? null,
      startedAt: this.#startedAt,
      lines: new LineRing(Math.max(50, Math.min(o.logLines, 200))),
      stderr: new LineSplitter(),
      report,
      parser: new ProgressParser(),
      lastProgress: null,
      terminate: null,
      escalated: false,
      exitedAt: null,
      code: null,
      signal: null,
      spawnError: null,
      finished: false,
      timers: new Set(),
      watchdog: null,
    };
    this.#run = run;
    if (!pdeath && o.parentDeathSignal && run.id === 1) {
      this.#logLine('stderr', `supervisor: ${o.setprivPath} unavailable; the child will not get a parent-death signal`, run);
    }
    if (reportProblem) this.#logLine('stderr', `supervisor: no report FIFO for fd ${o.reportFd} (${reportProblem}); its reports are lost`, run);

    child.on('error', (err) => {
      run.spawnError = err;
      if (run.pid === null) this.#finish(run);
    });
    child.on('exit', (code, signal) => this.#onExit(run, code, signal));
    child.on('close', () => this.#finish(run));
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const l of run.stderr.push(chunk)) this.#logLine('stderr', l, run);
    });
    report?.stream.on('data', (chunk: Buffer) => {
      for (const l of report.lines.push(chunk)) this.#logLine('report', l, run);
    });
    report?.stream.on('error', () => undefined);
    // Writing to a child that is gone fails (EPIPE, or ERR_STREAM_DESTROYED once we closed it):
    // harmless, its exit is reported anyway, but an 'error' nobody listens to would crash us.
    child.stdin?.on('error', () => undefined);
    if (o.progressFd !== null) {
      (child.stdio[o.progressFd] as Readable | null)?.on('data', (chunk: Buffer) => {
        for (const snap of run.parser.push(chunk)) this.#onProgress(run, snap);
      });
    }

    this.#setState('starting');
    if (o.stdout === 'stream' && child.stdout) this.#events.emit('stdout', { stream: child.stdout, at: this.#startedAt });
    if (o.stdin === 'stream' && child.stdin) this.#events.emit('stdin', { stream: child.stdin, at: this.#startedAt });
    if (run.pid === null) return; // the 'error' event follows
    trackGroup(run.pid, o.pidDir);
    if (o.pidDir) {
      writePidfile(o.pidDir, {
        version: 1,
        name: this.name,
        pid: run.pid,
        pgid: run.pid,
        startedAt: run.startedAt,
        startTicks: readProcStat(run.pid)?.startTicks ?? null,
        argvHash: hashArgv([o.binary, ...o.argv]),
        command: this.#command,
        ownerPid: process.pid,
        ownerStartTicks: selfStartTicks(),
      });
    }
    if (o.progressFd === null) {
      child.once('spawn', () => {
        if (this.#run === run && this.#state === 'starting' && run.exitedAt === null) this.#becomeRunning(run);
      });
    } else if (o.startTimeoutMs > 0) {
      run.watchdog = this.#timer(run, o.startTimeoutMs, () => {
        if (this.#run === run && this.#state === 'starting') this.#terminate('start-timeout');
      });
    }
  }

  #becomeRunning(run: Run): void {
    this.#clearTimer(run, run.watchdog);
    run.watchdog = null;
    this.#backoff.recordStart();
    const reset = this.#backoff.policy.resetAfterStableMs;
    this.#timer(run, reset, () => {
      if (this.#run === run && this.#state === 'running') this.#backoff.recordStableRun();
    });
    this.#armStallWatchdog(run);
    this.#setState('running');
  }

  #armStallWatchdog(run: Run): void {
    const ms = this.#opts.stallTimeoutMs;
    this.#clearTimer(run, run.watchdog);
    run.watchdog = null;
    if (this.#opts.progressFd === null || ms <= 0) return;
    run.watchdog = this.#timer(run, ms, () => {
      if (this.#run === run && this.#state === 'running') this.#terminate('stall');
    });
  }

  #onProgress(run: Run, snap: ProgressSnapshot): void {
    if (this.#run !== run || run.finished) return;
    const prev = run.lastProgress;
    run.lastProgress = snap;
    this.#progress = snap;
    if (this.#state === 'starting') {
      // Progress read after the exit was printed before it: record it, but a dead process is not running.
      if (run.exitedAt === null) this.#becomeRunning(run);
    } else if (this.#state === 'running') {
      // Blocks that repeat the same counters are not progress: an FFmpeg stuck on its input can
      // keep printing them.
      const advanced = !prev || snap.frame !== prev.frame || snap.outTimeMs !== prev.outTimeMs || snap.totalSizeBytes !== prev.totalSizeBytes;
      if (snap.progress === 'end') {
        this.#clearTimer(run, run.watchdog);
        run.watchdog = null;
      } else if (advanced) {
        this.#armStallWatchdog(run);
      }
    }
    this.#events.emit('progress', snap);
  }

  /** Sends SIGINT to the group, SIGKILL after the grace period; the exit is handled in #finish. */
  #terminate(reason: 'stop' | 'stall' | 'start-timeout'): void {
    const run = this.#run;
    if (!run) return;
    run.terminate = reason;
    this.#clearTimer(run, run.watchdog);
    run.watchdog = null;
    if (run.pid !== null && run.exitedAt === null) {
      signalGroup(run.pid, 'SIGINT');
      // EOF on its input: the only way out for an FFmpeg blocked reading it (see the module comment).
      run.child.stdin?.destroy();
      this.#timer(run, Math.min(REPEAT_SIGINT_MS, this.#opts.stopGraceMs / 2), () => {
        if (run.exitedAt === null && run.pid !== null) signalGroup(run.pid, 'SIGINT');
      });
      this.#timer(run, this.#opts.stopGraceMs, () => {
        if (run.exitedAt !== null || run.pid === null) return;
        run.escalated = true;
        signalGroup(run.pid, 'SIGKILL');
      });
    }
    this.#setState('stopping');
  }

  #onExit(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    run.exitedAt = Date.now();
    run.code = code;
    run.signal = signal;
    // The leader is gone; nothing else of its group may stay (FFmpeg never forks, but a wrapper
    // or a tool might), and a survivor holding our pipes would delay 'close' forever.
    if (run.pid !== null) signalGroup(run.pid, 'SIGKILL');
    // Nobody reads it any more: writers see it destroyed at once rather than at the next EPIPE.
    run.child.stdin?.destroy();
    this.#timer(run, CLOSE_FALLBACK_MS, () => {
      for (const s of run.child.stdio) s?.destroy();
      this.#finish(run);
    });
  }

  /** The run is over (exit + pipes closed, or spawn failure): record it and decide what is next. */
  #finish(run: Run): void {
    if (run.finished || this.#run !== run) return;
    if (run.exitedAt === null && run.spawnError === null) return; // 'close' before 'exit' cannot happen, but be sure
    run.finished = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    for (const l of run.stderr.end()) this.#logLine('stderr', l, run);
    if (run.report) {
      run.report.stream.destroy();
      for (const l of run.report.lines.end()) this.#logLine('report', l, run);
    }
    for (const snap of run.parser.end()) run.lastProgress = snap;
    if (run.pid !== null) {
      liveGroups.delete(run.pid);
      if (this.#opts.pidDir) removePidfile(this.#opts.pidDir, run.pid);
    }
    const at = run.exitedAt ?? Date.now();
    const cause: ExitCause = run.terminate === 'stop' ? (run.escalated ? 'stop-escalated' : 'stop') : run.terminate ? 'watchdog' : 'unexpected';
    const exit: ExitRecord = {
      pid: run.pid,
      code: run.code,
      signal: run.signal,
      at,
      runMs: at - run.startedAt,
      cause,
      clean: cause === 'stop',
    };
    this.#lastExit = exit;
    this.#events.emit('exit', { ...exit });

    if (this.#state === 'stopping' && run.terminate === 'stop') {
      if (this.#desired === 'running') {
        this.#freshStart();
      } else {
        this.#setState('idle');
      }
      return;
    }
    this.#fail(run);
  }

  #fail(run: Run): void {
    const o = this.#opts;
    let error: ClassifiedError;
    if (run.spawnError) {
      error = errorFor('SPAWN_FAILED', run.spawnError.message, o.secrets);
    } else {
      error = classifyStderr(run.lines.lines(), {
        secrets: o.secrets,
        exitCode: run.code,
        signal: run.signal,
        ...(o.progressFd !== null ? { mediaSentMs: run.lastProgress?.outTimeMs ?? 0 } : {}),
      });
      if (run.terminate && error.code === 'UNKNOWN') {
        error = run.terminate === 'stall' ? errorFor('INPUT_STALLED', `no progress for ${o.stallTimeoutMs} ms; the process was killed`) : errorFor('START_TIMEOUT', `no progress ${o.startTimeoutMs} ms after start; the process was killed`);
      }
    }
    this.#lastError = error;
    const decision = this.#backoff.nextDelay(error);
    if (run.spawnError || !decision.retry) {
      this.#giveUpReason = run.spawnError ? 'the binary cannot be executed' : decision.retry ? null : decision.explanation;
      this.#backoff.clearRetry();
      this.#setState('failed');
      return;
    }
    // The timer is armed before the state event, so a listener that calls stop() cancels it.
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#state !== 'backoff' || this.#desired !== 'running') return;
      this.#backoff.clearRetry();
      this.#restarts += 1;
      this.#launch();
    }, decision.delayMs);
    this.#setState('backoff');
  }
}
