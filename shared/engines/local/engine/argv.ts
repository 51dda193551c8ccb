/**
 * Command lines of every process the local engine runs, as pure functions (argv arrays, no shell),
 * so they can be read, tested and benchmarked on their own:
 *
 *   srt-live-transmit  ingestArgs      SRT listener (AES) → MPEG-TS on stdout → flow hub; stats on fd 3
 *   ffmpeg             hlsArgs         flow hub → stdin → primary HLS (-c copy)
 *   ffmpeg             encoderArgs     flow hub → stdin → one rendition (x264/AAC) → FLV on stdout → RtmpFanout
 *   ffmpeg             muxArgs         flow hub → stdin → -c copy → FLV on stdout → RtmpFanout (passthrough)
 *   ffmpeg             testSourceArgs  lavfi test pattern + tone → SRT caller (`npm run test-source`)
 *
 * The SRT passphrase appears in the ingest's argv (the supervisor is given it in `secrets` and
 * shows the command redacted); stream keys never reach a process: the Node RTMP publishers send them.
 */
import type { EncodeSpec } from '../../port/ports.ts';

/**
 * The fd on which srt-live-transmit writes its JSON statistics (`-statsout:/dev/fd/3`): its stdout
 * carries the media. The supervisor makes it a FIFO (`reportFd`).
 */
export const INGEST_STATS_FD = 3;

/**
 * Every FFmpeg of the engine reads the contribution as MPEG-TS on its stdin, written by the flow
 * hub (`ts-hub.ts`). `-nostdin` only turns off FFmpeg's keyboard commands, not this.
 */
const TS_FROM_HUB = ['-f', 'mpegts', '-i', 'pipe:0'];

/** FFmpeg arguments common to every engine FFmpeg: quiet banner, machine-readable progress on fd 3. */
const PROGRESS = ['-progress', 'pipe:3', '-stats_period', '0.25'];

/** FLV on stdout (`pipe:1`), read by an `RtmpFanout`; progress on fd 3. */
const FLV_TO_STDOUT = ['-f', 'flv', '-flvflags', 'no_duration_filesize', ...PROGRESS, 'pipe:1'];
const COMMON_IN = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];

/**
 * Input probing of the MPEG-TS feed. FFmpeg needs a keyframe (SPS/PPS) before it knows the frame
 * size, and on MPEG-TS it always reads the whole `-analyzeduration` (in stream time), since new
 * streams may appear at any moment. The flow hub replays the current GOP to a consumer that joins
 * (see gop-cache.ts), so a keyframe comes first and a GOP of a second or more covers the 1 s probe
 * at once; without a cached GOP, FFmpeg probes the live feed until it has seen a keyframe.
 */
const PROBE = ['-probesize', '5000000', '-analyzeduration', '1000000'];

export interface IngestArgsOptions {
  port: number;
  /** Address the listener binds; 127.0.0.1 keeps it on loopback, 0.0.0.0 opens it to the LAN. */
  bindAddress: string;
  passphrase: string;
  keyLength: 16 | 24 | 32;
  /** Stats every N received packets (srt-live-transmit counts packets, not time). */
  statsEveryPackets?: number;
  /** SRT latency, ms. */
  latencyMs?: number;
}

/**
 * srt-live-transmit as the contribution listener. Auto-reconnect (`-a:yes`, its default, spelt
 * out) makes it listen again after the caller leaves, so an encoder that drops and comes back is
 * picked up without a restart. The media goes to stdout (`file://con`), read by the flow hub; the
 * JSON stats to fd 3 (`-statsout`: without it they would go to stdout too, into the media);
 * `-ll:note` logs the caller's address ("PASSING request from") and the reasons a caller is
 * rejected on stderr.
 */
export function ingestArgs(o: IngestArgsOptions): string[] {
  // The passphrase goes in verbatim: srt-live-transmit does not percent-decode its URI, which is
  // why the engine only accepts passphrases without URI delimiters (see SRT_PASSPHRASE_PATTERN).
  const query = `mode=listener&passphrase=${o.passphrase}&pbkeylen=${o.keyLength}&latency=${o.latencyMs ?? 120}`;
  return [
    '-a:yes',
    `-s:${o.statsEveryPackets ?? 200}`,
    '-pf:json',
    `-statsout:/dev/fd/${INGEST_STATS_FD}`,
    '-ll:note',
    `srt://${o.bindAddress === '0.0.0.0' ? '' : o.bindAddress}:${o.port}?${query}`,
    'file://con',
  ];
}

/**
 * What an SRT passphrase may be here: SRT's 10 to 79 characters, printable ASCII without the
 * characters that delimit a URI query (`&`, `#`, `?`, `%`) or need quoting (space, quotes).
 */
export const SRT_PASSPHRASE_PATTERN = /^[A-Za-z0-9!$()*+,\-./:;=@\[\]^_{|}~]{10,79}$/;

/** Reads the MPEG-TS the hub writes to stdin and copies its first video and audio stream (no re-encode). */
const COPY_FROM_HUB = [...COMMON_IN, ...PROBE, ...TS_FROM_HUB, '-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy'];

