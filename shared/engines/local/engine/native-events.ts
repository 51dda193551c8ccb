/**
 * The native AWS events the local engine emits, built in exactly the shapes MediaLive and
 * MediaConnect put on EventBridge (see events/native/*.json and schemas.ts), and the ARNs they
 * name. The sink adds the EventBridge envelope (id, time, account, region) as the bus would.
 *
 * Two extensions, as members AWS does not send (native schemas are lenient about extra members,
 * as AWS adds members too):
 * - `fanout_observed_at` on every event: when the engine saw the change, to the millisecond (the
 *   envelope's `time` has only seconds), so consumers can drop reordered events as they do for
 *   the in-memory engine;
 * - `fanout_error: { code, message, hint }` on "MediaLive Channel Alert": the typed error from the
 *   stderr classifier, so a consumer can show an actionable message (null on CLEARED).
 */
import { CHANNEL_STATE_MESSAGES } from '../../port/channel-state-messages.ts';
import { createHash } from 'node:crypto';
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { LastError } from '../../../../events/envelope.ts';
import type { FlowState, NativeEngineEvent } from '../../port/ports.ts';
import type { ProcessErrorCode } from '../process/stderr-classifier.ts';

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';
export const FLOW_ARN = `arn:aws:mediaconnect:${LOCAL_REGION}:${LOCAL_ACCOUNT}:flow:1-local-primary:fanout-ingest`;
export const SOURCE_ARN = `arn:aws:mediaconnect:${LOCAL_REGION}:${LOCAL_ACCOUNT}:source:1-local-primary:srt-in`;

const now = (): string => new Date().toISOString();

export function outputArn(destinationId: string): string {
  return `arn:aws:mediaconnect:${LOCAL_REGION}:${LOCAL_ACCOUNT}:output:1-local-${destinationId}:dest-${destinationId}`;
}

/** The destination id inside an output ARN of this engine; null for any other ARN. */
export function destinationIdOfOutputArn(arn: string): string | null {
  const m = /^arn:aws:mediaconnect:local:000000000000:output:1-local-(.+):dest-(.+)$/.exec(arn);
  return m && m[1] === m[2] ? (m[1] ?? null) : null;
}

export function channelArn(channelId: string): string {
  return `arn:aws:medialive:${LOCAL_REGION}:${LOCAL_ACCOUNT}:channel:${channelId}`;
}

export function channelStateChange(channelId: string, state: ChannelState): NativeEngineEvent {
  const arn = channelArn(channelId);
  return {
    source: 'aws.medialive',
    detailType: 'MediaLive Channel State Change',
    resources: [arn],
    detail: { channel_arn: arn, state, message: CHANNEL_STATE_MESSAGES[state], pipelines_running_count: state === 'RUNNING' ? 1 : 0, fanout_observed_at: now() },
  };
}

/**
 * The MediaLive-style alert type for a classified failure. Alert types are what MediaLive shows in
 * its console; ours follow its wording where one exists.
 */
export const ALERT_TYPES: Readonly<Record<ProcessErrorCode, string>> = Object.freeze({
  RTMP_CONNECTION_REFUSED: 'RTMP Connection Failed',
  RTMP_TIMEOUT: 'RTMP Connection Failed',
  DNS_RESOLUTION_FAILED: 'RTMP Connection Failed',
  TLS_HANDSHAKE_FAILED: 'RTMP Connection Failed',
  INVALID_URL: 'RTMP Connection Failed',
  EGRESS_REFUSED: 'RTMP Connection Failed',
  RTMP_STREAM_KEY_REJECTED: 'RTMP Stream Not Found',
  RTMP_STREAM_KEY_IN_USE: 'RTMP Stream Not Found',
  RTMP_CONNECTION_CLOSED: 'RTMP Connection Dropped',
  INPUT_STALLED: 'Input Loss',
  START_TIMEOUT: 'Input Loss',
  SRT_PASSPHRASE_REJECTED: 'Input Loss',
  SRT_CONNECTION_FAILED: 'Input Loss',
  ENCODER_ERROR: 'Encoder Error',
  SPAWN_FAILED: 'Process Failed',
  UNKNOWN: 'Process Failed',
});

export function alertTypeFor(code: string): string {
  return (ALERT_TYPES as Record<string, string>)[code] ?? 'Process Failed';
}

/** Stable per channel, alert type and episode, so SET and its CLEARED share it. */
export function alarmId(channelId: string, alertType: string, episode: number): string {
  return createHash('sha1')
    .update(`${channelArn(channelId)}\0${alertType}\0${episode}`)
    .digest('hex');
}

export function channelAlert(channelId: string, o: { state: 'SET' | 'CLEARED'; alarmId: string; alertType: string; message: string; error: LastError | null }): NativeEngineEvent {
  const arn = channelArn(channelId);
  return {
    source: 'aws.medialive',
    detailType: 'MediaLive Channel Alert',
    resources: [arn],
    detail: {
      alarm_state: o.state,
      alarm_id: o.alarmId,
      alert_type: o.alertType,
      pipeline: '0',
      channel_arn: arn,
      message: o.message,
      fanout_error: o.error,
      fanout_observed_at: now(),
    },
  };
}

export function flowStatusChange(current: FlowState, previous: FlowState): NativeEngineEvent {
  return {
    source: 'aws.mediaconnect',
    detailType: 'MediaConnect Flow Status Change',
    resources: [FLOW_ARN],
    detail: { currentStatus: current, previousStatus: previous, fanout_observed_at: now() },
  };
}

const TR101_OK = { ts_sync_loss: false, continuity_count_error: false, transport_error: false, pcr_error: false };

export function sourceHealth(current: 'CONNECTED' | 'DISCONNECTED', previous: 'CONNECTED' | 'DISCONNECTED'): NativeEngineEvent {
  return {
    source: 'aws.mediaconnect',
    detailType: 'MediaConnect Source Health',
    resources: [FLOW_ARN, SOURCE_ARN],
    detail: {
      unhealthy: current !== 'CONNECTED',
      current: { source_state: current, tr101: TR101_OK },
      previous: { source_state: previous, tr101: TR101_OK },
      fanout_observed_at: now(),
    },
  };
}
