/** Encode rules, table-driven: H.264 levels (Table A-1), AAC ranges (MediaLive), frame rate. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aacBitrateRange, checkEncoding, chooseLevel, type VideoEncode } from './encoding.ts';
import { BUILT_IN_PRESETS } from './presets.ts';

const v = (resolution: string, frameRate: number, bitrate: number, profile: VideoEncode['profile'] = 'high', level = 'auto'): VideoEncode => ({ resolution, frameRate, bitrate, profile, level });
const stereo = { bitrate: 128_000, sampleRate: 48_000, channels: 2 };

describe('chooseLevel: the lowest level of Table A-1 that fits', () => {
  const cases: [VideoEncode, string | null][] = [
    [v('1280x720', 30, 3_000_000), '3.1'],
    [v('1280x720', 60, 4_500_000), '3.2'],
    [v('1920x1080', 30, 6_000_000), '4.0'],
    [v('1920x1080', 30, 6_000_000, 'main'), '4.0'],
    // 4.0 allows 20 Mbit/s Main, 25 Mbit/s High; 24 Mbit/s Main needs 4.1.
    [v('1920x1080', 30, 24_000_000, 'main'), '4.1'],
    [v('1920x1080', 30, 24_000_000, 'high'), '4.1'], // the 2 × 24 Mbit buffer exceeds 4.0's 31.25 Mbit
    [v('1920x1080', 60, 6_000_000), '4.2'],
    [v('2560x1440', 30, 9_000_000), '5.0'],
    [v('3840x2160', 30, 20_000_000), '5.1'],
    [v('3840x2160', 60, 40_000_000), '5.2'],
    [v('640x360', 30, 800_000), '3.0'],
    [v('320x240', 30, 300_000, 'baseline'), '1.3'],
    [v('320x240', 30, 1_000_000, 'baseline'), '2.0'],
    [v('7680x4320', 30, 50_000_000), null],
    [v('1920x1080', 30, 400_000_000), null],
  ];
  for (const [video, level] of cases) test(`${video.resolution}@${video.frameRate} ${video.bitrate} ${video.profile} → ${level ?? 'none'}`, () => assert.equal(chooseLevel(video)?.level ?? null, level));
});

describe('checkEncoding', () => {
  test('auto is resolved to the level chosen (what both engines are given)', () => {
    const r = checkEncoding({ video: v('1920x1080', 60, 6_000_000), audio: stereo });
    assert.deepEqual(r, { problems: [], level: '4.2' });
  });

  test('a given level that fits is kept', () => {
    assert.deepEqual(checkEncoding({ video: v('1920x1080', 30, 6_000_000, 'high', '4.1'), audio: stereo }), { problems: [], level: '4.1' });
  });

  const refused: [string, Parameters<typeof checkEncoding>[0], string, RegExp][] = [
    ['1080p60 at level 4.1 (macroblock rate)', { video: v('1920x1080', 60, 6_000_000, 'high', '4.1'), audio: stereo }, 'video.level', /489600 macroblocks per second; level 4\.1 allows 245760.*use level 4\.2/],
    ['1080p at level 3.1 (frame size)', { video: v('1920x1080', 30, 6_000_000, 'high', '3.1'), audio: stereo }, 'video.level', /8160 macroblocks per frame; level 3\.1 allows 3600/],
    ['720p at 3.1 with 20 Mbit/s Main (bitrate)', { video: v('1280x720', 30, 20_000_000, 'main', '3.1'), audio: stereo }, 'video.level', /exceeds level 3\.1's 14000000 bit\/s for the main profile/],
    ['a frame size no level has', { video: v('7680x4320', 30, 50_000_000), audio: stereo }, 'video.level', /no H\.264 level fits/],
    ['a very wide frame (side limit)', { video: v('4096x128', 30, 3_000_000, 'high', '3.1'), audio: stereo }, 'video.level', /256×8 macroblocks; level 3\.1 allows at most 169 on a side/],
    ['90 fps', { video: v('1280x720', 90, 3_000_000), audio: stereo }, 'video.frameRate', /90 fps is more than 60/],
    ['stereo 48 kHz at 32 kbit/s', { video: v('1280x720', 30, 3_000_000), audio: { ...stereo, bitrate: 32_000 } }, 'audio.bitrate', /64000 to 576000/],
    ['stereo 44.1 kHz at 64 kbit/s', { video: v('1280x720', 30, 3_000_000), audio: { bitrate: 64_000, sampleRate: 44_100, channels: 2 } }, 'audio.bitrate', /96000 to 512000/],
    ['mono 48 kHz at 320 kbit/s', { video: v('1280x720', 30, 3_000_000), audio: { bitrate: 320_000, sampleRate: 48_000, channels: 1 } }, 'audio.bitrate', /mono at 48000 Hz takes 56000 to 288000/],
  ];
  for (const [name, input, path, message] of refused)
    test(`refuses ${name}, naming ${path}`, () => {
      const { problems } = checkEncoding(input);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.path, path);
      assert.match(problems[0]!.message, message);
    });

  test("AAC ranges: MediaLive's LC table for 1 and 2 channels at 44.1 and 48 kHz", () => {
    assert.deepEqual(aacBitrateRange(2, 48_000), [64_000, 576_000]);
    assert.deepEqual(aacBitrateRange(1, 44_100), [56_000, 256_000]);
    assert.equal(aacBitrateRange(6, 48_000), null);
  });

  test('every built-in preset can be encoded as it is, at its own level', () => {
    for (const p of BUILT_IN_PRESETS) {
      if (!p.video || !p.audio) continue;
      assert.deepEqual(checkEncoding({ video: p.video, audio: p.audio }), { problems: [], level: p.video.level }, p.presetId);
    }
  });
});
