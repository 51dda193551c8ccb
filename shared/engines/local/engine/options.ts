/**
 * The local media engine's options and the checks of its inputs: `LocalMediaEngineOptions` with its
 * defaults, `validateOptions` (at construction) and `validateSpec` (a channel's spec, at create and
 * update), and `encoderKey`, the canonical key shared encoders are pooled by. Pure: no processes,
 * no I/O.
 */
import type { Log } from '../../../logging/logger.ts';
import type { Secret } from '../../../secrets/secret.ts';
import type { ChannelSpec, EncodeSpec, EngineEventSink, FailoverSettings } from '../../port/ports.ts';
import type { RetryPolicy } from '../process/backoff.ts';
import type { RtmpPublisherOptions } from '../rtmp/rtmp-publisher.ts';
import { MediaEngineError } from './channel-lifecycle.ts';
import { SRT_PASSPHRASE_PATTERN } from './ingest/argv.ts';

export interface LocalMediaEngineOptions {
  /** Pidfiles go to `<dataDir>/run/pids`, the primary HLS to `<dataDir>/hls/primary`. */
  dataDir: string;
  /** UDP port of the SRT listener. */
  srtPort: number;
  /** SRT passphrase (10 to 79 characters). */
  srtPassphrase: Secret;
  srtKeyLength: 16 | 24 | 32;
  /** UDP port of the backup SRT listener (issue 15); 0 or absent: no backup input. */
  srtBackupPort?: number;
  /** The backup's own SRT passphrase; absent: the main's. */
  srtBackupPassphrase?: Secret;
  /** The failover settings the engine starts with (`setFailover` replaces them). Default DEFAULT_FAILOVER. */
  failover?: FailoverSettings;
  /** An image the slate shows instead of the generated card. */
  slateImage?: string;
  /** ffprobe, for the backup test and the slate's size. Default `ffprobe`. */
  ffprobePath?: string;
  /** Receives every native event. Called synchronously; must not throw (errors are logged). */
  sink: EngineEventSink;
  logger?: Log;
  /** Address the SRT listener binds. Default 127.0.0.1 (loopback only); 0.0.0.0 for encoders on the LAN. */
  srtBindAddress?: string;
  /** x264 preset of shared encoders. Default `veryfast`; `ultrafast` for tests and benchmarks. */
  x264Preset?: string;
  ffmpegPath?: string;
  /** The SRT ingest program (`fanout-srt`). Default: the repository's, built if needed (ingest/binary.ts). */
  srtIngestPath?: string;
  /** Backoff of every supervised process. Default 1 s doubling, cap 60 s, reset after 60 s stable. */
  retryPolicy?: Partial<RetryPolicy>;
  /** Kill and restart an FFmpeg whose progress stops for this long. Default 10000. */
  stallTimeoutMs?: number;
  /** Kill and restart an FFmpeg that produced no progress this long after start. Default 30000. */
  startTimeoutMs?: number;
  /** SIGINT → SIGKILL grace. Default 5000. */
  stopGraceMs?: number;
  /** The flow hub considers media stopped after this long without data. Default 2000. */
  mediaIdleMs?: number;
  /** How long a rejected SRT caller stays in `inputHealth().lastError`. Default 300000. */
  srtRejectionTtlMs?: number;
  /**
   * Verify rtmps:// certificates (FFmpeg never did). Default true, right for production; tests
   * against a self-signed server turn it off.
   */
  rtmpsVerify?: boolean;
  /** Where publishers may connect (shared/net/egress.ts), checked on the address each one really connects to. Default: no policy. */
  egress?: RtmpPublisherOptions['egress'];
  /**
   * When a mux or encoder FFmpeg ends (crash, stall, source lost), its publishers stay connected
   * this long waiting for its next run; after that they are closed with INPUT_STALLED and
   * reconnect when media returns. Default 10000.
   */
  sourceGraceMs?: number;
}

/** Defaults of the optional `LocalMediaEngineOptions`. */
export const DEFAULTS = {
  x264Preset: 'veryfast',
  ffmpegPath: 'ffmpeg',
  ffprobePath: 'ffprobe',
  srtBindAddress: '127.0.0.1',
  stallTimeoutMs: 10_000,
  startTimeoutMs: 30_000,
  stopGraceMs: 5000,
  mediaIdleMs: 2000,
  srtRejectionTtlMs: 300_000,
  sourceGraceMs: 10_000,
} as const;

/** Canonical key of an encode: the same settings always give the same key, whatever the field order. */
export function encoderKey(presetId: string, e: EncodeSpec): string {
  const v = e.video;
  const a = e.audio;
  return [presetId, v.width, v.height, v.frameRate, v.bitrate, v.profile, v.level, v.keyframeInterval, a.bitrate, a.sampleRate, a.channels].join(':');
}

