/**
 * An RTMP(S) publisher in Node: one connection to one platform, publishing one stream. It replaces
 * a pusher FFmpeg for a destination fed by `RtmpFanout` (one FLV mux per source, chunked once,
 * written to every connection).
 *
 * Session, as FFmpeg and OBS do it:
 *
 *   TCP (or TLS for rtmps://) → handshake: C0+C1 (version 3, time, zeros, random) → S0+S1 → C2 (S1
 *   echoed) → S2 → Set Chunk Size (ours, 4096) → connect(app, type 'nonprivate', flashVer, tcUrl)
 *   → _result → releaseStream(key), FCPublish(key), createStream → _result(stream id)
 *   → publish(key, 'live') on that stream → onStatus NetStream.Publish.Start → media.
 *
 * Media is sent as the fan-out hands it (`send()`): chunked messages, fmt 0 headers with absolute
 * timestamps (see rtmp-chunk.ts), so the bytes are the same for every connection. The publisher
 * gates what it sends:
 * - after publish (and after a source switch), audio and video wait for a video keyframe; metadata
 *   and sequence headers always pass (the fan-out sends the cached ones first);
 * - backpressure: when the socket's unsent bytes exceed `maxBufferBytes` (a slow or stalled
 *   platform), video is dropped until a keyframe arrives with the buffer back under half of it;
 *   audio is dropped only past twice the limit. Dropped frames are counted. A socket that accepts
 *   nothing at all for `stallTimeoutMs` fails with RTMP_TIMEOUT. Nothing here ever waits on a
 *   socket, so one slow platform cannot slow the others.
 * - It answers the server's pings (User Control PingRequest), and acknowledges the bytes it
 *   receives when the server's window (Window Acknowledgement Size) is exceeded.
 *
 * Failures become the engine's typed errors (`errorFor()` of stderr-classifier.ts), with the same
 * inferences the FFmpeg stderr rules make: a connection closed during connect/publish, or within
 * `PUBLISHED_REJECT_MS` of Publish.Start, is a refused stream key (later it is a drop);
 * `NetStream.Publish.BadName` "already publishing" is a key in use. The stream key is never logged nor put in an error (errors are redacted with it).
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { EgressRefusedError, type EgressPolicy, type HostResolver } from '../../../net/egress.ts';
import { type ClassifiedError, errorFor } from '../process/stderr-classifier.ts';
import { decodeAmf0, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0.ts';
import { ChunkReader, chunkMessage, controlMessage, CSID, MSG, type OutboundBatch, type OutboundMessage, type RtmpMessage, userControl } from './rtmp-chunk.ts';
import type { Log } from '../../../logging/logger.ts';

/** What a publisher logs with. */
export type RtmpLogger = Pick<Log, 'debug' | 'info' | 'warn'>;

export interface RtmpPublisherOptions {
  /** `rtmp://host[:port]/app` or `rtmps://…` (the platform's ingest URL, without the key). */
  url: string;
  /** The stream key. If empty, the last path segments of `url` are the key (a URL pasted whole). */
  streamKey: string;
  /** Our outgoing chunk size. Default 4096 (what nginx-rtmp and OBS use). */
  chunkSize?: number;
  /** TCP + TLS + handshake + connect + publish must finish within this. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Unsent bytes beyond which video is dropped until a keyframe. Default 4 MiB (~5 s at 6 Mbps). */
  maxBufferBytes?: number;
  /** Fail with RTMP_TIMEOUT when the socket accepts no byte for this long. Default 15 000 ms. */
  stallTimeoutMs?: number;
  /** rtmps:// only. Certificates are verified by default (FFmpeg does not verify them). */
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer; servername?: string };
  /** Default `FMLE/3.0 (compatible; Fanout)`. */
  flashVer?: string;
  /** A name for logs (never the key), e.g. the destination id. */
  label?: string;
  /**
   * Where this publisher may connect (shared/net/egress.ts). An IP literal is checked before
   * connecting; a name is resolved by a `lookup` that checks every address it gives, so a name
   * that resolves elsewhere than it did at the door (DNS rebinding) is refused on the address
   * actually used. A refusal fails the publisher with EGRESS_REFUSED (not retryable).
   */
  egress?: { policy: EgressPolicy; resolve?: HostResolver };
  logger?: RtmpLogger;
}

export type RtmpPublisherState = 'idle' | 'tcp' | 'tls' | 'handshake' | 'connect' | 'publish' | 'publishing' | 'closed';

