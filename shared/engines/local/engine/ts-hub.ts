/**
 * The flow hub: MPEG-TS fan-out inside the Node process. It reads the contribution from one
 * source stream (the SRT ingest's stdout, ingest/) and writes every byte on, in order and unchanged, to
 * the stdin of each consumer FFmpeg (primary HLS, passthrough mux, one encoder per preset).
 * Batching is natural: what one read returns (tens of KiB) is one write per consumer.
 *
 * Why pipes rather than UDP on loopback (which the hub used before): a datagram per 1316 bytes
 * cost a receive per datagram in Node, a send per batch and consumer, a receiving thread in every
 * FFmpeg, and ports to allocate and wait for; a pipe costs a read per few tens of KiB and nothing
 * to allocate (with a 6 Mbit/s feed, receiving it costs Node ~0.9 % of a core instead of ~1.2 %;
 * the whole engine's figures are in ADR 0005). What UDP gave for free, the hub now does itself:
 *
 * - A slow or stuck consumer must not block or slow the others, nor grow memory without bound.
 *   Pipes have back-pressure, so each consumer has a drop policy of its own: when its stdin holds
 *   more than `maxBufferedBytes` (default 8 MiB, comfortably more than a GOP replay at 20 Mbit/s)
 *   that Node has not yet handed to the kernel, whole chunks for it are dropped until it drains
 *   to half of that; drops are counted (`stats()`) and logged once per episode. The source is
 *   never paused: the ingest is always read at once.
 * - Only whole TS packets are handed out: a read from a pipe can end anywhere (most of
 *   srt-live-transmit's did, measured), so the hub keeps the remainder for the next read. Every
 *   write, and every drop, is a multiple of 188 bytes starting on a sync byte (after junk, the hub
 *   resynchronises on the next sync byte and counts what it skipped).
 * - A consumer that dies leaves a stdin that fails (EPIPE, ERR_STREAM_DESTROYED): swallowed, and the
 *   stdin is forgotten. Noticing the exit and restarting is the supervisor's job; each run gets a
 *   fresh stdin, which its owner `attach()`es again.
 *
 * The hub also measures what passes (bytes, packets, bitrate) and tells its owner when media starts
 * and stops arriving (`onActivity`), which drives the primary HLS and the recovery of channels.
 * The ingest writes in blocks (fanout-srt: 8 KiB, or whatever it holds after 20 ms; srt-live-transmit,
 * which it replaced, wrote 4 KiB stdio blocks whose tail came out only seconds after an encoder
 * vanished). Media counts as arriving once more than such a block has come after a gap
 * (`ACTIVE_AFTER_BYTES`), not on a stale tail.
 *
 * Joining mid-stream: with `gopCache`, the hub keeps the packets since the latest keyframe
 * (`gop-cache.ts`). `attach(id, stdin)` writes that GOP to the new stdin first, then the consumer
 * is live: FFmpeg sees one continuous stream starting at a keyframe. Attaching happens between two
 * reads, so nothing is repeated or missed between the replay and live. Only while media is still
 * arriving (`REPLAY_FRESH_MS`): a consumer restarted just after the encoder vanished gets nothing
 * until media returns, rather than seconds of stale media that would make it look live.
 */
import type { Readable, Writable } from 'node:stream';
import { GopCache, TS_PACKET } from './gop-cache.ts';
import type { Log } from '../../../logging/logger.ts';

const SYNC = 0x47;

export interface TsHubOptions {
  /** For logs. */
  name: string;
  /** No data for this long = media stopped. Default 2000. */
  idleAfterMs?: number;
  /** Called when media starts arriving (true) and when it stops (false). */
  onActivity?: (active: boolean) => void;
  /** Keep the latest GOP and replay it to every consumer that attaches. Default false. */
  gopCache?: boolean;
  /**
   * Per consumer: above this many bytes waiting in its stdin, what comes for it is dropped until
   * it drains below half. Default 8 MiB. The GOP cache is capped at 3/4 of it, so that a replay
   * never starts a consumer in a drop.
   */
  maxBufferedBytes?: number;
  logger?: Pick<Log, 'warn'>;
}

