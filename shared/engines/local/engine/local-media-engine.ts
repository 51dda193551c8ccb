/**
 * `LocalMediaEngine`: the media engine of a local install, implementing both `FlowEngine` (the
 * contribution flow and its outputs, MediaConnect's part) and `ChannelEngine` (one channel per
 * destination, MediaLive's part) with the SRT ingest (ingest/) and FFmpeg on this machine. It reports
 * what happens as the native AWS events MediaConnect and MediaLive would emit.
 *
 * Media topology (internal hops are pipes: MPEG-TS from the SRT ingest's stdout through the flow
 * hub into each FFmpeg's stdin, FLV on their stdout after; the flow hub and the RTMP(S) publishers
 * run in this Node process):
 *
 *   encoder ──SRT (AES, passphrase)──► fanout-srt listen :srtPort (ingest/, libsrt; passphrase on stdin)
 *                                         │ stdout (MPEG-TS; JSON events and stats on fd 3)
 *                                         ▼
 *                                  flow hub (ts-hub.ts) ──► primary HLS  ffmpeg -c copy → <dataDir>/hls/primary/
 *                                    │   │                  (tap; runs while the flow is ACTIVE and media arrives)
 *                                    │   └──► passthrough mux (one per flow, while ≥1 passthrough channel runs)
 *                                    │          ffmpeg -c copy -f flv pipe:1 ──► RtmpFanout ──► RtmpPublisher (channel A) → rtmp(s)://
 *                                    │                                                    └──► RtmpPublisher (channel B) …
 *                                    └──► encoder tap, one per (preset, encode) in use
 *                                             ffmpeg x264/AAC -f flv pipe:1 ──► RtmpFanout ──► RtmpPublisher (channel C) …
 *
 * Why this shape:
 * - Encode once, push many: channels with the same preset and encode settings share one encoder;
 *   passthrough channels share one mux. Each channel still starts and stops on its own, because a
 *   channel is only a publisher in its source's fan-out (`fan.add` / `fan.remove`): it touches no
 *   process and no other connection. The mux or encoder stops with its last running channel.
 * - Fan-out in Node rather than FFmpeg's `tee` muxer or one pusher FFmpeg per destination: the FLV
 *   is parsed and chunked once and the same buffers are written to every socket (see
 *   rtmp-fanout.ts), so a destination costs a socket write instead of an FFmpeg remuxing the feed
 *   (the bench measured ~60× nginx `push`'s CPU per destination with pushers). A slow destination
 *   drops frames on its own and never slows the others.
 * - The trade-off: every publisher shares this Node process. A crash of the control plane drops
 *   every destination at once (it did before too: pushers died with their parent), and a blocked
 *   event loop delays every destination; the hot path does no I/O waits and no per-destination
 *   copies, and the flow hub already lived here.
 * - The flow hub writes to each FFmpeg's stdin with a drop policy of its own: an FFmpeg that falls
 *   behind loses input (counted, logged) rather than slowing the ingest or the others.
 * - Joining mid-stream is instant: the flow hub keeps the current GOP (`gop-cache.ts`) and writes
 *   it to the stdin of every FFmpeg it launches, before the live stream; each fan-out keeps its
 *   metadata, sequence headers and current GOP and sends them to a publisher as soon as the
 *   platform accepts the publish.
 * - A publisher is added only once its source has media (the mux or encoder is `running`), so a
 *   platform connection is never held while no media arrives. When the mux or an encoder ends
 *   (crash, stall, kill), its publishers stay connected for `sourceGraceMs` (10 s) and the new
 *   run's stdout is re-attached (timestamps continue, publishers wait for a keyframe); after that
 *   they are closed with INPUT_STALLED and re-added when media returns. Processes waiting in
 *   backoff for input are restarted at once when media returns.
 * - The ingest (`ingest/srt-ingest.ts`) serves one caller at a time and keeps listening after it
 *   leaves. While an encoder is connected and sending, a second caller is refused at once (and
 *   logged); one silent for 1.5 s is replaced by the new caller (an encoder calling back before
 *   SRT noticed it had gone). So a wrong passphrase shows in `inputHealth().lastError` only when
 *   tried while no encoder is sending.
 *
 * States: the flow follows MediaConnect (STANDBY → STARTING → ACTIVE → STOPPING → STANDBY, ERROR
 * if the ingest cannot run); channels follow MediaLive, see `channel-lifecycle.ts`. RUNNING
 * means the publisher is really publishing (NetStream.Publish.Start, then its bytesSent keeps
 * growing). A failing publisher keeps the channel's state, raises a "MediaLive Channel Alert"
 * (with our `fanout_error`) and sets `describeChannel().error`, is re-added with backoff
 * (`backoff.ts`: 1 s doubling to 60 s, reset after 60 s of stable publishing, cancelled by stop),
 * and the alert clears once it publishes again. A stream key the platform rejects (or a DNS or TLS
 * failure) stops retrying after `nonRetryableMaxAttempts`. A failing mux or encoder alerts every
 * channel it serves.
 *
 * RTMPS: certificates are verified (FFmpeg never did); `rtmpsVerify: false` is for tests against
 * a self-signed server.
 *
 * Secrets: the SRT passphrase reaches the ingest on its stdin (never argv or environment, ADR
 * 0020); stream keys never leave this process (no argv). Every command, log line, error, status and event this
 * engine shows is redacted.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { LastError } from '../../../../events/envelope.ts';
import type { ChannelDescription, ChannelEngine, ChannelMetrics, ChannelSpec, FlowDescription, FlowEngine, FlowState, InputHealth, NativeEngineEvent, OwnedResources } from '../../port/ports.ts';
import { Backoff } from '../process/backoff.ts';
import { reapOrphans } from '../process/pidfile.ts';
import { redact } from '../../../secrets/redact.ts';
import { RtmpFanout, type RtmpFanoutEvent } from '../rtmp/rtmp-fanout.ts';
import { RtmpPublishError, type RtmpPublisherStats } from '../rtmp/rtmp-publisher.ts';
import { silentLog, type Log } from '../../../logging/logger.ts';
import { type ClassifiedError, errorFor } from '../process/stderr-classifier.ts';
import { ProcessSupervisor, type SupervisorState, type SupervisorStatus } from '../process/supervisor.ts';
import { encoderArgs, hlsArgs, muxArgs } from './argv.ts';
import { ingestBinary } from './ingest/binary.ts';
import { IDLE_INGEST_STATE, type SrtIngestState } from './ingest/monitor.ts';
import { SrtIngest, type SrtIngestNotice } from './ingest/srt-ingest.ts';
import { assertTransition, MediaEngineError } from './channel-lifecycle.ts';
import { alarmId, alertTypeFor, channelAlert, channelArn, channelStateChange, FLOW_ARN, flowStatusChange, outputArn as outputArnFor, sourceHealth } from './native-events.ts';
import { DEFAULTS, encoderKey, type LocalMediaEngineOptions, validateOptions, validateSpec } from './options.ts';
import { Serial } from './serial.ts';
import { TsHub, type TsHubStats } from './ts-hub.ts';

/** Re-exported for the callers that import them from here (options.ts holds them). */
export { encoderKey, type LocalMediaEngineOptions } from './options.ts';

