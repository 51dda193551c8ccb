/**
 * The source pool: the FFmpeg processes that turn the flow's MPEG-TS into FLV for the channels,
 * each writing into its own `RtmpFanout` (`../rtmp/rtmp-fanout.ts`), ref-counted by the channels
 * that use them.
 *
 *   input hub ──► passthrough mux (one per flow, while ≥1 passthrough channel runs)
 *     │             ffmpeg -c copy -f flv pipe:1 ──► RtmpFanout ──► RtmpPublisher (channel A) → rtmp(s)://
 *     │                                                       └──► RtmpPublisher (channel B) …
 *     └──► encoder tap, one per (preset, encode) in use
 *                   ffmpeg x264/AAC -f flv pipe:1 ──► RtmpFanout ──► RtmpPublisher (channel C) …
 *
 * - Encode once, push many: channels with the same preset and encode settings share one encoder
 *   (`encoderKey`); passthrough channels share one mux. `acquire` starts a source with its first
 *   user, `release` stops it with its last. The publishers in a fan-out are the channels' business
 *   (`channels.ts`): the pool tells them what happens to their source (`SourceListener`).
 * - Each FFmpeg is a consumer of the input's hub, fed the cached GOP first each time it launches.
 * - When the mux or an encoder ends (crash, stall, kill), its publishers stay connected for
 *   `sourceGraceMs` (10 s) and the new run's stdout is re-attached to the same fan-out (timestamps
 *   continue, publishers wait for a keyframe); once the grace is over the listener's `stalled`
 *   closes them with INPUT_STALLED. `kickWaiting` restarts at once what waits in backoff for input
 *   (media is back).
 * - An input switch (`repoint`, issue 15, ADR 0023) is make-before-break: each source gets a new
 *   FFmpeg reading the hub now on air (the backup's, the main's or the slate's, fed its cached GOP
 *   first), while the old one goes on feeding the fan-out; at the new FFmpeg's first byte its
 *   stdout is attached to the same fan-out (`RtmpFanout.attach`: the publishers' connections stay,
 *   timestamps continue 40 ms after the last one sent, publishers wait for the new keyframe) and
 *   only then the old FFmpeg stops. A restart after a crash takes the same `attach` path.
 */
import type { LastError } from '../../../../events/envelope.ts';
import type { Readable } from 'node:stream';
import type { ProcessSupervisor, SupervisorState, SupervisorStatus } from '../process/supervisor.ts';
import { errorFor } from '../process/stderr-classifier.ts';
import { RtmpFanout, type RtmpFanoutEvent } from '../rtmp/rtmp-fanout.ts';
import { encoderArgs, muxArgs } from './argv.ts';
import type { EngineContext } from './engine-context.ts';
import { DEFAULTS, encoderKey } from './options.ts';
import { Serial } from './serial.ts';
import type { ChannelSpec } from '../../port/ports.ts';
import type { TsHub } from './ts-hub.ts';

/**
 * An FFmpeg writing FLV to stdout into an `RtmpFanout`: the passthrough mux (one per flow) or a
 * shared encoder (one per preset and encode settings).
 */
export interface MediaSource {
  key: string;
  kind: 'mux' | 'encoder';
  label: string;
  /** The newest FFmpeg (the one that reads the hub on air, or will once it has taken over). */
  sup: ProcessSupervisor;
  argv: string[];
  fan: RtmpFanout;
  /** Its FFmpeg's consumer id in the hub it reads. */
  tapId: string;
  /** The hub `sup` reads. */
  hub: TsHub;
  users: Set<string>;
  /** `sup`'s listeners. */
  offs: (() => void)[];
  /** The FFmpeg whose stdout feeds the fan-out now (`sup` but during a repoint). */
  feeding: ProcessSupervisor | null;
  /** FFmpegs of earlier hubs still running until the new one takes over (make-before-break). */
  retiring: Retiring[];
  /** Repoints so far (tap ids of later generations carry it). */
  generation: number;
  /** The FFmpeg's stdout is attached to the fan-out. */
  attached: boolean;
  /** Running since its source ended: publishers are closed when it fires. */
  graceTimer: NodeJS.Timeout | null;
}

interface Retiring {
  sup: ProcessSupervisor;
  offs: (() => void)[];
  hub: TsHub;
  tapId: string;
}

/** What the pool tells the users of a source (the channels). */
export interface SourceListener {
  /** The source's FFmpeg runs and its stdout is attached: its users may publish. */
  running(src: MediaSource): void;
  /** The source's FFmpeg failed (waits in backoff, or gave up). */
  failed(src: MediaSource, error: LastError): void;
  /** The grace is over and the source still has no media. */
  stalled(src: MediaSource, error: LastError): void;
  /** A publisher event of the source's fan-out (`publishing`, `closed`). */
  publisher(src: MediaSource, event: Exclude<RtmpFanoutEvent, { type: 'source-end' }>): void;
}

