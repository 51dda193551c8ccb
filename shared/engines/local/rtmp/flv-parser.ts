/**
 * An incremental FLV demuxer: give it the bytes of an FLV stream in chunks of any size (an FFmpeg
 * `-f flv pipe:1` read), get back whole tags. It never copies a tag that lies inside one chunk
 * (the tag's `data` is a view of that chunk); a tag split across chunks is copied once.
 *
 *   header      'FLV' version(1) flags(1: 0x04 audio, 0x01 video) dataOffset(4)
 *   then        PreviousTagSize0(4) { tag PreviousTagSize(4) }*
 *   tag         type(1: 8 audio, 9 video, 18 script) dataSize(3) timestamp(3) timestampExt(1)
 *               streamId(3, always 0) data(dataSize)
 *   video data  FrameType(4 bits: 1 key, 2 inter, …) CodecID(4 bits: 7 AVC)
 *               [AVC: AVCPacketType(1: 0 sequence header, 1 NALU, 2 end) CompositionTime(3)]
 *   audio data  SoundFormat(4 bits: 10 AAC) rate/size/type(4 bits) [AAC: AACPacketType(1: 0 sequence header, 1 raw)]
 *
 * It keeps what a late joiner needs: the latest `onMetaData` script tag, the AVC sequence header
 * (SPS/PPS) and the AAC sequence header (AudioSpecificConfig).
 */
import { decodeAmf0, startsWithString, type Amf0Object } from './amf0.ts';

export const FLV_TAG_AUDIO = 8;
export const FLV_TAG_VIDEO = 9;
export const FLV_TAG_SCRIPT = 18;

export interface FlvHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface FlvTag {
  /** 8 audio, 9 video, 18 script data. */
  type: number;
  /** Milliseconds: the 24-bit timestamp with its 8-bit extension as the upper byte. */
  timestamp: number;
  /** Always 0 in a valid file. */
  streamId: number;
  /** The tag's body (a view of the input when the tag was inside one chunk). */
  data: Buffer;
  /** A video frame with FrameType 1 (keyframe); never a sequence header or end of sequence. */
  keyframe: boolean;
  /** An AVC (AVCPacketType 0) or AAC (AACPacketType 0) sequence header. */
  sequenceHeader: boolean;
  /** A script tag whose first value is the string `onMetaData`. */
  metadata: boolean;
}

export class FlvParseError extends Error {}

const HEADER_MIN = 9;
const TAG_HEADER = 11;
/** A tag larger than this means we lost sync (no real frame comes close). */
const MAX_TAG_BYTES = 64 * 1024 * 1024;

type Phase = 'header' | 'skip' | 'prevSize' | 'tagHeader' | 'tagBody';

/** Classifies a tag's body: keyframe / sequence header / metadata. */
export function describeTag(type: number, data: Buffer): Pick<FlvTag, 'keyframe' | 'sequenceHeader' | 'metadata'> {
  if (type === FLV_TAG_VIDEO) {
    const b0 = data[0] ?? 0;
    const frameType = b0 >> 4;
    const codec = b0 & 0x0f;
    // AVC (7) and HEVC (12) carry a packet type: 0 sequence header, 1 frame, 2 end of sequence.
    // Only a frame is a keyframe (FFmpeg marks its closing end-of-sequence tag FrameType 1 too).
    if (codec === 7 || codec === 12) {
      const packetType = data.length > 1 ? data[1] : -1;
      return { keyframe: frameType === 1 && packetType === 1, sequenceHeader: packetType === 0, metadata: false };
    }
    return { keyframe: frameType === 1, sequenceHeader: false, metadata: false };
  }
  if (type === FLV_TAG_AUDIO) {
    const format = (data[0] ?? 0) >> 4;
    return { keyframe: false, sequenceHeader: format === 10 && data.length > 1 && data[1] === 0, metadata: false };
  }
  if (type === FLV_TAG_SCRIPT) return { keyframe: false, sequenceHeader: false, metadata: startsWithString(data, 'onMetaData') };
  return { keyframe: false, sequenceHeader: false, metadata: false };
}

export class FlvParser {
  /** Unconsumed input, oldest first; `#head` bytes of the first one are already consumed. */
  #chunks: Buffer[] = [];
  #head = 0;
  #available = 0;
  #phase: Phase = 'header';
  #need = HEADER_MIN;
  #tagType = 0;
  #tagSize = 0;
  #tagTimestamp = 0;
  #tagStreamId = 0;

  header: FlvHeader | null = null;
  /** The latest `onMetaData` script tag. */
  metadataTag: FlvTag | null = null;
  /** The latest AVC sequence header (video tag, AVCPacketType 0). */
  videoSequenceHeader: FlvTag | null = null;
  /** The latest AAC sequence header (audio tag, AACPacketType 0). */
  audioSequenceHeader: FlvTag | null = null;
  /** Counters. */
  bytesIn = 0;
  tags = 0;
  videoTags = 0;
  audioTags = 0;
  keyframes = 0;

