/**
 * Encoding presets: what a destination's channel encodes to. The built-in collection is the
 * original plan's (generic 720p/1080p; YouTube 1080p and 720p mobile; Twitch 1080p60 and 720p;
 * LinkedIn 720p) plus `passthrough`, which forwards the contribution feed without re-encoding.
 * Admins add, edit and delete presets; validation follows the plan (video bitrate >= 100 kbps,
 * frame rate >= 1, audio >= 32 kbps, resolution required) and, for a platform's presets, that
 * platform's limits. Units: bits per second, frames per second, seconds, Hz.
 */
import { z } from '../../../../shared/http/zod.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { H264_LEVEL_IDS } from './encoding.ts';
import type { Platform, PlatformLimits } from './platforms.ts';

export const PRESET_ID = /^[a-z0-9][a-z0-9-]{1,63}$/;

export const ResolutionSchema = z
  .string()
  .regex(/^\d{2,4}x\d{2,4}$/, 'must be WIDTHxHEIGHT, e.g. 1280x720')
  .refine((r) => r.split('x').every((n) => Number(n) % 2 === 0 && Number(n) >= 16), 'width and height must be even and at least 16');

export const VideoSettingsSchema = z
  .object({
    codec: z.literal('h264'),
    resolution: ResolutionSchema,
    frameRate: z.number().min(1, 'frame rate must be at least 1').max(120).openapi({ description: 'at most 60 (checked by the service: PRESET_NOT_ENCODABLE)' }),
    bitrate: z.number().int().min(100_000, 'video bitrate must be at least 100 kbps').max(100_000_000),
    rateControl: z.literal('cbr').default('cbr'),
    profile: z.enum(['baseline', 'main', 'high']).default('high'),
    level: z
      .enum([...H264_LEVEL_IDS, 'auto'])
      .default('auto')
      .openapi({ description: 'H.264 level; it must fit the resolution, frame rate and bitrate (H.264 Table A-1). `auto` (the default) stores the lowest level that fits.' }),
    keyframeInterval: z.number().min(0.5).max(20).default(2).openapi({ description: 'seconds between keyframes (GOP length)' }),
  })
  .strict()
  .openapi('VideoSettings');
export type VideoSettings = z.output<typeof VideoSettingsSchema>;

export const AudioSettingsSchema = z
  .object({
    codec: z.literal('aac'),
    bitrate: z.number().int().min(32_000, 'audio bitrate must be at least 32 kbps').max(512_000),
    sampleRate: z.union([z.literal(44100), z.literal(48000)]).default(48000),
    channels: z.union([z.literal(1), z.literal(2)]).default(2),
  })
  .strict()
  .openapi('AudioSettings');
export type AudioSettings = z.output<typeof AudioSettingsSchema>;

export const PresetSchema = z
  .object({
    presetId: z.string().regex(PRESET_ID),
    name: z.string().min(1).max(100),
    /** `generic` or a platform id. */
    platform: z.string(),
    type: z.enum(['generic', 'platform', 'passthrough']),
    description: z.string().max(500),
    isDefault: z.boolean().openapi({ description: "The platform's default preset for new destinations" }),
    video: VideoSettingsSchema.nullable(),
    audio: AudioSettingsSchema.nullable(),
    builtIn: z.boolean(),
    version: z.number().int(),
    createdAt: z.string(),
    lastModified: z.string(),
  })
  .openapi('Preset');
export type Preset = z.output<typeof PresetSchema>;

const at = '2026-01-01T00:00:00.000Z';
type Spec = Pick<Preset, 'presetId' | 'name' | 'platform' | 'description' | 'isDefault'> & {
  video: Omit<VideoSettings, 'codec' | 'rateControl'>;
  audio: Omit<AudioSettings, 'codec'>;
};
const encoded = (s: Spec): Preset => ({
  ...s,
  type: s.platform === 'generic' ? 'generic' : 'platform',
  video: { codec: 'h264', rateControl: 'cbr', ...s.video },
  audio: { codec: 'aac', ...s.audio },
  builtIn: true,
  version: 1,
  createdAt: at,
  lastModified: at,
});