/** The key of the passthrough mux among the sources. */
const MUX_KEY = 'passthrough';

function what(src: MediaSource): string {
  return src.kind === 'mux' ? 'passthrough mux' : 'shared encoder';
}

export class SourcePool {
  readonly #ctx: EngineContext;
  readonly #hub: () => TsHub;
  readonly #listener: SourceListener;
  readonly #sources = new Map<string, MediaSource>();
  readonly #serial = new Serial();

  /** `hub`: the hub on air, which the sources read (asked when a source starts and at each `repoint`). */
  constructor(ctx: EngineContext, hub: () => TsHub, listener: SourceListener) {
    this.#ctx = ctx;
    this.#hub = hub;
    this.#listener = listener;
  }

  get(key: string): MediaSource | undefined {
    return this.#sources.get(key);
  }

  all(): MediaSource[] {
    return [...this.#sources.values()];
  }

  /** Whether the source's FFmpeg is producing media into its fan-out. */
  static live(src: MediaSource): boolean {
    return src.attached && src.sup.status().state === 'running';
  }

  /** Whether the source's FFmpeg is starting or running (not waiting in backoff, not given up). */
  static startingOrLive(src: MediaSource): boolean {
    const state = src.sup.status().state;
    return state === 'starting' || SourcePool.live(src);
  }

  /** The source for `spec` (started if none runs), with `channelId` among its users. */
  acquire(channelId: string, spec: ChannelSpec): Promise<MediaSource> {
    return this.#serial.run(async () => {
      const ctx = this.#ctx;
      const encode = spec.encode;
      const key = encode === null ? MUX_KEY : encoderKey(spec.presetId, encode);
      let src = this.#sources.get(key);
      if (!src) {
        const tapId = encode === null ? 'tap:mux' : `tap:encoder:${key}`;
        const kind = encode === null ? 'mux' : 'encoder';
        const label = encode === null ? 'mux-passthrough' : `encoder-${spec.presetId}`;
        const argv = encode === null ? muxArgs() : encoderArgs({ encode, x264Preset: ctx.o.x264Preset ?? DEFAULTS.x264Preset });
        const created: MediaSource = {
          key,
          kind,
          label,
          sup: null as unknown as ProcessSupervisor,
          argv,
          fan: null as unknown as RtmpFanout,
          tapId,
          hub: this.#hub(),
          users: new Set(),
          offs: [],
          attached: false,
          graceTimer: null,
          feeding: null,
          retiring: [],
          generation: 0,
        };
        created.fan = new RtmpFanout({ logger: ctx.log, onEvent: (e) => this.#onFanEvent(created, e) });
        this.#launch(created, created.hub, tapId);
        this.#sources.set(key, created);
        ctx.log.info(`${what(created)} started`, { source: label });
        src = created;
      }
      src.users.add(channelId);
      return src;
    });
  }

  /**
   * A new FFmpeg for `src` reading `hub` (consumer `tapId`), made `src.sup` and started. Its stdout
   * feeds the fan-out at once when nothing else does (first start, restart after a crash), or
   * takes over from the FFmpeg feeding it at its first byte (a repoint).
   */
  #launch(src: MediaSource, hub: TsHub, tapId: string): void {
    const ctx = this.#ctx;
    const sup = ctx.ffmpeg(src.label, src.argv, [], 'stream');
    src.sup = sup;
    src.hub = hub;
    src.tapId = tapId;
    src.offs = [
      sup.on('stdout', ({ stream }) => {
        if (src.sup !== sup) return; // superseded by a later repoint before its output came
        const feeding = src.feeding;
        if (feeding === null || feeding === sup || !src.attached) {
          this.#feedFrom(src, sup, stream);
          return;
        }
        // Make-before-break: the old FFmpeg feeds the fan-out until this one has something to say.
        stream.once('data', (first: Buffer) => {
          stream.pause();
          stream.unshift(first);
          if (src.sup === sup && this.#sources.get(src.key) === src) this.#feedFrom(src, sup, stream);
          stream.resume();
        });
      }),
      sup.on('state', (c) => {
        if (src.sup === sup) this.#onSourceState(src, c.to, c.status);
      }),
      ctx.feedOnLaunch(sup, hub, tapId),
    ];
    sup.start();
  }

  /** `sup`'s stdout feeds `src`'s fan-out from now on; every FFmpeg it replaces stops. */
  #feedFrom(src: MediaSource, sup: ProcessSupervisor, stream: Readable): void {
    src.fan.attach(stream);
    src.attached = true;
    src.feeding = sup;
    const retiring = src.retiring;
    src.retiring = [];
    if (retiring.length > 0) this.#ctx.log.info('input switch: the new FFmpeg took over', { source: src.label, hub: src.hub.name });
    for (const r of retiring) void this.#retire(r);
  }

