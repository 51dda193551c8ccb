/**
 * From a destination and its preset to the engine's channel spec. Pure: the stream key comes in
 * already decrypted, as a Secret, and goes straight to the engine.
 */
import type { LastError } from '../../../../events/envelope.ts';
import type { ChannelSpec, EncodeSpec } from '../../../../shared/engines/port/ports.ts';
import type { Secret } from '../../../../shared/secrets/secret.ts';
import type { DestinationReadModel, PresetReadModel } from '../../../../shared/store/destination-reader.ts';

export function encodeFor(preset: PresetReadModel): EncodeSpec | null {
  if (preset.type === 'passthrough' || !preset.video || !preset.audio) return null;
  const [width, height] = preset.video.resolution.split('x').map(Number);
  return {
    video: {
      width: width ?? 0,
      height: height ?? 0,
      frameRate: preset.video.frameRate,
      bitrate: preset.video.bitrate,
      profile: preset.video.profile,
      level: preset.video.level,
      keyframeInterval: preset.video.keyframeInterval,
    },
    audio: { bitrate: preset.audio.bitrate, sampleRate: preset.audio.sampleRate, channels: preset.audio.channels },
  };
}

export function channelSpec(d: DestinationReadModel, preset: PresetReadModel, streamKey: Secret, outputArn: string): ChannelSpec {
  return {
    destinationId: d.destinationId,
    name: d.name,
    outputArn,
    presetId: preset.presetId,
    encode: encodeFor(preset),
    target: { url: d.rtmpUrl, streamKey },
  };
}

/** The code of a MediaLive alert Fanout has no typed error for (AWS's own alerts; the local engine's carry theirs). */
export const CHANNEL_ALERT = 'CHANNEL_ALERT';

/** A native "MediaLive Channel Alert" as the typed error the destination shows. */
export function alertToError(detail: { alert_type: string; message: string; fanout_error?: unknown }): LastError {
  const fe = detail.fanout_error as Partial<LastError> | undefined;
  if (fe && typeof fe.code === 'string' && typeof fe.message === 'string' && typeof fe.hint === 'string') return { code: fe.code.slice(0, 64), message: fe.message.slice(0, 500), hint: fe.hint.slice(0, 500) };
  return {
    code: CHANNEL_ALERT,
    message: `${detail.alert_type}: ${detail.message}`.slice(0, 500),
    hint: 'The engine reports a problem with this channel; check the platform accepts the stream (URL, stream key, bitrate).',
  };
}