/** Throws INVALID_ENGINE_OPTIONS listing every problem. */
export function validateOptions(o: LocalMediaEngineOptions): void {
  const problems: string[] = [];
  if (!o.dataDir) problems.push('dataDir is required');
  if (!(Number.isInteger(o.srtPort) && o.srtPort > 0 && o.srtPort < 65536)) problems.push(`srtPort must be a port number, got ${o.srtPort}`);
  if (o.srtBackupPort !== undefined && o.srtBackupPort !== 0) {
    if (!(Number.isInteger(o.srtBackupPort) && o.srtBackupPort > 0 && o.srtBackupPort < 65536)) problems.push(`srtBackupPort must be a port number or 0, got ${o.srtBackupPort}`);
    else if (o.srtBackupPort === o.srtPort) problems.push(`srtBackupPort must differ from srtPort (${o.srtPort})`);
  }
  if (o.srtBackupPassphrase && !SRT_PASSPHRASE_PATTERN.test(o.srtBackupPassphrase.reveal())) {
    problems.push('srtBackupPassphrase must be 10 to 79 characters, printable ASCII without spaces, quotes, &, #, ? or %');
  }
  if (o.failover) {
    const f = o.failover;
    if (f.mode !== 'automatic' && f.mode !== 'manual') problems.push(`failover.mode must be automatic or manual, got ${String(f.mode)}`);
    if (!(Number.isFinite(f.inputLossThresholdMs) && f.inputLossThresholdMs >= 0)) problems.push('failover.inputLossThresholdMs must be >= 0');
    if (f.errorClearTimeMs !== null && !(Number.isFinite(f.errorClearTimeMs) && f.errorClearTimeMs >= 0)) problems.push('failover.errorClearTimeMs must be >= 0 or null');
    if (!(Number.isFinite(f.slateTimeoutMs) && f.slateTimeoutMs >= 0)) problems.push('failover.slateTimeoutMs must be >= 0');
  }
  if (![16, 24, 32].includes(o.srtKeyLength)) problems.push(`srtKeyLength must be 16, 24 or 32, got ${o.srtKeyLength}`);
  if (!o.srtPassphrase || !SRT_PASSPHRASE_PATTERN.test(o.srtPassphrase.reveal())) {
    problems.push('srtPassphrase must be 10 to 79 characters, printable ASCII without spaces, quotes, &, #, ? or %');
  }
  if (typeof o.sink !== 'function') problems.push('sink must be a function');
  for (const k of ['stallTimeoutMs', 'startTimeoutMs', 'stopGraceMs', 'mediaIdleMs', 'srtRejectionTtlMs', 'sourceGraceMs'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) problems.push(`${k} must be >= 0, got ${v}`);
  }
  if (problems.length > 0) throw new MediaEngineError('INVALID_ENGINE_OPTIONS', `invalid local media engine options: ${problems.join('; ')}`);
}

/** Throws INVALID_CHANNEL_SPEC listing every problem. */
export function validateSpec(spec: ChannelSpec): void {
  const problems: string[] = [];
  if (!spec.destinationId) problems.push('destinationId is required');
  if (!spec.outputArn) problems.push('outputArn is required');
  if (!/^rtmps?:\/\/[^/\s]+/i.test(spec.target?.url ?? '')) problems.push('target.url must be an rtmp:// or rtmps:// URL');
  if (!spec.target?.streamKey) problems.push('target.streamKey is required');
  const e = spec.encode;
  if (e) {
    const posInt = (k: string, v: number): void => {
      if (!(Number.isInteger(v) && v > 0)) problems.push(`${k} must be a positive integer, got ${v}`);
    };
    posInt('encode.video.width', e.video.width);
    posInt('encode.video.height', e.video.height);
    if (e.video.width % 2 || e.video.height % 2) problems.push('encode.video width and height must be even (yuv420p)');
    if (!(e.video.frameRate > 0)) problems.push('encode.video.frameRate must be > 0');
    posInt('encode.video.bitrate', e.video.bitrate);
    if (!(e.video.keyframeInterval > 0)) problems.push('encode.video.keyframeInterval must be > 0');
    if (!['baseline', 'main', 'high'].includes(e.video.profile)) problems.push('encode.video.profile must be baseline, main or high');
    if (!/^(auto|[1-6](\.[0-2])?)$/.test(e.video.level)) problems.push(`encode.video.level must be 'auto' or like 4.1, got ${e.video.level}`);
    posInt('encode.audio.bitrate', e.audio.bitrate);
    posInt('encode.audio.sampleRate', e.audio.sampleRate);
    posInt('encode.audio.channels', e.audio.channels);
  }
  if (problems.length > 0) throw new MediaEngineError('INVALID_CHANNEL_SPEC', `invalid channel spec: ${problems.join('; ')}`);
}
