/**
 * SQS consumer of flow-output (queue FlowOutputQueue): destination events, channel deletions and
 * the native MediaConnect flow events (status, source health, source failover switches). Idempotent per event id; partial batch failures.
 */
import type { z } from 'zod';
import { ChannelDeletedV1, ChannelReclaimedV1, DestinationCreatedV1, DestinationStartRequestedV1, DestinationStopRequestedV1 } from '../../../../events/catalogue.ts';
import { MediaConnectFlowStatusChange, MediaConnectSourceFailoverSwitch, MediaConnectSourceHealth } from '../../../../events/native/schemas.ts';
import { createEventConsumer, domainRoute, type NativeOrDomainEvent } from '../../../../shared/events/consumer.ts';
import type { FlowOutputDeps } from '../deps.ts';
import { flowOutputService } from '../module.ts';

export function createInboxHandler(deps: FlowOutputDeps) {
  const svc = () => flowOutputService(deps);
  return createEventConsumer({
    name: 'flow-output',
    logger: deps.log,
    idempotency: () => ({ client: deps.dynamo, tableName: deps.config.tableIdempotency }),
    routes: [
      domainRoute(DestinationCreatedV1, (d) => svc().addOutput(d.data.destinationId, d.correlationId)),
      domainRoute(ChannelDeletedV1, (d) => svc().removeOutput(d.data.destinationId, d.correlationId)),
      domainRoute(ChannelReclaimedV1, (d) => svc().reclaimOutput(d.data.destinationId, d.correlationId)),
      domainRoute(DestinationStartRequestedV1, (d) => svc().onStartRequested(d.data.destinationId, d.correlationId)),
      domainRoute(DestinationStopRequestedV1, (d) => svc().ensureFlowState(d.correlationId)),
      {
        kind: 'native',
        source: 'aws.mediaconnect',
        detailType: 'MediaConnect Flow Status Change',
        parse: (e) => MediaConnectFlowStatusChange.parse(e) as NativeOrDomainEvent,
        handle: (e) => svc().reportFlowState(`native-${e.id}`),
      },
      {
        kind: 'native',
        source: 'aws.mediaconnect',
        detailType: 'MediaConnect Source Health',
        parse: (e) => MediaConnectSourceHealth.parse(e) as NativeOrDomainEvent,
        handle: (e) => svc().reportFlowState(`native-${e.id}`),
      },
      {
        kind: 'native',
        source: 'aws.mediaconnect',
        detailType: 'MediaConnect Source Failover Switch',
        parse: (e) => MediaConnectSourceFailoverSwitch.parse(e) as NativeOrDomainEvent,
        handle: (e) => svc().reportInputSwitch(e as z.infer<typeof MediaConnectSourceFailoverSwitch>, `native-${e.id}`),
      },
    ],
  });
}
