/**
 * Admin management of platforms and presets, with the plan's validation: a platform's presets must
 * fit its limits; a preset or platform in use cannot be deleted; built-ins can be edited, not deleted.
 */
import { AppError } from '../../../../shared/errors/index.ts';
import { checkEncoding } from '../domain/encoding.ts';
import { parseIngestUrl } from '../domain/ingest-url.ts';
import { PLATFORM_ID, type Platform, type PlatformLimits } from '../domain/platforms.ts';
import { PRESET_ID, assertWithinLimits, type AudioSettings, type Preset, type VideoSettings } from '../domain/presets.ts';
import type { CatalogRepository } from '../store/catalog-repository.ts';
import type { DestinationRepository } from '../store/destination-repository.ts';

export interface PresetInput {
  presetId?: string | undefined;
  name: string;
  platform: string;
  description: string;
  isDefault: boolean;
  passthrough: boolean;
  video?: VideoSettings | undefined;
  audio?: AudioSettings | undefined;
  version?: number | undefined;
}

export interface PlatformInput {
  platformId?: string | undefined;
  name: string;
  rtmpUrl: string | null;
  rtmpsUrl: string | null;
  limits: PlatformLimits;
  version?: number | undefined;
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48) || 'item';

/** An id derived from a name must still be a valid id (else the resource could never be addressed). */
function derivedId(id: string, pattern: RegExp, field: 'presetId' | 'platformId'): string {
  if (!pattern.test(id))
    throw new AppError('VALIDATION_FAILED', `${field}: the id derived from the name ("${id}") is not a valid id; send ${field}.`, {
      errors: [{ path: field, message: `"${id}" (derived from the name) is not a valid id; send ${field}` }],
    });
  return id;
}

