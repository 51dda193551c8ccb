/**
 * A GOP cache for an MPEG-TS feed read in chunks of whole packets: it keeps every packet since the
 * latest video keyframe, plus the latest PAT and PMT, so that a consumer joining mid-stream can be
 * given a decodable start at once (the trick RTMP servers use for new players).
 *
 * Why: FFmpeg cannot start a `-c copy` or a decode without a keyframe (SPS/PPS), and it probes an
 * MPEG-TS input for its whole `-analyzeduration`. Joining a live feed therefore costs up to a GOP
 * of waiting plus the probe (measured: ~4.5 s from start to publishing with a 2 s GOP). Replaying
 * the cached GOP hands FFmpeg a keyframe and a GOP's worth of timestamps immediately, which
 * satisfies the probe from the burst: publishing starts ~1 s after spawn instead.
 *
 * Parsing is minimal and defensive (188-byte packets, sync byte 0x47): PAT → PMT PID, PMT → the
 * first video elementary stream (H.264, HEVC, MPEG-2), and a keyframe is a payload-unit start on
 * that PID with the adaptation field's random_access_indicator set, or whose payload starts an
 * H.264 SPS / HEVC VPS-SPS NAL (encoders that do not set the indicator). Anything unexpected just
 * means "no keyframe seen", and the consumer then probes the live feed as it would without us.
 */

export const TS_PACKET = 188;
const SYNC = 0x47;
/** H.264, HEVC, MPEG-2 and MPEG-1 video stream types (ISO 13818-1, table 2-34). */
const VIDEO_STREAM_TYPES = new Set([0x1b, 0x24, 0x02, 0x01]);

export interface GopCacheOptions {
  /** Drop the cache (until the next keyframe) when it grows beyond this. Default 16 MiB. */
  maxBytes?: number;
}

function pidOf(p: Buffer, at: number): number {
  return (((p[at + 1] ?? 0) & 0x1f) << 8) | (p[at + 2] ?? 0);
}

/** Offset of the payload of the packet at `at`, or -1 if it has none. */
function payloadOffset(p: Buffer, at: number): number {
  const afc = ((p[at + 3] ?? 0) >> 4) & 0x3;
  if (afc === 1) return at + 4;
  if (afc === 3) {
    const off = at + 5 + (p[at + 4] ?? 0);
    return off < at + TS_PACKET ? off : -1;
  }
  return -1;
}

function randomAccess(p: Buffer, at: number): boolean {
  const afc = ((p[at + 3] ?? 0) >> 4) & 0x3;
  return (afc === 2 || afc === 3) && (p[at + 4] ?? 0) > 0 && ((p[at + 5] ?? 0) & 0x40) !== 0;
}

/** Whether a PES payload start contains an H.264 SPS or an HEVC VPS/SPS NAL unit. */
function startsParameterSets(p: Buffer, from: number, to: number): boolean {
  for (let i = from; i + 3 < to; i++) {
    if (p[i] === 0 && p[i + 1] === 0 && p[i + 2] === 1) {
      const h = p[i + 3] ?? 0;
      if ((h & 0x9f) === 0x07) return true; // H.264 SPS (any nal_ref_idc)
      const hevc = (h >> 1) & 0x3f;
      if ((h & 0x81) === 0 && (hevc === 32 || hevc === 33)) return true; // HEVC VPS/SPS
    }
  }
  return false;
}

/** Program-specific section payload of a PUSI packet (after the pointer field), or null. */
function section(p: Buffer, at: number): { start: number; end: number } | null {
  const off = payloadOffset(p, at);
  if (off < 0) return null;
  const start = off + 1 + (p[off] ?? 0);
  const end = at + TS_PACKET;
  return start + 3 <= end ? { start, end } : null;
}

export class GopCache {
  readonly #maxBytes: number;
  #pat: Buffer | null = null;
  #pmt: Buffer | null = null;
  #pmtPid: number | null = null;
  #videoPid: number | null = null;
  #gop: Buffer[] | null = null;
  #gopBytes = 0;
  #keyframes = 0;

  constructor(o: GopCacheOptions = {}) {
    this.#maxBytes = o.maxBytes ?? 16 << 20;
  }

