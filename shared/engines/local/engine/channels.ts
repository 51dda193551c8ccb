/**
 * The channels (MediaLive's part of the local engine): one per destination, each an RTMP(S)
 * publisher in its source's fan-out (`source-pool.ts`). Creates, starts, stops, updates and deletes
 * them, connects their publishers, retries a failing one with backoff and raises and clears their
 * alarms.
 *
 * - A channel is only a publisher in its source's fan-out (`fan.add` / `fan.remove`): starting or
 *   stopping one touches no process and no other connection. Starting acquires its source (the
 *   passthrough mux, or the shared encoder of its preset and encode settings) from the pool,
 *   stopping releases it; the source stops with its last running channel.
 * - A publisher is added only once its source has media (the mux or encoder is `running`), so a
 *   platform connection is never held while no media arrives. When the source's grace is over
 *   (`source-pool.ts`) its publishers are closed with INPUT_STALLED and re-added when media
 *   returns.
 * - Each fan-out keeps its metadata, sequence headers and current GOP and sends them to a
 *   publisher as soon as the platform accepts the publish, so joining mid-stream is instant.
 *
 * States follow MediaLive, see `channel-lifecycle.ts`. RUNNING means the publisher is really
 * publishing (NetStream.Publish.Start, then its bytesSent keeps growing: `sample()`, every 250 ms,
 * measures it). A failing publisher keeps the channel's state, raises a "MediaLive Channel Alert"
 * (with our `fanout_error`) and sets `describeChannel().error`, is re-added with backoff
 * (`backoff.ts`: 1 s doubling to 60 s, reset after 60 s of stable publishing, cancelled by stop),
 * and the alert clears once it publishes again. A stream key the platform rejects (or a DNS or TLS
 * failure) stops retrying after `nonRetryableMaxAttempts`. A failing mux or encoder alerts every
 * channel it serves.
 *
 * RTMPS: certificates are verified (FFmpeg never did); `rtmpsVerify: false` is for tests against
 * a self-signed server. Stream keys never leave this process (no argv).
 */
import { randomInt } from 'node:crypto';
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { LastError } from '../../../../events/envelope.ts';
import type { ChannelDescription, ChannelSpec, OwnedResources } from '../../port/ports.ts';
import { Backoff } from '../process/backoff.ts';
import { type ClassifiedError, errorFor } from '../process/stderr-classifier.ts';
import type { RtmpFanoutEvent } from '../rtmp/rtmp-fanout.ts';
import { RtmpPublishError, type RtmpPublisherStats } from '../rtmp/rtmp-publisher.ts';
import { assertTransition, MediaEngineError } from './channel-lifecycle.ts';
import type { EngineContext } from './engine-context.ts';
import type { FlowOutput } from './flow.ts';
import { alarmId, alertTypeFor, channelAlert, channelArn, channelStateChange } from './native-events.ts';
import { validateSpec } from './options.ts';
import { Serial } from './serial.ts';
import { type MediaSource, SourcePool } from './source-pool.ts';

/** A channel's RTMP publisher (inside its source's `RtmpFanout`), as the engine follows it. */
export interface Publish {
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

export interface Channel {
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

/** Measures a publisher from its fresh stats: bitrate and fps since the last sample. Returns whether bytes went out. */
function measure(pub: Publish, st: RtmpPublisherStats, now: number): boolean {
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
  return grew;
}

export class Channels {
  readonly #ctx: EngineContext;
  readonly #pool: SourcePool;
  readonly #outputs: { list(): FlowOutput[]; byArn(outputArn: string): FlowOutput | undefined };
  readonly #channels = new Map<string, Channel>();

  /** `outputs`: the flow's outputs (a passthrough channel needs its own). */
  constructor(ctx: EngineContext, pool: SourcePool, outputs: { list(): FlowOutput[]; byArn(outputArn: string): FlowOutput | undefined }) {
    this.#ctx = ctx;
    this.#pool = pool;
    this.#outputs = outputs;
  }

  get(channelId: string): Channel | undefined {
    return this.#channels.get(channelId);
  }

