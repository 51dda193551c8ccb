import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../../shared/errors/index.ts';
import { PresetInputSchema } from '../http/schemas.ts';
import { BUILT_IN_PLATFORMS, type Platform, type PlatformLimits } from './platforms.ts';
import { BUILT_IN_PRESETS, PresetSchema, assertWithinLimits, limitViolations, orderForPlatform, parseResolution, type Preset } from './presets.ts';

const BUILT_IN_IDS = ['passthrough', 'generic-720p30', 'generic-1080p30', 'youtube-1080p30', 'youtube-720p30-mobile', 'twitch-1080p60', 'twitch-720p30', 'linkedin-720p30'];

const platform = (id: string): Platform => {
  const p = BUILT_IN_PLATFORMS.find((x) => x.platformId === id);
  assert.ok(p, `built-in platform ${id}`);
  return p;
};

describe('built-in presets', () => {
  test('are exactly the planned collection, with unique ids', () => {
    const ids = BUILT_IN_PRESETS.map((p) => p.presetId);
    assert.deepEqual([...ids].sort(), [...BUILT_IN_IDS].sort());
    assert.equal(new Set(ids).size, ids.length);
  });

  for (const preset of BUILT_IN_PRESETS) {
    test(`${preset.presetId} is a valid built-in preset`, () => {
      assert.doesNotThrow(() => PresetSchema.parse(preset));
      assert.equal(preset.builtIn, true);
      assert.equal(preset.version, 1);
      if (preset.presetId === 'passthrough') {
        assert.equal(preset.type, 'passthrough');
        assert.equal(preset.platform, 'generic');
        assert.equal(preset.video, null);
        assert.equal(preset.audio, null);
        return;
      }
      assert.ok(preset.video && preset.audio, 'encoding presets have video and audio settings');
      assert.equal(preset.type, preset.platform === 'generic' ? 'generic' : 'platform');
      assert.ok(preset.presetId.startsWith(`${preset.platform}-`), 'id is prefixed with its platform');
      // The plan's validation rules hold for the built-ins too.
      assert.ok(preset.video.bitrate >= 100_000);
      assert.ok(preset.video.frameRate >= 1);
      assert.ok(preset.audio.bitrate >= 32_000);
    });

    test(`${preset.presetId} fits ${preset.platform === 'generic' ? 'every built-in platform' : `${preset.platform}'s limits`}`, () => {
      const targets = preset.platform === 'generic' ? BUILT_IN_PLATFORMS : [platform(preset.platform)];
      for (const p of targets) {
        assert.deepEqual(limitViolations(preset, p.limits), [], `${preset.presetId} on ${p.platformId}`);
        assert.doesNotThrow(() => assertWithinLimits(preset, p));
      }
    });
  }

  test('each platform group has exactly one default, and platforms with presets have one', () => {
    const groups = new Map<string, Preset[]>();
    for (const p of BUILT_IN_PRESETS) groups.set(p.platform, [...(groups.get(p.platform) ?? []), p]);
    for (const [group, presets] of groups) assert.equal(presets.filter((p) => p.isDefault).length, 1, `defaults of ${group}`);
    assert.deepEqual([...groups.keys()].sort(), ['generic', 'linkedin', 'twitch', 'youtube']);
  });

  test('the plan-specific settings are kept (twitch 60 fps, youtube mobile 2.5 Mbps, linkedin 2 Mbps)', () => {
    const by = (id: string) => BUILT_IN_PRESETS.find((p) => p.presetId === id)!;
    assert.equal(by('twitch-1080p60').video?.frameRate, 60);
    assert.equal(by('twitch-1080p60').video?.resolution, '1920x1080');
    assert.equal(by('youtube-720p30-mobile').video?.bitrate, 2_500_000);
    assert.equal(by('linkedin-720p30').video?.bitrate, 2_000_000);
    assert.equal(by('generic-720p30').isDefault, true);
  });
});

