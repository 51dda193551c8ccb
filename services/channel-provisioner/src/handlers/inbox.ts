/**
 * SQS consumer of channel-provisioner (queue ChannelProvisionerQueue): destination commands,
 * FlowOutputAdded, and the native MediaLive events (the local engine emits the same shapes).
 */
import { DestinationDeleteRequestedV1, DestinationStartRequestedV1, DestinationStopRequestedV1, DestinationUpdatedV1, FlowOutputAddedV1 } from '../../../../events/catalogue.ts';
import { MediaLiveChannelAlert, MediaLiveChannelStateChange, channelIdFromArn } from '../../../../events/native/schemas.ts';
import { createEventConsumer, domainRoute, type NativeOrDomainEvent } from '../../../../shared/events/consumer.ts';
import type { Provisioner } from '../app/provisioner.ts';
import type { ChannelProvisionerDeps } from '../deps.ts';
import { alertToError } from '../domain/channel-spec.ts';
import { channelProvisionerModule } from '../module.ts';

/** When the engine observed the change: a precise local timestamp if present, else the event time. */
function observedAt(e: { time: string; detail: unknown }): string {
  const precise = (e.detail as { fanout_observed_at?: unknown }).fanout_observed_at;
  return typeof precise === 'string' ? precise : new Date(e.time).toISOString();
}

export function createInboxHandler(deps: ChannelProvisionerDeps) {
  const p = () => channelProvisionerModule(deps).service;
  return createEventConsumer({
    name: 'channel-provisioner',
    logger: deps.log,
    idempotency: () => ({ client: deps.dynamo, tableName: deps.config.tableIdempotency }),
    routes: [
      domainRoute(FlowOutputAddedV1, (d) => p().provision(d.data.destinationId, d.data.outputArn, d.correlationId)),
      domainRoute(DestinationStartRequestedV1, (d) => p().start(d.data.destinationId, d.correlationId)),
      domainRoute(DestinationStopRequestedV1, (d) => p().stop(d.data.destinationId, d.correlationId)),
      domainRoute(DestinationUpdatedV1, (d) => p().update(d.data.destinationId, d.data.changed, d.correlationId)),
      domainRoute(DestinationDeleteRequestedV1, (d) => p().remove(d.data.destinationId, d.correlationId)),
      {
        kind: 'native',
        source: 'aws.medialive',
        detailType: 'MediaLive Channel State Change',
        parse: (e) => MediaLiveChannelStateChange.parse(e) as NativeOrDomainEvent,
        handle: (e) => {
          const detail = e.detail as { channel_arn: string; state: Parameters<Provisioner['onState']>[1] };
          return p().onState(channelIdFromArn(detail.channel_arn), detail.state, observedAt(e), `native-${e.id}`);
        },
      },
      {
        kind: 'native',
        source: 'aws.medialive',
        detailType: 'MediaLive Channel Alert',
        parse: (e) => MediaLiveChannelAlert.parse(e) as NativeOrDomainEvent,
        handle: (e) => {
          const detail = e.detail as { channel_arn: string; alarm_state: 'SET' | 'CLEARED'; alert_type: string; message: string };
          return p().onAlert(channelIdFromArn(detail.channel_arn), detail.alarm_state === 'SET', alertToError(detail), `native-${e.id}`);
        },
      },
    ],
  });
}
