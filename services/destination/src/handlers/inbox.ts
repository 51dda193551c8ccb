/**
 * SQS consumer of the destination service (queue DestinationInboxQueue in serverless.yml): what
 * flow-output and channel-provisioner report about a destination's output and channel becomes its
 * observed status. Idempotent per event id; partial batch failures.
 */
import {
  ChannelDeletedV1,
  ChannelFailedV1,
  ChannelReclaimedV1,
  ChannelStateChangedV1,
  FlowOutputAddedV1,
  FlowOutputFailedV1,
  FlowOutputRemovedV1,
  FlowStateChangedV1,
  InputSwitchedV1,
  OrphanResourcesCleanedUpV1,
} from '../../../../events/catalogue.ts';
import { createEventConsumer, domainRoute } from '../../../../shared/events/consumer.ts';
import type { DestinationDeps } from '../deps.ts';
import { destinationModule } from '../module.ts';

export function createInboxHandler(deps: DestinationDeps) {
  const m = () => destinationModule(deps);
  return createEventConsumer({
    name: 'destination-inbox',
    logger: deps.log,
    idempotency: () => ({ client: deps.dynamo, tableName: deps.config.tableIdempotency }),
    routes: [
      domainRoute(ChannelStateChangedV1, (d) => m().service.observeChannelState(d.data, d.correlationId)),
      domainRoute(ChannelFailedV1, (d) => m().service.observeFailure(d.data, d.correlationId)),
      domainRoute(ChannelDeletedV1, async () => {
        // Nothing to record: flow-output removes the output next and reports FlowOutputRemoved.
      }),
      domainRoute(ChannelReclaimedV1, (d) => m().service.observeChannelReclaimed(d.data, d.correlationId)),
      domainRoute(OrphanResourcesCleanedUpV1, async () => {
        // Not about a destination of the store (orphans have none): the rule delivers every
        // channel-provisioner event here; the notifier is its consumer.
      }),
      domainRoute(FlowOutputAddedV1, (d) => m().service.observeOutputAdded(d.data, d.correlationId)),
      domainRoute(FlowOutputFailedV1, (d) => m().service.observeFailure(d.data, d.correlationId)),
      domainRoute(FlowOutputRemovedV1, (d) => m().service.observeOutputRemoved(d.data, d.correlationId)),
      // The slate's time ran out (ADR 0024): the destinations that want to run are stopped, saying why.
      domainRoute(InputSwitchedV1, async (d) => {
        if (d.data.reason === 'slate-timeout') await m().service.stopForSlateTimeout(d.data, d.correlationId);
      }),
      domainRoute(FlowStateChangedV1, (d) => m().system.putFlowStatus({ pk: 'flow#primary', ...d.data, updatedAt: d.occurredAt })),
    ],
  });
}