describe('limitViolations', () => {
  const limits: PlatformLimits = { maxVideoBitrate: 6_000_000, maxFrameRate: 30, maxWidth: 1920, maxHeight: 1080, maxKeyframeInterval: 2 };
  const video = (over: Partial<NonNullable<Preset['video']>> = {}): Pick<Preset, 'video'> => ({
    video: { codec: 'h264', resolution: '1920x1080', frameRate: 30, bitrate: 6_000_000, rateControl: 'cbr', profile: 'high', level: 'auto', keyframeInterval: 2, ...over },
  });

  test('a preset exactly at every limit fits', () => {
    assert.deepEqual(limitViolations(video(), limits), []);
  });

  test('passthrough (no video) always fits', () => {
    assert.deepEqual(limitViolations({ video: null }, { ...limits, maxVideoBitrate: 100_000, maxFrameRate: 1, maxWidth: 16, maxHeight: 16 }), []);
  });

  const cases: [string, Partial<NonNullable<Preset['video']>>, RegExp][] = [
    ['bitrate', { bitrate: 6_000_001 }, /video bitrate 6000001 exceeds the maximum 6000000/],
    ['frame rate', { frameRate: 60 }, /frame rate 60 exceeds the maximum 30/],
    ['width', { resolution: '2560x1080' }, /resolution 2560x1080 exceeds the maximum 1920x1080/],
    ['height', { resolution: '1920x1200' }, /resolution 1920x1200 exceeds the maximum 1920x1080/],
    ['keyframe interval', { keyframeInterval: 4 }, /keyframe interval 4s exceeds the maximum 2s/],
  ];
  for (const [what, over, message] of cases) {
    test(`reports a ${what} over the limit`, () => {
      const v = limitViolations(video(over), limits);
      assert.equal(v.length, 1, JSON.stringify(v));
      assert.match(v[0]!, message);
    });
  }

  test('reports every violation at once', () => {
    const v = limitViolations(video({ bitrate: 8_000_000, frameRate: 60, resolution: '3840x2160', keyframeInterval: 10 }), limits);
    assert.equal(v.length, 4, JSON.stringify(v));
  });

  test('the Twitch 1080p60 preset does not fit LinkedIn (30 fps max)', () => {
    const twitch = BUILT_IN_PRESETS.find((p) => p.presetId === 'twitch-1080p60')!;
    const v = limitViolations(twitch, platform('linkedin').limits);
    assert.deepEqual(v, ['frame rate 60 exceeds the maximum 30']);
  });

  test('assertWithinLimits throws PRESET_EXCEEDS_PLATFORM_LIMITS (422) with the violations', () => {
    assert.throws(
      () => assertWithinLimits(video({ bitrate: 9_000_000 }), platform('twitch')),
      (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'PRESET_EXCEEDS_PLATFORM_LIMITS');
        assert.equal(err.status, 422);
        assert.equal(err.extra.platform, 'twitch');
        assert.deepEqual(err.extra.violations, ['video bitrate 9000000 exceeds the maximum 6000000']);
        return true;
      },
    );
  });

  test('parseResolution', () => {
    assert.deepEqual(parseResolution('1280x720'), { width: 1280, height: 720 });
  });
});

describe('orderForPlatform', () => {
  const ids = (platformId: string) => orderForPlatform(BUILT_IN_PRESETS, platformId).map((p) => p.presetId);
  const GENERIC = ['generic-720p30', 'generic-1080p30', 'passthrough'];

  test('youtube: its own presets (default first), then generic (default first, then by name)', () => {
    assert.deepEqual(ids('youtube'), ['youtube-1080p30', 'youtube-720p30-mobile', ...GENERIC]);
  });

  test('twitch', () => {
    assert.deepEqual(ids('twitch'), ['twitch-1080p60', 'twitch-720p30', ...GENERIC]);
  });

  test('linkedin', () => {
    assert.deepEqual(ids('linkedin'), ['linkedin-720p30', ...GENERIC]);
  });

  test('a platform without presets of its own gets the generic ones, passthrough included', () => {
    assert.deepEqual(ids('facebook'), GENERIC);
    assert.deepEqual(ids('custom'), GENERIC);
  });

  test("other platforms' presets are never offered", () => {
    for (const p of BUILT_IN_PLATFORMS) {
      for (const preset of orderForPlatform(BUILT_IN_PRESETS, p.platformId)) assert.ok(preset.platform === p.platformId || preset.platform === 'generic', `${preset.presetId} offered for ${p.platformId}`);
    }
  });

  test('the default comes first within a group even when its name sorts later', () => {
    const mk = (presetId: string, name: string, platform: string, isDefault: boolean): Preset => ({ ...BUILT_IN_PRESETS[1]!, presetId, name, platform, isDefault });
    const input = [mk('a-generic', 'A generic', 'generic', false), mk('x-z', 'Zed', 'x', true), mk('x-a', 'Alpha', 'x', false), mk('y-a', 'Other', 'y', true)];
    const snapshot = input.map((p) => p.presetId);
    assert.deepEqual(
      orderForPlatform(input, 'x').map((p) => p.presetId),
      ['x-z', 'x-a', 'a-generic'],
    );
    assert.deepEqual(
      input.map((p) => p.presetId),
      snapshot,
      'the input is not reordered',
    );
  });
});