export interface TsConsumerStats {
  id: string;
  /** A stdin is attached and open. */
  attached: boolean;
  /** Bytes waiting in its stdin (Node's side of the pipe). */
  bufferedBytes: number;
  bytesOut: number;
  /** In a drop episode now. */
  dropping: boolean;
  droppedBytes: number;
  droppedChunks: number;
  dropEpisodes: number;
  /** Stdins attached so far (one per run of the consumer). */
  attaches: number;
}

export interface TsHubStats {
  /** Bytes read from the source (before alignment). */
  bytesIn: number;
  /** Whole TS packets handed out. */
  packetsIn: number;
  /** Reads from the source. */
  reads: number;
  /** Over the last full second; null before one has passed. */
  bitrateKbps: number | null;
  /** Epoch ms of the last read. */
  lastPacketAt: number | null;
  active: boolean;
  /** Bytes skipped to find a sync byte again (junk in the source). */
  discardedBytes: number;
  /** Totals over the consumers. */
  writes: number;
  droppedBytes: number;
  droppedChunks: number;
  dropEpisodes: number;
  consumers: TsConsumerStats[];
}

interface Consumer {
  id: string;
  stdin: Writable | null;
  dropping: boolean;
  bytesOut: number;
  droppedBytes: number;
  droppedChunks: number;
  dropEpisodes: number;
  attaches: number;
}

const TICK_MS = 250;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 << 20;
/** Bytes after a gap that make media "arriving": more than a stale tail (see the module comment). */
export const ACTIVE_AFTER_BYTES = 4096;
/**
 * The cached GOP is replayed only if media arrived this recently. A live 6 Mbit/s feed is read
 * every 20 to 35 ms, a 300 kbit/s one every ~110 ms (with srt-live-transmit's 4 KiB blocks; fanout-srt
 * writes at least every 20 ms).
 */
export const REPLAY_FRESH_MS = 500;

/** Offset of the first sync byte that a second one follows a packet later (or that ends the data). */
function findSync(d: Buffer, from: number): number {
  for (let i = d.indexOf(SYNC, from); i >= 0; i = d.indexOf(SYNC, i + 1)) {
    if (i + TS_PACKET >= d.length || d[i + TS_PACKET] === SYNC) return i;
  }
  return d.length;
}

export class TsHub {
  readonly name: string;
  readonly #consumers = new Map<string, Consumer>();
  readonly #cache: GopCache | null;
  readonly #idleAfterMs: number;
  readonly #maxBuffered: number;
  readonly #onActivity: ((active: boolean) => void) | undefined;
  readonly #log: Pick<Log, 'warn'> | undefined;
  readonly #timer: NodeJS.Timeout;
  #source: { stream: Readable; off: () => void } | null = null;
  /** The end of the last read that did not make a whole packet. */
  #rest: Buffer | null = null;
  #bytesIn = 0;
  #packetsIn = 0;
  #reads = 0;
  #discarded = 0;
  #writes = 0;
  #lastPacketAt: number | null = null;
  /** Bytes read since the last gap of `idleAfterMs`. */
  #sinceGap = 0;
  #active = false;
  #windowStart = Date.now();
  #windowBytes = 0;
  #bitrateKbps: number | null = null;
  #closed = false;

  constructor(o: TsHubOptions) {
    this.name = o.name;
    this.#idleAfterMs = o.idleAfterMs ?? 2000;
    this.#maxBuffered = o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#onActivity = o.onActivity;
    this.#log = o.logger;
    this.#cache = o.gopCache ? new GopCache({ maxBytes: Math.floor((this.#maxBuffered * 3) / 4) }) : null;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  get active(): boolean {
    return this.#active;
  }

