/**
 * MediaLive's billing bands: the coarse classes its price list uses for an input or an output
 * encode. The band definitions are the official MediaLive API model's own
 * (`medialive.service-2.json`, in ../shared/aws-models/):
 *
 *   resolution   `InputResolution` / `ReservationResolution`: "SD is less than 720 lines, HD is 720
 *                to 1080 lines, UHD is greater than 1080 lines" (lines of vertical resolution)
 *   bitrate      `InputMaximumBitrate` / `ReservationMaximumBitrate`: MAX_10_MBPS, MAX_20_MBPS,
 *                MAX_50_MBPS ("bitrates up to 50 Mbps are supported")
 *   frame rate   `ReservationMaximumFramerate` (outputs only): MAX_30_FPS, MAX_60_FPS
 *   codec        `InputCodec`: MPEG2, AVC, HEVC ("in increasing order of complexity")
 *   class        `ChannelClass`: SINGLE_PIPELINE, STANDARD (two pipelines)
 *
 * Two rules from the MediaLive user guide: an input is billed at its declared `InputSpecification`,
 * not at what actually arrives ("If you specify HD but the inputs are all actually SD, you will
 * still be charged for HD", UG "Input specification"); and an output whose frame rate follows the
 * source is billed in the 30–60 fps band (UG "Pricing", 2022 copy; AWS-FACTS §5.1).
 */

export const RESOLUTION_TIERS = ['SD', 'HD', 'UHD'] as const;
export type ResolutionTier = (typeof RESOLUTION_TIERS)[number];
export const BITRATE_BANDS = ['MAX_10_MBPS', 'MAX_20_MBPS', 'MAX_50_MBPS'] as const;
export type BitrateBand = (typeof BITRATE_BANDS)[number];
export const FRAMERATE_BANDS = ['MAX_30_FPS', 'MAX_60_FPS'] as const;
export type FramerateBand = (typeof FRAMERATE_BANDS)[number];
export const CODECS = ['MPEG2', 'AVC', 'HEVC'] as const;
export type Codec = (typeof CODECS)[number];
export const CHANNEL_CLASSES = ['SINGLE_PIPELINE', 'STANDARD'] as const;
export type ChannelClass = (typeof CHANNEL_CLASSES)[number];

/** An input as MediaLive bills it: the channel's declared InputSpecification. */
export interface InputSpec {
  codec: Codec;
  resolution: ResolutionTier;
  maximumBitrate: BitrateBand;
}

/** What MediaLive's own default channels declare (and Fanout's: serverless.yml, the AWS engine). */
export const DEFAULT_INPUT_SPEC: InputSpec = Object.freeze({ codec: 'AVC', resolution: 'HD', maximumBitrate: 'MAX_10_MBPS' });

/**
 * One output encode as configured (a preset's video settings, or the primary's rendition).
 * `frameRate: null` means "follow the source"; `width`/`height: null` likewise (passthrough
 * presets on AWS are encoded at the source's size: see shared/engines/aws/channel-settings.ts).
 */
export interface EncodeProfile {
  codec: Codec;
  width: number | null;
  height: number | null;
  frameRate: number | null;
  /** Video bitrate, bits per second. */
  videoBitrate: number;
  /** Audio bitrate, bits per second (not a billing dimension; counts for data transfer). */
  audioBitrate: number;
}

/** An output encode in MediaLive's bands. */
export interface EncodeBand {
  codec: Codec;
  resolution: ResolutionTier;
  bitrate: BitrateBand;
  framerate: FramerateBand;
}

export class BandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BandError';
  }
}

/** The resolution tier for a number of vertical lines. */
export function resolutionTier(height: number): ResolutionTier {
  if (!Number.isFinite(height) || height <= 0) throw new BandError(`height must be a positive number of lines, got ${height}`);
  if (height < 720) return 'SD';
  if (height <= 1080) return 'HD';
  return 'UHD';
}

