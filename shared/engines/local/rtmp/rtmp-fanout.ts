/**
 * One FLV source → many RTMP(S) publishers, in this process.
 *
 *   ffmpeg -i <source> -c copy -f flv pipe:1 ──► FlvParser (once) ──► OutboundMessage (chunked once)
 *                                                                       ├──► RtmpPublisher A  socket.write(same Buffer)
 *                                                                       ├──► RtmpPublisher B  socket.write(same Buffer)
 *                                                                       └──► …
 *
 * The source is parsed once; each FLV tag becomes one RTMP message, chunked once per distinct
 * (chunk size, message stream id) among the publishers (all of ours use 4096, and servers give the
 * first stream id 1, so in practice once), and the same Buffer is written to every socket. The
 * messages of one source read go out as one Buffer (their chunks concatenated once) to every
 * publisher in the steady state: one write per destination per read (`OutboundBatch`).
 *
 * - add/remove a destination at any time: only that publisher's connection is touched.
 * - a destination that starts publishing gets the cached `onMetaData` (as `@setDataFrame`), the
 *   AVC and AAC sequence headers, then the cached GOP's video (from the latest keyframe: it can
 *   decode at once) caught up: retimed 1 ms apart, ending at the latest frame's timestamp, so
 *   that the live feed follows at once in media time as in wall time (`catchUpGop`). Replayed
 *   with its own timestamps, the GOP put a receiver that plays in real time (a player, a
 *   platform's live transcoder) as far behind as the GOP was old, 0 to 2 s with a 2 s GOP, for
 *   the whole session (measured, ADR 0005). Its audio is left out (squeezed, it is noise). Without
 *   a usable GOP (too big for its buffer) it waits for the next keyframe. Either way its first
 *   frame is a keyframe.
 * - a destination may be added before the source runs (the engine adds it while the mux or encoder
 *   starts, so its TCP/TLS/RTMP handshake overlaps the FFmpeg's start). Publishing before the
 *   source's output is live, it is held: a starting source first writes the flow hub's cached GOP
 *   (up to a GOP in the past) in one burst, and a publisher given that burst with its own
 *   timestamps stays as far behind for its session. The output is live once its video keeps the
 *   wall clock's pace over `JOIN_WINDOW_MS` (or `JOIN_HOLD_MAX_MS` after its first media); the
 *   held publishers then join as above, the cached GOP caught up ending at that read.
 * - a slow destination drops frames on its own (see RtmpPublisher) and never slows the others.
 * - `attach()` a new source (the muxing FFmpeg restarted): connections stay up; timestamps go on
 *   from where the previous source ended (RTMP timestamps must not jump back), publishers wait for
 *   the new source's first keyframe, and its sequence headers replace the cached ones.
 *
 * Failed publishers are removed and reported (`onEvent`); retrying with backoff is the caller's.
 */
import type { Readable } from 'node:stream';
import type { ClassifiedError } from '../process/stderr-classifier.ts';
import { encodeAmf0 } from './amf0.ts';
import { FLV_TAG_AUDIO, FLV_TAG_SCRIPT, FLV_TAG_VIDEO, FlvParser, type FlvTag } from './flv-parser.ts';
import { CSID, MSG, OutboundBatch, OutboundMessage } from './rtmp-chunk.ts';
import { RtmpPublisher, type RtmpLogger, type RtmpPublisherOptions, type RtmpPublisherStats } from './rtmp-publisher.ts';

export type RtmpFanoutEvent =
  | { type: 'publishing'; id: string; connectMs: number }
  /** error null: removed by `remove()`/`close()`. */
  | { type: 'closed'; id: string; error: ClassifiedError | null; stats: RtmpPublisherStats }
  | { type: 'source-end'; error: Error | null };

