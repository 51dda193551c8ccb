/**
 * What an encode preset must satisfy so that both engines can run it, checked when the preset is
 * written (never first discovered when a channel starts):
 *
 *   - H.264 level: the level bounds the frame size, the macroblock rate and the bitrate (ITU-T H.264
 *     Table A-1: MaxFS, MaxMBPS, MaxBR and MaxCPB; the bitrate limits scaled by Table A-2's
 *     cpbBrVclFactor, 1000 for Baseline and Main, 1250 for High). A given level must fit the
 *     resolution, frame rate and bitrate (and the 2 × bitrate buffer both engines use); `auto` (or no
 *     level) is the lowest level that fits, chosen here and stored, so the level chosen is the level
 *     both engines are given (`-level` for x264, `H264_LEVEL_x_y` for MediaLive).
 *   - Frame rate at most 60 (what MediaLive and the platforms take).
 *   - AAC-LC bitrate within what MediaLive accepts for the channel count and sample rate (MediaLive
 *     User Guide, "Supported sampling rate and bitrate for AAC output"; both engines encode AAC-LC
 *     CBR, and FFmpeg's encoder takes the same ranges).
 *
 * Key frames come on a fixed cadence on every RTMP output (x264 `-sc_threshold 0`, MediaLive
 * `SceneChangeDetect: DISABLED`): platforms want a keyframe every `keyframeInterval` seconds.
 */

/** One row of H.264 Table A-1. Bitrates in units of 1000 bit/s (before the profile's factor), frame size in macroblocks. */
export interface H264Level {
  level: string;
  maxMbps: number;
  maxFs: number;
  maxBr: number;
  maxCpb: number;
}

export const H264_LEVELS: readonly H264Level[] = Object.freeze([
  { level: '1.0', maxMbps: 1_485, maxFs: 99, maxBr: 64, maxCpb: 175 },
  { level: '1.1', maxMbps: 3_000, maxFs: 396, maxBr: 192, maxCpb: 500 },
  { level: '1.2', maxMbps: 6_000, maxFs: 396, maxBr: 384, maxCpb: 1_000 },
  { level: '1.3', maxMbps: 11_880, maxFs: 396, maxBr: 768, maxCpb: 2_000 },
  { level: '2.0', maxMbps: 11_880, maxFs: 396, maxBr: 2_000, maxCpb: 2_000 },
  { level: '2.1', maxMbps: 19_800, maxFs: 792, maxBr: 4_000, maxCpb: 4_000 },
  { level: '2.2', maxMbps: 20_250, maxFs: 1_620, maxBr: 4_000, maxCpb: 4_000 },
  { level: '3.0', maxMbps: 40_500, maxFs: 1_620, maxBr: 10_000, maxCpb: 10_000 },
  { level: '3.1', maxMbps: 108_000, maxFs: 3_600, maxBr: 14_000, maxCpb: 14_000 },
  { level: '3.2', maxMbps: 216_000, maxFs: 5_120, maxBr: 20_000, maxCpb: 20_000 },
  { level: '4.0', maxMbps: 245_760, maxFs: 8_192, maxBr: 20_000, maxCpb: 25_000 },
  { level: '4.1', maxMbps: 245_760, maxFs: 8_192, maxBr: 50_000, maxCpb: 62_500 },
  { level: '4.2', maxMbps: 522_240, maxFs: 8_704, maxBr: 50_000, maxCpb: 62_500 },
  { level: '5.0', maxMbps: 589_824, maxFs: 22_080, maxBr: 135_000, maxCpb: 135_000 },
  { level: '5.1', maxMbps: 983_040, maxFs: 36_864, maxBr: 240_000, maxCpb: 240_000 },
  { level: '5.2', maxMbps: 2_073_600, maxFs: 36_864, maxBr: 240_000, maxCpb: 240_000 },
]);

export const H264_LEVEL_IDS = H264_LEVELS.map((l) => l.level) as [string, ...string[]];

/** Table A-2: cpbBrVclFactor, bits per MaxBR/MaxCPB unit. */
export function bitrateFactor(profile: 'baseline' | 'main' | 'high'): number {
  return profile === 'high' ? 1250 : 1000;
}

/** The frame rate no preset may exceed. */
export const MAX_FRAME_RATE = 60;

export interface VideoEncode {
  resolution: string;
  frameRate: number;
  bitrate: number;
  profile: 'baseline' | 'main' | 'high';
  level: string;
}

/** Width and height in 16×16 macroblocks. */
function macroblocks(resolution: string): { w: number; h: number } {
  const [w, h] = resolution.split('x').map(Number);
  return { w: Math.ceil((w ?? 0) / 16), h: Math.ceil((h ?? 0) / 16) };
}