/** A process of the engine, as shown to operators (command redacted). */
export interface EngineProcess {
  name: string;
  role: 'ingest' | 'hls' | 'encoder' | 'pusher';
  channelIds: string[];
  pid: number | null;
  state: SupervisorState;
  restarts: number;
  attempt: number;
  lastError: LastError | null;
  command: string[];
}

export interface PrimaryHlsStatus {
  state: SupervisorState;
  playlistPath: string;
  pid: number | null;
  lastError: LastError | null;
}

interface FlowOutput {
  destinationId: string;
  outputArn: string;
}

/** A channel's RTMP publisher (inside its source's `RtmpFanout`), as the engine follows it. */
interface Publish {
  /** The server accepted the publish (`publishing` event). */
  publishing: boolean;
  /** Publishing and bytesSent keeps growing: the channel is RUNNING. */
  pushing: boolean;
  /** Consecutive samples whose bytesSent grew. */
  growth: number;
  lastBytes: number;
  lastFrames: number;
  lastAt: number;
  bitrateKbps: number | null;
  fps: number | null;
  stats: RtmpPublisherStats | null;
}

interface Channel {
  id: string;
  arn: string;
  spec: ChannelSpec;
  state: ChannelState;
  desired: 'running' | 'stopped';
  error: LastError | null;
  alarm: { id: string; type: string; code: string } | null;
  alarmEpisodes: number;
  /** The source (mux or shared encoder) feeding the channel while it runs. */
  sourceKey: string | null;
  publish: Publish | null;
  backoff: Backoff;
  retryTimer: NodeJS.Timeout | null;
  /** Gave up retrying (non-retryable error repeated); stays until stopped. */
  gaveUp: boolean;
  launches: number;
  restarts: number;
  bytesSentBefore: number;
  pushingSince: number | null;
  serial: Serial;
}

/**
 * An FFmpeg writing FLV to stdout into an `RtmpFanout`: the passthrough mux (one per flow) or a
 * shared encoder (one per preset and encode settings).
 */
interface MediaSource {
  key: string;
  kind: 'mux' | 'encoder';
  label: string;
  sup: ProcessSupervisor;
  fan: RtmpFanout;
  /** Its FFmpeg's consumer id in the flow hub. */
  tapId: string;
  users: Set<string>;
  offs: (() => void)[];
  /** The FFmpeg's stdout is attached to the fan-out. */
  attached: boolean;
  /** Running since its source ended: publishers are closed when it fires. */
  graceTimer: NodeJS.Timeout | null;
}

/** The key of the passthrough mux among the sources. */
const MUX_KEY = 'passthrough';

/** How often publisher stats are sampled (RUNNING detection, bitrate, fps, stable-run reset). */
const SAMPLE_MS = 250;

/** Errors that mean "no media came in": retried at once when media returns. */
const INPUT_CODES = new Set(['INPUT_STALLED', 'START_TIMEOUT']);

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** What exists only once the engine has started (the flow hub, supervisors). */
interface Runtime {
  flowHub: TsHub;
  ingest: SrtIngest;
  hls: ProcessSupervisor;
}

export class LocalMediaEngine implements FlowEngine, ChannelEngine {
  readonly #o: LocalMediaEngineOptions;
  readonly #log: Log;
  readonly #pidDir: string;
  readonly #hlsDir: string;
  readonly #passphrase: string;
  readonly #outputs = new Map<string, FlowOutput>();
  readonly #channels = new Map<string, Channel>();
  readonly #sources = new Map<string, MediaSource>();
  readonly #encoderSerial = new Serial();
  readonly #flowSerial = new Serial();
  #rt: Runtime | null = null;
  #starting: Promise<Runtime> | null = null;
  #flowState: FlowState = 'STANDBY';
  #closed = false;
  #sampler: NodeJS.Timeout | null = null;

  /**
   * Validates the options (every problem at once) and keeps them. Nothing runs until `start()`
   * (or the first operation, which starts the engine itself).
   * @throws MediaEngineError INVALID_ENGINE_OPTIONS
   */
  constructor(options: LocalMediaEngineOptions) {
    validateOptions(options);
    this.#o = Object.freeze({ ...options });
    this.#log = options.logger ?? silentLog;
    this.#pidDir = join(options.dataDir, 'run', 'pids');
    this.#hlsDir = join(options.dataDir, 'hls', 'primary');
    this.#passphrase = options.srtPassphrase.reveal();
  }

  /** `new LocalMediaEngine(options)`, then `start()`. */
  static async create(options: LocalMediaEngineOptions): Promise<LocalMediaEngine> {
    const engine = new LocalMediaEngine(options);
    await engine.start();
    return engine;
  }

