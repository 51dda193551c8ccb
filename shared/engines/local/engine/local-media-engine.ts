/**
 * `LocalMediaEngine`: the media engine of a local install, implementing both `FlowEngine` (the
 * contribution flow and its outputs, MediaConnect's part) and `ChannelEngine` (one channel per
 * destination, MediaLive's part) with the SRT ingest (ingest/) and FFmpeg on this machine. It reports
 * what happens as the native AWS events MediaConnect and MediaLive would emit.
 *
 * This file is the facade: it composes the parts below and holds the engine's life (start, close).
 * Each part's header says how it works and why.
 *   - `flow-input.ts`  one input: the SRT ingest, what it reports, and the hub it feeds;
 *   - `flow.ts`        the flow: its state machine (MediaConnect's), its outputs, its input and the
 *                      primary HLS;
 *   - `source-pool.ts` the passthrough mux and the shared encoders, ref-counted by their channels,
 *                      each writing FLV into an `RtmpFanout`, with the grace after their source ends;
 *   - `channels.ts`    the channels (MediaLive's lifecycle): a publisher each in its source's
 *                      fan-out, retried with backoff, alarms raised and cleared, sampled;
 *   - `views.ts`       what the engine shows: processes, the primary HLS, a channel's metrics;
 *   - `engine-context.ts` what they share: options, redaction, the event sink, FFmpeg supervision.
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
 *   (flow-input.ts: ingest + hub; flow.ts: the HLS tap; source-pool.ts: mux, encoders, fan-outs;
 *   channels.ts: the publishers.)
 *
 * Why this shape:
 * - Encode once, push many: channels with the same preset and encode settings share one encoder;
 *   passthrough channels share one mux (`source-pool.ts`). A channel is only a publisher in its
 *   source's fan-out, so it starts and stops on its own (`channels.ts`).
 * - Fan-out in Node rather than FFmpeg's `tee` muxer or one pusher FFmpeg per destination: the FLV
 *   is parsed and chunked once and the same buffers are written to every socket (see
 *   rtmp-fanout.ts), so a destination costs a socket write instead of an FFmpeg remuxing the feed
 *   (the bench measured ~60× nginx `push`'s CPU per destination with pushers). A slow destination
 *   drops frames on its own and never slows the others.
 * - The trade-off: every publisher shares this Node process. A crash of the control plane drops
 *   every destination at once (it did before too: pushers died with their parent), and a blocked
 *   event loop delays every destination; the hot path does no I/O waits and no per-destination
 *   copies, and the flow hub already lived here.
 * - An input is one object (`FlowInput`: ingest + hub) that the flow owns and every FFmpeg reads,
 *   so a second input can be added beside it.
 *
 * Secrets: the SRT passphrase reaches the ingest on its stdin (never argv or environment, ADR
 * 0020); stream keys never leave this process (no argv). Every command, log line, error, status and event this
 * engine shows is redacted (`engine-context.ts`).
 */
import { mkdirSync } from 'node:fs';
import { idleInputHealth } from '../../port/input-health.ts';
import type {
  BackupTestResult,
  ChannelDescription,
  ChannelEngine,
  ChannelMetrics,
  ChannelSpec,
  FailoverSettings,
  FlowDescription,
  FlowEngine,
  InputHealth,
  InputName,
  InputRedundancy,
  InputsHealth,
  InputSwitch,
  OwnedResources,
} from '../../port/ports.ts';
import { reapOrphans } from '../process/pidfile.ts';
import { MediaEngineError } from './channel-lifecycle.ts';
import { Channels } from './channels.ts';
import { EngineContext } from './engine-context.ts';
import { Flow } from './flow.ts';
import { type LocalMediaEngineOptions, validateOptions } from './options.ts';
import { SourcePool } from './source-pool.ts';
import type { TsHubStats } from './ts-hub.ts';
import { channelMetrics, type EngineProcess, type PrimaryHlsStatus, primaryHls, processes } from './views.ts';

/** Re-exported for the callers that import them from here (options.ts and views.ts hold them). */
export { encoderKey, type LocalMediaEngineOptions } from './options.ts';
export type { EngineProcess, PrimaryHlsStatus } from './views.ts';

/** How often publisher stats are sampled (RUNNING detection, bitrate, fps, stable-run reset). */
const SAMPLE_MS = 250;

export class LocalMediaEngine implements FlowEngine, ChannelEngine, InputRedundancy {
  readonly #ctx: EngineContext;
  readonly #flow: Flow;
  readonly #pool: SourcePool;
  readonly #channels: Channels;
  #starting: Promise<void> | null = null;
  #sampler: NodeJS.Timeout | null = null;

