/**
 * `SrtIngest`: the contribution listener of the local engine, one supervised `fanout-srt listen`
 * (ADR 0020). Its own process, so a crash or a hang of libsrt takes down the ingest alone: the
 * `ProcessSupervisor` restarts it with backoff, and the control plane, the flow hub, the HLS and
 * the RTMP publishers carry on (the publishers wait out the gap, see source-pool.ts).
 *
 * - The passphrase goes in on the child's stdin (one line, then EOF) at each launch, never in its
 *   argv or environment (the supervisor gives children PATH and nothing else).
 * - Its stdout (MPEG-TS) is handed to the owner (`onMedia`: the flow hub); its events (fd 3, JSON
 *   lines) are read by `SrtIngestMonitor`: connected / disconnected / rejected, the SRT stats.
 * - A hang (libsrt or the program stuck, the process alive): the program writes a line on fd 3
 *   at least every `statsEveryMs` (stats while a caller is connected, a heartbeat otherwise), so
 *   a running ingest silent for `hangTimeoutMs` is SIGKILLed (a `hung` event first) and the
 *   supervisor restarts it like any crash.
 * - One instance is one listener; a second one (the backup input of issue 15) is a second
 *   instance on another port.
 */
import type { Readable } from 'node:stream';
import type { RetryPolicy } from '../../process/backoff.ts';
import { ProcessSupervisor } from '../../process/supervisor.ts';
import { INGEST_EVENTS_FD, ingestArgs } from './argv.ts';
import { type SrtIngestEvent, SrtIngestMonitor, type SrtIngestState } from './monitor.ts';

export interface SrtIngestOptions {
  name?: string;
  /** The `fanout-srt` program (see binary.ts). */
  binary: string;
  port: number;
  bindAddress: string;
  passphrase: string;
  keyLength: 16 | 24 | 32;
  latencyMs?: number;
  statsEveryMs?: number;
  retry?: Partial<RetryPolicy>;
  stopGraceMs?: number;
  pidDir?: string | null;
  /** A running ingest that writes nothing on fd 3 for this long is killed and restarted. Default 5000; 0 = off. */
  hangTimeoutMs?: number;
}

/** What the ingest reports, and the watchdog's verdict. */
export type SrtIngestNotice = SrtIngestEvent | { type: 'hung'; silentMs: number; pid: number; at: number };

export class SrtIngest {
  readonly supervisor: ProcessSupervisor;
  readonly #monitor = new SrtIngestMonitor();
  readonly #listeners = new Set<(ev: SrtIngestNotice) => void>();
  readonly #hangTimeoutMs: number;
  #lastLineAt = 0;
  #watchdog: NodeJS.Timeout | null = null;

  constructor(o: SrtIngestOptions) {
    this.supervisor = new ProcessSupervisor({
      name: o.name ?? 'srt-ingest',
      binary: o.binary,
      argv: ingestArgs({
        port: o.port,
        bindAddress: o.bindAddress,
        keyLength: o.keyLength,
        ...(o.latencyMs !== undefined ? { latencyMs: o.latencyMs } : {}),
        ...(o.statsEveryMs !== undefined ? { statsEveryMs: o.statsEveryMs } : {}),
      }),
      // Not in argv; listed so that anything the child might echo is redacted all the same.
      secrets: [o.passphrase],
      stdin: 'stream',
      stdout: 'stream',
      reportFd: INGEST_EVENTS_FD,
      ...(o.retry ? { retry: o.retry } : {}),
      ...(o.stopGraceMs !== undefined ? { stopGraceMs: o.stopGraceMs } : {}),
      pidDir: o.pidDir ?? null,
    });
    this.#hangTimeoutMs = o.hangTimeoutMs ?? 5000;
    this.supervisor.on('stdin', ({ stream }) => stream.end(`${o.passphrase}\n`));
    this.supervisor.on('log', (l) => {
      if (l.stream !== 'report') return;
      this.#lastLineAt = l.at;
      this.#dispatch(this.#monitor.line(l.line, l.at));
    });
    this.supervisor.on('state', (c) => {
      if (c.to === 'running') this.#watch();
      else this.#unwatch();
    });
    this.supervisor.on('exit', (e) => this.#dispatch(this.#monitor.processExited(e.at)));
  }

  #dispatch(events: SrtIngestNotice[]): void {
    for (const ev of events) for (const fn of this.#listeners) fn(ev);
  }

  #watch(): void {
    this.#unwatch();
    if (this.#hangTimeoutMs <= 0) return;
    this.#lastLineAt = Date.now();
    // Over the limit on two checks in a row: after our own event loop was blocked, timers run
    // before the lines waiting on fd 3 are read, so one late check alone proves nothing.
    let suspect = false;
    this.#watchdog = setInterval(
      () => {
        const st = this.supervisor.status();
        const silentMs = Date.now() - this.#lastLineAt;
        if (st.state !== 'running' || st.pid === null || silentMs < this.#hangTimeoutMs) {
          suspect = false;
          return;
        }
        if (!suspect) {
          suspect = true;
          return;
        }
        this.#unwatch();
        this.#dispatch([{ type: 'hung', silentMs, pid: st.pid, at: Date.now() }]);
        try {
          process.kill(-st.pid, 'SIGKILL'); // its process group; the supervisor sees a crash and restarts it
        } catch {
          /* already gone */
        }
      },
      Math.max(50, Math.min(1000, this.#hangTimeoutMs / 4)),
    );
    this.#watchdog.unref();
  }

  #unwatch(): void {
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
  }

  /** Every event of the ingest (listening, connected, disconnected, rejected, busy, stats) and `hung`. */
  onEvent(fn: (ev: SrtIngestNotice) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Each run's stdout: the contribution as MPEG-TS. */
  onMedia(fn: (stream: Readable) => void): () => void {
    return this.supervisor.on('stdout', ({ stream }) => fn(stream));
  }

  start(): void {
    this.supervisor.start();
  }

  stop(): Promise<void> {
    this.#unwatch();
    return this.supervisor.stop();
  }

  state(): SrtIngestState {
    return this.#monitor.state();
  }
}
