/**
 * The event catalogue: every domain event at every version, in one list. The contracts generator
 * writes one JSON Schema per entry to contracts/events/, and consumers look events up here.
 */
import type { EventDefinition } from './envelope.ts';
import { ChannelDeletedV1 } from './channel-provisioner/channel-deleted.v1.ts';
import { ChannelFailedV1 } from './channel-provisioner/channel-failed.v1.ts';
import { ChannelReclaimedV1 } from './channel-provisioner/channel-reclaimed.v1.ts';
import { ChannelStateChangedV1 } from './channel-provisioner/channel-state-changed.v1.ts';
import { BudgetThresholdCrossedV1 } from './cost-tracker/budget-threshold-crossed.v1.ts';
import { CostSummaryV1 } from './cost-tracker/cost-summary.v1.ts';
import { UsageSessionClosedV1 } from './cost-tracker/usage-session-closed.v1.ts';
import { OrphanResourcesCleanedUpV1 } from './channel-provisioner/orphan-resources-cleaned-up.v1.ts';
import { DestinationCreatedV1 } from './destination/destination-created.v1.ts';
import { DestinationDeleteRequestedV1 } from './destination/destination-delete-requested.v1.ts';
import { DestinationDeletedV1 } from './destination/destination-deleted.v1.ts';
import { DestinationStartRequestedV1 } from './destination/destination-start-requested.v1.ts';
import { DestinationStatusChangedV1 } from './destination/destination-status-changed.v1.ts';
import { DestinationStopRequestedV1 } from './destination/destination-stop-requested.v1.ts';
import { DestinationUpdatedV1 } from './destination/destination-updated.v1.ts';
import { FlowOutputAddedV1 } from './flow-output/flow-output-added.v1.ts';
import { FlowOutputFailedV1 } from './flow-output/flow-output-failed.v1.ts';
import { FlowOutputRemovedV1 } from './flow-output/flow-output-removed.v1.ts';
import { FlowStateChangedV1 } from './flow-output/flow-state-changed.v1.ts';
import { InputSwitchedV1 } from './flow-output/input-switched.v1.ts';
import { NotificationFailedV1 } from './notifier/notification-failed.v1.ts';
import { NotificationSentV1 } from './notifier/notification-sent.v1.ts';

export {
  BudgetThresholdCrossedV1,
  ChannelDeletedV1,
  ChannelFailedV1,
  ChannelReclaimedV1,
  ChannelStateChangedV1,
  CostSummaryV1,
  DestinationCreatedV1,
  DestinationDeleteRequestedV1,
  DestinationDeletedV1,
  DestinationStartRequestedV1,
  DestinationStatusChangedV1,
  DestinationStopRequestedV1,
  DestinationUpdatedV1,
  FlowOutputAddedV1,
  FlowOutputFailedV1,
  FlowOutputRemovedV1,
  FlowStateChangedV1,
  InputSwitchedV1,
  NotificationFailedV1,
  NotificationSentV1,
  OrphanResourcesCleanedUpV1,
  UsageSessionClosedV1,
};

export const catalogue: readonly EventDefinition[] = [
  DestinationCreatedV1,
  DestinationUpdatedV1,
  DestinationStartRequestedV1,
  DestinationStopRequestedV1,
  DestinationDeleteRequestedV1,
  DestinationDeletedV1,
  DestinationStatusChangedV1,
  FlowOutputAddedV1,
  FlowOutputRemovedV1,
  FlowOutputFailedV1,
  FlowStateChangedV1,
  InputSwitchedV1,
  ChannelStateChangedV1,
  ChannelDeletedV1,
  ChannelFailedV1,
  ChannelReclaimedV1,
  OrphanResourcesCleanedUpV1,
  UsageSessionClosedV1,
  CostSummaryV1,
  BudgetThresholdCrossedV1,
  NotificationSentV1,
  NotificationFailedV1,
];

/** Finds the definition for a received event, or undefined when this build does not know it. */
export function findEvent(source: string, name: string, version: number): EventDefinition | undefined {
  return catalogue.find((e) => e.source === source && e.name === name && e.version === version);
}
