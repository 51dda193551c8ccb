/**
 * One contribution input of the flow: the SRT ingest (`ingest/srt-ingest.ts`, fanout-srt listening
 * on one port), what it reports (source connected / disconnected as MediaConnect Source Health
 * events, rejected and refused callers logged) and the hub it feeds (`ts-hub.ts`, keeping the
 * current GOP). Everything downstream (the primary HLS, the passthrough mux, the encoders) reads
 * an input's hub; the backup input (issue 15) is a second `FlowInput` on another port, with its own
 * passphrase or the main's, and `inputs.ts` decides which hub is on air.
 *
 *   encoder ──SRT (AES, passphrase)──► fanout-srt listen :srtPort (ingest/, libsrt; passphrase on stdin)
 *                                         │ stdout (MPEG-TS; JSON events and stats on fd 3)
 *                                         ▼
 *                                  hub (ts-hub.ts) ──► one consumer per FFmpeg reading this input
 *
 * - The ingest serves one caller at a time and keeps listening after it leaves. While an encoder
 *   is connected and sending, a second caller is refused at once (and logged); one silent for
 *   1.5 s is replaced by the new caller (an encoder calling back before SRT noticed it had gone).
 *   So a wrong passphrase shows in `health().lastError` only when tried while no encoder is
 *   sending.
 * - The hub writes to each FFmpeg's stdin with a drop policy of its own: an FFmpeg that falls
 *   behind loses input (counted, logged) rather than slowing the ingest or the others. Joining
 *   mid-stream is instant: the hub keeps the current GOP (`gop-cache.ts`) and writes it to the
 *   stdin of every FFmpeg attached to it, before the live stream.
 *
 * Secrets: the SRT passphrase reaches the ingest on its stdin (never argv or environment, ADR 0020).
 */
import type { InputHealth } from '../../port/ports.ts';
import type { ProcessSupervisor } from '../process/supervisor.ts';
import type { EngineContext } from './engine-context.ts';
import { ingestBinary } from './ingest/binary.ts';
import { SrtIngest, type SrtIngestNotice } from './ingest/srt-ingest.ts';
import { sourceHealth } from './native-events.ts';
import { DEFAULTS } from './options.ts';
import { TsHub, type TsHubStats } from './ts-hub.ts';

export interface FlowInputOptions {
  /** The hub's name (logs, stats). */
  name: string;
  port: number;
  /** The SRT passphrase callers must use (revealed); default the engine's. */
  passphrase?: string;
  /** The ingest's process name. Default `srt-ingest`. */
  processName?: string;
  /**
   * Report callers connecting and leaving as "MediaConnect Source Health" (the flow's source). The
   * main does; the backup's health is read through `inputsHealth` instead. Default true.
   */
  sourceHealthEvents?: boolean;
  /** Media starts (true) or stops (false) arriving in the hub. */
  onActivity: (active: boolean) => void;
}

export class FlowInput {
  readonly #ctx: EngineContext;
  readonly hub: TsHub;
  readonly #ingest: SrtIngest;
  readonly #sourceHealthEvents: boolean;
  /** For logs: which input. */
  readonly name: string;

  constructor(ctx: EngineContext, options: FlowInputOptions) {
    this.#ctx = ctx;
    this.name = options.name;
    this.#sourceHealthEvents = options.sourceHealthEvents ?? true;
    const o = ctx.o;
    this.hub = new TsHub({
      name: options.name,
      idleAfterMs: o.mediaIdleMs ?? DEFAULTS.mediaIdleMs,
      onActivity: options.onActivity,
      gopCache: true,
      logger: ctx.log,
    });
    let binary = o.srtIngestPath;
    if (binary === undefined) {
      const built = ingestBinary();
      if (built.problem) ctx.log.error('the SRT ingest is not built', { problem: built.problem });
      binary = built.path;
    }
    this.#ingest = new SrtIngest({
      name: options.processName ?? 'srt-ingest',
      binary,
      port: options.port,
      bindAddress: o.srtBindAddress ?? DEFAULTS.srtBindAddress,
      passphrase: options.passphrase ?? ctx.passphrase,
      keyLength: o.srtKeyLength,
      retry: o.retryPolicy ?? {},
      stopGraceMs: o.stopGraceMs ?? DEFAULTS.stopGraceMs,
      pidDir: ctx.pidDir,
    });
    this.#ingest.onMedia((stream) => this.hub.input(stream));
    this.#ingest.onEvent((ev) => this.#onIngestEvent(ev));
  }

  /** The ingest's supervisor: its state is the input's (running = listening). */
  get supervisor(): ProcessSupervisor {
    return this.#ingest.supervisor;
  }

  /** Whether media is arriving in the hub. */
  get active(): boolean {
    return this.hub.active;
  }

  start(): void {
    this.#ingest.start();
  }

  stop(): Promise<void> {
    return this.#ingest.stop();
  }

  /** Closes the hub (after every process reading it has stopped). */
  close(): void {
    this.hub.close();
  }

  hubStats(): TsHubStats {
    return this.hub.stats();
  }

  /** The contribution's health: connection, address, bitrate, SRT loss/retransmits/RTT, last rejection. */
  health(): InputHealth {
    const s = this.#ingest.state();
    const hub = this.hub.stats();
    const ttl = this.#ctx.o.srtRejectionTtlMs ?? DEFAULTS.srtRejectionTtlMs;
    const rejection = s.lastRejection && s.lastRejectionAt !== null && Date.now() - s.lastRejectionAt <= ttl ? s.lastRejection : null;
    return {
      connected: s.connected,
      sourceAddress: s.address,
      connectedSince: s.connectedSince !== null ? new Date(s.connectedSince).toISOString() : null,
      bitrateInKbps: s.connected ? (hub.bitrateKbps ?? (s.mbitRate !== null ? Math.round(s.mbitRate * 1000) : null)) : null,
      packetLossPercent: s.connected ? s.lossPercent : null,
      packetsLost: s.connected ? s.packetsLost : null,
      retransmits: s.connected ? s.packetsRetransmitted : null,
      rttMs: s.connected ? s.rttMs : null,
      lastError: this.#ctx.lastError(rejection),
      updatedAt: new Date().toISOString(),
    };
  }

  #onIngestEvent(ev: SrtIngestNotice): void {
    const { log } = this.#ctx;
    switch (ev.type) {
      case 'connected':
        log.info('SRT source connected', { input: this.name, address: ev.address });
        if (this.#sourceHealthEvents) this.#ctx.emit(sourceHealth('CONNECTED', 'DISCONNECTED'));
        break;
      case 'disconnected':
        log.info('SRT source disconnected', { input: this.name });
        if (this.#sourceHealthEvents) this.#ctx.emit(sourceHealth('DISCONNECTED', 'CONNECTED'));
        break;
      case 'rejected':
        log.warn('SRT caller rejected', { input: this.name, code: ev.error.code, address: ev.address });
        break;
      case 'busy':
        log.warn('SRT caller refused: another encoder is connected', { input: this.name, address: ev.address });
        break;
      case 'hung':
        log.error('the SRT ingest stopped reporting: killed, to be restarted', { input: this.name, silentMs: ev.silentMs, pid: ev.pid });
        break;
      case 'listening':
      case 'stats':
        break;
    }
  }
}