  /** Epoch ms of the last read from the source; null before the first. What input failover watches (inputs.ts). */
  get lastDataAt(): number | null {
    return this.#lastPacketAt;
  }

  /**
   * The cached GOP (from the latest keyframe) while media is still arriving, else empty: what a
   * probe of this input reads (inputs.ts). The buffers are shared, never to be modified.
   */
  gopSnapshot(): Buffer[] {
    return this.#fresh() ? (this.#cache?.snapshot() ?? []) : [];
  }

  /**
   * Reads the contribution from `stream` from now on (each run of the ingest has a new
   * stdout); the previous source, if any, is let go. Its errors are ignored: it ends with its process.
   */
  input(stream: Readable): void {
    if (this.#closed) return;
    this.#source?.off();
    this.#rest = null; // a new stream starts on a packet boundary; the old one's tail is junk
    const onData = (chunk: Buffer): void => this.#onData(chunk);
    const onError = (): void => undefined;
    stream.on('data', onData);
    stream.on('error', onError);
    this.#source = {
      stream,
      off: () => {
        stream.off('data', onData);
        // The error listener stays: an 'error' after we let go must not be unhandled.
      },
    };
  }

  /**
   * Makes `stdin` consumer `id`'s (a new run of its FFmpeg): writes it the cached GOP, then every
   * packet from now on. Replaces the stdin of an earlier run, which is left to its process.
   * @returns the bytes replayed from the cache
   */
  attach(id: string, stdin: Writable): number {
    if (this.#closed) return 0;
    let c = this.#consumers.get(id);
    if (!c) {
      c = { id, stdin: null, dropping: false, bytesOut: 0, droppedBytes: 0, droppedChunks: 0, dropEpisodes: 0, attaches: 0 };
      this.#consumers.set(id, c);
    }
    const consumer = c;
    consumer.stdin = stdin;
    consumer.dropping = false;
    consumer.attaches += 1;
    // EPIPE or ERR_STREAM_DESTROYED once its process is gone: forget the stdin, say nothing (the
    // supervisor reports the exit). The listener stays for errors still in flight.
    stdin.on('error', () => {
      if (consumer.stdin === stdin) consumer.stdin = null;
    });
    stdin.once('close', () => {
      if (consumer.stdin === stdin) consumer.stdin = null;
    });
    // Only a GOP of media still arriving: after the source went quiet (an encoder gone, not yet
    // `idleAfterMs` ago) a replay would start the consumer on stale media, and it would look live
    // for as long as the replay lasts while nothing comes in.
    if (!this.#fresh()) return 0;
    const replay = this.#cache?.snapshot() ?? [];
    if (replay.length === 0) return 0;
    let bytes = 0;
    // One writev for the whole GOP rather than a write per chunk.
    stdin.cork();
    for (const b of replay) {
      if (!this.#write(consumer, b)) break;
      bytes += b.length;
    }
    stdin.uncork();
    return bytes;
  }

  /** Forgets a consumer (its FFmpeg stopped for good). Idempotent. */
  remove(id: string): void {
    this.#consumers.delete(id);
  }

  stats(): TsHubStats {
    const consumers = [...this.#consumers.values()].map(
      (c): TsConsumerStats => ({
        id: c.id,
        attached: this.#open(c.stdin),
        bufferedBytes: c.stdin?.writableLength ?? 0,
        bytesOut: c.bytesOut,
        dropping: c.dropping,
        droppedBytes: c.droppedBytes,
        droppedChunks: c.droppedChunks,
        dropEpisodes: c.dropEpisodes,
        attaches: c.attaches,
      }),
    );
    const sum = (k: 'droppedBytes' | 'droppedChunks' | 'dropEpisodes'): number => consumers.reduce((n, c) => n + c[k], 0);
    return {
      bytesIn: this.#bytesIn,
      packetsIn: this.#packetsIn,
      reads: this.#reads,
      bitrateKbps: this.#active ? this.#bitrateKbps : 0,
      lastPacketAt: this.#lastPacketAt,
      active: this.#active,
      discardedBytes: this.#discarded,
      writes: this.#writes,
      droppedBytes: sum('droppedBytes'),
      droppedChunks: sum('droppedChunks'),
      dropEpisodes: sum('dropEpisodes'),
      consumers,
    };
  }

  /** Media arrived within the last `REPLAY_FRESH_MS`. */
  #fresh(): boolean {
    return this.#active && this.#lastPacketAt !== null && Date.now() - this.#lastPacketAt <= REPLAY_FRESH_MS;
  }

  #open(s: Writable | null): s is Writable {
    return s !== null && !s.destroyed && !s.writableEnded;
  }

  #onData(chunk: Buffer): void {
    const now = Date.now();
    this.#reads += 1;
    this.#bytesIn += chunk.length;
    this.#windowBytes += chunk.length;
    if (this.#lastPacketAt === null || now - this.#lastPacketAt > this.#idleAfterMs) this.#sinceGap = 0;
    this.#sinceGap += chunk.length;
    this.#lastPacketAt = now;
    // Before the chunk goes out: a consumer the owner starts now gets it.
    if (!this.#active && this.#sinceGap > ACTIVE_AFTER_BYTES) this.#setActive(true);
    let data = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = null;
    if (data[0] !== SYNC) {
      const at = findSync(data, 0);
      this.#discarded += at;
      data = data.subarray(at);
    }
    const whole = data.length - (data.length % TS_PACKET);
    // A copy: the remainder is small, and must not pin the read buffer.
    if (whole < data.length) this.#rest = Buffer.from(data.subarray(whole));
    if (whole === 0) return;
    const packets = whole === data.length ? data : data.subarray(0, whole);
    this.#packetsIn += whole / TS_PACKET;
    this.#cache?.push(packets);
    for (const c of this.#consumers.values()) this.#write(c, packets);
  }

  /**
   * Writes one chunk of whole packets to a consumer, or drops it (see the module comment).
   * @returns false when the chunk was not written
   */
  #write(c: Consumer, chunk: Buffer): boolean {
    const stdin = c.stdin;
    if (!this.#open(stdin)) {
      c.stdin = null;
      return false;
    }
    const buffered = stdin.writableLength;
    if (c.dropping ? buffered > this.#maxBuffered / 2 : buffered > this.#maxBuffered) {
      if (!c.dropping) {
        c.dropping = true;
        c.dropEpisodes += 1;
        this.#log?.warn('a consumer of the hub is too slow: dropping its input until it catches up', {
          hub: this.name,
          consumer: c.id,
          bufferedBytes: buffered,
          maxBufferedBytes: this.#maxBuffered,
        });
      }
      c.droppedBytes += chunk.length;
      c.droppedChunks += 1;
      return false;
    }
    c.dropping = false;
    // The buffers are never modified after they are read, so every consumer can share them.
    stdin.write(chunk);
    c.bytesOut += chunk.length;
    this.#writes += 1;
    return true;
  }

  #tick(): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#bitrateKbps = Math.round((this.#windowBytes * 8) / (now - this.#windowStart));
      this.#windowStart = now;
      this.#windowBytes = 0;
    }
    if (this.#active && (this.#lastPacketAt === null || now - this.#lastPacketAt > this.#idleAfterMs)) this.#setActive(false);
  }

  #setActive(active: boolean): void {
    this.#active = active;
    // After a gap the next packets need not continue the cached GOP (a new encoder session).
    if (!active) this.#cache?.reset();
    try {
      this.#onActivity?.(active);
    } catch {
      /* an owner's listener must not break the hub */
    }
  }

  /** Lets go of the source and every consumer (their stdins are their processes'). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#source?.off();
    this.#source = null;
    this.#consumers.clear();
  }
}