  /**
   * Feeds bytes; returns the tags completed by them, in order.
   * @throws FlvParseError if the stream is not FLV or loses sync (the parser is then unusable)
   */
  push(chunk: Buffer): FlvTag[] {
    const out: FlvTag[] = [];
    if (chunk.length === 0) return out;
    this.bytesIn += chunk.length;
    this.#chunks.push(chunk);
    this.#available += chunk.length;
    while (this.#available >= this.#need) this.#step(out);
    return out;
  }

  /** The onMetaData values, decoded (null if none yet or undecodable). */
  metadata(): Amf0Object | null {
    if (!this.metadataTag) return null;
    try {
      const v = decodeAmf0(this.metadataTag.data)[1];
      return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? (v as Amf0Object) : null;
    } catch {
      return null;
    }
  }

  /** Bytes received but not yet part of a complete tag. */
  get pendingBytes(): number {
    return this.#available;
  }

  #step(out: FlvTag[]): void {
    switch (this.#phase) {
      case 'header': {
        const h = this.#peek(HEADER_MIN);
        if (h[0] !== 0x46 || h[1] !== 0x4c || h[2] !== 0x56) throw new FlvParseError('not an FLV stream (no "FLV" signature)');
        const offset = h.readUInt32BE(5);
        if (offset < HEADER_MIN || offset > 1024) throw new FlvParseError(`FLV header: bad data offset ${offset}`);
        this.header = { version: h[3] ?? 0, hasAudio: ((h[4] ?? 0) & 0x04) !== 0, hasVideo: ((h[4] ?? 0) & 0x01) !== 0 };
        this.#consume(HEADER_MIN);
        this.#phase = offset > HEADER_MIN ? 'skip' : 'prevSize';
        this.#need = offset > HEADER_MIN ? offset - HEADER_MIN : 4;
        return;
      }
      case 'skip':
        this.#consume(this.#need);
        this.#phase = 'prevSize';
        this.#need = 4;
        return;
      case 'prevSize':
        // PreviousTagSize: not checked (FFmpeg writes it correctly; a mismatch would not help us).
        this.#consume(4);
        this.#phase = 'tagHeader';
        this.#need = TAG_HEADER;
        return;
      case 'tagHeader': {
        const h = this.#peek(TAG_HEADER);
        const type = (h[0] ?? 0) & 0x1f; // upper bits: reserved / filter
        const size = h.readUIntBE(1, 3);
        const ts = h.readUIntBE(4, 3) | ((h[7] ?? 0) << 24);
        if (type !== FLV_TAG_AUDIO && type !== FLV_TAG_VIDEO && type !== FLV_TAG_SCRIPT) throw new FlvParseError(`FLV: unknown tag type ${type} after ${this.tags} tags (lost sync?)`);
        if (size > MAX_TAG_BYTES) throw new FlvParseError(`FLV: tag of ${size} bytes (lost sync?)`);
        this.#consume(TAG_HEADER);
        this.#tagType = type;
        this.#tagSize = size;
        this.#tagTimestamp = ts >>> 0;
        this.#tagStreamId = h.readUIntBE(8, 3);
        this.#phase = 'tagBody';
        this.#need = size;
        return;
      }
      case 'tagBody': {
        const data = this.#take(this.#tagSize);
        const tag: FlvTag = { type: this.#tagType, timestamp: this.#tagTimestamp, streamId: this.#tagStreamId, data, ...describeTag(this.#tagType, data) };
        this.tags++;
        if (tag.type === FLV_TAG_VIDEO) {
          this.videoTags++;
          if (tag.keyframe) this.keyframes++;
          if (tag.sequenceHeader) this.videoSequenceHeader = tag;
        } else if (tag.type === FLV_TAG_AUDIO) {
          this.audioTags++;
          if (tag.sequenceHeader) this.audioSequenceHeader = tag;
        } else if (tag.metadata) this.metadataTag = tag;
        out.push(tag);
        this.#phase = 'prevSize';
        this.#need = 4;
        return;
      }
    }
  }

  /** The next `n` bytes without consuming them (a view when they lie in one chunk). */
  #peek(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0] as Buffer;
    if (first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let head = this.#head;
    for (const c of this.#chunks) {
      const k = Math.min(n - filled, c.length - head);
      c.copy(out, filled, head, head + k);
      filled += k;
      head = 0;
      if (filled === n) break;
    }
    return out;
  }

  #consume(n: number): void {
    this.#available -= n;
    while (n > 0) {
      const first = this.#chunks[0] as Buffer;
      const left = first.length - this.#head;
      if (left > n) {
        this.#head += n;
        return;
      }
      n -= left;
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  #take(n: number): Buffer {
    const b = this.#peek(n);
    this.#consume(n);
    return b;
  }
}
