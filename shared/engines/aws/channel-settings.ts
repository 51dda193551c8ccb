/**
 * From a destination's ChannelSpec to the settings of its MediaLive channel: one SINGLE_PIPELINE
 * channel, one MEDIACONNECT input, one RTMP output group with one output. Pure (no I/O), so every
 * branch is unit-tested and every result is checked against the official model.
 *
 * Shapes follow AWS-FACTS §1 (checked against the model): the RTMP target is
 * `Destinations: [{ Id, Settings: [{ Url, StreamName }] }]` with the URL *without* the key and the
 * key in `StreamName` (there is no `RtmpPushSettings`); `EncoderSettings.TimecodeConfig` is
 * required; the audio description names an `AudioSelector` that the input attachment defines.
 *
 * Passthrough: MediaLive always encodes, so a passthrough preset (`encode: null`) becomes the
 * encode closest to "what the source is": resolution, frame rate and pixel aspect taken from the
 * source (Width/Height omitted, `INITIALIZE_FROM_SOURCE`), H.264 High / level auto, CBR at a
 * configured bitrate (the control plane cannot know the source's), 2 s GOP, AAC-LC stereo. A frame
 * rate initialised from the source is billed in the 30–60 fps band (AWS-FACTS §1.4).
 *
 * Input loss (issue 15, ADR 0024 "AWS"): MediaConnect fails over between the flow's two sources
 * upstream, so a channel sees at most a short gap; with neither source delivering, the channel
 * keeps every output alive by itself: `GlobalConfiguration.InputLossBehavior` repeats the last
 * frame for `repeatFrameMsec`, then shows black for `blackFrameMsec`, then the input-loss image
 * (a colour, or a slate image MediaLive reads from a URI) for as long as the loss lasts, with
 * silence; the RTMP group's `InputLossAction: EMIT_OUTPUT` keeps pushing that instead of pausing,
 * so the platform's RTMP session stays open and its timestamps keep moving. No
 * `AutomaticInputFailoverSettings`: it pairs two inputs attached to the channel, and a second
 * MEDIACONNECT input on the same flow would carry the same (already failed-over) stream at the
 * price of a second input and a second flow output each (ADR 0024 "AWS").
 */
import type { AudioDescription, CreateChannelCommandInput, EncoderSettings, InputSpecification, UpdateChannelCommandInput, VideoDescription } from '@aws-sdk/client-medialive';
import type { ChannelSpec, EncodeSpec } from '../port/ports.ts';

/** The input attachment's audio selector; every audio description references it by this name. */
export const AUDIO_SELECTOR = 'default';
/** `Destinations[].Id`, referenced by the RTMP output's `DestinationRefId`. */
export const RTMP_DESTINATION_ID = 'rtmp';

export interface PassthroughEncode {
  /** CBR video bitrate used for passthrough presets, bits/s (the source's is unknown here). */
  videoBitrate: number;
  audioBitrate: number;
}

export const DEFAULT_PASSTHROUGH: PassthroughEncode = Object.freeze({ videoBitrate: 6_000_000, audioBitrate: 128_000 });

/** What a channel shows while its input delivers nothing (MediaLive InputLossBehavior). */
export interface InputLossSettings {
  /** Repeat the last frame this long (ms, 0-1000000; 1000000 = for ever). */
  repeatFrameMsec: number;
  /** Then black this long, before the image (ms, 0-1000000). */
  blackFrameMsec: number;
  /** Then this image until the input returns: a colour (6 hex digits, RGB) or a slate image at a URI MediaLive can read (S3 or HTTP). */
  image: { type: 'color'; color: string } | { type: 'slate'; uri: string };
}

/** One second of the last frame (a blip a viewer barely notices), then a dark grey card: black is what a dead encoder looks like. */
export const DEFAULT_INPUT_LOSS: InputLossSettings = Object.freeze({ repeatFrameMsec: 1000, blackFrameMsec: 0, image: Object.freeze({ type: 'color' as const, color: '1A1A1A' }) });

/** Every problem with `s` (empty = valid), by the model's ranges. */
export function inputLossProblems(s: InputLossSettings): string[] {
  const out: string[] = [];
  for (const k of ['repeatFrameMsec', 'blackFrameMsec'] as const) if (!Number.isInteger(s[k]) || s[k] < 0 || s[k] > 1_000_000) out.push(`${k} must be an integer from 0 to 1000000, got ${s[k]}`);
  if (s.image.type === 'color' && !/^[0-9A-Fa-f]{6}$/.test(s.image.color)) out.push(`the input-loss colour must be 6 hex digits (RGB), got ${JSON.stringify(s.image.color)}`);
  if (s.image.type === 'slate' && !/^(s3|s3ssl|https?):\/\/\S{1,2040}$/.test(s.image.uri)) out.push('the slate image must be an s3://, s3ssl://, http:// or https:// URI MediaLive can read');
  return out;
}