export interface RtmpPublisherStats {
  state: RtmpPublisherState;
  /** Bytes the kernel accepted (queued minus still buffered in Node). */
  bytesSent: number;
  /** Bytes handed to the socket. */
  bytesQueued: number;
  /** Bytes written but not yet accepted by the kernel. */
  bufferedBytes: number;
  videoFramesSent: number;
  keyframesSent: number;
  audioFramesSent: number;
  /** Video frames dropped by backpressure (a slow platform). */
  droppedVideoFrames: number;
  /** Audio frames dropped by backpressure (past twice the limit). */
  droppedAudioFrames: number;
  /** Times the publisher started dropping. */
  dropEpisodes: number;
  /** Frames not sent while waiting for the first keyframe (joining, source switch): not drops. */
  skippedFrames: number;
  /** Since NetStream.Publish.Start, ms (null before). */
  uptimeMs: number | null;
  /** Media time sent, ms (last sent timestamp minus first). */
  mediaSentMs: number;
  /** From start() to NetStream.Publish.Start, ms (null before). */
  connectMs: number | null;
  /** The message stream id the server gave us (null before createStream). */
  streamId: number | null;
  error: ClassifiedError | null;
  /**
   * CPU time (µs, user + system, from `process.cpuUsage()` deltas) spent in this publisher's media
   * writes (`send`, `sendBatch`: gating, chunking, the socket write and, for rtmps://, the TLS
   * encryption done in it; fed by `RtmpFanout`, an equal share of its write loop over the live
   * publishers, measured once per read). The publishers run inside Fanout's process, so this is how their CPU
   * is attributed to destinations (docs/cost.md); work the socket does later, off these calls, is
   * not in it.
   */
  cpuMicros: number;
}

/** Rejection of `start()`: the typed error. */
export class RtmpPublishError extends Error {
  constructor(readonly error: ClassifiedError) {
    super(error.message);
    this.name = 'RtmpPublishError';
  }
  get code(): ClassifiedError['code'] {
    return this.error.code;
  }
}

export interface RtmpEndpoint {
  secure: boolean;
  host: string;
  port: number;
  /** The application, as sent in `connect` (path, and query if any). */
  app: string;
  /** `rtmp(s)://host[:port]/app`: no key. */
  tcUrl: string;
  /** What `publish` is given: the stream key. */
  streamName: string;
}

/**
 * Splits an ingest URL and key into what the RTMP session needs.
 * @throws RtmpPublishError INVALID_URL
 */
