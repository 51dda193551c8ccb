/**
 * Platforms: where destinations push to. Five are built in (their ingest URLs and limits below);
 * admins can override a built-in platform's URLs and limits and add their own platforms.
 * Limits are what the platform accepts; presets and destinations are checked against them.
 *
 * Ingest URLs are each platform's published primary ingest points. LinkedIn and custom have no
 * fixed URL: LinkedIn gives one per live event, so the operator pastes it.
 */
import { z } from '../../../../shared/http/zod.ts';

export const PLATFORM_ID = /^[a-z][a-z0-9-]{1,31}$/;

/**
 * The request shape of an ingest URL: a string that starts with rtmp:// or rtmps://. What else it
 * must be (no credentials, query or control characters, a port in range, an application path, an
 * ASCII host) is checked by the service (domain/ingest-url.ts), which answers 422 with the reason.
 */
export const IngestUrlSchema = z
  .string()
  .max(2048)
  .regex(/^rtmps?:\/\//i, 'must be an rtmp:// or rtmps:// URL')
  .openapi({ description: 'rtmp://host[:port]/app or rtmps://host[:port]/app, without credentials, query or fragment; an IDN host is stored in punycode' });

export const PlatformLimitsSchema = z
  .object({
    maxVideoBitrate: z.number().int().min(100_000).openapi({ description: 'bits per second' }),
    maxFrameRate: z.number().min(1).max(120),
    maxWidth: z.number().int().min(16).max(7680),
    maxHeight: z.number().int().min(16).max(4320),
    /** The longest keyframe interval the platform accepts, in seconds. */
    maxKeyframeInterval: z.number().min(0.5).max(20),
  })
  .strict()
  .openapi('PlatformLimits');
export type PlatformLimits = z.output<typeof PlatformLimitsSchema>;

export const PlatformSchema = z
  .object({
    platformId: z.string().regex(PLATFORM_ID),
    name: z.string().min(1).max(100),
    rtmpUrl: IngestUrlSchema.nullable().openapi({ description: 'Default RTMP ingest URL (without stream key), if the platform has one' }),
    rtmpsUrl: IngestUrlSchema.nullable().openapi({ description: 'Default RTMPS ingest URL, if the platform offers RTMPS' }),
    limits: PlatformLimitsSchema,
    builtIn: z.boolean(),
    version: z.number().int(),
    createdAt: z.string(),
    lastModified: z.string(),
  })
  .openapi('Platform');
export type Platform = z.output<typeof PlatformSchema>;

const now = '2026-01-01T00:00:00.000Z';
const builtIn = (p: Omit<Platform, 'builtIn' | 'version' | 'createdAt' | 'lastModified'>): Platform => ({
  ...p,
  builtIn: true,
  version: 1,
  createdAt: now,
  lastModified: now,
});

export const BUILT_IN_PLATFORMS: readonly Platform[] = [
  builtIn({
    platformId: 'youtube',
    name: 'YouTube',
    rtmpUrl: 'rtmp://a.rtmp.youtube.com/live2',
    rtmpsUrl: 'rtmps://a.rtmps.youtube.com:443/live2',
    limits: { maxVideoBitrate: 51_000_000, maxFrameRate: 60, maxWidth: 3840, maxHeight: 2160, maxKeyframeInterval: 4 },
  }),
  builtIn({
    platformId: 'twitch',
    name: 'Twitch',
    rtmpUrl: 'rtmp://live.twitch.tv/app',
    rtmpsUrl: 'rtmps://live.twitch.tv:443/app',
    limits: { maxVideoBitrate: 6_000_000, maxFrameRate: 60, maxWidth: 1920, maxHeight: 1080, maxKeyframeInterval: 2 },
  }),
  builtIn({
    platformId: 'linkedin',
    name: 'LinkedIn',
    rtmpUrl: null,
    rtmpsUrl: null,
    limits: { maxVideoBitrate: 6_000_000, maxFrameRate: 30, maxWidth: 1920, maxHeight: 1080, maxKeyframeInterval: 4 },
  }),
  builtIn({
    platformId: 'facebook',
    name: 'Facebook',
    rtmpUrl: null,
    rtmpsUrl: 'rtmps://live-api-s.facebook.com:443/rtmp/',
    limits: { maxVideoBitrate: 9_000_000, maxFrameRate: 60, maxWidth: 1920, maxHeight: 1080, maxKeyframeInterval: 2 },
  }),
  builtIn({
    platformId: 'custom',
    name: 'Custom RTMP',
    rtmpUrl: null,
    rtmpsUrl: null,
    limits: { maxVideoBitrate: 50_000_000, maxFrameRate: 120, maxWidth: 7680, maxHeight: 4320, maxKeyframeInterval: 20 },
  }),
];

/** The ingest URL a new destination gets when the operator sends none: RTMPS where offered. */
export function defaultIngestUrl(p: Platform): string | null {
  return p.rtmpsUrl ?? p.rtmpUrl;
}