/** The bitrate band for a bitrate in bits per second (above 50 Mb/s MediaLive has no band). */
export function bitrateBand(bitsPerSecond: number): BitrateBand {
  if (!Number.isFinite(bitsPerSecond) || bitsPerSecond <= 0) throw new BandError(`bitrate must be positive, got ${bitsPerSecond}`);
  if (bitsPerSecond <= 10_000_000) return 'MAX_10_MBPS';
  if (bitsPerSecond <= 20_000_000) return 'MAX_20_MBPS';
  if (bitsPerSecond <= 50_000_000) return 'MAX_50_MBPS';
  throw new BandError(`${bitsPerSecond} b/s is above MediaLive's 50 Mb/s maximum`);
}

/** The frame-rate band; `null` (initialised from the source) is billed as 30–60 fps. */
export function framerateBand(fps: number | null): FramerateBand {
  if (fps === null) return 'MAX_60_FPS';
  if (!Number.isFinite(fps) || fps <= 0) throw new BandError(`frame rate must be positive, got ${fps}`);
  if (fps <= 30) return 'MAX_30_FPS';
  if (fps <= 60) return 'MAX_60_FPS';
  throw new BandError(`${fps} fps is above MediaLive's 60 fps band`);
}

/**
 * The bands an encode is billed in. An encode without its own height takes the input's declared
 * resolution tier (it follows the source, and the source is at most what the input declares).
 */
export function encodeBand(encode: EncodeProfile, input: InputSpec = DEFAULT_INPUT_SPEC): EncodeBand {
  return {
    codec: encode.codec,
    resolution: encode.height === null ? input.resolution : resolutionTier(encode.height),
    bitrate: bitrateBand(encode.videoBitrate),
    framerate: framerateBand(encode.frameRate),
  };
}

/** A short human label: `1920x1080 30 fps 6 Mb/s`. */
export function encodeLabel(e: EncodeProfile): string {
  const size = e.width !== null && e.height !== null ? `${e.width}x${e.height}` : 'source size';
  const fps = e.frameRate === null ? 'source fps' : `${e.frameRate} fps`;
  return `${size} ${fps} ${+(e.videoBitrate / 1e6).toFixed(3)} Mb/s`;
}

/** Bands as a label: `HD, ≤10 Mb/s, ≤30 fps`. */
export function bandLabel(b: EncodeBand): string {
  const mbps = { MAX_10_MBPS: '≤10 Mb/s', MAX_20_MBPS: '10–20 Mb/s', MAX_50_MBPS: '20–50 Mb/s' }[b.bitrate];
  const fps = { MAX_30_FPS: '≤30 fps', MAX_60_FPS: '30–60 fps' }[b.framerate];
  return `${b.codec} ${b.resolution}, ${mbps}, ${fps}`;
}

/**
 * A destination preset's encoding settings as the destination service publishes them (the
 * `video`/`audio` members of a preset; `video: null` is passthrough).
 */
export interface PresetEncoding {
  video: { codec: string; resolution: string; frameRate: number; bitrate: number } | null;
  audio: { bitrate: number } | null;
}

/**
 * What MediaLive encodes for a passthrough preset (it cannot pass through): the AWS engine's
 * `DEFAULT_PASSTHROUGH` (6 Mb/s video, 128 kb/s audio) at the source's size and frame rate.
 */
export const PASSTHROUGH_ENCODE: EncodeProfile = Object.freeze({
  codec: 'AVC',
  width: null,
  height: null,
  frameRate: null,
  videoBitrate: 6_000_000,
  audioBitrate: 128_000,
});

/** The encode a preset produces on MediaLive. */
export function encodeFromPreset(p: PresetEncoding): EncodeProfile {
  if (p.video === null) return PASSTHROUGH_ENCODE;
  const m = /^(\d+)x(\d+)$/.exec(p.video.resolution);
  if (!m) throw new BandError(`resolution must be WIDTHxHEIGHT, got ${JSON.stringify(p.video.resolution)}`);
  const codec: Codec = p.video.codec === 'h265' || p.video.codec === 'hevc' ? 'HEVC' : p.video.codec === 'mpeg2' ? 'MPEG2' : 'AVC';
  return {
    codec,
    width: Number(m[1]),
    height: Number(m[2]),
    frameRate: p.video.frameRate,
    videoBitrate: p.video.bitrate,
    audioBitrate: p.audio?.bitrate ?? 0,
  };
}
