import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bitrateBand, encodeBand, encodeFromPreset, framerateBand, PASSTHROUGH_ENCODE, resolutionTier } from './bands.ts';

describe("MediaLive's billing bands (official model definitions)", () => {
  const heights: [number, string][] = [
    [288, 'SD'],
    [576, 'SD'],
    [719, 'SD'],
    [720, 'HD'],
    [1080, 'HD'],
    [1081, 'UHD'],
    [2160, 'UHD'],
  ];
  for (const [h, tier] of heights) test(`${h} lines → ${tier}`, () => assert.equal(resolutionTier(h), tier));
  const bitrates: [number, string][] = [
    [2_000_000, 'MAX_10_MBPS'],
    [10_000_000, 'MAX_10_MBPS'],
    [10_000_001, 'MAX_20_MBPS'],
    [20_000_000, 'MAX_20_MBPS'],
    [20_000_001, 'MAX_50_MBPS'],
    [50_000_000, 'MAX_50_MBPS'],
  ];
  for (const [b, band] of bitrates) test(`${b} b/s → ${band}`, () => assert.equal(bitrateBand(b), band));
  const rates: [number | null, string][] = [
    [25, 'MAX_30_FPS'],
    [29.97, 'MAX_30_FPS'],
    [30, 'MAX_30_FPS'],
    [30.01, 'MAX_60_FPS'],
    [50, 'MAX_60_FPS'],
    [60, 'MAX_60_FPS'],
    [null, 'MAX_60_FPS'],
  ];
  for (const [f, band] of rates) test(`${f ?? 'from source'} fps → ${band}`, () => assert.equal(framerateBand(f), band));
  test('out of MediaLive range is refused', () => {
    assert.throws(() => bitrateBand(60_000_000), /above MediaLive's 50 Mb\/s/);
    assert.throws(() => framerateBand(120), /above MediaLive's 60 fps/);
    assert.throws(() => resolutionTier(0), /positive/);
  });
});

describe('presets as MediaLive bills them', () => {
  test('twitch-1080p60: HD, ≤10 Mb/s, 30–60 fps', () => {
    const e = encodeFromPreset({ video: { codec: 'h264', resolution: '1920x1080', frameRate: 60, bitrate: 6_000_000 }, audio: { bitrate: 160_000 } });
    assert.deepEqual(encodeBand(e), { codec: 'AVC', resolution: 'HD', bitrate: 'MAX_10_MBPS', framerate: 'MAX_60_FPS' });
    assert.equal(e.audioBitrate, 160_000);
  });
  test('passthrough: MediaLive encodes it at the source size and frame rate (the input tier, 30–60 fps)', () => {
    const e = encodeFromPreset({ video: null, audio: null });
    assert.equal(e, PASSTHROUGH_ENCODE);
    assert.deepEqual(encodeBand(e, { codec: 'AVC', resolution: 'HD', maximumBitrate: 'MAX_20_MBPS' }), { codec: 'AVC', resolution: 'HD', bitrate: 'MAX_10_MBPS', framerate: 'MAX_60_FPS' });
  });
});
