/**
 * RTMP chunk stream: splitting messages into chunks (what we send) and reassembling the server's
 * chunks into messages (what we read).
 *
 *   chunk         basic header (fmt: 2 bits, chunk stream id: 6 bits, or 1-2 more bytes for ids ≥ 64)
 *                 message header (fmt 0: timestamp(3) length(3) type(1) streamId(4, little-endian);
 *                 fmt 1: delta(3) length(3) type(1); fmt 2: delta(3); fmt 3: nothing)
 *                 extended timestamp(4) when the 3-byte field is 0xFFFFFF, repeated on fmt 3 chunks
 *                 payload: up to the sender's chunk size
 *
 * What we send is chunked with an fmt 0 header on every message (absolute timestamp) and fmt 3 on
 * its continuation chunks. That costs 4-7 bytes per message over delta headers, and buys the
 * property the fan-out is built on: a message's bytes depend only on (chunk size, message stream
 * id, the message), not on what was sent before on that connection. So one chunking serves every
 * connection with the same chunk size and stream id, even those that joined late or dropped
 * frames (`OutboundMessage.chunked`).
 */

/** RTMP message type ids. */
export const MSG = {
  SET_CHUNK_SIZE: 1,
  ABORT: 2,
  ACK: 3,
  USER_CONTROL: 4,
  WINDOW_ACK_SIZE: 5,
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  DATA_AMF3: 15,
  COMMAND_AMF3: 17,
  DATA_AMF0: 18,
  COMMAND_AMF0: 20,
} as const;

/** Chunk stream ids we send on. 2 is reserved for protocol control messages. */
export const CSID = { CONTROL: 2, COMMAND: 3, AUDIO: 4, DATA: 5, VIDEO: 6, STREAM_COMMAND: 8 } as const;

/** The default chunk size of both directions until a Set Chunk Size says otherwise. */
export const DEFAULT_CHUNK_SIZE = 128;

const EXTENDED = 0xffffff;

export interface RtmpMessage {
  csid: number;
  type: number;
  streamId: number;
  /** Milliseconds (32-bit, wraps). */
  timestamp: number;
  payload: Buffer;
}

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(b: Buffer, at: number, fmt: number, csid: number): number {
  if (csid < 64) {
    b[at] = (fmt << 6) | csid;
    return at + 1;
  }
  if (csid < 320) {
    b[at] = fmt << 6;
    b[at + 1] = csid - 64;
    return at + 2;
  }
  b[at] = (fmt << 6) | 1;
  b.writeUInt16LE(csid - 64, at + 1);
  return at + 3;
}

/** Bytes of a message once chunked at `chunkSize` (see `chunkMessage`). */
export function chunkedLength(payloadLength: number, timestamp: number, csid: number, chunkSize: number): number {
  const chunks = Math.max(1, Math.ceil(payloadLength / chunkSize));
  const ext = timestamp >= EXTENDED ? 4 : 0;
  const basic = basicHeaderSize(csid);
  return basic + 11 + ext + (chunks - 1) * (basic + ext) + payloadLength;
}

/**
 * Splits one message into chunks, into one new contiguous Buffer: fmt 0 first, fmt 3 after.
 * @param chunkSize our outgoing chunk size (as announced with Set Chunk Size)
 */
export function chunkMessage(m: RtmpMessage, chunkSize: number): Buffer {
  const ts = m.timestamp >>> 0;
  const ext = ts >= EXTENDED;
  const len = m.payload.length;
  const out = Buffer.allocUnsafe(chunkedLength(len, ts, m.csid, chunkSize));
  let at = writeBasicHeader(out, 0, 0, m.csid);
  out.writeUIntBE(ext ? EXTENDED : ts, at, 3);
  out.writeUIntBE(len, at + 3, 3);
  out[at + 6] = m.type;
  out.writeUInt32LE(m.streamId, at + 7);
  at += 11;
  if (ext) at = out.writeUInt32BE(ts, at);
  let sent = 0;
  for (;;) {
    const n = Math.min(chunkSize, len - sent);
    at += m.payload.copy(out, at, sent, sent + n);
    sent += n;
    if (sent >= len) break;
    at = writeBasicHeader(out, at, 3, m.csid);
    if (ext) at = out.writeUInt32BE(ts, at);
  }
  return out;
}