export class CatalogService {
  constructor(
    private readonly presets: CatalogRepository<Preset>,
    private readonly platforms: CatalogRepository<Platform>,
    private readonly destinations: DestinationRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * A preset both engines can encode (domain/encoding.ts), with its H.264 level settled (`auto`
   * becomes the lowest level that fits, stored as such), within its platform's limits.
   */
  private async checkPreset(input: PresetInput): Promise<PresetInput> {
    if (!input.passthrough && input.video && input.audio) {
      const { problems, level } = checkEncoding({ video: input.video, audio: input.audio });
      if (problems.length > 0)
        throw new AppError('PRESET_NOT_ENCODABLE', `The preset cannot be encoded: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}.`, {
          errors: problems,
          violations: problems.map((p) => p.message),
        });
      input = { ...input, video: { ...input.video, level: level as VideoSettings['level'] } };
    }
    if (input.platform === 'generic') return input;
    const platform = await this.platforms.get(input.platform);
    if (!platform) throw new AppError('UNKNOWN_PLATFORM', `There is no platform "${input.platform}".`, { platform: input.platform });
    assertWithinLimits({ video: input.video ?? null }, platform);
    return input;
  }

  private toPreset(input: PresetInput, id: string, version: number, createdAt: string, builtIn: boolean): Preset {
    return {
      presetId: id,
      name: input.name,
      platform: input.platform,
      type: input.passthrough ? 'passthrough' : input.platform === 'generic' ? 'generic' : 'platform',
      description: input.description,
      isDefault: input.isDefault,
      video: input.passthrough ? null : (input.video ?? null),
      audio: input.passthrough ? null : (input.audio ?? null),
      builtIn,
      version,
      createdAt,
      lastModified: this.now().toISOString(),
    };
  }

  async createPreset(given: PresetInput): Promise<Preset> {
    const input = await this.checkPreset(given);
    const id = input.presetId ?? derivedId(`${input.platform === 'generic' ? 'custom' : input.platform}-${slug(input.name)}`, PRESET_ID, 'presetId');
    const preset = this.toPreset(input, id, 1, this.now().toISOString(), false);
    await this.presets.create(preset);
    await this.keepOneDefault(preset);
    return preset;
  }

  /** One default preset per platform: making a preset the default takes it away from the others. */
  private async keepOneDefault(preset: Preset): Promise<void> {
    if (!preset.isDefault) return;
    for (const other of await this.presets.list()) {
      if (other.presetId === preset.presetId || other.platform !== preset.platform || !other.isDefault) continue;
      await this.presets.replace({ ...other, isDefault: false, version: other.version + 1, lastModified: this.now().toISOString() });
    }
  }

  async updatePreset(id: string, given: PresetInput): Promise<Preset> {
    const current = await this.presets.require(id);
    if (given.presetId && given.presetId !== id) throw new AppError('VALIDATION_FAILED', 'presetId cannot be changed.', { errors: [{ path: 'presetId', message: 'cannot be changed' }] });
    if (given.version !== undefined && given.version !== current.version) throw new AppError('VERSION_CONFLICT', `The preset is at version ${current.version}, not ${given.version}.`, { currentVersion: current.version });
    const input = await this.checkPreset(given);
    // A preset in use must stay usable by the destinations that use it: same platform, within its limits.
    const usedBy = await this.destinations.usedBy('preset', id);
    const users = (await Promise.all(usedBy.map((d) => this.destinations.get(d)))).filter((d) => d !== undefined);
    if (input.platform !== current.platform && input.platform !== 'generic') {
      const mismatched = users.filter((d) => d.platform !== input.platform);
      if (mismatched.length > 0) throw new AppError('PRESET_IN_USE', 'Destinations of other platforms use this preset.', { usedBy });
    }
    for (const platformId of new Set(users.map((d) => d.platform))) {
      const platform = await this.platforms.get(platformId);
      if (platform) assertWithinLimits({ video: input.passthrough ? null : (input.video ?? null) }, platform);
    }
    const next = this.toPreset(input, id, current.version + 1, current.createdAt, current.builtIn);
    await this.presets.replace(next);
    await this.keepOneDefault(next);
    return next;
  }

  async deletePreset(id: string): Promise<void> {
    const current = await this.presets.require(id);
    if (current.builtIn) throw new AppError('BUILT_IN_READ_ONLY', `"${id}" is built in and cannot be deleted.`);
    const usedBy = await this.destinations.usedBy('preset', id);
    if (usedBy.length > 0) throw new AppError('PRESET_IN_USE', `${usedBy.length} destination(s) use this preset.`, { usedBy });
    await this.presets.delete(id, current.version);
  }

  async createPlatform(given: PlatformInput): Promise<Platform> {
    const input = checkPlatformUrls(given);
    const at = this.now().toISOString();
    const platform: Platform = {
      platformId: input.platformId ?? derivedId(slug(input.name), PLATFORM_ID, 'platformId'),
      name: input.name,
      rtmpUrl: input.rtmpUrl,
      rtmpsUrl: input.rtmpsUrl,
      limits: input.limits,
      builtIn: false,
      version: 1,
      createdAt: at,
      lastModified: at,
    };
    if (platform.platformId === 'generic') throw new AppError('ALREADY_EXISTS', '"generic" is reserved for generic presets.');
    await this.platforms.create(platform);
    return platform;
  }

  async updatePlatform(id: string, given: PlatformInput): Promise<Platform> {
    const input = checkPlatformUrls(given);
    const current = await this.platforms.require(id);
    if (input.platformId && input.platformId !== id) throw new AppError('VALIDATION_FAILED', 'platformId cannot be changed.', { errors: [{ path: 'platformId', message: 'cannot be changed' }] });
    if (input.version !== undefined && input.version !== current.version) throw new AppError('VERSION_CONFLICT', `The platform is at version ${current.version}, not ${input.version}.`, { currentVersion: current.version });
    const next: Platform = { ...current, name: input.name, rtmpUrl: input.rtmpUrl, rtmpsUrl: input.rtmpsUrl, limits: input.limits, version: current.version + 1, lastModified: this.now().toISOString() };
    // The platform's own presets, and the presets its destinations use, must still fit its new limits.
    const inUse = new Set((await Promise.all((await this.destinations.usedBy('platform', id)).map((d) => this.destinations.get(d)))).map((d) => d?.preset));
    for (const p of (await this.presets.list()).filter((p) => p.platform === id || inUse.has(p.presetId))) assertWithinLimits(p, next);
    await this.platforms.replace(next);
    return next;
  }

  async deletePlatform(id: string): Promise<void> {
    const current = await this.platforms.require(id);
    if (current.builtIn) throw new AppError('BUILT_IN_READ_ONLY', `"${id}" is built in and cannot be deleted.`);
    const destinations = await this.destinations.usedBy('platform', id);
    const presets = (await this.presets.list()).filter((p) => p.platform === id).map((p) => p.presetId);
    if (destinations.length + presets.length > 0) throw new AppError('PLATFORM_IN_USE', `Used by ${destinations.length} destination(s) and ${presets.length} preset(s).`, { usedBy: { destinations, presets } });
    await this.platforms.delete(id, current.version);
  }
}

/**
 * A platform's ingest URLs follow the destinations' rules (domain/ingest-url.ts): credentials are
 * refused with a message, not dropped; `rtmpUrl` is rtmp:// and `rtmpsUrl` rtmps://; both are
 * stored normalised. (Where they point is checked when a destination uses them.)
 */
function checkPlatformUrls(input: PlatformInput): PlatformInput {
  const out = { ...input };
  for (const [field, scheme] of [
    ['rtmpUrl', 'rtmp'],
    ['rtmpsUrl', 'rtmps'],
  ] as const) {
    const raw = input[field];
    if (raw === null) continue;
    const parsed = parseIngestUrl(raw, { scheme });
    if (!parsed.ok)
      throw new AppError(parsed.reason === 'credentials' ? 'INGEST_URL_CREDENTIALS' : 'INGEST_URL_INVALID', `${field}: the URL ${parsed.message}.`, {
        reason: parsed.reason,
        errors: [{ path: field, message: parsed.message }],
      });
    out[field] = parsed.value.url;
  }
  return out;
}