/** The primary HLS output's segment length (s) and playlist length (segments). */
export const HLS_SEGMENT_SECONDS = 2;
export const HLS_LIST_SIZE = 6;
/**
 * Segments kept on disk after they leave the playlist. RFC 8216 §6.2.2: a removed segment MUST stay
 * available for its own duration plus the playlist's (a player that loaded the playlist just
 * before may still ask for it; Safari stalls on the 404). FFmpeg's default keeps one.
 */
export const HLS_DELETE_THRESHOLD = 1 + HLS_LIST_SIZE;

/** The primary HLS output: a copy of the contribution, segmented. */
export function hlsArgs(o: { dir: string }): string[] {
  return [
    ...COPY_FROM_HUB,
    '-f', 'hls',
    '-hls_time', String(HLS_SEGMENT_SECONDS),
    '-hls_list_size', String(HLS_LIST_SIZE),
    '-hls_delete_threshold', String(HLS_DELETE_THRESHOLD),
    // discont_start: a restarted FFmpeg starts its timestamps again, so its first segment says so.
    '-hls_flags', 'delete_segments+independent_segments+omit_endlist+discont_start',
    // Sequence numbers (and segment names) from the clock: a restart never reuses a name a player
    // may still hold, and the media sequence keeps increasing as HLS requires.
    '-hls_start_number_source', 'epoch',
    '-hls_segment_filename', `${o.dir}/seg_%05d.ts`,
    ...PROGRESS,
    `${o.dir}/index.m3u8`,
  ];
}

export interface EncoderArgsOptions {
  encode: EncodeSpec;
  /** x264 preset; `veryfast` in production, `ultrafast` for tests and benchmarks. */
  x264Preset: string;
}

/**
 * One rendition, encoded once for every channel of the same preset: x264 CBR-ish (maxrate =
 * bitrate, bufsize = 2 × bitrate), a fixed GOP of frameRate × keyframeInterval with scene-cut off
 * (platforms want keyframes on a steady cadence), scaled with letterboxing to the exact size.
 * Output is FLV on stdout, read by the encoder's `RtmpFanout`.
 */
export function encoderArgs(o: EncoderArgsOptions): string[] {
  const { video: v, audio: a } = o.encode;
  const gop = String(Math.max(1, Math.round(v.frameRate * v.keyframeInterval)));
  // The fps filter converts the rate, so FFmpeg's own drop/dup counters only count real timing trouble.
  const filters = `scale=${v.width}:${v.height}:force_original_aspect_ratio=decrease,pad=${v.width}:${v.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${v.frameRate}`;
  return [
    ...COMMON_IN,
    ...PROBE,
    ...TS_FROM_HUB,
    '-map', '0:v:0',
    '-map', '0:a:0?',
    '-vf', filters,
    '-r', String(v.frameRate),
    '-c:v', 'libx264',
    '-preset', o.x264Preset,
    '-b:v', String(v.bitrate),
    '-maxrate', String(v.bitrate),
    '-bufsize', String(2 * v.bitrate),
    '-g', gop,
    '-keyint_min', gop,
    '-sc_threshold', '0',
    '-profile:v', v.profile,
    ...(v.level && v.level !== 'auto' ? ['-level', v.level] : []),
    '-pix_fmt', 'yuv420p',
    '-c:a', 'aac',
    '-b:a', String(a.bitrate),
    '-ar', String(a.sampleRate),
    '-ac', String(a.channels),
    ...FLV_TO_STDOUT,
  ];
}

/**
 * The passthrough mux: one per flow, while a passthrough channel runs. It reads the flow hub on
 * stdin and writes FLV (stream copy) to stdout, into the `RtmpFanout` that publishes to every
 * passthrough destination.
 */
export function muxArgs(): string[] {
  return [
    ...COPY_FROM_HUB,
    // Whole 32 KiB blocks rather than a write per packet: about 25 reads a second instead of 80 in
    // Node, and as many fewer socket writes per destination, for ~45 ms more latency at 6 Mbit/s
    // (more at lower contribution bitrates; nothing next to a platform's own seconds). Encoders
    // keep a write per packet: their output is slower, their CPU is x264's.
    '-flush_packets', '0',
    ...FLV_TO_STDOUT,
  ];
}

export interface TestSourceOptions {
  host: string;
  port: number;
  passphrase: string;
  keyLength: 16 | 24 | 32;
  width: number;
  height: number;
  fps: number;
  /** Video bits per second. */
  bitrate: number;
  /** Stop after this many seconds; omitted = until killed. */
  durationSeconds?: number;
}

/**
 * FFmpeg argv that sends a test pattern with a 1 kHz tone to the SRT listener, as a contribution
 * encoder would: H.264 with a 2 s GOP, AAC, MPEG-TS over SRT with the passphrase.
 */
export function testSourceArgs(o: TestSourceOptions): string[] {
  const gop = String(Math.max(1, Math.round(o.fps * 2)));
  // Verbatim, like the listener's (see SRT_PASSPHRASE_PATTERN): not every FFmpeg percent-decodes it.
  const q = `passphrase=${o.passphrase}&pbkeylen=${o.keyLength}`;
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
    ...(o.durationSeconds !== undefined ? ['-t', String(o.durationSeconds)] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-g', gop, '-keyint_min', gop,
    '-b:v', String(o.bitrate), '-maxrate', String(o.bitrate), '-bufsize', String(2 * o.bitrate),
    '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k',
    '-f', 'mpegts',
    `srt://${o.host}:${o.port}?${q}`,
  ];
}
