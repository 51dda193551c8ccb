/**
 * Command lines of the FFmpegs the local engine runs, as pure functions (argv arrays, no shell),
 * so they can be read, tested and benchmarked on their own (the SRT ingest's and the test
 * source's are in ingest/argv.ts):
 *
 *   ffmpeg             hlsArgs         flow hub → stdin → primary HLS (-c copy)
 *   ffmpeg             encoderArgs     flow hub → stdin → one rendition (x264/AAC) → FLV on stdout → RtmpFanout
 *   ffmpeg             muxArgs         flow hub → stdin → -c copy → FLV on stdout → RtmpFanout (passthrough)
 *   ffmpeg             slateArgs       lavfi colour + card text (or an image) + silence → MPEG-TS on stdout → slate hub
 *
 * No secret reaches any of them: the SRT passphrase stops at the ingest (its stdin), and stream
 * keys never reach a process: the Node RTMP publishers send them.
 */
import type { EncodeSpec } from '../../port/ports.ts';

/**
 * Every FFmpeg of the engine reads the contribution as MPEG-TS on its stdin, written by the flow
 * hub (`ts-hub.ts`). `-nostdin` only turns off FFmpeg's keyboard commands, not this.
 */
const TS_FROM_HUB = ['-f', 'mpegts', '-i', 'pipe:0'];

/** FFmpeg arguments common to every engine FFmpeg: quiet banner, machine-readable progress on fd 3. */
const PROGRESS = ['-progress', 'pipe:3', '-stats_period', '0.25'];

/**
 * FLV on stdout (`pipe:1`), read by an `RtmpFanout`; progress on fd 3. A write per packet
 * (`-flush_packets 1`): whole 32 KiB blocks (`-flush_packets 0`, the pipe's default) saved Node
 * about 55 reads a second but held each frame until its block filled: ~45 ms at 6 Mbit/s, ~260 ms
 * at 1 Mbit/s, behind the simple relay (srt-live-transmit → ffmpeg -c copy) in the latency bench
 * (ADR 0005). The same for the encoders' output.
 */
const FLV_TO_STDOUT = ['-flush_packets', '1', '-f', 'flv', '-flvflags', 'no_duration_filesize', ...PROGRESS, 'pipe:1'];
const COMMON_IN = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];

/**
 * Input probing of the MPEG-TS feed. FFmpeg needs a keyframe (SPS/PPS) before it knows the frame
 * size, and on MPEG-TS it always reads the whole `-analyzeduration` (in stream time), since new
 * streams may appear at any moment. The flow hub replays the current GOP to a consumer that joins
 * (see gop-cache.ts), so a keyframe comes first and a GOP at least as old as the analysis covers
 * it at once; a younger GOP leaves FFmpeg waiting for live media for the rest, which is where a
 * cold start's spread came from (0 to the whole analysis, by where in the GOP it starts; ADR 0005,
 * "Start-to-live"). 0.5 s (it was 1 s) still finds both streams of an encoder's MPEG-TS, whose
 * audio and video are interleaved within a frame or two; an encoder whose audio came more than
 * 0.5 s after its video would be copied without audio parameters. `-probesize` only caps the
 * bytes (5 MB: 0.5 s up to 80 Mbit/s).
 */
const PROBE = ['-probesize', '5000000', '-analyzeduration', '500000'];

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

/**
 * The primary HLS output: a copy of the contribution, segmented. `append`: after an input switch
 * (inputs.ts) the new FFmpeg continues the playlist the previous one left (`append_list`: its
 * segments and media sequence, an EXT-X-DISCONTINUITY before the first new segment), so a player
 * follows the switch instead of meeting a new playlist; the sequence then comes from that playlist,
 * not the clock.
 */