  all(): Channel[] {
    return [...this.#channels.values()];
  }

  /** Every channel's stream key, revealed (for redaction). */
  streamKeys(): string[] {
    return this.all().map((c) => c.spec.target.streamKey.reveal());
  }

  #setState(ch: Channel, to: ChannelState): void {
    assertTransition(ch.id, ch.state, to);
    ch.state = to;
    this.#ctx.log.info('channel state', { channelId: ch.id, destinationId: ch.spec.destinationId, state: to });
    this.#ctx.emit(channelStateChange(ch.id, to));
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

  create(spec: ChannelSpec): { channelId: string; arn: string } {
    validateSpec(spec);
    const existing = this.all().find((c) => c.spec.destinationId === spec.destinationId);
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
      backoff: new Backoff(this.#ctx.o.retryPolicy ?? {}),
      retryTimer: null,
      gaveUp: false,
      launches: 0,
      restarts: 0,
      bytesSentBefore: 0,
      pushingSince: null,
      serial: new Serial(),
    };
    this.#channels.set(id, ch);
    this.#ctx.emit(channelStateChange(id, 'CREATING'));
    this.#setState(ch, 'IDLE');
    return { channelId: id, arn: ch.arn };
  }

  start(channelId: string): Promise<void> {
    const ch = this.#channel(channelId);
    return ch.serial.run(async () => {
      if (ch.state === 'STARTING' || ch.state === 'RUNNING') return;
      if (ch.state !== 'IDLE') throw new MediaEngineError('CHANNEL_NOT_IDLE', `channel ${ch.id} is ${ch.state}`);
      if (ch.spec.encode === null) {
        const out = this.#outputs.byArn(ch.spec.outputArn);
        if (!out) {
          throw new MediaEngineError('OUTPUT_NOT_FOUND', `channel ${ch.id}: its flow output does not exist`);
        }
        const user = this.all().find((c) => c !== ch && c.sourceKey !== null && c.spec.encode === null && c.spec.outputArn === out.outputArn);
        if (user) {
          throw new MediaEngineError('INVALID_CHANNEL_SPEC', `channel ${ch.id}: its flow output already feeds channel ${user.id}`, 'Give each destination its own flow output (addOutput).');
        }
      }
      ch.desired = 'running';
      ch.error = null;
      ch.gaveUp = false;
      ch.backoff.reset();
      this.#setState(ch, 'STARTING');
      const src = await this.#pool.acquire(ch.id, ch.spec);
      ch.sourceKey = src.key;
      this.#connect(ch);
    });
  }

  async stop(channelId: string): Promise<void> {
    const ch = this.#channels.get(channelId);
    if (!ch) return;
    return ch.serial.run(async () => {
      if (ch.state !== 'STARTING' && ch.state !== 'RUNNING') return;
      ch.desired = 'stopped';
      this.#setState(ch, 'STOPPING');
      await this.#teardown(ch);
      this.#clearAlarm(ch, 'Channel stopped');
      ch.error = null;
      this.#setState(ch, 'IDLE');
    });
  }

  update(channelId: string, spec: ChannelSpec): Promise<void> {
    const ch = this.#channel(channelId);
    return ch.serial.run(async () => {
      if (ch.state !== 'IDLE') {
        throw new MediaEngineError('CHANNEL_NOT_IDLE', `channel ${ch.id} is ${ch.state}; only an IDLE channel can be updated`, 'Stop the channel first.');
      }
      validateSpec(spec);
      if (spec.destinationId !== ch.spec.destinationId) {
        throw new MediaEngineError('INVALID_CHANNEL_SPEC', 'a channel cannot move to another destination');
      }
      this.#setState(ch, 'UPDATING');
      ch.spec = spec;
      this.#setState(ch, 'IDLE');
    });
  }

  async delete(channelId: string): Promise<void> {
    const ch = this.#channels.get(channelId);
    if (!ch) return;
    return ch.serial.run(async () => {
      if (!this.#channels.has(ch.id)) return;
      if (ch.state !== 'IDLE') {
        throw new MediaEngineError('CHANNEL_NOT_IDLE', `channel ${ch.id} is ${ch.state}; only an IDLE channel can be deleted`, 'Stop the channel first.');
      }
      this.#setState(ch, 'DELETING');
      await this.#teardown(ch);
      this.#setState(ch, 'DELETED');
      this.#channels.delete(ch.id);
    });
  }

  describe(channelId: string): ChannelDescription | null {
    const ch = this.#channels.get(channelId);
    return ch ? this.#describe(ch) : null;
  }

  list(): ChannelDescription[] {
    return this.all().map((c) => this.#describe(c));
  }

  /** Every channel and flow output of this process (all of them are Fanout's: nothing else makes them). */
  ownedResources(): OwnedResources {
    const channels = this.all();
    return {
      channels: channels.map((c) => this.#describe(c)),
      outputs: this.#outputs.list().map((o) => ({
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

  // ---------------------------------------------------------------------------------------------
  // What the source pool reports (SourceListener)

  /** The source has media: its users publish. */
  sourceRunning(src: MediaSource): void {
    for (const id of src.users) {
      const ch = this.#channels.get(id);
      if (ch) this.#connect(ch);
    }
  }

  /** The source failed: every running user is alerted. */
  sourceFailed(src: MediaSource, err: LastError): void {
    for (const id of src.users) {
      const user = this.#channels.get(id);
      if (!user) continue;
      // A publisher connected while the source started, not yet fed: closed (the platform would
      // see a silent publisher); the source's next `running` connects it again.
      if (src.fan.has(id) && !src.fan.joined(id)) {
        void src.fan.remove(id);
        user.publish = null;
      }
      if (user.desired === 'running') this.#raise(user, err);
    }
  }

  /** The source's grace is over: its publishers close, its users wait for media. */
  sourceStalled(src: MediaSource, stalled: LastError): void {
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
      this.#raise(ch, { ...stalled });
    }
  }

  /** A publisher event of the source's fan-out. */
  publisherEvent(src: MediaSource, e: Exclude<RtmpFanoutEvent, { type: 'source-end' }>): void {
    const ch = this.#channels.get(e.id);
    if (!ch || ch.sourceKey !== src.key || !ch.publish) return;
    if (e.type === 'publishing') {
      ch.publish.publishing = true;
      this.#ctx.log.info('publishing', { channelId: ch.id, destinationId: ch.spec.destinationId, connectMs: e.connectMs });
      return;
    }
    // closed: error null means removed by us (stop, grace over), handled there.
    if (!e.error) return;
    ch.bytesSentBefore += e.stats.bytesSent;
    ch.publish = null;
    ch.pushingSince = null;
    this.#onPublishFailed(ch, e.error);
  }

  // ---------------------------------------------------------------------------------------------
  // Publishers (one per running channel, inside its source's RtmpFanout)

  /**
   * Adds the channel's publisher to its source's fan-out, once the source is starting or has
   * media (otherwise the source's `running` does it), unless a retry is pending or the channel
   * gave up. Added while the source starts, the publisher connects to the platform meanwhile and
   * the fan-out holds it until the source's output is live (rtmp-fanout.ts, `JOIN_QUIET_MS`):
   * the TCP, TLS and RTMP handshakes are off a cold start's path.
   */
  #connect(ch: Channel): void {
    const ctx = this.#ctx;
    if (ctx.closed || ch.desired !== 'running' || ch.retryTimer || ch.gaveUp || !ch.sourceKey) return;
    const src = this.#pool.get(ch.sourceKey);
    if (!src || src.fan.has(ch.id) || !SourcePool.startingOrLive(src)) return;
    if (ch.launches > 0) ch.restarts += 1;
    ch.launches += 1;
    ch.publish = { publishing: false, pushing: false, growth: 0, lastBytes: 0, lastFrames: 0, lastAt: Date.now(), bitrateKbps: null, fps: null, stats: null };
    const url = ch.spec.target.url;
    const verify = ctx.o.rtmpsVerify ?? true;
    try {
      src.fan.add(ch.id, {
        url,
        streamKey: ch.spec.target.streamKey.reveal(),
        label: ch.spec.destinationId,
        ...(ctx.o.egress ? { egress: ctx.o.egress } : {}),
        ...(/^rtmps:/i.test(url) && !verify ? { tls: { rejectUnauthorized: false } } : {}),
      });
    } catch (err) {
      ch.publish = null;
      const e = err instanceof RtmpPublishError ? err.error : errorFor('UNKNOWN', String(err), ctx.secrets());
      this.#onPublishFailed(ch, e);
    }
  }

  /** A publisher failed: alert, then retry with backoff (or give up on a repeated non-retryable error). */
  #onPublishFailed(ch: Channel, error: ClassifiedError): void {
    if (ch.desired !== 'running') return;
    const decision = ch.backoff.nextDelay(error);
    const err = this.#ctx.lastError(error, decision.retry ? null : `gave up: ${decision.explanation}`);
    if (err) this.#raise(ch, err);
    this.#ctx.log.warn('publisher failed', { channelId: ch.id, attempt: decision.attempt, retryInMs: decision.retry ? decision.delayMs : null, error: err });
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

  /** Samples every publisher: RUNNING detection, bitrate and fps, alert clearing, stable-run reset. */
  sample(): void {
    const now = Date.now();
    for (const ch of this.#channels.values()) {
      const pub = ch.publish;
      if (!pub || !ch.sourceKey) continue;
      const src = this.#pool.get(ch.sourceKey);
      const p = src?.fan.publisher(ch.id);
      if (!src || !p) continue;
      const grew = measure(pub, p.stats(), now);
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
    const src = ch.sourceKey ? this.#pool.get(ch.sourceKey) : undefined;
    return src !== undefined && SourcePool.live(src);
  }

  #onPushing(ch: Channel): void {
    ch.pushingSince = Date.now();
    ch.error = null;
    this.#clearAlarm(ch, 'Publishing again');
    if (ch.state === 'STARTING') this.#setState(ch, 'RUNNING');
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
    this.#ctx.emit(channelAlert(ch.id, { state: 'SET', alarmId: ch.alarm.id, alertType: type, message: err.message, error: err }));
  }

  #clearAlarm(ch: Channel, message: string): void {
    if (!ch.alarm) return;
    const { id, type } = ch.alarm;
    ch.alarm = null;
    this.#ctx.emit(channelAlert(ch.id, { state: 'CLEARED', alarmId: id, alertType: type, message, error: null }));
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
      await this.#pool.get(key)?.fan.remove(ch.id);
      await this.#pool.release(key, ch.id);
    }
  }

  /** Every channel is to stop and no retry fires (for `close()`; no events). */
  abandonAll(): void {
    for (const ch of this.#channels.values()) {
      ch.desired = 'stopped';
      if (ch.retryTimer) clearTimeout(ch.retryTimer);
      ch.retryTimer = null;
    }
  }
}