/**
 * A message for many connections: chunked once per (chunk size, stream id, chunk stream id),
 * on first demand, then the same Buffer for every connection asking with the same parameters.
 */
export class OutboundMessage {
  #key = -1;
  #bytes: Buffer | null = null;
  #others: Map<number, Buffer> | null = null;
  /** How many times this message was chunked (1 when every connection shares its parameters). */
  chunkings = 0;

  constructor(
    readonly type: number,
    readonly timestamp: number,
    readonly payload: Buffer,
    /** Chunk stream id it travels on. */
    readonly csid: number,
    /** A video keyframe (not a sequence header). */
    readonly keyframe: boolean,
    /** Metadata or a sequence header: every connection needs the latest one, never dropped. */
    readonly config: boolean,
  ) {}

  /** The chunked bytes for a connection with this stream id and chunk size (memoised). */
  chunked(streamId: number, chunkSize: number): Buffer {
    // Stream ids and chunk sizes are small: pack both into one number key.
    const key = streamId * 0x1000000 + chunkSize;
    if (key === this.#key && this.#bytes) return this.#bytes;
    const other = this.#others?.get(key);
    if (other) return other;
    const bytes = chunkMessage({ csid: this.csid, type: this.type, streamId, timestamp: this.timestamp, payload: this.payload }, chunkSize);
    this.chunkings++;
    if (this.#bytes === null) {
      this.#key = key;
      this.#bytes = bytes;
    } else {
      this.#others ??= new Map();
      this.#others.set(key, bytes);
    }
    return bytes;
  }

  /** Bytes of the payload. */
  get size(): number {
    return this.payload.length;
  }
}

/**
 * The messages of one source read, for connections that take them all (nothing gated, room in
 * their buffer): their chunked bytes concatenated once, so such a connection gets one write per
 * read instead of one per message.
 */
export class OutboundBatch {
  readonly bytes: number;
  readonly videoFrames: number;
  readonly keyframes: number;
  readonly audioFrames: number;
  /** Timestamps of the first and last non-config message (null if none). */
  readonly firstTs: number | null;
  readonly lastTs: number | null;
  #key = -1;
  #bytes: Buffer | null = null;

  constructor(readonly messages: readonly OutboundMessage[]) {
    let bytes = 0;
    let video = 0;
    let key = 0;
    let audio = 0;
    let first: number | null = null;
    let last: number | null = null;
    for (const m of messages) {
      bytes += m.size + 16;
      if (m.config) continue;
      if (m.type === MSG.VIDEO) {
        video++;
        if (m.keyframe) key++;
      } else if (m.type === MSG.AUDIO) audio++;
      first ??= m.timestamp;
      last = m.timestamp;
    }
    this.bytes = bytes;
    this.videoFrames = video;
    this.keyframes = key;
    this.audioFrames = audio;
    this.firstTs = first;
    this.lastTs = last;
  }

  /** Every message chunked for these parameters, in one Buffer (memoised for the last parameters). */
  chunked(streamId: number, chunkSize: number): Buffer {
    const key = streamId * 0x1000000 + chunkSize;
    if (key === this.#key && this.#bytes) return this.#bytes;
    const parts = this.messages.map((m) => m.chunked(streamId, chunkSize));
    const b = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.#key = key;
    this.#bytes = b;
    return b;
  }
}

interface InState {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  extended: boolean;
  parts: Buffer[];
  received: number;
}

/** Reassembles messages from the server's chunk stream. */
export class ChunkReader {
  /** The peer's chunk size (changed by its Set Chunk Size). */
  chunkSize = DEFAULT_CHUNK_SIZE;
  #pending: Buffer = Buffer.alloc(0);
  readonly #streams = new Map<number, InState>();

  /** Feeds bytes; returns the messages they complete. */
  push(chunk: Buffer): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let at = 0;
    const b = this.#pending;
    for (;;) {
      const consumed = this.#chunk(b, at, out);
      if (consumed === 0) break;
      at += consumed;
    }
    this.#pending = at === b.length ? Buffer.alloc(0) : b.subarray(at);
    return out;
  }

  /** Abort Message: drops the partial message of a chunk stream. */
  abort(csid: number): void {
    const st = this.#streams.get(csid);
    if (st) {
      st.parts = [];
      st.received = 0;
    }
  }

