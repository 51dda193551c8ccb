/**
 * Feeds the live event stream from published domain events: the destination events, and the
 * contribution flow's state (FlowStateChanged, from flow-output) as `flow.status`, and input
 * switches (InputSwitched) as `input.switched`. The runtime that
 * can stream (the local one) taps its publisher into this.
 */
import type { SseHub } from './sse-hub.ts';

export function forwardToSse(hub: SseHub, entry: { Source: string; DetailType: string; Detail: string }): void {
  const names: Record<string, string> = {
    'fanout.destination/DestinationCreated': 'destination.created',
    'fanout.destination/DestinationUpdated': 'destination.updated',
    'fanout.destination/DestinationStatusChanged': 'destination.status',
    'fanout.destination/DestinationDeleted': 'destination.deleted',
    'fanout.flow-output/FlowStateChanged': 'flow.status',
    'fanout.flow-output/InputSwitched': 'input.switched',
  };
  const event = names[`${entry.Source}/${entry.DetailType}`];
  if (!event) return;
  const detail = JSON.parse(entry.Detail) as { id: string; occurredAt: string; data: unknown };
  hub.publish(event, { eventId: detail.id, occurredAt: detail.occurredAt, ...(detail.data as object) });
}