  /**
   * Validates the options (every problem at once) and keeps them. Nothing runs until `start()`
   * (or the first operation, which starts the engine itself).
   * @throws MediaEngineError INVALID_ENGINE_OPTIONS
   */
  constructor(options: LocalMediaEngineOptions) {
    validateOptions(options);
    this.#ctx = new EngineContext(options, () => this.#channels.streamKeys());
    this.#flow = new Flow(
      this.#ctx,
      () => this.#pool.kickWaiting(),
      () => void this.#pool.repoint(),
    );
    this.#pool = new SourcePool(this.#ctx, () => this.#flow.hub, {
      running: (src) => this.#channels.sourceRunning(src),
      failed: (src, err) => this.#channels.sourceFailed(src, err),
      stalled: (src, err) => this.#channels.sourceStalled(src, err),
      publisher: (src, e) => this.#channels.publisherEvent(src, e),
    });
    this.#channels = new Channels(this.#ctx, this.#pool, { list: () => this.#flow.outputs(), byArn: (arn) => this.#flow.outputByArn(arn) });
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

  #ready(): Promise<void> {
    if (this.#ctx.closed) throw new MediaEngineError('ENGINE_CLOSED', 'the local media engine is closed');
    this.#starting ??= this.#boot();
    return this.#starting;
  }

  async #boot(): Promise<void> {
    const ctx = this.#ctx;
    mkdirSync(ctx.pidDir, { recursive: true, mode: 0o700 });
    this.#flow.prepare();
    const reaped = await reapOrphans(ctx.pidDir);
    const killed = reaped.filter((r) => r.outcome === 'killed');
    if (killed.length > 0) ctx.log.warn('killed processes left by a previous run', { processes: killed.map((r) => r.name) });
    this.#flow.open();
    this.#sampler = setInterval(() => this.#channels.sample(), SAMPLE_MS);
    this.#sampler.unref();
  }

  // ---------------------------------------------------------------------------------------------
  // FlowEngine

  async describeFlow(): Promise<FlowDescription> {
    await this.#ready();
    return this.#flow.describe(await this.inputHealth());
  }

  /** STANDBY → STARTING → ACTIVE once the SRT ingest is listening. Idempotent. */
  async startFlow(): Promise<void> {
    await this.#ready();
    return this.#flow.start();
  }

  /** → STOPPING → STANDBY: the listener, and the primary HLS with it, stop. Idempotent. */
  async stopFlow(): Promise<void> {
    await this.#ready();
    return this.#flow.stop();
  }

  async addOutput(destinationId: string): Promise<{ outputArn: string }> {
    await this.#ready();
    return this.#flow.addOutput(destinationId);
  }

  async removeOutput(outputArn: string): Promise<void> {
    await this.#ready();
    return this.#flow.removeOutput(outputArn);
  }

  /** The contribution's health: connection, address, bitrate, SRT loss/retransmits/RTT, last rejection. */
  async inputHealth(): Promise<InputHealth> {
    return this.#flow.health() ?? idleInputHealth(); // before the ingest has started
  }

  // ---------------------------------------------------------------------------------------------
  // InputRedundancy (inputs.ts)

  #inputs() {
    const inputs = this.#flow.inputs;
    if (!inputs) throw new MediaEngineError('ENGINE_CLOSED', 'the local media engine has not started');
    return inputs;
  }

  /** Both inputs' health, which is on air, the failover settings, the last switch, the slate. */
  async inputsHealth(): Promise<InputsHealth> {
    await this.#ready();
    return this.#inputs().inputsHealth();
  }

  /** @throws EngineError INPUT_NOT_CONNECTED (no backup configured, or `to` delivers no media) */
  async switchInput(to: InputName): Promise<InputSwitch> {
    await this.#ready();
    return this.#inputs().switchInput(to);
  }

  /** Is the backup connected and decodable (ffprobe of its cached GOP), and like the main? Switches nothing. */
  async testBackupInput(): Promise<BackupTestResult> {
    await this.#ready();
    return this.#inputs().testBackupInput();
  }

  async setFailover(settings: FailoverSettings): Promise<FailoverSettings> {
    await this.#ready();
    return this.#inputs().setFailover(settings);
  }

  // ---------------------------------------------------------------------------------------------
  // ChannelEngine

  async createChannel(spec: ChannelSpec): Promise<{ channelId: string; arn: string }> {
    await this.#ready();
    return this.#channels.create(spec);
  }

  async startChannel(channelId: string): Promise<void> {
    await this.#ready();
    return this.#channels.start(channelId);
  }

  async stopChannel(channelId: string): Promise<void> {
    await this.#ready();
    return this.#channels.stop(channelId);
  }

  async updateChannel(channelId: string, spec: ChannelSpec): Promise<void> {
    await this.#ready();
    return this.#channels.update(channelId, spec);
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.#ready();
    return this.#channels.delete(channelId);
  }

  async describeChannel(channelId: string): Promise<ChannelDescription | null> {
    return this.#channels.describe(channelId);
  }

  async listChannels(): Promise<ChannelDescription[]> {
    return this.#channels.list();
  }

  /** Every channel and flow output of this process (all of them are Fanout's: nothing else makes them). */
  async listOwnedResources(): Promise<OwnedResources> {
    return this.#channels.ownedResources();
  }

  channelMetrics(channelId: string): ChannelMetrics | null {
    return channelMetrics(this.#pool, this.#channels.get(channelId));
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection and shutdown

  /** Every process the engine runs, redacted (for the API, operators and tests). */
  processes(): EngineProcess[] {
    return processes(this.#ctx, this.#flow, this.#pool, this.#channels);
  }

  /** The primary HLS output. */
  primaryHls(): PrimaryHlsStatus {
    return primaryHls(this.#ctx, this.#flow);
  }

  /** Counters of the flow hub, drops per consumer included (for benchmarks and health). */
  flowHubStats(): TsHubStats | null {
    return this.#flow.hubStats();
  }

  /**
   * Stops every process (SIGINT, SIGKILL after the grace period) and closes every socket. Emits no
   * events: the engine going away is not a channel being stopped. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#ctx.closed) return;
    this.#ctx.markClosed();
    // Let a start in progress finish, so that nothing it opens is left behind.
    await this.#starting?.catch(() => undefined);
    if (!this.#flow.opened) return;
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
    const stops: Promise<void>[] = this.#flow.stopProcesses();
    this.#channels.abandonAll();
    stops.push(...this.#pool.stopAll());
    await Promise.all(stops);
    await this.#ctx.stopStray();
    this.#pool.clear();
    this.#flow.closeInput();
  }
}
