/**
 * ChannelSpec → MediaLive channel settings: the mapping rules, and every built settings object
 * valid against the official model for CreateChannel and UpdateChannel.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CreateChannelCommandInput } from '@aws-sdk/client-medialive';
import { Secret } from '../../secrets/secret.ts';
import type { ChannelSpec, EncodeSpec } from '../port/ports.ts';
import { AUDIO_SELECTOR, channelSettings, DEFAULT_INPUT_LOSS, DEFAULT_PASSTHROUGH, encoderSettings, frameRateFraction, h264Level, inputLossProblems, InvalidTargetError, RTMP_DESTINATION_ID, rtmpUrl } from './channel-settings.ts';
import { encoderArgs } from '../local/engine/argv.ts';
import { formatProblem } from './model-validator.ts';
import { modelsOrSkip } from './request-capture.ts';

const KEY = 'live_0123456789_abcdefghij';

/** Representative encodes (the built-in presets' shapes: 1080p30/60, 720p30 main, baseline, mono, 29.97). */
const ENCODES: Record<string, EncodeSpec | null> = {
  'youtube-1080p30': { video: { width: 1920, height: 1080, frameRate: 30, bitrate: 6_000_000, profile: 'high', level: '4.1', keyframeInterval: 2 }, audio: { bitrate: 128_000, sampleRate: 48_000, channels: 2 } },
  'twitch-1080p60': { video: { width: 1920, height: 1080, frameRate: 60, bitrate: 6_000_000, profile: 'high', level: '4.2', keyframeInterval: 2 }, audio: { bitrate: 160_000, sampleRate: 48_000, channels: 2 } },
  'linkedin-720p30': { video: { width: 1280, height: 720, frameRate: 30, bitrate: 2_000_000, profile: 'main', level: '3.1', keyframeInterval: 2 }, audio: { bitrate: 128_000, sampleRate: 48_000, channels: 2 } },
  'baseline-ntsc-mono': { video: { width: 640, height: 360, frameRate: 29.97, bitrate: 800_000, profile: 'baseline', level: 'auto', keyframeInterval: 1 }, audio: { bitrate: 64_000, sampleRate: 44_100, channels: 1 } },
  passthrough: null,
};

function spec(encode: EncodeSpec | null, url = 'rtmp://a.rtmp.youtube.com/live2'): ChannelSpec {
  return { destinationId: '0f8fad5b-d9cb-469f-a165-70867728950e', name: 'YouTube main', outputArn: 'arn:aws:medialive:eu-west-1:111122223333:input:1234567', presetId: 'p', encode, target: { url, streamKey: new Secret(KEY) } };
}

const ctx = {
  name: 'fanout-dev-x',
  roleArn: 'arn:aws:iam::111122223333:role/MediaLiveAccessRole',
  inputId: '1234567',
  inputSpecification: { Codec: 'AVC', Resolution: 'HD', MaximumBitrate: 'MAX_10_MBPS' } as const,
  passthrough: DEFAULT_PASSTHROUGH,
};

