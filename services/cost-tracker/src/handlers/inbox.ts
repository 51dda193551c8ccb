/**
 * SQS consumer of cost-tracker (queue CostTrackerQueue): the destination, channel and flow events
 * that bear on cost, and the native MediaLive channel state and MediaConnect flow status events.
 * Idempotent per event id (Powertools idempotency); the session reducer drops duplicates and
 * reorders too, so a redelivery that slips past idempotency still counts once.
 */
import { ChannelDeletedV1, ChannelReclaimedV1, ChannelStateChangedV1, DestinationCreatedV1, DestinationDeletedV1, DestinationUpdatedV1, FlowStateChangedV1 } from '../../../../events/catalogue.ts';
import { MediaConnectFlowStatusChange, MediaLiveChannelStateChange } from '../../../../events/native/schemas.ts';
import { createEventConsumer, domainRoute, type NativeOrDomainEvent, type Route } from '../../../../shared/events/consumer.ts';
import { costTrackerFor } from '../app/build.ts';
import type { CostTrackerDeps } from '../deps.ts';

export function createInboxHandler(deps: CostTrackerDeps) {
  const tracker = () => costTrackerFor(deps);
  const asIncoming = (e: NativeOrDomainEvent) => ({
    id: e.id,
    source: e.source,
    detailType: e['detail-type'],
    time: e.time,
    resources: (e as { resources?: string[] }).resources ?? [],
    detail: e.detail,
  });
  const domain = [DestinationCreatedV1, DestinationUpdatedV1, DestinationDeletedV1, ChannelStateChangedV1, ChannelDeletedV1, ChannelReclaimedV1, FlowStateChangedV1].map((def) =>
    domainRoute(def, (d, e) => tracker().record(asIncoming(e), d.correlationId)),
  );
  const native: Route[] = [
    { kind: 'native', source: 'aws.medialive', detailType: 'MediaLive Channel State Change', parse: (e) => MediaLiveChannelStateChange.parse(e) as NativeOrDomainEvent, handle: (e) => tracker().record(asIncoming(e), `native-${e.id}`) },
    { kind: 'native', source: 'aws.mediaconnect', detailType: 'MediaConnect Flow Status Change', parse: (e) => MediaConnectFlowStatusChange.parse(e) as NativeOrDomainEvent, handle: (e) => tracker().record(asIncoming(e), `native-${e.id}`) },
  ];
  return createEventConsumer({ name: 'cost-tracker', logger: deps.log, idempotency: () => deps.idempotency, routes: [...domain, ...native] });
}