/** Every way `video` exceeds `level` (empty when it fits). */
export function levelViolations(video: Omit<VideoEncode, 'level'>, level: H264Level): string[] {
  const { w, h } = macroblocks(video.resolution);
  const fs = w * h;
  const out: string[] = [];
  const side = Math.floor(Math.sqrt(8 * level.maxFs));
  if (fs > level.maxFs) out.push(`${video.resolution} is ${fs} macroblocks per frame; level ${level.level} allows ${level.maxFs}`);
  else if (w > side || h > side) out.push(`${video.resolution} is ${w}×${h} macroblocks; level ${level.level} allows at most ${side} on a side`);
  const mbps = fs * video.frameRate;
  if (mbps > level.maxMbps) out.push(`${video.resolution} at ${video.frameRate} fps is ${Math.round(mbps)} macroblocks per second; level ${level.level} allows ${level.maxMbps}`);
  const factor = bitrateFactor(video.profile);
  const maxBr = level.maxBr * factor;
  if (video.bitrate > maxBr) out.push(`${video.bitrate} bit/s exceeds level ${level.level}'s ${maxBr} bit/s for the ${video.profile} profile`);
  else if (2 * video.bitrate > level.maxCpb * factor) out.push(`the encoders' buffer of 2 × ${video.bitrate} bits exceeds level ${level.level}'s ${level.maxCpb * factor} bits for the ${video.profile} profile`);
  return out;
}

/** The lowest level `video` fits, or null when none does. */
export function chooseLevel(video: Omit<VideoEncode, 'level'>): H264Level | null {
  return H264_LEVELS.find((l) => levelViolations(video, l).length === 0) ?? null;
}

/** MediaLive's AAC-LC bitrate range (bit/s) for a channel count and sample rate; null when it has none. */
export function aacBitrateRange(channels: number, sampleRate: number): [min: number, max: number] | null {
  const table: Record<string, [number, number]> = {
    '1@44100': [56_000, 256_000],
    '1@48000': [56_000, 288_000],
    '2@44100': [96_000, 512_000],
    '2@48000': [64_000, 576_000],
  };
  return table[`${channels}@${sampleRate}`] ?? null;
}

/** One problem with a preset's encode, with the field it is about. */
export interface EncodingProblem {
  path: string;
  message: string;
}

export interface EncodeInput {
  video: VideoEncode;
  audio: { bitrate: number; sampleRate: number; channels: number };
}

/**
 * Checks an encode and settles its level: returns the problems (empty when it can be encoded) and
 * the level to store (`auto` resolved to the lowest that fits).
 */
export function checkEncoding(e: EncodeInput): { problems: EncodingProblem[]; level: string } {
  const problems: EncodingProblem[] = [];
  const v = e.video;
  if (v.frameRate > MAX_FRAME_RATE) problems.push({ path: 'video.frameRate', message: `${v.frameRate} fps is more than ${MAX_FRAME_RATE}, the most MediaLive and the platforms take` });
  let level = v.level;
  if (v.level === 'auto') {
    const chosen = chooseLevel(v);
    if (chosen) level = chosen.level;
    else {
      const top = H264_LEVELS[H264_LEVELS.length - 1]!;
      problems.push({ path: 'video.level', message: `no H.264 level fits: ${levelViolations(v, top).join('; ')}` });
    }
  } else {
    const row = H264_LEVELS.find((l) => l.level === v.level);
    if (!row) problems.push({ path: 'video.level', message: `unknown H.264 level ${v.level}` });
    else {
      const over = levelViolations(v, row);
      if (over.length > 0) {
        const fits = chooseLevel(v);
        const hint = fits ? `use level ${fits.level} or higher, or "auto"` : 'no level fits: lower the resolution, frame rate or bitrate';
        problems.push({ path: 'video.level', message: `${over.join('; ')} (${hint})` });
      }
    }
  }
  const range = aacBitrateRange(e.audio.channels, e.audio.sampleRate);
  if (!range) problems.push({ path: 'audio.channels', message: `AAC with ${e.audio.channels} channel(s) at ${e.audio.sampleRate} Hz cannot be encoded` });
  else if (e.audio.bitrate < range[0] || e.audio.bitrate > range[1])
    problems.push({
      path: 'audio.bitrate',
      message: `AAC-LC ${e.audio.channels === 1 ? 'mono' : 'stereo'} at ${e.audio.sampleRate} Hz takes ${range[0]} to ${range[1]} bit/s in MediaLive, not ${e.audio.bitrate}`,
    });
  return { problems, level };
}