/** GlobalConfiguration.InputLossBehavior for `s`. */
export function inputLossBehavior(s: InputLossSettings): NonNullable<NonNullable<EncoderSettings['GlobalConfiguration']>['InputLossBehavior']> {
  return {
    RepeatFrameMsec: s.repeatFrameMsec,
    BlackFrameMsec: s.blackFrameMsec,
    ...(s.image.type === 'color' ? { InputLossImageType: 'COLOR', InputLossImageColor: s.image.color.toUpperCase() } : { InputLossImageType: 'SLATE', InputLossImageSlate: { Uri: s.image.uri } }),
  };
}

/** What a channel's settings need besides the spec. */
export interface ChannelSettingsContext {
  name: string;
  roleArn: string;
  inputId: string;
  inputSpecification: InputSpecification;
  passthrough: PassthroughEncode;
  /** Default DEFAULT_INPUT_LOSS. */
  inputLoss?: InputLossSettings;
}

/** The members CreateChannel and UpdateChannel share (everything but RequestId/Tags/ChannelId). */
export type ChannelSettings = Required<Pick<CreateChannelCommandInput & UpdateChannelCommandInput, 'Name' | 'RoleArn' | 'LogLevel' | 'InputSpecification' | 'InputAttachments' | 'Destinations' | 'EncoderSettings'>>;

/** A target MediaLive cannot push to (scheme, credentials in the URL). Never carries the key. */
export class InvalidTargetError extends Error {
  override readonly name = 'InvalidTargetError';
}

/** `rtmp(s)://host[:port]/app[/...]` without userinfo, trailing slashes removed. */
export function rtmpUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidTargetError('the RTMP URL is not a valid URL');
  }
  if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:') throw new InvalidTargetError(`MediaLive RTMP outputs push to rtmp:// or rtmps:// URLs, not ${u.protocol}//`);
  if (u.username || u.password) throw new InvalidTargetError('credentials in the RTMP URL are not supported on AWS (MediaLive takes a username and an SSM parameter name instead)');
  if (u.search || u.hash) throw new InvalidTargetError("the RTMP URL must not carry a query or fragment; put the stream key in the destination's stream key");
  return url.replace(/\/+$/, '');
}

/** `'4.1'` → `H264_LEVEL_4_1`, `'4.0'` → `H264_LEVEL_4`, `'auto'` (or anything else) → `H264_LEVEL_AUTO`. */
export function h264Level(level: string): NonNullable<NonNullable<VideoDescription['CodecSettings']>['H264Settings']>['Level'] {
  const m = /^([1-5])\.([0-3])$/.exec(level);
  if (!m) return 'H264_LEVEL_AUTO';
  const known = new Set(['1', '1_1', '1_2', '1_3', '2', '2_1', '2_2', '3', '3_1', '3_2', '4', '4_1', '4_2', '5', '5_1', '5_2']);
  const key = m[2] === '0' ? m[1]! : `${m[1]}_${m[2]}`;
  return known.has(key) ? (`H264_LEVEL_${key}` as 'H264_LEVEL_AUTO') : 'H264_LEVEL_AUTO';
}

/** Frame rate as MediaLive's numerator/denominator: 30 → 30/1, 29.97 → 30000/1001, 12.5 → 25/2. */
export function frameRateFraction(fps: number): { numerator: number; denominator: number } {
  if (Number.isInteger(fps)) return { numerator: fps, denominator: 1 };
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs((ntsc * 1000) / 1001 - fps) < 0.005) return { numerator: ntsc * 1000, denominator: 1001 };
  for (const d of [2, 4, 5, 10, 100, 1000]) {
    const n = fps * d;
    if (Math.abs(n - Math.round(n)) < 1e-6) return { numerator: Math.round(n), denominator: d };
  }
  return { numerator: Math.round(fps * 1000), denominator: 1000 };
}

function codingMode(channels: number): 'CODING_MODE_1_0' | 'CODING_MODE_2_0' | 'CODING_MODE_5_1' {
  if (channels === 1) return 'CODING_MODE_1_0';
  if (channels === 2) return 'CODING_MODE_2_0';
  if (channels === 6) return 'CODING_MODE_5_1';
  throw new InvalidTargetError(`${channels} audio channels cannot be encoded (1, 2 or 6)`);
}

function audioDescription(audio: EncodeSpec['audio']): AudioDescription {
  return {
    Name: 'audio',
    AudioSelectorName: AUDIO_SELECTOR,
    AudioTypeControl: 'FOLLOW_INPUT',
    LanguageCodeControl: 'FOLLOW_INPUT',
    CodecSettings: {
      AacSettings: {
        Bitrate: audio.bitrate,
        SampleRate: audio.sampleRate,
        CodingMode: codingMode(audio.channels),
        Profile: 'LC',
        RateControlMode: 'CBR',
        InputType: 'NORMAL',
        RawFormat: 'NONE',
        Spec: 'MPEG4',
      },
    },
  };
}