  /** Parses one chunk at `at`; returns its length, or 0 if incomplete. */
  #chunk(b: Buffer, at: number, out: RtmpMessage[]): number {
    const start = at;
    if (b.length - at < 1) return 0;
    const b0 = b[at] as number;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    at++;
    if (csid === 0) {
      if (b.length - at < 1) return 0;
      csid = 64 + (b[at] as number);
      at++;
    } else if (csid === 1) {
      if (b.length - at < 2) return 0;
      csid = 64 + b.readUInt16LE(at);
      at += 2;
    }
    const headerLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (b.length - at < headerLen) return 0;
    let st = this.#streams.get(csid);
    // A chunk stream should start with fmt 0; like FFmpeg, take a missing previous header as zeros.
    st ??= { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, parts: [], received: 0 };
    let tsField = 0;
    let length = st.length;
    let type = st.type;
    let streamId = st.streamId;
    if (fmt <= 2) tsField = b.readUIntBE(at, 3);
    if (fmt <= 1) {
      length = b.readUIntBE(at + 3, 3);
      type = b[at + 6] as number;
    }
    if (fmt === 0) streamId = b.readUInt32LE(at + 7);
    at += headerLen;
    const extended = fmt <= 2 ? tsField === EXTENDED : st.extended;
    let extTs = 0;
    if (extended) {
      if (b.length - at < 4) return 0;
      extTs = b.readUInt32BE(at);
      at += 4;
    }
    const newMessage = st.received === 0;
    const n = Math.min(this.chunkSize, length - (newMessage ? 0 : st.received));
    if (b.length - at < n) return 0;
    // The whole chunk is here: commit the header.
    this.#streams.set(csid, st);
    st.extended = extended;
    st.length = length;
    st.type = type;
    st.streamId = streamId;
    const tsValue = extended ? extTs : tsField;
    if (newMessage) {
      if (fmt === 0) {
        st.timestamp = tsValue;
        st.delta = 0;
      } else if (fmt === 1 || fmt === 2) {
        st.delta = tsValue;
        st.timestamp = (st.timestamp + tsValue) >>> 0;
      } else st.timestamp = (st.timestamp + st.delta) >>> 0;
    }
    st.parts.push(b.subarray(at, at + n));
    st.received += n;
    at += n;
    if (st.received >= st.length) {
      const payload = st.parts.length === 1 ? Buffer.from(st.parts[0] as Buffer) : Buffer.concat(st.parts);
      out.push({ csid, type: st.type, streamId: st.streamId, timestamp: st.timestamp, payload });
      st.parts = [];
      st.received = 0;
      // Protocol control applies to the very next chunk, which may be in this same read.
      if (st.type === MSG.SET_CHUNK_SIZE && payload.length >= 4) this.chunkSize = Math.max(1, payload.readUInt32BE(0) & 0x7fffffff);
      else if (st.type === MSG.ABORT && payload.length >= 4) this.abort(payload.readUInt32BE(0));
    }
    return at - start;
  }
}

/** A protocol control message (chunk stream 2, message stream 0) with a 4-byte value. */
export function controlMessage(type: number, value: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(value >>> 0, 0);
  return chunkMessage({ csid: CSID.CONTROL, type, streamId: 0, timestamp: 0, payload: p }, DEFAULT_CHUNK_SIZE);
}

/** Set Peer Bandwidth is 5 bytes; the rest are 4. */
export function setPeerBandwidth(size: number, limitType: number): Buffer {
  const p = Buffer.allocUnsafe(5);
  p.writeUInt32BE(size >>> 0, 0);
  p[4] = limitType;
  return chunkMessage({ csid: CSID.CONTROL, type: MSG.SET_PEER_BANDWIDTH, streamId: 0, timestamp: 0, payload: p }, DEFAULT_CHUNK_SIZE);
}

/** User Control message: event type (2 bytes) + data. */
export function userControl(event: number, data: Buffer, chunkSize: number): Buffer {
  const p = Buffer.allocUnsafe(2 + data.length);
  p.writeUInt16BE(event, 0);
  data.copy(p, 2);
  return chunkMessage({ csid: CSID.CONTROL, type: MSG.USER_CONTROL, streamId: 0, timestamp: 0, payload: p }, chunkSize);
}