describe('channel settings', () => {
  for (const [name, encode] of Object.entries(ENCODES)) {
    test(`${name}: valid for CreateChannel and UpdateChannel in the official model`, (t) => {
      const models = modelsOrSkip(t);
      if (!models) return;
      const settings = channelSettings(spec(encode), ctx);
      const create = { ...settings, ChannelClass: 'SINGLE_PIPELINE', RequestId: 'r-1', Tags: { 'fanout:deployment': 'dev' } } satisfies CreateChannelCommandInput;
      assert.deepEqual(models.medialive.validate('CreateChannel', create).map(formatProblem), []);
      assert.deepEqual(models.medialive.validate('UpdateChannel', { ...settings, ChannelId: '1234567' }).map(formatProblem), []);
    });
  }

  test('input loss: every channel repeats the last frame, then shows the input-loss image, and keeps its RTMP output alive; no automatic input failover', () => {
    for (const [name, e] of Object.entries(ENCODES)) {
      const enc = encoderSettings(e);
      assert.deepEqual(enc.GlobalConfiguration?.InputLossBehavior, { RepeatFrameMsec: 1000, BlackFrameMsec: 0, InputLossImageType: 'COLOR', InputLossImageColor: '1A1A1A' }, name);
      assert.equal(enc.OutputGroups![0]!.OutputGroupSettings!.RtmpGroupSettings!.InputLossAction, 'EMIT_OUTPUT', `${name}: the RTMP push goes on, so the platform keeps the session`);
    }
    const settings = channelSettings(spec(null), ctx);
    assert.equal(settings.InputAttachments.length, 1, 'one MEDIACONNECT input (ADR 0007): failover is the flow’s, upstream');
    assert.equal(settings.InputAttachments[0]!.AutomaticInputFailoverSettings, undefined);
  });

  test('input loss: a slate image or another colour, as configured; out-of-range settings are named', (t) => {
    const slate = channelSettings(spec(ENCODES['youtube-1080p30']!), { ...ctx, inputLoss: { repeatFrameMsec: 500, blackFrameMsec: 250, image: { type: 'slate', uri: 's3://fanout-assets/slate-1080p.png' } } });
    assert.deepEqual(slate.EncoderSettings.GlobalConfiguration?.InputLossBehavior, { RepeatFrameMsec: 500, BlackFrameMsec: 250, InputLossImageType: 'SLATE', InputLossImageSlate: { Uri: 's3://fanout-assets/slate-1080p.png' } });
    const black = encoderSettings(null, DEFAULT_PASSTHROUGH, { ...DEFAULT_INPUT_LOSS, image: { type: 'color', color: '000000' } });
    assert.equal(black.GlobalConfiguration?.InputLossBehavior?.InputLossImageColor, '000000');
    assert.deepEqual(inputLossProblems(DEFAULT_INPUT_LOSS), []);
    assert.equal(inputLossProblems({ repeatFrameMsec: -1, blackFrameMsec: 2_000_000, image: { type: 'color', color: 'black' } }).length, 3);
    assert.equal(inputLossProblems({ ...DEFAULT_INPUT_LOSS, image: { type: 'slate', uri: 'file:///slate.png' } }).length, 1);
    const models = modelsOrSkip(t);
    if (models) assert.deepEqual(models.medialive.validate('CreateChannel', { ...slate, ChannelClass: 'SINGLE_PIPELINE' }).map(formatProblem), []);
  });

  test('keyframes on a fixed cadence: scene-change detection off for every encode, passthrough included', () => {
    for (const [name, e] of Object.entries(ENCODES)) {
      const h = encoderSettings(e).VideoDescriptions![0]!.CodecSettings!.H264Settings!;
      assert.equal(h.SceneChangeDetect, 'DISABLED', name);
      assert.equal(h.GopSizeUnits, 'SECONDS', name);
    }
  });

  test('the two engines agree on an encode: level, keyframe cadence, bitrate and buffer', () => {
    for (const [name, e] of Object.entries(ENCODES)) {
      if (!e) continue;
      const h = encoderSettings(e).VideoDescriptions![0]!.CodecSettings!.H264Settings!;
      const argv = encoderArgs({ encode: e, x264Preset: 'veryfast' });
      const opt = (flag: string) => argv[argv.indexOf(flag) + 1];
      assert.equal(opt('-sc_threshold'), '0', `${name}: x264 scene-cut off too`);
      assert.equal(Number(opt('-g')), Math.round(e.video.frameRate * (h.GopSize ?? 0)), `${name}: the same GOP`);
      assert.equal(Number(opt('-b:v')), h.Bitrate, name);
      assert.equal(Number(opt('-bufsize')), h.BufSize, name);
      if (e.video.level === 'auto') {
        assert.equal(h.Level, 'H264_LEVEL_AUTO', name);
        assert.ok(!argv.includes('-level'), name);
      } else assert.equal(h.Level, `H264_LEVEL_${e.video.level.replace(/\.0$/, '').replace('.', '_')}`, `${name}: x264 -level ${opt('-level')}`);
      if (e.video.level !== 'auto') assert.equal(opt('-level'), e.video.level, name);
    }
  });

  test('RTMP target: URL without the key in Settings[0].Url, the key only in StreamName', () => {
    const s = channelSettings(spec(ENCODES['youtube-1080p30']!, 'rtmp://a.rtmp.youtube.com/live2/'), ctx);
    assert.deepEqual(s.Destinations, [{ Id: RTMP_DESTINATION_ID, Settings: [{ Url: 'rtmp://a.rtmp.youtube.com/live2', StreamName: KEY }] }]);
    const withoutDestinations = JSON.stringify({ ...s, Destinations: undefined });
    assert.ok(!withoutDestinations.includes(KEY), 'the key appears nowhere else');
    const out = s.EncoderSettings.OutputGroups![0]!.Outputs![0]!;
    assert.equal(out.OutputSettings?.RtmpOutputSettings?.Destination?.DestinationRefId, RTMP_DESTINATION_ID);
  });

  test('the audio description references the selector the input attachment defines', () => {
    const s = channelSettings(spec(ENCODES['youtube-1080p30']!), ctx);
    assert.deepEqual(s.InputAttachments[0]!.InputSettings!.AudioSelectors, [{ Name: AUDIO_SELECTOR }]);
    assert.equal(s.EncoderSettings.AudioDescriptions![0]!.AudioSelectorName, AUDIO_SELECTOR);
    assert.equal(s.InputAttachments[0]!.InputId, '1234567');
  });

  test('TimecodeConfig is always present', () => {
    for (const e of Object.values(ENCODES)) assert.deepEqual(encoderSettings(e).TimecodeConfig, { Source: 'SYSTEMCLOCK' });
  });

  test('encode: frame rate specified, CBR with a 2x buffer, GOP in seconds, profile and level mapped', () => {
    const h = encoderSettings(ENCODES['twitch-1080p60']!).VideoDescriptions![0]!.CodecSettings!.H264Settings!;
    assert.equal(h.FramerateControl, 'SPECIFIED');
    assert.equal(h.FramerateNumerator, 60);
    assert.equal(h.FramerateDenominator, 1);
    assert.equal(h.RateControlMode, 'CBR');
    assert.equal(h.Bitrate, 6_000_000);
    assert.equal(h.BufSize, 12_000_000);
    assert.equal(h.GopSize, 2);
    assert.equal(h.GopSizeUnits, 'SECONDS');
    assert.equal(h.Profile, 'HIGH');
    assert.equal(h.Level, 'H264_LEVEL_4_2');
  });

  test('baseline: no B-frames, CAVLC; mono audio', () => {
    const e = encoderSettings(ENCODES['baseline-ntsc-mono']!);
    const h = e.VideoDescriptions![0]!.CodecSettings!.H264Settings!;
    assert.equal(h.Profile, 'BASELINE');
    assert.equal(h.GopNumBFrames, 0);
    assert.equal(h.EntropyEncoding, 'CAVLC');
    assert.equal(h.FramerateNumerator, 30000);
    assert.equal(h.FramerateDenominator, 1001);
    assert.equal(e.AudioDescriptions![0]!.CodecSettings!.AacSettings!.CodingMode, 'CODING_MODE_1_0');
  });

  test('passthrough: resolution, frame rate and aspect from the source, CBR at the configured bitrate', () => {
    const e = encoderSettings(null, { videoBitrate: 8_000_000, audioBitrate: 160_000 });
    const v = e.VideoDescriptions![0]!;
    assert.equal(v.Width, undefined);
    assert.equal(v.Height, undefined);
    const h = v.CodecSettings!.H264Settings!;
    assert.equal(h.FramerateControl, 'INITIALIZE_FROM_SOURCE');
    assert.equal(h.ParControl, 'INITIALIZE_FROM_SOURCE');
    assert.equal(h.Bitrate, 8_000_000);
    assert.equal(h.Level, 'H264_LEVEL_AUTO');
    assert.equal(e.AudioDescriptions![0]!.CodecSettings!.AacSettings!.Bitrate, 160_000);
  });

  test('h264Level', () => {
    const table: [string, string][] = [
      ['3.0', 'H264_LEVEL_3'],
      ['3.1', 'H264_LEVEL_3_1'],
      ['4.0', 'H264_LEVEL_4'],
      ['4.1', 'H264_LEVEL_4_1'],
      ['5.2', 'H264_LEVEL_5_2'],
      ['auto', 'H264_LEVEL_AUTO'],
      ['6.0', 'H264_LEVEL_AUTO'],
      ['2.3', 'H264_LEVEL_AUTO'],
    ];
    for (const [given, want] of table) assert.equal(h264Level(given), want, given);
  });

  test('frameRateFraction', () => {
    const table: [number, number, number][] = [
      [30, 30, 1],
      [60, 60, 1],
      [29.97, 30000, 1001],
      [59.94, 60000, 1001],
      [23.976, 24000, 1001],
      [12.5, 25, 2],
    ];
    for (const [fps, n, d] of table) assert.deepEqual(frameRateFraction(fps), { numerator: n, denominator: d }, String(fps));
  });

  test('rtmpUrl accepts rtmp(s), refuses other schemes, credentials and queries without echoing them', () => {
    assert.equal(rtmpUrl('rtmps://live-api-s.facebook.com:443/rtmp/'), 'rtmps://live-api-s.facebook.com:443/rtmp');
    for (const bad of ['srt://host:9000', 'http://host/app', 'rtmp://user:hunter2secret@host/app', 'rtmp://host/app?key=hunter2secret', 'not a url']) {
      assert.throws(
        () => rtmpUrl(bad),
        (err: unknown) => err instanceof InvalidTargetError && !err.message.includes('hunter2secret'),
        bad,
      );
    }
  });

  test("type-level: satisfies CreateChannelCommandInput rejects the plan's shapes at compile time", () => {
    // These lines are checked by `npm run lint` (tsc): each @ts-expect-error must see an error.
    const plan = {
      // @ts-expect-error RtmpPushSettings is not a member of OutputDestination
      Destinations: [{ Id: 'x', RtmpPushSettings: [{ NumRetries: 10 }] }],
    } satisfies CreateChannelCommandInput;
    const noTimecode = {
      // @ts-expect-error TimecodeConfig is a required key of EncoderSettings
      EncoderSettings: { AudioDescriptions: [], OutputGroups: [], VideoDescriptions: [] },
    } satisfies CreateChannelCommandInput;
    assert.ok(plan && noTimecode);
  });
});