export function parseRtmpTarget(url: string, streamKey: string): RtmpEndpoint {
  const key = streamKey.trim().replace(/^\/+/, '');
  const m = /^(rtmps?):\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?(\/[^?#]*)?(\?[^#]*)?$/i.exec(url.trim());
  const invalid = (why: string): RtmpPublishError => new RtmpPublishError(errorFor('INVALID_URL', why, key ? [key] : [], { message: "The local engine's RTMP publisher cannot use this URL" }));
  if (!m) throw invalid('expected rtmp://host[:port]/app or rtmps://host[:port]/app');
  const scheme = (m[1] as string).toLowerCase();
  const secure = scheme === 'rtmps';
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  const port = m[3] ? Number(m[3]) : secure ? 443 : 1935;
  if (!(port > 0 && port < 65536)) throw invalid(`port ${m[3]} out of range`);
  const segments = (m[4] ?? '').split('/').filter((s) => s !== '');
  const query = m[5] ?? '';
  let app: string;
  let streamName: string;
  if (key) {
    app = segments.join('/') + query;
    streamName = key;
  } else {
    app = segments[0] ?? '';
    streamName = segments.slice(1).join('/') + query;
  }
  if (!app) throw invalid('no application in the URL path');
  if (!streamName) throw invalid('no stream key');
  const authority = m[3] ? `${m[2]}:${m[3]}` : (m[2] as string);
  return { secure, host, port, app, tcUrl: `${scheme}://${authority}/${app}`, streamName };
}

const HANDSHAKE_SIZE = 1536;
/**
 * A close this soon after Publish.Start is a refused key; later, a drop. Platforms check the key
 * at publish and close at once; a platform restarting or dropping us seconds into a session must
 * not read as a refused key (and count towards giving up).
 */
export const PUBLISHED_REJECT_MS = 1500;
const TXN = { CONNECT: 1, RELEASE: 2, FCPUBLISH: 3, CREATE_STREAM: 4, PUBLISH: 5 } as const;
/** User Control events. */
const UC = { STREAM_BEGIN: 0, PING_REQUEST: 6, PING_RESPONSE: 7 } as const;

const TLS_CODES = /^(?:ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(?:VERIFY|GET)_|HOSTNAME_MISMATCH)/;

export class RtmpPublisher {
  readonly endpoint: RtmpEndpoint;
  readonly chunkSize: number;
  readonly maxBufferBytes: number;
  readonly label: string;
  readonly #opts: RtmpPublisherOptions;
  readonly #secrets: string[];
  readonly #log: RtmpLogger | undefined;
  #state: RtmpPublisherState = 'idle';
  #socket: Socket | null = null;
  #hs: Buffer[] = [];
  #hsBytes = 0;
  #hsSentC2 = false;
  readonly #reader = new ChunkReader();
  #streamId: number | null = null;
  #error: ClassifiedError | null = null;
  #closing = false;

  // Timers
  #startedAt = 0;
  #publishedAt: number | null = null;
  #connectTimer: NodeJS.Timeout | null = null;
  #stallTimer: NodeJS.Timeout | null = null;
  #lastProgressAt = 0;
  #lastBytesSent = 0;

  // Flow control of what we receive.
  #bytesReceived = 0;
  #lastAck = 0;
  #serverWindow = 0;
  #sentWindow = 0;

  // Media gating
  #waitKeyframe = true;
  #dropping = false;
  #startedMedia = false;
  #firstTs: number | null = null;
  #lastTs = 0;

  // Counters
  #bytesQueued = 0;
  /** CPU time spent in this publisher's media writes (send, sendBatch), µs. */
  #cpuMicros = 0;
  #videoFrames = 0;
  #keyframes = 0;
  #audioFrames = 0;
  #droppedVideo = 0;
  #droppedAudio = 0;
  #dropEpisodes = 0;
  #skipped = 0;
  #lastDropLog = -Infinity;

  #startPromise: Promise<void> | null = null;
  #resolveStart: (() => void) | null = null;
  #rejectStart: ((e: RtmpPublishError) => void) | null = null;
  #resolveClosed!: (e: ClassifiedError | null) => void;
  /** Resolves once the connection is over: with the error, or null after `close()`. Never rejects. */
  readonly closed: Promise<ClassifiedError | null>;

  /** @throws RtmpPublishError INVALID_URL */
  constructor(opts: RtmpPublisherOptions) {
    this.#opts = opts;
    this.endpoint = parseRtmpTarget(opts.url, opts.streamKey);
    this.#secrets = [...new Set([opts.streamKey.trim(), this.endpoint.streamName].filter((s) => s !== ''))];
    this.chunkSize = opts.chunkSize ?? 4096;
    if (!(Number.isInteger(this.chunkSize) && this.chunkSize >= 128 && this.chunkSize <= 0x7fffffff)) throw new RangeError(`chunkSize ${this.chunkSize}`);
    this.maxBufferBytes = opts.maxBufferBytes ?? 4 * 1024 * 1024;
    this.label = opts.label ?? `${this.endpoint.host}:${this.endpoint.port}`;
    this.#log = opts.logger;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  get state(): RtmpPublisherState {
    return this.#state;
  }

  get publishing(): boolean {
    return this.#state === 'publishing';
  }

  /** The message stream id of our stream (null until createStream answered). */
  get streamId(): number | null {
    return this.#streamId;
  }

  get error(): ClassifiedError | null {
    return this.#error;
  }

  /** Unsent bytes in Node's socket buffer. */
  get bufferedBytes(): number {
    return this.#socket?.writableLength ?? 0;
  }

  /**
   * Connects and publishes. Resolves at NetStream.Publish.Start.
   * @throws RtmpPublishError with the typed error (also in `closed`)
   */
  start(): Promise<void> {
    if (this.#startPromise) return this.#startPromise;
    this.#startPromise = new Promise<void>((resolve, reject) => {
      this.#resolveStart = resolve;
      this.#rejectStart = reject;
    });
    // Callers that only watch `closed` must not see an unhandled rejection.
    this.#startPromise.catch(() => {});
    if (this.#state === 'closed') {
      this.#rejectStart?.(new RtmpPublishError(this.#error ?? errorFor('RTMP_CONNECTION_CLOSED', 'closed before start')));
      return this.#startPromise;
    }
    this.#startedAt = Date.now();
    const timeout = this.#opts.connectTimeoutMs ?? 10_000;
    this.#connectTimer = setTimeout(() => {
      const detail = `no answer from ${this.endpoint.host}:${this.endpoint.port} during the ${this.#phaseName()} within ${timeout} ms`;
      // TCP connected but TLS never answered: the port does not speak TLS (a plain RTMP server
      // waits for the rest of a "C1" it will never get).
      this.#fail(errorFor(this.#state === 'tls' ? 'TLS_HANDSHAKE_FAILED' : 'RTMP_TIMEOUT', detail, this.#secrets));
    }, timeout);
    const { host, port } = this.endpoint;
    const egress = this.#opts.egress;
    // An IP literal never reaches a lookup: check it here, before anything is sent.
    const refused = egress ? (isIP(host) !== 0 ? egress.policy.checkAddress(host, host) : egress.policy.checkName(host)) : null;
    if (refused) {
      this.#state = 'tcp';
      queueMicrotask(() => this.#fail(this.#socketError(new EgressRefusedError(refused) as unknown as NodeJS.ErrnoException)));
      return this.#startPromise;
    }
    const lookup = egress && isIP(host) === 0 ? { lookup: egress.policy.lookup(egress.resolve) } : {};
    let socket: Socket;
    if (this.endpoint.secure) {
      this.#state = 'tcp';
      const t = this.#opts.tls ?? {};
      const servername = t.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host);
      socket = tlsConnect({ host, port, servername, rejectUnauthorized: t.rejectUnauthorized ?? true, ca: t.ca, ...lookup });
      socket.once('connect', () => {
        if (this.#state === 'tcp') this.#state = 'tls';
      });
      socket.once('secureConnect', () => this.#onConnected());
    } else {
      this.#state = 'tcp';
      socket = netConnect({ host, port, ...lookup });
      socket.once('connect', () => this.#onConnected());
    }
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#fail(this.#socketError(err)));
    socket.on('close', () => this.#fail(this.#closedError()));
    return this.#startPromise;
  }

  /**
   * Sends one media or config message (see the header for what is gated or dropped).
   * @returns what happened to it
   */
  send(msg: OutboundMessage): 'sent' | 'dropped' | 'skipped' | 'closed' {
    const t0 = process.cpuUsage();
    try {
      return this.#sendOne(msg);
    } finally {
      this.#addCpu(t0);
    }
  }

  /** The CPU time of a media write, added to this publisher's (`stats().cpuMicros`). */
  #addCpu(t0: NodeJS.CpuUsage): void {
    const d = process.cpuUsage(t0);
    this.#cpuMicros += d.user + d.system;
  }

  #sendOne(msg: OutboundMessage): 'sent' | 'dropped' | 'skipped' | 'closed' {
    if (this.#state !== 'publishing' || this.#socket === null) return 'closed';
    if (msg.config) {
      this.#write(msg.chunked(this.#streamId ?? 1, this.chunkSize));
      return 'sent';
    }
    const buffered = this.#socket.writableLength;
    if (msg.type === MSG.VIDEO) {
      if (this.#waitKeyframe) {
        if (!msg.keyframe || buffered > this.maxBufferBytes / 2) return this.#notSent('video');
        this.#waitKeyframe = false;
        this.#dropping = false;
        this.#startedMedia = true;
        this.#keyframes++;
      } else if (buffered > this.maxBufferBytes) {
        this.#waitKeyframe = true;
        this.#dropping = true;
        this.#dropEpisodes++;
        const now = Date.now();
        if (now - this.#lastDropLog >= 30_000) {
          this.#lastDropLog = now;
          this.#log?.warn('rtmp publisher: the platform is too slow, dropping video until a keyframe', { label: this.label, bufferedBytes: buffered, dropEpisodes: this.#dropEpisodes, droppedVideoFrames: this.#droppedVideo + 1 });
        }
        return this.#notSent('video');
      } else if (msg.keyframe) this.#keyframes++;
      this.#videoFrames++;
    } else if (msg.type === MSG.AUDIO) {
      if (!this.#startedMedia) return this.#notSent('audio');
      if (buffered > 2 * this.maxBufferBytes) {
        this.#droppedAudio++;
        return 'dropped';
      }
      this.#audioFrames++;
    } else if (!this.#startedMedia) return this.#notSent('data');
    this.#write(msg.chunked(this.#streamId ?? 1, this.chunkSize));
    if (this.#firstTs === null) this.#firstTs = msg.timestamp;
    this.#lastTs = msg.timestamp;
    return 'sent';
  }

  /**
   * Sends a batch of messages: exactly what `send()` of each would, but in one write when nothing
   * is gated and the buffer has room for all of it (the steady state).
   */
  sendBatch(batch: OutboundBatch): void {
    const t0 = process.cpuUsage();
    try {
      this.#sendBatch(batch);
    } finally {
      this.#addCpu(t0);
    }
  }

  /**
   * `sendBatch()` without its own CPU measurement: for a caller that measures a loop over many
   * publishers once (two `getrusage` calls per publisher per read cost ~0.1 % of a core at 10
   * destinations, ADR 0005) and adds each one's share with `addCpuMicros()`.
   */
  sendBatchUnmeasured(batch: OutboundBatch): void {
    this.#sendBatch(batch);
  }

  /** Adds CPU time measured by the caller to this publisher's media writes (`stats().cpuMicros`). */
  addCpuMicros(us: number): void {
    this.#cpuMicros += us;
  }

  #sendBatch(batch: OutboundBatch): void {
    const s = this.#socket;
    if (this.#state !== 'publishing' || s === null) return;
    if (!this.#waitKeyframe && this.#startedMedia && s.writableLength + batch.bytes <= this.maxBufferBytes) {
      this.#write(batch.chunked(this.#streamId ?? 1, this.chunkSize));
      this.#videoFrames += batch.videoFrames;
      this.#keyframes += batch.keyframes;
      this.#audioFrames += batch.audioFrames;
      if (batch.lastTs !== null) {
        if (this.#firstTs === null) this.#firstTs = batch.firstTs;
        this.#lastTs = batch.lastTs;
      }
      return;
    }
    s.cork();
    for (const m of batch.messages) this.#sendOne(m);
    s.uncork();
  }

  /** Waits for the next keyframe before sending media again, without counting drops (source switch). */
  waitForKeyframe(): void {
    this.#waitKeyframe = true;
    this.#startedMedia = false;
  }

  /** Batch writes (one syscall for several messages). Pair with `uncork()`. */
  cork(): void {
    this.#socket?.cork();
  }

  uncork(): void {
    this.#socket?.uncork();
  }

  stats(): RtmpPublisherStats {
    const buffered = this.bufferedBytes;
    return {
      state: this.#state,
      bytesSent: this.#bytesQueued - buffered,
      bytesQueued: this.#bytesQueued,
      bufferedBytes: buffered,
      videoFramesSent: this.#videoFrames,
      keyframesSent: this.#keyframes,
      audioFramesSent: this.#audioFrames,
      droppedVideoFrames: this.#droppedVideo,
      droppedAudioFrames: this.#droppedAudio,
      dropEpisodes: this.#dropEpisodes,
      skippedFrames: this.#skipped,
      uptimeMs: this.#publishedAt === null ? null : (this.#state === 'closed' ? this.#closedAt : Date.now()) - this.#publishedAt,
      mediaSentMs: this.#mediaSentMs(),
      connectMs: this.#publishedAt === null ? null : this.#publishedAt - this.#startedAt,
      streamId: this.#streamId,
      error: this.#error,
      cpuMicros: this.#cpuMicros,
    };
  }

  /**
   * Ends the session politely (FCUnpublish, deleteStream, FIN) and resolves once the socket is
   * closed (destroyed after `graceMs`). `closed` then resolves with null.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.#state === 'closed') return;
    this.#closing = true;
    const s = this.#socket;
    if (!s || this.#state === 'idle') {
      this.#finish(null);
      return;
    }
    if (this.#state === 'publishing' && this.#streamId !== null) {
      this.#command('FCUnpublish', 6, null, [this.endpoint.streamName]);
      this.#command('deleteStream', 7, null, [this.#streamId]);
    }
    s.end();
    const killer = setTimeout(() => s.destroy(), graceMs);
    await new Promise<void>((resolve) => {
      if (s.destroyed) resolve();
      else s.once('close', () => resolve());
    });
    clearTimeout(killer);
    this.#finish(null);
  }

  // ----------------------------------------------------------------------------------------------

  #closedAt = 0;

  /** (A method, so TypeScript does not narrow the state across calls that change it.) */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #mediaSentMs(): number {
    return this.#firstTs === null ? 0 : (this.#lastTs - this.#firstTs) >>> 0;
  }

  #notSent(kind: 'video' | 'audio' | 'data'): 'dropped' | 'skipped' {
    if (this.#dropping && kind === 'video') {
      this.#droppedVideo++;
      return 'dropped';
    }
    this.#skipped++;
    return 'skipped';
  }

  #write(b: Buffer): void {
    const s = this.#socket;
    if (!s || s.destroyed) return;
    this.#bytesQueued += b.length;
    s.write(b);
  }

  #phaseName(): string {
    switch (this.#state) {
      case 'tcp':
        return 'TCP connect';
      case 'tls':
        return 'TLS handshake';
      case 'handshake':
        return 'RTMP handshake';
      case 'connect':
        return 'RTMP connect';
      case 'publish':
        return 'publish';
      default:
        return this.#state;
    }
  }

  #onConnected(): void {
    if (this.#state === 'closed') return;
    this.#state = 'handshake';
    const c0c1 = Buffer.alloc(1 + HANDSHAKE_SIZE);
    c0c1[0] = 3;
    c0c1.writeUInt32BE(0, 1); // time
    // bytes 5..8 stay zero: the simple (unsigned) handshake
    randomBytes(HANDSHAKE_SIZE - 8).copy(c0c1, 9);
    this.#write(c0c1);
  }

  #onData(d: Buffer): void {
    if (this.#state === 'closed') return;
    this.#bytesReceived += d.length;
    if (this.#state === 'handshake') {
      this.#hs.push(d);
      this.#hsBytes += d.length;
      if (!this.#hsSentC2 && this.#hsBytes >= 1 + HANDSHAKE_SIZE) {
        const all = Buffer.concat(this.#hs);
        if (all[0] !== 3) {
          this.#fail(errorFor('RTMP_CONNECTION_CLOSED', `the server answered the RTMP handshake with version ${all[0]}: not an RTMP endpoint?`, this.#secrets, { message: 'The RTMP handshake failed' }));
          return;
        }
        this.#hsSentC2 = true;
        this.#write(all.subarray(1, 1 + HANDSHAKE_SIZE)); // C2 = S1 echoed
      }
      if (this.#hsBytes < 1 + 2 * HANDSHAKE_SIZE) return;
      const all = Buffer.concat(this.#hs);
      this.#hs = [];
      const rest = all.subarray(1 + 2 * HANDSHAKE_SIZE);
      this.#state = 'connect';
      this.#write(controlMessage(MSG.SET_CHUNK_SIZE, this.chunkSize));
      this.#command('connect', TXN.CONNECT, {
        app: this.endpoint.app,
        type: 'nonprivate',
        flashVer: this.#opts.flashVer ?? 'FMLE/3.0 (compatible; Fanout)',
        tcUrl: this.endpoint.tcUrl,
      });
      if (rest.length === 0) return;
      d = rest;
    }
    let messages: RtmpMessage[];
    try {
      messages = this.#reader.push(d);
    } catch (err) {
      this.#fail(errorFor('RTMP_CONNECTION_CLOSED', `unreadable RTMP data from the server: ${(err as Error).message}`, this.#secrets));
      return;
    }
    for (const m of messages) {
      if (this.#isClosed()) return;
      this.#onMessage(m);
    }
    if (this.#serverWindow > 0 && this.#bytesReceived - this.#lastAck >= this.#serverWindow) {
      this.#lastAck = this.#bytesReceived;
      this.#write(controlMessage(MSG.ACK, this.#bytesReceived));
    }
  }

  #onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MSG.SET_CHUNK_SIZE:
      case MSG.ABORT:
        return; // applied by the reader as soon as read
      case MSG.WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) this.#serverWindow = m.payload.readUInt32BE(0);
        return;
      case MSG.SET_PEER_BANDWIDTH:
        // Answer with our Window Acknowledgement Size if it changes (we receive almost nothing).
        if (m.payload.length >= 4) {
          const size = m.payload.readUInt32BE(0);
          if (size !== this.#sentWindow) {
            this.#sentWindow = size;
            this.#write(controlMessage(MSG.WINDOW_ACK_SIZE, size));
          }
        }
        return;
      case MSG.USER_CONTROL: {
        if (m.payload.length < 2) return;
        const event = m.payload.readUInt16BE(0);
        if (event === UC.PING_REQUEST) this.#write(userControl(UC.PING_RESPONSE, m.payload.subarray(2, 6), this.chunkSize));
        return;
      }
      case MSG.COMMAND_AMF0:
      case MSG.COMMAND_AMF3: {
        let values: Amf0Value[];
        try {
          values = decodeAmf0(m.type === MSG.COMMAND_AMF3 ? m.payload.subarray(1) : m.payload);
        } catch (err) {
          this.#log?.debug('rtmp publisher: undecodable command', { label: this.label, error: (err as Error).message });
          return;
        }
        this.#onCommand(values);
        return;
      }
      default:
        return;
    }
  }

  #onCommand(values: Amf0Value[]): void {
    const name = values[0];
    const txn = typeof values[1] === 'number' ? values[1] : -1;
    const info = asObject(values[3]);
    const description = info ? `${str(info['code'])}${info['description'] !== undefined ? ` (${str(info['description'])})` : ''}` : '';
    if (name === '_result') {
      if (txn === TXN.CONNECT && this.#state === 'connect') {
        this.#state = 'publish';
        this.#command('releaseStream', TXN.RELEASE, null, [this.endpoint.streamName]);
        this.#command('FCPublish', TXN.FCPUBLISH, null, [this.endpoint.streamName]);
        this.#command('createStream', TXN.CREATE_STREAM, null);
      } else if (txn === TXN.CREATE_STREAM && this.#state === 'publish' && this.#streamId === null) {
        const id = values[3];
        this.#streamId = typeof id === 'number' && id >= 0 ? id : 1;
        this.#command('publish', TXN.PUBLISH, null, [this.endpoint.streamName, 'live'], this.#streamId, CSID.STREAM_COMMAND);
      }
      return;
    }
    if (name === '_error') {
      // releaseStream / FCPublish errors are common and harmless.
      if (txn === TXN.CONNECT) this.#fail(errorFor('RTMP_STREAM_KEY_REJECTED', `connect refused: ${description || 'NetConnection.Connect.Rejected'}`, this.#secrets));
      else if (txn === TXN.CREATE_STREAM || txn === TXN.PUBLISH) this.#fail(errorFor('RTMP_STREAM_KEY_REJECTED', `${txn === TXN.PUBLISH ? 'publish' : 'createStream'} refused: ${description || '_error'}`, this.#secrets));
      return;
    }
    if (name === 'onStatus') {
      const code = str(info?.['code']);
      const level = str(info?.['level']);
      if (code === 'NetStream.Publish.Start') {
        this.#onPublishing();
        return;
      }
      if (level !== 'error') return;
      const text = `${description}`;
      if (this.#state === 'publishing') {
        this.#fail(errorFor('RTMP_CONNECTION_CLOSED', `the server stopped the stream: ${text}`, this.#secrets));
      } else if (/already (?:publishing|in use|exists)|is busy/i.test(text)) {
        this.#fail(errorFor('RTMP_STREAM_KEY_IN_USE', `Server error: ${text}`, this.#secrets));
      } else {
        this.#fail(errorFor('RTMP_STREAM_KEY_REJECTED', `Server error: ${text}`, this.#secrets));
      }
      return;
    }
    if (name === 'close') this.#fail(errorFor('RTMP_CONNECTION_CLOSED', 'the server sent close', this.#secrets));
  }

  #onPublishing(): void {
    if (this.#state === 'publishing' || this.#state === 'closed') return;
    this.#state = 'publishing';
    this.#publishedAt = Date.now();
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#lastProgressAt = Date.now();
    const stallMs = this.#opts.stallTimeoutMs ?? 15_000;
    this.#stallTimer = setInterval(() => this.#checkStall(stallMs), Math.min(1000, stallMs / 2));
    this.#stallTimer.unref();
    this.#log?.info('rtmp publisher: publishing', { label: this.label, host: this.endpoint.host, port: this.endpoint.port, streamId: this.#streamId, connectMs: this.#publishedAt - this.#startedAt });
    this.#resolveStart?.();
  }

  #checkStall(stallMs: number): void {
    const s = this.#socket;
    if (!s) return;
    const sent = this.#bytesQueued - s.writableLength;
    const now = Date.now();
    if (sent !== this.#lastBytesSent || s.writableLength === 0) {
      this.#lastBytesSent = sent;
      this.#lastProgressAt = now;
      return;
    }
    if (now - this.#lastProgressAt >= stallMs) {
      this.#fail(errorFor('RTMP_TIMEOUT', `the server accepted no data for ${Math.round((now - this.#lastProgressAt) / 1000)} s (${s.writableLength} bytes waiting)`, this.#secrets));
    }
  }

  #command(name: string, txn: number, obj: Amf0Object | null, args: Amf0Value[] = [], streamId = 0, csid: number = CSID.COMMAND): void {
    const payload = encodeAmf0(name, txn, obj, ...args);
    this.#write(chunkMessage({ csid, type: MSG.COMMAND_AMF0, streamId, timestamp: 0, payload }, this.chunkSize));
  }

  #socketError(err: NodeJS.ErrnoException): ClassifiedError {
    const code = err.code ?? '';
    const detail = err.message;
    if (this.#closing) return errorFor('RTMP_CONNECTION_CLOSED', detail, this.#secrets);
    if (err instanceof EgressRefusedError || code === 'EGRESS_REFUSED') return errorFor('EGRESS_REFUSED', detail, this.#secrets);
    if (code === 'ECONNREFUSED') return errorFor('RTMP_CONNECTION_REFUSED', detail, this.#secrets);
    if (code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'EAI_NODATA') return errorFor('DNS_RESOLUTION_FAILED', detail, this.#secrets);
    if (code === 'EAI_AGAIN' || code === 'EAI_FAIL') return errorFor('DNS_RESOLUTION_FAILED', detail, this.#secrets, { message: 'DNS did not answer', retryable: true });
    if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return errorFor('RTMP_TIMEOUT', detail, this.#secrets);
    if (this.#state === 'tls' || TLS_CODES.test(code) || (this.endpoint.secure && this.#state === 'tcp' && /TLS|SSL|certificate/i.test(detail))) {
      return errorFor('TLS_HANDSHAKE_FAILED', `${detail}${code ? ` (${code})` : ''}`, this.#secrets);
    }
    return this.#closedError(detail);
  }

  /** The connection ended without a clearer error: what it means depends on how far we got. */
  #closedError(detail?: string): ClassifiedError {
    const where = `${this.endpoint.host}:${this.endpoint.port}`;
    const d = detail ?? `connection to ${where} closed`;
    switch (this.#state) {
      case 'tcp':
        return errorFor('RTMP_CONNECTION_CLOSED', d, this.#secrets, { message: 'The connection closed before it was established' });
      case 'tls':
        return errorFor('TLS_HANDSHAKE_FAILED', d, this.#secrets);
      case 'handshake':
        return errorFor('RTMP_CONNECTION_CLOSED', d, this.#secrets, {
          message: `The server closed the connection during the RTMP handshake (not an RTMP endpoint, or rtmp:// on a TLS port?)`,
        });
      case 'connect':
      case 'publish':
        return errorFor('RTMP_STREAM_KEY_REJECTED', d, this.#secrets, { message: 'The RTMP server closed the connection during connect/publish' });
      case 'publishing': {
        // A platform that refuses the key after Publish.Start (Twitch does) closes at once; a
        // connection that had carried media for longer was dropped, and is retried as such.
        const afterMs = Date.now() - (this.#publishedAt ?? 0);
        if (afterMs < PUBLISHED_REJECT_MS) {
          return errorFor('RTMP_STREAM_KEY_REJECTED', d, this.#secrets, { message: `The RTMP server closed the connection ${afterMs} ms after it accepted the publish, as platforms that refuse a stream key do` });
        }
        return errorFor('RTMP_CONNECTION_CLOSED', d, this.#secrets, { message: `The RTMP server closed the connection after ${Math.round(afterMs / 100) / 10} s of publishing` });
      }
      default:
        return errorFor('RTMP_CONNECTION_CLOSED', d, this.#secrets);
    }
  }

  #fail(err: ClassifiedError): void {
    if (this.#state === 'closed') return;
    if (this.#closing) {
      this.#finish(null);
      return;
    }
    const wasPublishing = this.#state === 'publishing';
    this.#finish(err);
    (wasPublishing ? this.#log?.warn : this.#log?.info)?.call(this.#log, 'rtmp publisher: failed', { label: this.label, code: err.code, error: err.message });
  }

  #finish(err: ClassifiedError | null): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closedAt = Date.now();
    this.#error = err;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    this.#connectTimer = this.#stallTimer = null;
    this.#socket?.destroy();
    const e = err ?? errorFor('RTMP_CONNECTION_CLOSED', 'closed before publishing', this.#secrets, { message: 'The publisher was closed' });
    this.#rejectStart?.(new RtmpPublishError(e));
    this.#resolveStart = this.#rejectStart = null;
    this.#resolveClosed(err);
  }
}

function asObject(v: Amf0Value | undefined): Amf0Object | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? (v as Amf0Object) : null;
}

function str(v: Amf0Value | undefined): string {
  return v === undefined || v === null ? '' : String(v);
}
