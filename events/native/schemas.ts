/**
 * Schemas of the *native* AWS events Fanout consumes, from the EventBridge reference and the
 * MediaLive/MediaConnect user guides. The local media engine emits exactly these shapes too, so
 * the consumer under test is the consumer in production. Samples live beside this file.
 * Native events are not Fanout's to version: schemas are lenient (`.passthrough()`) about members
 * AWS may add, strict about the ones we read.
 */
import { z } from 'zod';
import { ChannelStateSchema } from '../channel-provisioner/common.ts';
import { FlowStateSchema } from '../flow-output/flow-state-changed.v1.ts';

const nativeEnvelope = <S extends string, T extends string, D extends z.ZodType>(source: S, detailType: T, detail: D) =>
  z
    .object({
      version: z.literal('0'),
      id: z.string(),
      'detail-type': z.literal(detailType),
      source: z.literal(source),
      account: z.string(),
      time: z.string(),
      region: z.string(),
      resources: z.array(z.string()),
      detail,
    })
    .passthrough();

export const MediaLiveChannelStateChange = nativeEnvelope(
  'aws.medialive',
  'MediaLive Channel State Change',
  z
    .object({
      channel_arn: z.string(),
      state: ChannelStateSchema,
      message: z.string().optional(),
      pipelines_running_count: z.number().int().min(0).optional(),
    })
    .passthrough(),
);

export const MediaLiveChannelAlert = nativeEnvelope(
  'aws.medialive',
  'MediaLive Channel Alert',
  z
    .object({
      alarm_state: z.enum(['SET', 'CLEARED']),
      alarm_id: z.string(),
      alert_type: z.string(),
      pipeline: z.string().optional(),
      channel_arn: z.string(),
      message: z.string(),
    })
    .passthrough(),
);

export const MediaConnectFlowStatusChange = nativeEnvelope('aws.mediaconnect', 'MediaConnect Flow Status Change', z.object({ currentStatus: FlowStateSchema, previousStatus: FlowStateSchema.optional() }).passthrough());

const SourceState = z.enum(['CONNECTED', 'RECEIVING', 'DISCONNECTED', 'IDLE']);
const Tr101 = z.object({ ts_sync_loss: z.boolean(), continuity_count_error: z.boolean(), transport_error: z.boolean(), pcr_error: z.boolean() }).partial().passthrough();

export const MediaConnectSourceHealth = nativeEnvelope(
  'aws.mediaconnect',
  'MediaConnect Source Health',
  z
    .object({
      unhealthy: z.boolean(),
      current: z.object({ source_state: SourceState, tr101: Tr101.optional() }).passthrough(),
      previous: z.object({ source_state: SourceState, tr101: Tr101.optional() }).passthrough().optional(),
    })
    .passthrough(),
);

/**
 * An input switch (issue 15): the active source of the flow changed, to the other input or to the
 * slate, or the slate's time ran out. MediaConnect's EventBridge reference lists no detail-type
 * for a source-failover switch (Alert, Source Health, Output Health, Flow Status Change, Flow
 * Maintenance, Flow Health, Output Status Change, Flow Content Quality), so this shape is
 * Fanout's, in MediaConnect's style: the engines emit it (the AWS engine from what it observes
 * of the flow's active source), flow-output turns it into InputSwitched v1.
 */
const SwitchEnd = z.enum(['main', 'backup', 'slate']);
export const MediaConnectSourceFailoverSwitch = nativeEnvelope(
  'aws.mediaconnect',
  'MediaConnect Source Failover Switch',
  z
    .object({
      previous_source: SwitchEnd.nullable(),
      current_source: SwitchEnd,
      reason: z.enum(['input-loss', 'recovered', 'manual', 'slate-timeout']),
      switched_at: z.string(),
      failover_mode: z.enum(['automatic', 'manual']),
      /** Set when the slate went on air: when the outputs stop unless an input returns. */
      slate_stops_at: z.string().nullable().optional(),
    })
    .passthrough(),
);

/**
 * CloudWatch's "Alarm State Change" (EventBridge reference, CloudWatch alarm events): Fanout's
 * dead-letter queue alarms reach the notifier this way; the local runtime emits the same shape
 * when one of its in-process dead-letter queues fills or empties.
 */
const AlarmState = z.object({ value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']), reason: z.string().optional(), reasonData: z.string().optional(), timestamp: z.string().optional() }).passthrough();
export const CloudWatchAlarmStateChange = nativeEnvelope('aws.cloudwatch', 'CloudWatch Alarm State Change', z.object({ alarmName: z.string(), state: AlarmState, previousState: AlarmState.optional() }).passthrough());

/** The channel id is the last segment of a MediaLive channel ARN (`arn:aws:medialive:<region>:<acct>:channel:<id>`). */
export function channelIdFromArn(arn: string): string {
  const id = arn.split(':channel:')[1];
  if (!id) throw new Error(`not a MediaLive channel ARN: ${arn}`);
  return id;
}