describe('PresetInputSchema (the plan’s validation rules)', () => {
  const valid = {
    name: 'My 720p',
    platform: 'youtube',
    video: { codec: 'h264', resolution: '1280x720', frameRate: 30, bitrate: 3_000_000 },
    audio: { codec: 'aac', bitrate: 128_000 },
  };
  const withVideo = (v: Record<string, unknown>) => ({ ...valid, video: { ...valid.video, ...v } });
  const withAudio = (a: Record<string, unknown>) => ({ ...valid, audio: { ...valid.audio, ...a } });

  const issues = (input: unknown): { path: string; message: string }[] => {
    const r = PresetInputSchema.safeParse(input);
    assert.equal(r.success, false, 'expected the input to be rejected');
    return r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };
  const rejectedAt = (input: unknown, path: string, message?: RegExp) => {
    const found = issues(input).filter((i) => i.path === path);
    assert.ok(found.length > 0, `no issue at ${path}: ${JSON.stringify(issues(input))}`);
    if (message)
      assert.ok(
        found.some((i) => message.test(i.message)),
        `${path}: ${JSON.stringify(found)}`,
      );
  };

  test('accepts a valid preset and fills defaults', () => {
    const out = PresetInputSchema.parse(valid);
    assert.equal(out.isDefault, false);
    assert.equal(out.passthrough, false);
    assert.equal(out.description, '');
    assert.equal(out.video?.rateControl, 'cbr');
    assert.equal(out.video?.keyframeInterval, 2);
    assert.equal(out.audio?.sampleRate, 48000);
    assert.equal(out.audio?.channels, 2);
  });

  test('video bitrate must be at least 100 kbps', () => {
    rejectedAt(withVideo({ bitrate: 99_999 }), 'video.bitrate', /at least 100 kbps/);
    assert.ok(PresetInputSchema.safeParse(withVideo({ bitrate: 100_000 })).success);
  });

  test('frame rate must be at least 1', () => {
    rejectedAt(withVideo({ frameRate: 0.5 }), 'video.frameRate', /at least 1/);
    rejectedAt(withVideo({ frameRate: 0 }), 'video.frameRate');
    assert.ok(PresetInputSchema.safeParse(withVideo({ frameRate: 1 })).success);
  });

  test('audio bitrate must be at least 32 kbps', () => {
    rejectedAt(withAudio({ bitrate: 31_999 }), 'audio.bitrate', /at least 32 kbps/);
    assert.ok(PresetInputSchema.safeParse(withAudio({ bitrate: 32_000 })).success);
  });

  test('resolution is required', () => {
    const { resolution: _r, ...video } = valid.video;
    rejectedAt({ ...valid, video }, 'video.resolution');
  });

  test('resolution must be WIDTHxHEIGHT with even numbers', () => {
    rejectedAt(withVideo({ resolution: '1280*720' }), 'video.resolution', /WIDTHxHEIGHT/);
    rejectedAt(withVideo({ resolution: '1280x' }), 'video.resolution');
    rejectedAt(withVideo({ resolution: '1281x720' }), 'video.resolution', /even/);
    rejectedAt(withVideo({ resolution: '1280x721' }), 'video.resolution', /even/);
    assert.ok(PresetInputSchema.safeParse(withVideo({ resolution: '1920x1080' })).success);
  });

  test('an encoding preset needs video and audio settings', () => {
    rejectedAt({ ...valid, video: undefined }, 'video', /required/);
    rejectedAt({ ...valid, audio: undefined }, 'audio', /required/);
  });

  test('a passthrough preset has no video or audio settings', () => {
    assert.ok(PresetInputSchema.safeParse({ name: 'Pass', platform: 'generic', passthrough: true }).success);
    rejectedAt({ ...valid, passthrough: true }, 'video', /passthrough/);
  });

  test('unknown fields are rejected, at the top level and inside video', () => {
    assert.equal(PresetInputSchema.safeParse({ ...valid, colour: 'red' }).success, false);
    assert.equal(PresetInputSchema.safeParse(withVideo({ bframes: 2 })).success, false);
  });

  test('codecs are h264 and aac only; ids and platforms are slugs', () => {
    rejectedAt(withVideo({ codec: 'hevc' }), 'video.codec');
    rejectedAt(withAudio({ codec: 'opus' }), 'audio.codec');
    rejectedAt({ ...valid, presetId: 'Bad Id' }, 'presetId');
    rejectedAt({ ...valid, platform: 'You Tube' }, 'platform');
  });
});