  /**
   * Starts the engine: kills what a crashed previous run left behind (pidfiles in
   * `<dataDir>/run/pids`) and opens the flow hub. The flow stays in STANDBY until `startFlow()`.
   * Idempotent.
   */
  async start(): Promise<void> {
    await this.#ready();
  }

  /** The runtime, for code that only runs once the engine has started (event handlers, operations). */
  #runtime(): Runtime {
    if (!this.#rt) throw new MediaEngineError('ENGINE_CLOSED', 'the local media engine has not started');
    return this.#rt;
  }

  get #flowHub(): TsHub {
    return this.#runtime().flowHub;
  }

  get #ingest(): SrtIngest {
    return this.#runtime().ingest;
  }

  get #hls(): ProcessSupervisor {
    return this.#runtime().hls;
  }

  #ready(): Promise<Runtime> {
    this.#assertOpen();
    this.#starting ??= this.#boot();
    return this.#starting;
  }

  /**
   * Each time `sup` launches its FFmpeg, its fresh stdin becomes consumer `id` of the flow hub:
   * the cached GOP first, so it starts on a keyframe without waiting for one, then live.
   */
  #feedOnLaunch(sup: ProcessSupervisor, hub: TsHub, id: string): () => void {
    return sup.on('stdin', ({ stream }) => {
      if (!this.#closed) hub.attach(id, stream);
    });
  }

  async #boot(): Promise<Runtime> {
    const o = this.#o;
    mkdirSync(this.#pidDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.#hlsDir, { recursive: true });
    // A playlist left by an earlier run names segments that are gone or stale.
    this.#pruneHls(0);
    rmSync(join(this.#hlsDir, 'index.m3u8'), { force: true });
    const reaped = await reapOrphans(this.#pidDir);
    const killed = reaped.filter((r) => r.outcome === 'killed');
    if (killed.length > 0) this.#log.warn('killed processes left by a previous run', { processes: killed.map((r) => r.name) });

    const flowHub = new TsHub({
      name: 'flow',
      idleAfterMs: o.mediaIdleMs ?? DEFAULTS.mediaIdleMs,
      onActivity: (active) => this.#onMediaActivity(active),
      gopCache: true,
      logger: this.#log,
    });

    let binary = o.srtIngestPath;
    if (binary === undefined) {
      const built = ingestBinary();
      if (built.problem) this.#log.error('the SRT ingest is not built', { problem: built.problem });
      binary = built.path;
    }
    const ingest = new SrtIngest({
      binary,
      port: o.srtPort,
      bindAddress: o.srtBindAddress ?? DEFAULTS.srtBindAddress,
      passphrase: this.#passphrase,
      keyLength: o.srtKeyLength,
      retry: o.retryPolicy ?? {},
      stopGraceMs: o.stopGraceMs ?? DEFAULTS.stopGraceMs,
      pidDir: this.#pidDir,
    });
    ingest.onMedia((stream) => flowHub.input(stream));
    ingest.onEvent((ev) => this.#onIngestEvent(ev));
    ingest.supervisor.on('state', (c) => this.#onIngestState(c.to, c.status));

    const hls = this.#ffmpeg('hls-primary', hlsArgs({ dir: this.#hlsDir }));
    hls.on('state', (c) => {
      if (c.to === 'backoff' || c.to === 'failed') this.#log.warn('primary HLS failed', { error: c.status.lastError, state: c.to });
    });
    this.#feedOnLaunch(hls, flowHub, 'tap:hls');
    this.#rt = { flowHub, ingest, hls };
    this.#sampler = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#sampler.unref();
    return this.#rt;
  }

  // ---------------------------------------------------------------------------------------------
  // Events and redaction

  /** Every secret the engine knows: the passphrase and every channel's stream key. */
  #secrets(): string[] {
    return [this.#passphrase, ...[...this.#channels.values()].map((c) => c.spec.target.streamKey.reveal())];
  }

  #redact(text: string): string {
    return redact(text, this.#secrets());
  }

  #emit(event: NativeEngineEvent): void {
    if (this.#closed) return;
    try {
      this.#o.sink(event);
    } catch (err) {
      this.#log.error('the event sink threw', { detailType: event.detailType, error: this.#redact(String(err)) });
    }
  }

  #lastError(e: ClassifiedError | null, extra?: string | null): LastError | null {
    if (!e) return null;
    const message = extra ? `${e.message} (${extra})` : e.message;
    return { code: e.code, message: clip(this.#redact(message), 500), hint: clip(this.#redact(e.hint), 500) };
  }

  // ---------------------------------------------------------------------------------------------
  // Flow

  #setFlowState(to: FlowState): void {
    const from = this.#flowState;
    if (from === to) return;
    this.#flowState = to;
    this.#log.info('flow state', { from, to });
    this.#emit(flowStatusChange(to, from));
  }

  #emitSource(current: 'CONNECTED' | 'DISCONNECTED', previous: 'CONNECTED' | 'DISCONNECTED'): void {
    this.#emit(sourceHealth(current, previous));
  }

  #onIngestEvent(ev: SrtIngestNotice): void {
    switch (ev.type) {
      case 'connected':
        this.#log.info('SRT source connected', { address: ev.address });
        this.#emitSource('CONNECTED', 'DISCONNECTED');
        break;
      case 'disconnected':
        this.#log.info('SRT source disconnected');
        this.#emitSource('DISCONNECTED', 'CONNECTED');
        break;
      case 'rejected':
        this.#log.warn('SRT caller rejected', { code: ev.error.code, address: ev.address });
        break;
      case 'busy':
        this.#log.warn('SRT caller refused: another encoder is connected', { address: ev.address });
        break;
      case 'hung':
        this.#log.error('the SRT ingest stopped reporting: killed, to be restarted', { silentMs: ev.silentMs, pid: ev.pid });
        break;
      case 'listening':
      case 'stats':
        break;
    }
  }

  #onIngestState(to: SupervisorState, status: SupervisorStatus): void {
    if (to === 'running' && (this.#flowState === 'STARTING' || this.#flowState === 'ERROR')) this.#setFlowState('ACTIVE');
    if ((to === 'failed' || to === 'backoff') && this.#flowState !== 'STOPPING' && this.#flowState !== 'STANDBY') {
      this.#log.warn('the SRT ingest failed', { error: status.lastError, state: to });
      if (to === 'failed') this.#setFlowState('ERROR');
    }
  }

  #onMediaActivity(active: boolean): void {
    if (this.#closed) return;
    this.#log.info(active ? 'media arriving' : 'media stopped arriving');
    if (active) {
      if (this.#flowState === 'ACTIVE') this.#startHls();
      // Whatever gave up waiting for input retries now rather than at its next backoff step.
      for (const src of this.#sources.values()) this.#kickIfWaitingForInput(src.sup);
    } else {
      void this.#hls.stop();
    }
  }

  #kickIfWaitingForInput(sup: ProcessSupervisor): void {
    const st = sup.status();
    if (st.state !== 'backoff' || !st.lastError || !INPUT_CODES.has(st.lastError.code)) return;
    void sup.stop().then(() => {
      if (st.desired === 'running' && !this.#closed) sup.start();
    });
  }

  #startHls(): void {
    this.#pruneHls();
    const st = this.#hls.status().state;
    if (st === 'backoff') this.#kickIfWaitingForInput(this.#hls);
    else this.#hls.start();
  }

  /** Removes segments a previous run left behind (FFmpeg only prunes what it wrote itself). */
  #pruneHls(olderThanMs = 60_000): void {
    const cutoff = Date.now() - olderThanMs;
    try {
      for (const f of readdirSync(this.#hlsDir)) {
        if (!f.startsWith('seg_') || !f.endsWith('.ts')) continue;
        const p = join(this.#hlsDir, f);
        if (statSync(p).mtimeMs < cutoff) rmSync(p, { force: true });
      }
    } catch {
      /* the directory may not exist yet */
    }
  }

  async describeFlow(): Promise<FlowDescription> {
    await this.#ready();
    return {
      flowArn: FLOW_ARN,
      state: this.#flowState,
      outputs: [...this.#outputs.values()].map((o) => ({ outputArn: o.outputArn, destinationId: o.destinationId })),
      source: await this.inputHealth(),
    };
  }

  /** STANDBY → STARTING → ACTIVE once the SRT ingest is listening. Idempotent. */
  async startFlow(): Promise<void> {
    await this.#ready();
    return this.#flowSerial.run(async () => {
      if (this.#flowState === 'ACTIVE' || this.#flowState === 'STARTING') return;
      this.#setFlowState('STARTING');
      const settled = new Promise<void>((resolve) => {
        const off = this.#ingest.supervisor.on('state', (c) => {
          if (c.to === 'running' || c.to === 'failed') {
            off();
            resolve();
          }
        });
      });
      this.#ingest.start();
      await settled;
      if (this.#flowHub.active) this.#startHls();
    });
  }

  /** → STOPPING → STANDBY: the listener, and the primary HLS with it, stop. Idempotent. */
  async stopFlow(): Promise<void> {
    await this.#ready();
    return this.#flowSerial.run(async () => {
      if (this.#flowState === 'STANDBY') return;
      this.#setFlowState('STOPPING');
      await Promise.all([this.#hls.stop(), this.#ingest.stop()]);
      this.#setFlowState('STANDBY');
    });
  }

  async addOutput(destinationId: string): Promise<{ outputArn: string }> {
    await this.#ready();
    if (!destinationId) throw new MediaEngineError('INVALID_CHANNEL_SPEC', 'destinationId is required');
    return this.#flowSerial.run(async () => {
      const existing = this.#outputs.get(destinationId);
      if (existing) return { outputArn: existing.outputArn };
      // Passthrough channels all read the one mux (see the header); an output is the
      // destination's right to one, as on MediaConnect.
      const out: FlowOutput = { destinationId, outputArn: outputArnFor(destinationId) };
      this.#outputs.set(destinationId, out);
      this.#log.info('flow output added', { destinationId });
      return { outputArn: out.outputArn };
    });
  }

  async removeOutput(outputArn: string): Promise<void> {
    await this.#ready();
    return this.#flowSerial.run(async () => {
      const out = [...this.#outputs.values()].find((o) => o.outputArn === outputArn);
      if (!out) return;
      this.#outputs.delete(out.destinationId);
      this.#log.info('flow output removed', { destinationId: out.destinationId });
    });
  }

  /** The contribution's health: connection, address, bitrate, SRT loss/retransmits/RTT, last rejection. */
  async inputHealth(): Promise<InputHealth> {
    const s: SrtIngestState = this.#rt?.ingest.state() ?? IDLE_INGEST_STATE; // before the ingest has started
    const hub = this.#rt?.flowHub.stats() ?? null;
    const ttl = this.#o.srtRejectionTtlMs ?? DEFAULTS.srtRejectionTtlMs;
    const rejection = s.lastRejection && s.lastRejectionAt !== null && Date.now() - s.lastRejectionAt <= ttl ? s.lastRejection : null;
    return {
      connected: s.connected,
      sourceAddress: s.address,
      connectedSince: s.connectedSince !== null ? new Date(s.connectedSince).toISOString() : null,
      bitrateInKbps: s.connected ? (hub?.bitrateKbps ?? (s.mbitRate !== null ? Math.round(s.mbitRate * 1000) : null)) : null,
      packetLossPercent: s.connected ? s.lossPercent : null,
      packetsLost: s.connected ? s.packetsLost : null,
      retransmits: s.connected ? s.packetsRetransmitted : null,
      rttMs: s.connected ? s.rttMs : null,
      lastError: this.#lastError(rejection),
      updatedAt: new Date().toISOString(),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Channels

  #setChannelState(ch: Channel, to: ChannelState): void {
    assertTransition(ch.id, ch.state, to);
    ch.state = to;
    this.#log.info('channel state', { channelId: ch.id, destinationId: ch.spec.destinationId, state: to });
    this.#emit(channelStateChange(ch.id, to));
  }

  #channel(channelId: string): Channel {
    const ch = this.#channels.get(channelId);
    if (!ch) throw new MediaEngineError('CHANNEL_NOT_FOUND', `no channel ${channelId}`);
    return ch;
  }

  #newChannelId(): string {
    for (;;) {
      const id = String(randomInt(1_000_000, 10_000_000));
      if (!this.#channels.has(id)) return id;
    }
  }

  async createChannel(spec: ChannelSpec): Promise<{ channelId: string; arn: string }> {
    await this.#ready();
    validateSpec(spec);
    const existing = [...this.#channels.values()].find((c) => c.spec.destinationId === spec.destinationId);
    if (existing) return { channelId: existing.id, arn: existing.arn };
    const id = this.#newChannelId();
    const ch: Channel = {
      id,
      arn: channelArn(id),
      spec,
      state: 'CREATING',
      desired: 'stopped',
      error: null,
      alarm: null,
      alarmEpisodes: 0,
      sourceKey: null,
      publish: null,
      backoff: new Backoff(this.#o.retryPolicy ?? {}),
      retryTimer: null,
      gaveUp: false,
      launches: 0,
      restarts: 0,
      bytesSentBefore: 0,
      pushingSince: null,
      serial: new Serial(),
    };
    this.#channels.set(id, ch);
    this.#emit(channelStateChange(id, 'CREATING'));
    this.#setChannelState(ch, 'IDLE');
    return { channelId: id, arn: ch.arn };
  }

  async startChannel(channelId: string): Promise<void> {
    await this.#ready();
    const ch = this.#channel(channelId);
    return ch.serial.run(async () => {
      if (ch.state === 'STARTING' || ch.state === 'RUNNING') return;
      if (ch.state !== 'IDLE') throw new MediaEngineError('CHANNEL_NOT_IDLE', `channel ${ch.id} is ${ch.state}`);
      if (ch.spec.encode === null) {
        const out = [...this.#outputs.values()].find((o) => o.outputArn === ch.spec.outputArn);
        if (!out) {
          throw new MediaEngineError('OUTPUT_NOT_FOUND', `channel ${ch.id}: its flow output does not exist`);
        }
        const user = [...this.#channels.values()].find((c) => c !== ch && c.sourceKey !== null && c.spec.encode === null && c.spec.outputArn === out.outputArn);
        if (user) {
          throw new MediaEngineError('INVALID_CHANNEL_SPEC', `channel ${ch.id}: its flow output already feeds channel ${user.id}`, 'Give each destination its own flow output (addOutput).');
        }
      }
      ch.desired = 'running';
      ch.error = null;
      ch.gaveUp = false;
      ch.backoff.reset();
      this.#setChannelState(ch, 'STARTING');
      const src = await this.#acquireSource(ch);
      ch.sourceKey = src.key;
      this.#connect(ch);
    });
  }

  async stopChannel(channelId: string): Promise<void> {
    await this.#ready();
    const ch = this.#channels.get(channelId);
    if (!ch) return;
    return ch.serial.run(async () => {
      if (ch.state !== 'STARTING' && ch.state !== 'RUNNING') return;
      ch.desired = 'stopped';
      this.#setChannelState(ch, 'STOPPING');
      await this.#teardown(ch);
      this.#clearAlarm(ch, 'Channel stopped');
      ch.error = null;
      this.#setChannelState(ch, 'IDLE');
    });
  }

  async updateChannel(channelId: string, spec: ChannelSpec): Promise<void> {
    await this.#ready();
    const ch = this.#channel(channelId);
    return ch.serial.run(async () => {
      if (ch.state !== 'IDLE') {
        throw new MediaEngineError('CHANNEL_NOT_IDLE', `channel ${ch.id} is ${ch.state}; only an IDLE channel can be updated`, 'Stop the channel first.');
      }
      validateSpec(spec);
      if (spec.destinationId !== ch.spec.destinationId) {
        throw new MediaEngineError('INVALID_CHANNEL_SPEC', 'a channel cannot move to another destination');
      }
      this.#setChannelState(ch, 'UPDATING');
      ch.spec = spec;
      this.#setChannelState(ch, 'IDLE');
    });
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.#ready();
    const ch = this.#channels.get(channelId);
    if (!ch) return;
    return ch.serial.run(async () => {
      if (!this.#channels.has(ch.id)) return;
      if (ch.state !== 'IDLE') {
        throw new MediaEngineError('CHANNEL_NOT_IDLE', `channel ${ch.id} is ${ch.state}; only an IDLE channel can be deleted`, 'Stop the channel first.');
      }
      this.#setChannelState(ch, 'DELETING');
      await this.#teardown(ch);
      this.#setChannelState(ch, 'DELETED');
      this.#channels.delete(ch.id);
    });
  }

  async describeChannel(channelId: string): Promise<ChannelDescription | null> {
    const ch = this.#channels.get(channelId);
    return ch ? this.#describe(ch) : null;
  }

  async listChannels(): Promise<ChannelDescription[]> {
    return [...this.#channels.values()].map((c) => this.#describe(c));
  }

  /** Every channel and flow output of this process (all of them are Fanout's: nothing else makes them). */
  async listOwnedResources(): Promise<OwnedResources> {
    const channels = [...this.#channels.values()];
    return {
      channels: channels.map((c) => this.#describe(c)),
      outputs: [...this.#outputs.values()].map((o) => ({
        outputArn: o.outputArn,
        destinationId: o.destinationId,
        state: null,
        attachedChannelIds: channels.filter((c) => c.spec.outputArn === o.outputArn).map((c) => c.id),
        flowOutputArn: o.outputArn,
      })),
    };
  }

  #describe(ch: Channel): ChannelDescription {
    return { channelId: ch.id, arn: ch.arn, destinationId: ch.spec.destinationId, state: ch.state, error: ch.error ? { ...ch.error } : null };
  }

  channelMetrics(channelId: string): ChannelMetrics | null {
    const ch = this.#channels.get(channelId);
    if (!ch) return null;
    const now = Date.now();
    const pub = ch.publish;
    const st = pub?.stats ?? null;
    const live = st !== null && st.state === 'publishing';
    const src = ch.sourceKey ? this.#sources.get(ch.sourceKey) : undefined;
    const enc = src?.kind === 'encoder' ? (src.sup.status().progress ?? null) : null;
    return {
      bitrateKbps: live ? pub!.bitrateKbps : null,
      fps: live ? pub!.fps : null,
      frames: st ? st.videoFramesSent : null,
      droppedFrames: st ? st.droppedVideoFrames + st.droppedAudioFrames + (enc?.dropFrames ?? 0) : (enc?.dropFrames ?? null),
      duplicatedFrames: enc?.dupFrames ?? null,
      speed: src && live ? (src.sup.status().progress?.speed ?? null) : null,
      uptimeSeconds: ch.pushingSince !== null ? Math.round((now - ch.pushingSince) / 1000) : null,
      restarts: ch.restarts,
      bytesSent: ch.bytesSentBefore + (st?.bytesSent ?? 0),
      attempt: ch.sourceKey !== null ? ch.backoff.attempt : null,
      nextRetryAt: ch.backoff.nextRetryAt !== null ? new Date(ch.backoff.nextRetryAt).toISOString() : null,
      updatedAt: new Date(now).toISOString(),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Publishers (one per running channel, inside its source's RtmpFanout)

  /** Whether the source's FFmpeg is producing media into its fan-out. */
  #sourceLive(src: MediaSource): boolean {
    return src.attached && src.sup.status().state === 'running';
  }

  /**
   * Adds the channel's publisher to its source's fan-out, once the source has media (otherwise
   * the source's `running` does it), unless a retry is pending or the channel gave up.
   */
  #connect(ch: Channel): void {
    if (this.#closed || ch.desired !== 'running' || ch.retryTimer || ch.gaveUp || !ch.sourceKey) return;
    const src = this.#sources.get(ch.sourceKey);
    if (!src || src.fan.has(ch.id) || !this.#sourceLive(src)) return;
    if (ch.launches > 0) ch.restarts += 1;
    ch.launches += 1;
    ch.publish = { publishing: false, pushing: false, growth: 0, lastBytes: 0, lastFrames: 0, lastAt: Date.now(), bitrateKbps: null, fps: null, stats: null };
    const url = ch.spec.target.url;
    const verify = this.#o.rtmpsVerify ?? true;
    try {
      src.fan.add(ch.id, {
        url,
        streamKey: ch.spec.target.streamKey.reveal(),
        label: ch.spec.destinationId,
        ...(this.#o.egress ? { egress: this.#o.egress } : {}),
        ...(/^rtmps:/i.test(url) && !verify ? { tls: { rejectUnauthorized: false } } : {}),
      });
    } catch (err) {
      ch.publish = null;
      const e = err instanceof RtmpPublishError ? err.error : errorFor('UNKNOWN', String(err), this.#secrets());
      this.#onPublishFailed(ch, e);
    }
  }

  #onFanEvent(src: MediaSource, e: RtmpFanoutEvent): void {
    if (this.#closed) return;
    if (e.type === 'source-end') {
      src.attached = false;
      this.#log.info('source output ended', { source: src.label, error: e.error ? this.#redact(e.error.message) : null });
      this.#startGrace(src);
      return;
    }
    const ch = this.#channels.get(e.id);
    if (!ch || ch.sourceKey !== src.key || !ch.publish) return;
    if (e.type === 'publishing') {
      ch.publish.publishing = true;
      this.#log.info('publishing', { channelId: ch.id, destinationId: ch.spec.destinationId, connectMs: e.connectMs });
      return;
    }
    // closed: error null means removed by us (stop, grace over), handled there.
    if (!e.error) return;
    ch.bytesSentBefore += e.stats.bytesSent;
    ch.publish = null;
    ch.pushingSince = null;
    this.#onPublishFailed(ch, e.error);
  }

  /** A publisher failed: alert, then retry with backoff (or give up on a repeated non-retryable error). */
  #onPublishFailed(ch: Channel, error: ClassifiedError): void {
    if (ch.desired !== 'running') return;
    const decision = ch.backoff.nextDelay(error);
    const err = this.#lastError(error, decision.retry ? null : `gave up: ${decision.explanation}`);
    if (err) this.#raise(ch, err);
    this.#log.warn('publisher failed', { channelId: ch.id, attempt: decision.attempt, retryInMs: decision.retry ? decision.delayMs : null, error: err });
    if (!decision.retry) {
      ch.gaveUp = true;
      return;
    }
    ch.retryTimer = setTimeout(() => {
      ch.retryTimer = null;
      ch.backoff.clearRetry();
      this.#connect(ch);
    }, decision.delayMs);
    ch.retryTimer.unref?.();
  }

  /** The source's FFmpeg ended: its publishers wait `sourceGraceMs` for its next run. */
  #startGrace(src: MediaSource): void {
    if (src.graceTimer) return;
    src.graceTimer = setTimeout(() => {
      src.graceTimer = null;
      if (this.#sourceLive(src) || this.#closed) return;
      const stalled = errorFor('INPUT_STALLED', `the ${src.kind === 'mux' ? 'passthrough mux' : 'shared encoder'} produced no media for ${Math.round((this.#o.sourceGraceMs ?? DEFAULTS.sourceGraceMs) / 1000)} s`, this.#secrets());
      for (const id of src.users) {
        const ch = this.#channels.get(id);
        if (!ch) continue;
        if (src.fan.has(id)) {
          ch.bytesSentBefore += src.fan.publisher(id)?.stats().bytesSent ?? 0;
          void src.fan.remove(id);
          ch.publish = null;
          ch.pushingSince = null;
        }
        // A channel that gave up keeps its reason. Every other one waits for media (the source's
        // `running`), not for a backoff step, and says so: one whose publisher the platform
        // dropped during the grace too (its retry found no media to publish, and its alert would
        // otherwise blame the platform for the whole outage).
        if (ch.desired !== 'running' || ch.gaveUp) continue;
        const err = this.#lastError(stalled);
        if (err) this.#raise(ch, err);
      }
    }, this.#o.sourceGraceMs ?? DEFAULTS.sourceGraceMs);
    src.graceTimer.unref?.();
  }

  /** Samples every publisher: RUNNING detection, bitrate and fps, alert clearing, stable-run reset. */
  #sample(): void {
    const now = Date.now();
    for (const ch of this.#channels.values()) {
      const pub = ch.publish;
      if (!pub || !ch.sourceKey) continue;
      const src = this.#sources.get(ch.sourceKey);
      const p = src?.fan.publisher(ch.id);
      if (!src || !p) continue;
      const st = p.stats();
      pub.stats = st;
      const dt = (now - pub.lastAt) / 1000;
      const grew = st.state === 'publishing' && st.bytesSent > pub.lastBytes;
      if (dt > 0 && st.state === 'publishing') {
        pub.bitrateKbps = Math.round(((st.bytesSent - pub.lastBytes) * 8) / dt / 1000);
        pub.fps = Math.round(((st.videoFramesSent - pub.lastFrames) / dt) * 100) / 100;
      }
      pub.lastBytes = st.bytesSent;
      pub.lastFrames = st.videoFramesSent;
      pub.lastAt = now;
      pub.growth = grew ? pub.growth + 1 : 0;
      if (!pub.pushing) {
        // Published and bytes leave for the platform (two samples): the publish was accepted and
        // media flows.
        if (pub.publishing && pub.growth >= 2) {
          pub.pushing = true;
          ch.backoff.recordStart(now);
          this.#onPushing(ch);
        }
      } else {
        ch.backoff.recordStableRun(now);
        if (grew && ch.alarm && this.#sourceHealthy(ch)) {
          // Something upstream failed (the mux or encoder restarted) and media flows again.
          ch.error = null;
          this.#clearAlarm(ch, 'Publishing again');
        }
      }
    }
  }

  /** Whether the channel's source (mux or shared encoder) is running. */
  #sourceHealthy(ch: Channel): boolean {
    const src = ch.sourceKey ? this.#sources.get(ch.sourceKey) : undefined;
    return src !== undefined && this.#sourceLive(src);
  }

  #onPushing(ch: Channel): void {
    ch.pushingSince = Date.now();
    ch.error = null;
    this.#clearAlarm(ch, 'Publishing again');
    if (ch.state === 'STARTING') this.#setChannelState(ch, 'RUNNING');
  }

  #raise(ch: Channel, err: LastError): void {
    ch.error = err;
    const type = alertTypeFor(err.code);
    if (ch.alarm && ch.alarm.type === type && ch.alarm.code === err.code) return;
    if (ch.alarm && ch.alarm.type !== type) this.#clearAlarm(ch, `Superseded by ${type}`);
    if (!ch.alarm) {
      ch.alarmEpisodes += 1;
      ch.alarm = { id: alarmId(ch.id, type, ch.alarmEpisodes), type, code: err.code };
    } else {
      ch.alarm.code = err.code;
    }
    this.#emit(channelAlert(ch.id, { state: 'SET', alarmId: ch.alarm.id, alertType: type, message: err.message, error: err }));
  }

  #clearAlarm(ch: Channel, message: string): void {
    if (!ch.alarm) return;
    const { id, type } = ch.alarm;
    ch.alarm = null;
    this.#emit(channelAlert(ch.id, { state: 'CLEARED', alarmId: id, alertType: type, message, error: null }));
  }

  /** Removes the channel's publisher, cancels its retry and lets go of its source. */
  async #teardown(ch: Channel): Promise<void> {
    ch.pushingSince = null;
    if (ch.retryTimer) clearTimeout(ch.retryTimer);
    ch.retryTimer = null;
    ch.backoff.reset();
    ch.publish = null;
    ch.bytesSentBefore = 0;
    ch.restarts = 0;
    ch.launches = 0;
    ch.gaveUp = false;
    const key = ch.sourceKey;
    ch.sourceKey = null;
    if (key) {
      await this.#sources.get(key)?.fan.remove(ch.id);
      await this.#releaseSource(key, ch.id);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Sources: the passthrough mux and the shared encoders

  async #acquireSource(ch: Channel): Promise<MediaSource> {
    return this.#encoderSerial.run(async () => {
      const encode = ch.spec.encode;
      const key = encode === null ? MUX_KEY : encoderKey(ch.spec.presetId, encode);
      let src = this.#sources.get(key);
      if (!src) {
        const tapId = encode === null ? 'tap:mux' : `tap:encoder:${key}`;
        const kind = encode === null ? 'mux' : 'encoder';
        const label = encode === null ? 'mux-passthrough' : `encoder-${ch.spec.presetId}`;
        const argv = encode === null ? muxArgs() : encoderArgs({ encode, x264Preset: this.#o.x264Preset ?? DEFAULTS.x264Preset });
        const sup = this.#ffmpeg(label, argv, [], 'stream');
        const created: MediaSource = {
          key,
          kind,
          label,
          sup,
          fan: null as unknown as RtmpFanout,
          tapId,
          users: new Set(),
          offs: [],
          attached: false,
          graceTimer: null,
        };
        created.fan = new RtmpFanout({ logger: this.#log, onEvent: (e) => this.#onFanEvent(created, e) });
        created.offs.push(
          sup.on('stdout', ({ stream }) => {
            created.fan.attach(stream);
            created.attached = true;
          }),
          sup.on('state', (c) => this.#onSourceState(created, c.to, c.status)),
          this.#feedOnLaunch(sup, this.#flowHub, tapId),
        );
        this.#sources.set(key, created);
        sup.start();
        this.#log.info(`${kind === 'mux' ? 'passthrough mux' : 'shared encoder'} started`, { source: label });
        src = created;
      }
      src.users.add(ch.id);
      return src;
    });
  }

  #onSourceState(src: MediaSource, to: SupervisorState, status: SupervisorStatus): void {
    if (this.#closed) return;
    if (to === 'running') {
      if (src.graceTimer) clearTimeout(src.graceTimer);
      src.graceTimer = null;
      for (const id of src.users) {
        const ch = this.#channels.get(id);
        if (ch) this.#connect(ch);
      }
      return;
    }
    if (to !== 'backoff' && to !== 'failed') return;
    const err = this.#lastError(status.lastError, to === 'failed' ? `gave up: ${status.giveUpReason ?? 'not retrying'}` : null);
    this.#log.warn(`${src.kind === 'mux' ? 'passthrough mux' : 'shared encoder'} failed`, { source: src.label, state: to, error: err });
    if (!err) return;
    for (const id of src.users) {
      const user = this.#channels.get(id);
      if (user && user.desired === 'running') this.#raise(user, err);
    }
  }

  async #releaseSource(key: string, channelId: string): Promise<void> {
    return this.#encoderSerial.run(async () => {
      const src = this.#sources.get(key);
      if (!src) return;
      src.users.delete(channelId);
      if (src.users.size > 0) return;
      this.#sources.delete(key);
      this.#flowHub.remove(src.tapId);
      if (src.graceTimer) clearTimeout(src.graceTimer);
      src.graceTimer = null;
      await Promise.all([src.sup.stop(), src.fan.close()]);
      for (const off of src.offs) off();
      this.#log.info(`${src.kind === 'mux' ? 'passthrough mux' : 'shared encoder'} stopped`, { source: src.label });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection and shutdown

  /**
   * A supervised FFmpeg reading the flow hub on stdin (`#feedOnLaunch`), with the engine's progress
   * pipe, watchdogs, backoff and pidfiles.
   */
  #ffmpeg(name: string, argv: string[], secrets: string[] = [], stdout: 'ignore' | 'stream' = 'ignore'): ProcessSupervisor {
    return new ProcessSupervisor({
      name,
      binary: this.#o.ffmpegPath ?? DEFAULTS.ffmpegPath,
      argv,
      secrets,
      stdin: 'stream',
      stdout,
      progressFd: 3,
      retry: this.#o.retryPolicy ?? {},
      stallTimeoutMs: this.#o.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
      startTimeoutMs: this.#o.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      stopGraceMs: this.#o.stopGraceMs ?? DEFAULTS.stopGraceMs,
      pidDir: this.#pidDir,
    });
  }

  /** Every process the engine runs, redacted (for the API, operators and tests). */
  processes(): EngineProcess[] {
    const view = (sup: ProcessSupervisor, role: EngineProcess['role'], channelIds: string[]): EngineProcess => {
      const s = sup.status();
      return {
        name: s.name,
        role,
        channelIds,
        pid: s.pid,
        state: s.state,
        restarts: s.restarts,
        attempt: s.attempt,
        lastError: this.#lastError(s.lastError),
        command: s.command.map((a) => this.#redact(a)),
      };
    };
    if (!this.#rt) return [];
    const out: EngineProcess[] = [view(this.#rt.ingest.supervisor, 'ingest', []), view(this.#rt.hls, 'hls', [])];
    // The passthrough mux is listed as an encoder (the API's roles): it serves its channels the same way.
    for (const src of this.#sources.values()) out.push(view(src.sup, 'encoder', [...src.users]));
    // Publishers run inside this process: synthetic entries, no pid.
    for (const ch of this.#channels.values()) if (ch.sourceKey) out.push(this.#publisherView(ch));
    return out;
  }

  #publisherView(ch: Channel): EngineProcess {
    const st = ch.publish?.stats ?? null;
    const state: SupervisorState = ch.gaveUp ? 'failed' : ch.retryTimer ? 'backoff' : ch.publish?.pushing ? 'running' : ch.publish ? 'starting' : 'idle';
    return {
      name: `publisher-${ch.id}`,
      role: 'pusher',
      channelIds: [ch.id],
      pid: null,
      state,
      restarts: ch.restarts,
      attempt: ch.backoff.attempt,
      lastError: ch.error ? { ...ch.error } : st?.error ? this.#lastError(st.error) : null,
      command: ['rtmp-publisher', this.#redact(`${ch.spec.target.url.replace(/\/+$/, '')}/${ch.spec.target.streamKey.reveal()}`)],
    };
  }

  /** The primary HLS output. */
  primaryHls(): PrimaryHlsStatus {
    const playlistPath = join(this.#hlsDir, 'index.m3u8');
    if (!this.#rt) return { state: 'idle', playlistPath, pid: null, lastError: null };
    const s = this.#rt.hls.status();
    return { state: s.state, playlistPath, pid: s.pid, lastError: this.#lastError(s.lastError) };
  }

  /** Counters of the flow hub, drops per consumer included (for benchmarks and health). */
  flowHubStats(): TsHubStats | null {
    return this.#rt?.flowHub.stats() ?? null;
  }

  #assertOpen(): void {
    if (this.#closed) throw new MediaEngineError('ENGINE_CLOSED', 'the local media engine is closed');
  }

  /**
   * Stops every process (SIGINT, SIGKILL after the grace period) and closes every socket. Emits no
   * events: the engine going away is not a channel being stopped. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Let a start in progress finish, so that nothing it opens is left behind.
    await this.#starting?.catch(() => undefined);
    if (!this.#rt) return;
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
    const stops: Promise<void>[] = [this.#ingest.stop(), this.#hls.stop()];
    for (const ch of this.#channels.values()) {
      ch.desired = 'stopped';
      if (ch.retryTimer) clearTimeout(ch.retryTimer);
      ch.retryTimer = null;
    }
    for (const src of this.#sources.values()) {
      if (src.graceTimer) clearTimeout(src.graceTimer);
      stops.push(src.sup.stop(), src.fan.close());
    }
    await Promise.all(stops);
    for (const src of this.#sources.values()) for (const off of src.offs) off();
    this.#sources.clear();
    this.#flowHub.close();
  }
}