export interface RtmpFanoutOptions {
  /** Keep the current GOP for late joiners. Default true. */
  gopCache?: boolean;
  /**
   * How a joiner gets the cached GOP: `catch-up` (default) its video retimed to end at the latest
   * timestamp; `replay` as it came (media from the past: the joiner stays behind by the GOP's age);
   * `keyframe`: none, the joiner waits for the next keyframe.
   */
  join?: 'catch-up' | 'replay' | 'keyframe';
  /**
   * Hold a publisher that is publishing before the source's output is live (`JOIN_WINDOW_MS`)
   * until it is, then join it with the cached GOP caught up. Default true; false: every read is
   * live (a publisher joins at once and gets the source from its next read).
   */
  holdUntilLive?: boolean;
  /** Drop the GOP cache (until the next keyframe) beyond this. Default 16 MiB. */
  maxGopCacheBytes?: number;
  /** Defaults for every publisher (chunk size, buffer limit, timeouts, logger). */
  publisherDefaults?: Partial<Omit<RtmpPublisherOptions, 'url' | 'streamKey'>>;
  logger?: RtmpLogger;
  /** Called synchronously; must not throw. */
  onEvent?: (e: RtmpFanoutEvent) => void;
}

export interface RtmpFanoutStats {
  source: {
    attached: boolean;
    bytesIn: number;
    tags: number;
    videoFrames: number;
    keyframes: number;
    /** Sources attached so far. */
    sources: number;
  };
  /** Messages handed to the live publishers. */
  messages: number;
  /** Times a message was chunked: equals `messages` when every publisher shares one chunking. */
  chunkings: number;
  /** Batches handed to publishers (source reads × live publishers): about one socket write each. */
  writes: number;
  gopCacheBytes: number;
  destinations: Record<string, RtmpPublisherStats>;
}

const SET_DATA_FRAME = encodeAmf0('@setDataFrame');
/** A step put between the last timestamp of a source and the first of the next. */
const SOURCE_SWITCH_STEP_MS = 40;
/**
 * When a source's output is live. A source that starts (the mux or an encoder, fed the flow hub's
 * cached TS GOP first) writes that past GOP in one burst, its media time running far ahead of the
 * wall clock, then the live feed at the wall clock's pace. A publisher that is publishing before
 * then is held, so that it never gets the burst with its own timestamps (media from the past: a
 * receiver that plays in real time would stay that far behind for the session). Live: over at
 * least `JOIN_WINDOW_MS` of reads, the video's timestamps advanced by at most the wall time plus
 * `JOIN_LEAD_MS` (live media comes in bunches of a frame or two). A gap between two reads alone
 * (15 ms was tried) also fires inside the burst on a loaded machine, where FFmpeg is descheduled
 * mid-burst or pauses between its header and its first packets: measured, one such join stayed
 * 1049 ms behind for its session.
 */
export const JOIN_WINDOW_MS = 100;
export const JOIN_LEAD_MS = 50;
/** A source that never looks live by that rule is taken as live this long after its first media. */
export const JOIN_HOLD_MAX_MS = 1000;

export class RtmpFanout {
  readonly #opts: RtmpFanoutOptions;
  readonly #publishers = new Map<string, RtmpPublisher>();
  /** Publishers that are publishing, in join order (the hot loop's list). */
  #live: RtmpPublisher[] = [];
  #source: Readable | null = null;
  #detachSource: (() => void) | null = null;
  #parser = new FlvParser();
  #sources = 0;
  // Timestamp continuity across sources.
  #base: number | null = null;
  #offset = 0;
  #lastOut: number | null = null;
  // Late-joiner caches (already chunked for the common parameters).
  #metadata: OutboundMessage | null = null;
  #videoSeq: OutboundMessage | null = null;
  #audioSeq: OutboundMessage | null = null;
  #gop: OutboundMessage[] | null = null;
  #gopBytes = 0;
  // Counters
  #bytesIn = 0;
  #tags = 0;
  #videoFrames = 0;
  #keyframes = 0;
  #messages = 0;
  #chunkings = 0;
  #writes = 0;
  #closed = false;
  // Whether the current source's output is live (see JOIN_WINDOW_MS): its first media read, and
  // the start of the current window (wall ms, video timestamp).
  #sourceLive = false;
  #firstMediaAt: number | null = null;
  #window: { at: number; ts: number } | null = null;
  /** Publishers that are publishing and wait for the source to be live (`JOIN_WINDOW_MS`). */
  #held: { id: string; p: RtmpPublisher }[] = [];