function videoDescription(encode: EncodeSpec | null, passthrough: PassthroughEncode): VideoDescription {
  const common = {
    RateControlMode: 'CBR',
    GopSizeUnits: 'SECONDS',
    GopClosedCadence: 1,
    ScanType: 'PROGRESSIVE',
    AdaptiveQuantization: 'AUTO',
    // Keyframes on a fixed cadence (every GopSize seconds), as platforms want on RTMP ingest: no
    // extra keyframe at a scene cut. The local engine's x264 does the same (`-sc_threshold 0`).
    SceneChangeDetect: 'DISABLED',
    AfdSignaling: 'NONE',
    ColorMetadata: 'INSERT',
    TimecodeInsertion: 'DISABLED',
  } as const;
  if (!encode) {
    return {
      Name: 'video',
      ScalingBehavior: 'DEFAULT',
      RespondToAfd: 'NONE',
      CodecSettings: {
        H264Settings: {
          ...common,
          Bitrate: passthrough.videoBitrate,
          BufSize: passthrough.videoBitrate * 2,
          FramerateControl: 'INITIALIZE_FROM_SOURCE',
          ParControl: 'INITIALIZE_FROM_SOURCE',
          GopSize: 2,
          GopNumBFrames: 2,
          Profile: 'HIGH',
          Level: 'H264_LEVEL_AUTO',
          EntropyEncoding: 'CABAC',
        },
      },
    };
  }
  const v = encode.video;
  const fr = frameRateFraction(v.frameRate);
  const baseline = v.profile === 'baseline';
  return {
    Name: 'video',
    Width: v.width,
    Height: v.height,
    ScalingBehavior: 'DEFAULT',
    RespondToAfd: 'NONE',
    Sharpness: 50,
    CodecSettings: {
      H264Settings: {
        ...common,
        Bitrate: v.bitrate,
        BufSize: v.bitrate * 2,
        FramerateControl: 'SPECIFIED',
        FramerateNumerator: fr.numerator,
        FramerateDenominator: fr.denominator,
        GopSize: v.keyframeInterval,
        // Baseline has no B-frames and no CABAC.
        GopNumBFrames: baseline ? 0 : 2,
        EntropyEncoding: baseline ? 'CAVLC' : 'CABAC',
        Profile: v.profile === 'baseline' ? 'BASELINE' : v.profile === 'main' ? 'MAIN' : 'HIGH',
        Level: h264Level(v.level),
        ParControl: 'SPECIFIED',
        ParNumerator: 1,
        ParDenominator: 1,
      },
    },
  };
}

/** EncoderSettings for one RTMP output (`encode: null` = passthrough, see the header). */
export function encoderSettings(encode: EncodeSpec | null, passthrough: PassthroughEncode = DEFAULT_PASSTHROUGH, inputLoss: InputLossSettings = DEFAULT_INPUT_LOSS): EncoderSettings {
  const audio = encode ? encode.audio : { bitrate: passthrough.audioBitrate, sampleRate: 48_000, channels: 2 };
  return {
    TimecodeConfig: { Source: 'SYSTEMCLOCK' },
    // Through an input loss: the last frame, then the input-loss image, with silence (header).
    GlobalConfiguration: { InputLossBehavior: inputLossBehavior(inputLoss) },
    VideoDescriptions: [videoDescription(encode, passthrough)],
    AudioDescriptions: [audioDescription(audio)],
    OutputGroups: [
      {
        Name: 'rtmp',
        OutputGroupSettings: {
          RtmpGroupSettings: {
            AuthenticationScheme: 'COMMON',
            CacheFullBehavior: 'DISCONNECT_IMMEDIATELY',
            CacheLength: 30,
            CaptionData: 'ALL',
            // Keep pushing (the InputLossBehavior image) through a contribution drop, so the platform keeps the stream open.
            InputLossAction: 'EMIT_OUTPUT',
            RestartDelay: 15,
          },
        },
        Outputs: [
          {
            OutputName: 'rtmp',
            VideoDescriptionName: 'video',
            AudioDescriptionNames: ['audio'],
            OutputSettings: {
              RtmpOutputSettings: {
                Destination: { DestinationRefId: RTMP_DESTINATION_ID },
                CertificateMode: 'VERIFY_AUTHENTICITY',
                ConnectionRetryInterval: 2,
                NumRetries: 10,
              },
            },
          },
        ],
      },
    ],
  };
}

/** Everything CreateChannel and UpdateChannel send for `spec`; the stream key is only in `Destinations[0].Settings[0].StreamName`. */
export function channelSettings(spec: ChannelSpec, ctx: ChannelSettingsContext): ChannelSettings {
  return {
    Name: ctx.name,
    RoleArn: ctx.roleArn,
    LogLevel: 'WARNING',
    InputSpecification: ctx.inputSpecification,
    InputAttachments: [
      {
        InputId: ctx.inputId,
        InputAttachmentName: 'mediaconnect-flow',
        InputSettings: { SourceEndBehavior: 'CONTINUE', AudioSelectors: [{ Name: AUDIO_SELECTOR }] },
      },
    ],
    Destinations: [{ Id: RTMP_DESTINATION_ID, Settings: [{ Url: rtmpUrl(spec.target.url), StreamName: spec.target.streamKey.reveal() }] }],
    EncoderSettings: encoderSettings(spec.encode, ctx.passthrough, ctx.inputLoss),
  };
}