export const BUILT_IN_PRESETS: readonly Preset[] = [
  {
    presetId: 'passthrough',
    name: 'Passthrough (no re-encode)',
    platform: 'generic',
    type: 'passthrough',
    description: 'Forwards the contribution feed as it arrives: no quality loss, almost no CPU. The feed must already suit the platform.',
    isDefault: false,
    video: null,
    audio: null,
    builtIn: true,
    version: 1,
    createdAt: at,
    lastModified: at,
  },
  encoded({
    presetId: 'generic-720p30',
    name: '720p Standard',
    platform: 'generic',
    isDefault: true,
    description: 'Standard 720p quality for most platforms',
    video: { resolution: '1280x720', frameRate: 30, bitrate: 3_000_000, profile: 'high', level: '3.1', keyframeInterval: 2 },
    audio: { bitrate: 128_000, sampleRate: 48000, channels: 2 },
  }),
  encoded({
    presetId: 'generic-1080p30',
    name: '1080p High Quality',
    platform: 'generic',
    isDefault: false,
    description: 'High quality 1080p for platforms supporting higher bitrates',
    video: { resolution: '1920x1080', frameRate: 30, bitrate: 6_000_000, profile: 'high', level: '4.1', keyframeInterval: 2 },
    audio: { bitrate: 128_000, sampleRate: 48000, channels: 2 },
  }),
  encoded({
    presetId: 'youtube-1080p30',
    name: 'YouTube 1080p Optimized',
    platform: 'youtube',
    isDefault: true,
    description: "Optimized for YouTube Live with YouTube's recommended settings",
    video: { resolution: '1920x1080', frameRate: 30, bitrate: 6_000_000, profile: 'high', level: '4.1', keyframeInterval: 2 },
    audio: { bitrate: 128_000, sampleRate: 48000, channels: 2 },
  }),
  encoded({
    presetId: 'youtube-720p30-mobile',
    name: 'YouTube 720p Mobile Friendly',
    platform: 'youtube',
    isDefault: false,
    description: 'Lower bitrate for mobile viewers and slower connections',
    video: { resolution: '1280x720', frameRate: 30, bitrate: 2_500_000, profile: 'main', level: '3.1', keyframeInterval: 2 },
    audio: { bitrate: 96_000, sampleRate: 48000, channels: 2 },
  }),
  encoded({
    presetId: 'twitch-1080p60',
    name: 'Twitch 1080p 60fps',
    platform: 'twitch',
    isDefault: true,
    description: 'Twitch Partner quality with 60fps for smooth gaming',
    video: { resolution: '1920x1080', frameRate: 60, bitrate: 6_000_000, profile: 'high', level: '4.2', keyframeInterval: 2 },
    audio: { bitrate: 160_000, sampleRate: 48000, channels: 2 },
  }),
  encoded({
    presetId: 'twitch-720p30',
    name: 'Twitch 720p Standard',
    platform: 'twitch',
    isDefault: false,
    description: 'Standard Twitch quality for non-partner streamers',
    video: { resolution: '1280x720', frameRate: 30, bitrate: 3_000_000, profile: 'high', level: '3.1', keyframeInterval: 2 },
    audio: { bitrate: 128_000, sampleRate: 48000, channels: 2 },
  }),
  encoded({
    presetId: 'linkedin-720p30',
    name: 'LinkedIn Professional',
    platform: 'linkedin',
    isDefault: true,
    description: 'Optimized for LinkedIn Live professional broadcasts',
    video: { resolution: '1280x720', frameRate: 30, bitrate: 2_000_000, profile: 'main', level: '3.1', keyframeInterval: 2 },
    audio: { bitrate: 128_000, sampleRate: 48000, channels: 2 },
  }),
];

export function parseResolution(resolution: string): { width: number; height: number } {
  const [w, h] = resolution.split('x').map(Number);
  return { width: w ?? 0, height: h ?? 0 };
}

/** Every way a preset's encode exceeds a platform's limits (empty when it fits; passthrough always fits). */
export function limitViolations(preset: Pick<Preset, 'video'>, limits: PlatformLimits): string[] {
  const v = preset.video;
  if (!v) return [];
  const out: string[] = [];
  const { width, height } = parseResolution(v.resolution);
  if (v.bitrate > limits.maxVideoBitrate) out.push(`video bitrate ${v.bitrate} exceeds the maximum ${limits.maxVideoBitrate}`);
  if (v.frameRate > limits.maxFrameRate) out.push(`frame rate ${v.frameRate} exceeds the maximum ${limits.maxFrameRate}`);
  if (width > limits.maxWidth || height > limits.maxHeight) out.push(`resolution ${v.resolution} exceeds the maximum ${limits.maxWidth}x${limits.maxHeight}`);
  if (v.keyframeInterval > limits.maxKeyframeInterval) out.push(`keyframe interval ${v.keyframeInterval}s exceeds the maximum ${limits.maxKeyframeInterval}s`);
  return out;
}

/** Throws PRESET_EXCEEDS_PLATFORM_LIMITS with the list of violations. */
export function assertWithinLimits(preset: Pick<Preset, 'video'>, platform: Platform): void {
  const violations = limitViolations(preset, platform.limits);
  if (violations.length > 0)
    throw new AppError('PRESET_EXCEEDS_PLATFORM_LIMITS', `The preset does not fit ${platform.name}: ${violations.join('; ')}.`, {
      platform: platform.platformId,
      violations,
    });
}

/**
 * The operators' view for one platform (the plan's ordering): that platform's presets first, then
 * generic ones (passthrough among them); within each group the default first, then by name.
 */
export function orderForPlatform(presets: readonly Preset[], platform: string): Preset[] {
  const group = (p: Preset): number => (p.platform === platform ? 0 : p.platform === 'generic' ? 1 : 2);
  return presets.filter((p) => group(p) < 2).sort((a, b) => group(a) - group(b) || Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
}