  /** Keyframes seen so far (for tests and stats). */
  get keyframes(): number {
    return this.#keyframes;
  }

  get videoPid(): number | null {
    return this.#videoPid;
  }

  /**
   * Feeds one chunk of whole TS packets as received (it is kept by reference: do not modify it
   * afterwards). A chunk holding a keyframe starts a new GOP at that keyframe's packet.
   */
  push(d: Buffer): void {
    let keyframe = -1;
    for (let at = 0; at + TS_PACKET <= d.length; at += TS_PACKET) {
      if (d[at] !== SYNC) {
        this.#drop(); // not aligned TS: nothing we can vouch for
        return;
      }
      const pusi = ((d[at + 1] ?? 0) & 0x40) !== 0;
      if (!pusi) continue;
      const pid = pidOf(d, at);
      if (pid === 0) this.#onPat(d, at);
      else if (pid === this.#pmtPid) this.#onPmt(d, at);
      else if (pid === this.#videoPid && keyframe < 0) {
        const off = payloadOffset(d, at);
        if (randomAccess(d, at) || (off >= 0 && startsParameterSets(d, off, at + TS_PACKET))) keyframe = at;
      }
    }
    if (keyframe >= 0) {
      // What precedes the keyframe in this chunk belongs to the GOP before: a joiner skips it.
      const gop = keyframe === 0 ? d : d.subarray(keyframe);
      this.#keyframes += 1;
      this.#gop = [gop];
      this.#gopBytes = gop.length;
      return;
    }
    if (this.#gop) {
      this.#gop.push(d);
      this.#gopBytes += d.length;
      if (this.#gopBytes > this.#maxBytes) this.#drop();
    }
  }

  /**
   * What a consumer joining now should get first: one buffer with the PAT and PMT, then every
   * chunk since the latest keyframe (from its packet on). Empty when no keyframe (or no PMT) has
   * been seen.
   */
  snapshot(): Buffer[] {
    if (!this.#gop || !this.#pat || !this.#pmt) return [];
    return [Buffer.concat([this.#pat, this.#pmt]), ...this.#gop];
  }

  /** Forgets the cached GOP (the feed was interrupted: what comes next may not follow it). */
  reset(): void {
    this.#drop();
  }

  #drop(): void {
    this.#gop = null;
    this.#gopBytes = 0;
  }

  #onPat(d: Buffer, at: number): void {
    const s = section(d, at);
    if (!s || d[s.start] !== 0x00) return;
    const sectionLength = (((d[s.start + 1] ?? 0) & 0x0f) << 8) | (d[s.start + 2] ?? 0);
    const end = Math.min(s.end, s.start + 3 + sectionLength - 4); // without the CRC
    for (let i = s.start + 8; i + 4 <= end; i += 4) {
      const program = ((d[i] ?? 0) << 8) | (d[i + 1] ?? 0);
      if (program === 0) continue; // network PID
      this.#pmtPid = (((d[i + 2] ?? 0) & 0x1f) << 8) | (d[i + 3] ?? 0);
      break;
    }
    this.#pat = Buffer.from(d.subarray(at, at + TS_PACKET));
  }

  #onPmt(d: Buffer, at: number): void {
    const s = section(d, at);
    if (!s || d[s.start] !== 0x02) return;
    const sectionLength = (((d[s.start + 1] ?? 0) & 0x0f) << 8) | (d[s.start + 2] ?? 0);
    const end = Math.min(s.end, s.start + 3 + sectionLength - 4);
    const programInfoLength = (((d[s.start + 10] ?? 0) & 0x0f) << 8) | (d[s.start + 11] ?? 0);
    for (let i = s.start + 12 + programInfoLength; i + 5 <= end; ) {
      const type = d[i] ?? 0;
      const pid = (((d[i + 1] ?? 0) & 0x1f) << 8) | (d[i + 2] ?? 0);
      const esInfoLength = (((d[i + 3] ?? 0) & 0x0f) << 8) | (d[i + 4] ?? 0);
      if (VIDEO_STREAM_TYPES.has(type)) {
        this.#videoPid = pid;
        break;
      }
      i += 5 + esInfoLength;
    }
    this.#pmt = Buffer.from(d.subarray(at, at + TS_PACKET));
  }
}
