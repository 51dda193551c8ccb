/**
 * `SrtIngest`: the contribution listener of the local engine, one supervised `fanout-srt listen`
 * (ADR 0020). Its own process, so a crash or a hang of libsrt takes down the ingest alone: the
 * `ProcessSupervisor` restarts it with backoff, and the control plane, the flow hub, the HLS and
 * the RTMP publishers carry on (the publishers wait out the gap, see local-media-engine.ts).
 *
 * - The passphrase goes in on the child's stdin (one line, then EOF) at each launch, never in its
 *   argv or environment (the supervisor gives children PATH and nothing else).
 * - Its stdout (MPEG-TS) is handed to the owner (`onMedia`: the flow hub); its events (fd 3, JSON
 *   lines) are read by `SrtIngestMonitor`: connected / disconnected / rejected, the SRT stats.
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
}

export class SrtIngest {
  readonly supervisor: ProcessSupervisor;
  readonly #monitor = new SrtIngestMonitor();
  readonly #listeners = new Set<(ev: SrtIngestEvent) => void>();

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
    this.supervisor.on('stdin', ({ stream }) => stream.end(`${o.passphrase}\n`));
    this.supervisor.on('log', (l) => {
      if (l.stream === 'report') this.#dispatch(this.#monitor.line(l.line, l.at));
    });
    this.supervisor.on('exit', (e) => this.#dispatch(this.#monitor.processExited(e.at)));
  }

  #dispatch(events: SrtIngestEvent[]): void {
    for (const ev of events) for (const fn of this.#listeners) fn(ev);
  }

  /** Every event of the ingest (connected, disconnected, rejected, busy, stats). */
  onEvent(fn: (ev: SrtIngestEvent) => void): () => void {
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
    return this.supervisor.stop();
  }

  state(): SrtIngestState {
    return this.#monitor.state();
  }
}