export function hlsArgs(o: { dir: string; append?: boolean }): string[] {
  const flags = o.append ? 'delete_segments+independent_segments+omit_endlist+append_list' : 'delete_segments+independent_segments+omit_endlist+discont_start';
  return [
    ...COPY_FROM_HUB,
    '-f',
    'hls',
    '-hls_time',
    String(HLS_SEGMENT_SECONDS),
    '-hls_list_size',
    String(HLS_LIST_SIZE),
    '-hls_delete_threshold',
    String(HLS_DELETE_THRESHOLD),
    // discont_start: a restarted FFmpeg starts its timestamps again, so its first segment says so.
    '-hls_flags',
    flags,
    // Sequence numbers (and segment names) from the clock: a restart never reuses a name a player
    // may still hold, and the media sequence keeps increasing as HLS requires (an appending run
    // continues the playlist's own sequence instead).
    ...(o.append ? [] : ['-hls_start_number_source', 'epoch']),
    '-hls_segment_filename',
    `${o.dir}/seg_%05d.ts`,
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
 * One rendition, encoded once for every channel of the same preset: x264 tuned for zero latency,
 * CBR-ish (maxrate = bitrate, bufsize = 2 × bitrate), a fixed GOP of frameRate × keyframeInterval with scene-cut off
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
    // The decoder outputs each frame as soon as it is decoded: slice threads instead of frame
    // threads (one frame of delay per thread past the first, ~67–100 ms on two cores); frame
    // reordering of a contribution with B-frames still follows its SPS.
    '-flags',
    'low_delay',
    ...TS_FROM_HUB,
    '-map',
    '0:v:0',
    '-map',
    '0:a:0?',
    '-vf',
    filters,
    '-r',
    String(v.frameRate),
    '-c:v',
    'libx264',
    '-preset',
    o.x264Preset,
    // No B-frames, no rate-control look-ahead, sliced threads (no frame-thread delay): a frame
    // leaves the encoder as soon as it is encoded. Live platforms take streams without B-frames;
    // the price is some quality per bit (no mb-tree, no look-ahead), ADR 0005 "Latency".
    '-tune',
    'zerolatency',
    '-b:v',
    String(v.bitrate),
    '-maxrate',
    String(v.bitrate),
    '-bufsize',
    String(2 * v.bitrate),
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-profile:v',
    v.profile,
    ...(v.level && v.level !== 'auto' ? ['-level', v.level] : []),
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    String(a.bitrate),
    '-ar',
    String(a.sampleRate),
    '-ac',
    String(a.channels),
    ...FLV_TO_STDOUT,
  ];
}

/**
 * The passthrough mux: one per flow, while a passthrough channel runs. It reads the flow hub on
 * stdin and writes FLV (stream copy) to stdout, into the `RtmpFanout` that publishes to every
 * passthrough destination.
 */
export function muxArgs(): string[] {
  return [...COPY_FROM_HUB, ...FLV_TO_STDOUT];
}

export interface SlateArgsOptions {
  video: { width: number; height: number; frameRate: number };
  /** An image shown instead of the generated card (scaled and letterboxed to the size). */
  image?: string | null;
  /** A font for the card's text; null: a plain colour card (no drawtext). */
  fontFile?: string | null;
}

/** The slate's colour (a blue-violet no camera produces by accident: tests detect it in frames). */
export const SLATE_COLOUR = '0x3020A0';
/** The card's words; a typographic apostrophe, so the filter needs no quoting. */
export const SLATE_TEXT = 'We\u2019ll be right back';

/**
 * The slate (inputs.ts): a card in real time, H.264 + AAC silence as MPEG-TS on stdout, the shape of
 * a contribution, so it feeds a hub of its own and reaches every output through the same repoint
 * as an input. Same size and frame rate as the main's where known, a 1 s GOP (a joiner waits at
 * most a second), low bitrate (a still picture).
 */
export function slateArgs(o: SlateArgsOptions): string[] {
  const { width: w, height: h, frameRate: r } = o.video;
  const fit = `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=${SLATE_COLOUR},setsar=1,fps=${r}`;
  const video = o.image ? ['-re', '-loop', '1', '-framerate', String(r), '-i', o.image] : ['-re', '-f', 'lavfi', '-i', `color=c=${SLATE_COLOUR}:s=${w}x${h}:r=${r}`];
  const text = !o.image && o.fontFile ? `,drawtext=fontfile=${o.fontFile}:text=${SLATE_TEXT}:fontcolor=white:fontsize=${Math.max(12, Math.round(h / 12))}:x=(w-text_w)/2:y=(h-text_h)/2` : '';
  const gop = String(Math.max(1, Math.round(r)));
  return [
    ...COMMON_IN,
    ...video,
    '-re',
    '-f',
    'lavfi',
    '-i',
    'anullsrc=r=48000:cl=stereo',
    '-map',
    '0:v:0',
    '-map',
    '1:a:0',
    '-vf',
    `${fit}${text}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-b:v',
    '500k',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-f',
    'mpegts',
    ...PROGRESS,
    'pipe:1',
  ];
}
