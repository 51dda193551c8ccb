/**
 * What every part of the local media engine shares: its options and logger, the secrets it must
 * redact (the SRT passphrase and every channel's stream key), the event sink, the `LastError`
 * shape of a classified error, and the one way it runs an FFmpeg (supervised, reading a hub on
 * stdin). The facade (`local-media-engine.ts`) makes one and hands it to the flow, the source pool
 * and the channels, so that redaction, event emission and "closed" mean the same thing everywhere.
 */
import { join } from 'node:path';
import type { LastError } from '../../../../events/envelope.ts';
import { silentLog, type Log } from '../../../logging/logger.ts';
import { redact } from '../../../secrets/redact.ts';
import type { NativeEngineEvent } from '../../port/ports.ts';
import type { ClassifiedError } from '../process/stderr-classifier.ts';
import { ProcessSupervisor } from '../process/supervisor.ts';
import { DEFAULTS, type LocalMediaEngineOptions } from './options.ts';
import type { TsHub } from './ts-hub.ts';

/** Errors that mean "no media came in": retried at once when media returns. */
const INPUT_CODES = new Set(['INPUT_STALLED', 'START_TIMEOUT']);

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export class EngineContext {
  readonly o: LocalMediaEngineOptions;
  readonly log: Log;
  readonly pidDir: string;
  readonly passphrase: string;
  /** The backup input's passphrase, when it has its own. */
  readonly backupPassphrase: string | null;
  readonly #streamKeys: () => string[];
  #closed = false;
  /** FFmpegs of `ffmpeg()` that are not idle. */
  readonly #running = new Set<ProcessSupervisor>();

  /** `streamKeys`: every channel's stream key, revealed (read at each redaction). */
  constructor(options: LocalMediaEngineOptions, streamKeys: () => string[]) {
    this.o = Object.freeze({ ...options });
    this.log = options.logger ?? silentLog;
    this.pidDir = join(options.dataDir, 'run', 'pids');
    this.passphrase = options.srtPassphrase.reveal();
    this.backupPassphrase = options.srtBackupPassphrase?.reveal() ?? null;
    this.#streamKeys = streamKeys;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** From now on nothing is emitted and no process is (re)started. */
  markClosed(): void {
    this.#closed = true;
  }

  /** Every secret the engine knows: the passphrases and every channel's stream key. */
  secrets(): string[] {
    return [this.passphrase, ...(this.backupPassphrase ? [this.backupPassphrase] : []), ...this.#streamKeys()];
  }

  redact(text: string): string {
    return redact(text, this.secrets());
  }

  emit(event: NativeEngineEvent): void {
    if (this.#closed) return;
    try {
      this.o.sink(event);
    } catch (err) {
      this.log.error('the event sink threw', { detailType: event.detailType, error: this.redact(String(err)) });
    }
  }

  lastError(e: ClassifiedError | null, extra?: string | null): LastError | null {
    if (!e) return null;
    const message = extra ? `${e.message} (${extra})` : e.message;
    return { code: e.code, message: clip(this.redact(message), 500), hint: clip(this.redact(e.hint), 500) };
  }

  /**
   * A supervised FFmpeg reading a hub on stdin (`feedOnLaunch`), with the engine's progress
   * pipe, watchdogs, backoff and pidfiles.
   */
  ffmpeg(name: string, argv: string[], secrets: string[] = [], stdout: 'ignore' | 'stream' = 'ignore'): ProcessSupervisor {
    const o = this.o;
    const sup = new ProcessSupervisor({
      name,
      binary: o.ffmpegPath ?? DEFAULTS.ffmpegPath,
      argv,
      secrets,
      stdin: 'stream',
      stdout,
      progressFd: 3,
      retry: o.retryPolicy ?? {},
      stallTimeoutMs: o.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
      startTimeoutMs: o.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      stopGraceMs: o.stopGraceMs ?? DEFAULTS.stopGraceMs,
      pidDir: this.pidDir,
    });
    // Every FFmpeg the engine runs is known here until it is idle again, so that `stopStray()`
    // finds one that its owner lost track of; after close nothing starts.
    sup.on('state', (c) => {
      if (c.to === 'idle') this.#running.delete(sup);
      else this.#running.add(sup);
      if (this.#closed && c.to === 'starting') void sup.stop();
    });
    return sup;
  }

  /**
   * Stops every FFmpeg of `ffmpeg()` that is not idle (for `close()`, after the owners stopped
   * theirs): none should be left, and one that is is logged by name.
   */
  async stopStray(): Promise<void> {
    const stray = [...this.#running];
    for (const sup of stray) this.log.warn('engine close: stopping an FFmpeg its owner had not stopped', { process: sup.status().name, state: sup.status().state });
    await Promise.all(stray.map((sup) => sup.stop()));
  }

  /**
   * Each time `sup` launches its FFmpeg, its fresh stdin becomes consumer `id` of the hub: the
   * cached GOP first, so it starts on a keyframe without waiting for one, then live.
   */
  feedOnLaunch(sup: ProcessSupervisor, hub: TsHub, id: string): () => void {
    return sup.on('stdin', ({ stream }) => {
      if (!this.#closed) hub.attach(id, stream);
    });
  }

  /** A process in backoff because no media came in restarts at once (media is back). */
  kickIfWaitingForInput(sup: ProcessSupervisor): void {
    const st = sup.status();
    if (st.state !== 'backoff' || !st.lastError || !INPUT_CODES.has(st.lastError.code)) return;
    if (!this.#closed) sup.retryNow();
  }
}