  constructor(opts: RtmpFanoutOptions = {}) {
    this.#opts = opts;
  }

  /**
   * Reads FLV from `source` (replacing the current source, which is left open: it is the
   * caller's). Publishers stay connected.
   */
  attach(source: Readable): void {
    if (this.#closed) throw new Error('RtmpFanout is closed');
    this.detach();
    this.#sources++;
    this.#parser = new FlvParser();
    if (this.#lastOut !== null) {
      // Continue after the previous source; publishers wait for the new source's keyframe.
      this.#offset = (this.#lastOut + SOURCE_SWITCH_STEP_MS) >>> 0;
      this.#base = null;
      for (const p of this.#live) p.waitForKeyframe();
    } else {
      this.#offset = 0;
      this.#base = 0;
    }
    this.#gop = null;
    this.#gopBytes = 0;
    this.#sourceLive = this.#opts.holdUntilLive === false;
    this.#firstMediaAt = null;
    this.#window = null;
    const onData = (chunk: Buffer): void => this.#onData(chunk);
    const onEnd = (): void => this.#sourceEnded(source, null);
    const onError = (err: Error): void => this.#sourceEnded(source, err);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    this.#source = source;
    this.#detachSource = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
    };
  }

  /** Stops reading the current source (publishers stay connected, idle). */
  detach(): void {
    this.#detachSource?.();
    this.#detachSource = null;
    this.#source = null;
  }

  /**
   * Adds a destination and starts publishing to it: it may be added before the source runs (its
   * TCP, TLS and RTMP handshake then overlap the source's start). It joins the feed once the
   * server accepted the publish and the source's output is live (`JOIN_WINDOW_MS`; held until
   * then), with the `publishing` event; a failure is reported as a `closed` event with the
   * error, and the destination is removed.
   * @throws Error if `id` exists; RtmpPublishError INVALID_URL for a bad URL
   */
  add(id: string, opts: RtmpPublisherOptions): RtmpPublisher {
    if (this.#closed) throw new Error('RtmpFanout is closed');
    if (this.#publishers.has(id)) throw new Error(`destination ${id} already added`);
    const p = new RtmpPublisher({ logger: this.#opts.logger, ...this.#opts.publisherDefaults, label: id, ...opts });
    this.#publishers.set(id, p);
    p.start().then(
      () => this.#joinOrHold(id, p),
      () => {},
    );
    void p.closed.then((error) => {
      if (this.#publishers.get(id) === p) this.#publishers.delete(id);
      this.#live = this.#live.filter((x) => x !== p);
      this.#held = this.#held.filter((h) => h.p !== p);
      this.#emit({ type: 'closed', id, error, stats: p.stats() });
    });
    return p;
  }

  /** Removes a destination (ends its session politely). Idempotent. */
  async remove(id: string): Promise<void> {
    const p = this.#publishers.get(id);
    if (!p) return;
    this.#publishers.delete(id);
    this.#live = this.#live.filter((x) => x !== p);
    this.#held = this.#held.filter((h) => h.p !== p);
    await p.close();
  }

  has(id: string): boolean {
    return this.#publishers.has(id);
  }

  /** Whether destination `id` gets the feed (it joined: not connecting, not held). */
  joined(id: string): boolean {
    const p = this.#publishers.get(id);
    return p !== undefined && this.#live.includes(p);
  }

  publisher(id: string): RtmpPublisher | undefined {
    return this.#publishers.get(id);
  }

  get ids(): string[] {
    return [...this.#publishers.keys()];
  }

  stats(): RtmpFanoutStats {
    const destinations: Record<string, RtmpPublisherStats> = {};
    for (const [id, p] of this.#publishers) destinations[id] = p.stats();
    return {
      source: { attached: this.#source !== null, bytesIn: this.#bytesIn, tags: this.#tags, videoFrames: this.#videoFrames, keyframes: this.#keyframes, sources: this.#sources },
      messages: this.#messages,
      chunkings: this.#chunkings,
      writes: this.#writes,
      gopCacheBytes: this.#gop ? this.#gopBytes : 0,
      destinations,
    };
  }

  /** Detaches the source and closes every publisher. */
  async close(): Promise<void> {
    this.#closed = true;
    this.detach();
    await Promise.all([...this.#publishers.keys()].map((id) => this.remove(id)));
  }

  // ----------------------------------------------------------------------------------------------

  #emit(e: RtmpFanoutEvent): void {
    try {
      this.#opts.onEvent?.(e);
    } catch (err) {
      this.#opts.logger?.warn('rtmp fanout: event listener threw', { error: (err as Error).message });
    }
  }

  #sourceEnded(source: Readable, err: Error | null): void {
    if (this.#source !== source) return;
    this.detach();
    this.#emit({ type: 'source-end', error: err });
  }

  /** Publishing: joins now if the source's output is live, else waits for it (`#held`). */
  #joinOrHold(id: string, p: RtmpPublisher): void {
    if (this.#publishers.get(id) !== p || !p.publishing) return;
    if (this.#source !== null && this.#sourceLive) this.#join(id, p);
    else this.#held.push({ id, p });
  }

  #join(id: string, p: RtmpPublisher): void {
    if (this.#publishers.get(id) !== p || !p.publishing) return;
    p.cork();
    for (const m of [this.#metadata, this.#videoSeq, this.#audioSeq]) if (m) p.send(m);
    const join = this.#opts.join ?? 'catch-up';
    if (this.#gop && join !== 'keyframe' && this.#gopBytes <= p.maxBufferBytes / 2) for (const m of join === 'replay' ? this.#gop : catchUp(this.#gop)) p.send(m);
    p.uncork();
    this.#live.push(p);
    this.#emit({ type: 'publishing', id, connectMs: p.stats().connectMs ?? 0 });
  }

  #onData(chunk: Buffer): void {
    this.#bytesIn += chunk.length;
    let tags: FlvTag[];
    try {
      tags = this.#parser.push(chunk);
    } catch (err) {
      const source = this.#source;
      if (source) this.#sourceEnded(source, err as Error);
      return;
    }
    if (tags.length === 0) return;
    if (!this.#sourceLive) this.#watchForLive(tags);
    const msgs: OutboundMessage[] = [];
    for (const tag of tags) {
      const msg = this.#message(tag);
      if (!msg) continue;
      this.#remember(msg, tag);
      msgs.push(msg);
    }
    this.#messages += msgs.length;
    // The source just turned live: the held publishers join now, after this read (so that the
    // cached GOP they get ends with it), and get its messages through that GOP, not twice.
    if (this.#sourceLive && this.#held.length > 0) {
      const held = this.#held;
      this.#held = [];
      this.#sendLive(msgs);
      for (const h of held) this.#join(h.id, h.p);
      return;
    }
    this.#sendLive(msgs);
  }

  #sendLive(msgs: OutboundMessage[]): void {
    const live = this.#live;
    if (live.length === 0 || msgs.length === 0) return;
    const batch = new OutboundBatch(msgs);
    // One CPU measurement for the loop, shared equally (each gets the same bytes), instead of two
    // `getrusage` per publisher per read (`cpuMicros`, ADR 0005).
    const t0 = process.cpuUsage();
    for (const p of live) p.sendBatchUnmeasured(batch);
    const d = process.cpuUsage(t0);
    const share = (d.user + d.system) / live.length;
    for (const p of live) p.addCpuMicros(share);
    this.#writes += live.length;
    for (const m of msgs) this.#chunkings += m.chunkings;
  }

  /** Sets `#sourceLive` once the source's video keeps the wall clock's pace (`JOIN_WINDOW_MS`). */
  #watchForLive(tags: FlvTag[]): void {
    let ts: number | null = null;
    for (const t of tags) if (t.type === FLV_TAG_VIDEO && !t.sequenceHeader) ts = t.timestamp;
    if (ts === null) return;
    const now = performance.now();
    this.#firstMediaAt ??= now;
    if (now - this.#firstMediaAt >= JOIN_HOLD_MAX_MS) {
      this.#sourceLive = true;
      return;
    }
    const w = this.#window;
    if (w === null) {
      this.#window = { at: now, ts };
      return;
    }
    const wall = now - w.at;
    if (wall < JOIN_WINDOW_MS) return;
    if (ts - w.ts <= wall + JOIN_LEAD_MS) this.#sourceLive = true;
    else this.#window = { at: now, ts };
  }

  #message(tag: FlvTag): OutboundMessage | null {
    this.#tags++;
    if (this.#base === null) this.#base = tag.timestamp;
    const ts = (tag.timestamp - this.#base + this.#offset) >>> 0;
    if (tag.type === FLV_TAG_VIDEO) {
      this.#lastOut = ts;
      const keyframe = tag.keyframe && !tag.sequenceHeader;
      if (!tag.sequenceHeader) this.#videoFrames++;
      if (keyframe) this.#keyframes++;
      return new OutboundMessage(MSG.VIDEO, ts, tag.data, CSID.VIDEO, keyframe, tag.sequenceHeader);
    }
    if (tag.type === FLV_TAG_AUDIO) {
      this.#lastOut = ts;
      return new OutboundMessage(MSG.AUDIO, ts, tag.data, CSID.AUDIO, false, tag.sequenceHeader);
    }
    if (tag.type === FLV_TAG_SCRIPT) {
      // onMetaData goes out as `@setDataFrame onMetaData {…}` (what the server keeps for players).
      const payload = tag.metadata ? Buffer.concat([SET_DATA_FRAME, tag.data]) : tag.data;
      return new OutboundMessage(MSG.DATA_AMF0, tag.metadata ? 0 : ts, payload, CSID.DATA, false, tag.metadata);
    }
    return null;
  }

  #remember(msg: OutboundMessage, tag: FlvTag): void {
    if (msg.config) {
      if (tag.metadata) this.#metadata = msg;
      else if (msg.type === MSG.VIDEO) this.#videoSeq = msg;
      else if (msg.type === MSG.AUDIO) this.#audioSeq = msg;
      return;
    }
    if (this.#opts.gopCache === false || msg.type === MSG.DATA_AMF0) return;
    if (msg.keyframe) {
      this.#gop = [msg];
      this.#gopBytes = msg.size;
      return;
    }
    if (!this.#gop) return;
    this.#gop.push(msg);
    this.#gopBytes += msg.size;
    if (this.#gopBytes > (this.#opts.maxGopCacheBytes ?? 16 * 1024 * 1024)) {
      this.#gop = null;
      this.#gopBytes = 0;
    }
  }
}

/**
 * The cached GOP's video, retimed to end where it ends: frame i of n at last − (n − 1 − i) ms, so
 * that what follows it (the live feed) is due at once. A receiver decodes the GOP and shows its
 * last frame about as fast as it arrives, instead of playing it out for as long as it lasted.
 */
export function catchUp(gop: readonly OutboundMessage[]): OutboundMessage[] {
  const video = gop.filter((m) => m.type === MSG.VIDEO);
  const last = video.at(-1)?.timestamp ?? 0;
  return video.map((m, i) => new OutboundMessage(m.type, Math.max(0, last - (video.length - 1 - i)) >>> 0, m.payload, m.csid, m.keyframe, m.config));
}