  async #retire(r: Retiring): Promise<void> {
    for (const off of r.offs) off();
    r.hub.remove(r.tapId);
    await r.sup.stop();
  }

  /**
   * Every source reads the hub now on air (`hub()`), make-before-break (see the module comment).
   * Sources already reading it are left alone. Returns at once; the take-overs follow as the new
   * FFmpegs produce.
   */
  repoint(): Promise<void> {
    return this.#serial.run(async () => {
      // A switch that comes with the engine's close (the inputs stop, the main's hub is on air
      // again) starts nothing: every source is being stopped.
      if (this.#ctx.closed) return;
      const hub = this.#hub();
      for (const src of this.#sources.values()) {
        if (src.hub === hub) continue;
        const current: Retiring = { sup: src.sup, offs: src.offs, hub: src.hub, tapId: src.tapId };
        if (src.feeding === src.sup && src.attached) src.retiring.push(current);
        else void this.#retire(current); // it never fed the fan-out (an earlier repoint still starting, or dead)
        src.generation += 1;
        const base = src.kind === 'mux' ? 'tap:mux' : `tap:encoder:${src.key}`;
        this.#launch(src, hub, `${base}#${src.generation}`);
        this.#ctx.log.info('input switch: source repointed', { source: src.label, hub: hub.name });
      }
    });
  }

  /** `channelId` no longer uses the source; its last user stops it. */
  release(key: string, channelId: string): Promise<void> {
    return this.#serial.run(async () => {
      const src = this.#sources.get(key);
      if (!src) return;
      src.users.delete(channelId);
      if (src.users.size > 0) return;
      this.#sources.delete(key);
      src.hub.remove(src.tapId);
      if (src.graceTimer) clearTimeout(src.graceTimer);
      src.graceTimer = null;
      const retiring = src.retiring;
      src.retiring = [];
      await Promise.all([src.sup.stop(), src.fan.close(), ...retiring.map((r) => this.#retire(r))]);
      for (const off of src.offs) off();
      this.#ctx.log.info(`${what(src)} stopped`, { source: src.label });
    });
  }

  /** Media is back: every source waiting in backoff for input restarts now. */
  kickWaiting(): void {
    for (const src of this.#sources.values()) this.#ctx.kickIfWaitingForInput(src.sup);
  }

  #onSourceState(src: MediaSource, to: SupervisorState, status: SupervisorStatus): void {
    const ctx = this.#ctx;
    if (ctx.closed) return;
    if (to === 'running') {
      if (src.graceTimer) clearTimeout(src.graceTimer);
      src.graceTimer = null;
      this.#listener.running(src);
      return;
    }
    if (to !== 'backoff' && to !== 'failed') return;
    const err = ctx.lastError(status.lastError, to === 'failed' ? `gave up: ${status.giveUpReason ?? 'not retrying'}` : null);
    ctx.log.warn(`${what(src)} failed`, { source: src.label, state: to, error: err });
    if (!err) return;
    this.#listener.failed(src, err);
  }

  #onFanEvent(src: MediaSource, e: RtmpFanoutEvent): void {
    const ctx = this.#ctx;
    if (ctx.closed) return;
    if (e.type === 'source-end') {
      src.attached = false;
      ctx.log.info('source output ended', { source: src.label, error: e.error ? ctx.redact(e.error.message) : null });
      this.#startGrace(src);
      return;
    }
    this.#listener.publisher(src, e);
  }

  /** The source's FFmpeg ended: its publishers wait `sourceGraceMs` for its next run. */
  #startGrace(src: MediaSource): void {
    if (src.graceTimer) return;
    const ctx = this.#ctx;
    const graceMs = ctx.o.sourceGraceMs ?? DEFAULTS.sourceGraceMs;
    src.graceTimer = setTimeout(() => {
      src.graceTimer = null;
      if (SourcePool.live(src) || ctx.closed) return;
      const stalled = ctx.lastError(errorFor('INPUT_STALLED', `the ${what(src)} produced no media for ${Math.round(graceMs / 1000)} s`, ctx.secrets()));
      if (stalled) this.#listener.stalled(src, stalled);
    }, graceMs);
    src.graceTimer.unref?.();
  }

  /** Stops every source (for `close()`). */
  stopAll(): Promise<void>[] {
    const stops: Promise<void>[] = [];
    for (const src of this.#sources.values()) {
      if (src.graceTimer) clearTimeout(src.graceTimer);
      stops.push(src.sup.stop(), src.fan.close(), ...src.retiring.map((r) => this.#retire(r)));
      src.retiring = [];
    }
    return stops;
  }

  /** Forgets every source, after `stopAll()` settled. */
  clear(): void {
    for (const src of this.#sources.values()) for (const off of src.offs) off();
    this.#sources.clear();
  }
}
