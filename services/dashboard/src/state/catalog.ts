/**
 * Platforms and presets as the dashboards need them. Operators read platforms from
 * GET /api/platforms; where that route is not there yet, an admin's token reads
 * GET /api/admin/platforms (the same shape), and an operator's falls back to the platforms named
 * by the presets (without their ingest URLs: the API fills in a platform's default URL when the
 * form sends none).
 */
import { signal } from '@preact/signals';
import { ApiError } from '../api/client.ts';
import type { Platform, Preset } from '../api/types.ts';
import { api, role } from './session.ts';

export const platforms = signal<Platform[] | null>(null);

function fromPresets(presets: Preset[]): Platform[] {
  const ids = new Set(presets.map((p) => p.platform).filter((p) => p !== 'generic'));
  ids.add('custom');
  const at = new Date(0).toISOString();
  return [...ids].sort().map((id) => ({
    platformId: id,
    name: id === 'custom' ? 'Custom RTMP' : id.charAt(0).toUpperCase() + id.slice(1),
    rtmpUrl: null,
    rtmpsUrl: null,
    limits: { maxVideoBitrate: 0, maxFrameRate: 0, maxWidth: 0, maxHeight: 0, maxKeyframeInterval: 0 },
    builtIn: true,
    version: 0,
    createdAt: at,
    lastModified: at,
  }));
}

export async function loadPlatforms(force = false): Promise<Platform[]> {
  if (platforms.peek() && !force) return platforms.peek()!;
  let list: Platform[];
  try {
    list = (await api.get<{ platforms: Platform[] }>('/api/platforms')).platforms;
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 403)) throw err;
    if (role.peek() === 'admin') list = (await api.get<{ platforms: Platform[] }>('/api/admin/platforms')).platforms;
    else list = fromPresets((await api.get<{ presets: Preset[] }>('/api/presets')).presets);
  }
  platforms.value = list;
  return list;
}

/** Presets for a platform, its own first (the API's order). */
export async function presetsFor(platform: string): Promise<Preset[]> {
  return (await api.get<{ presets: Preset[] }>(`/api/presets?platform=${encodeURIComponent(platform)}`)).presets;
}

/** The ingest URL a new destination starts with: RTMPS where the platform offers it. */
export function defaultIngest(p: Platform | undefined): string {
  return p?.rtmpsUrl ?? p?.rtmpUrl ?? '';
}

/** A random idempotency key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function requestKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
