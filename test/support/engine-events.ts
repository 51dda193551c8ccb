/**
 * Test support: plays the part of the services the destination service listens to (the channel
 * provisioner and flow-output) by putting their events on the local bus, where the destination
 * inbox consumes them exactly as it would on AWS.
 */
import { randomUUID } from 'node:crypto';
import { ChannelStateChangedV1, FlowOutputRemovedV1 } from '../../events/catalogue.ts';
import type { ChannelState } from '../../events/channel-provisioner/common.ts';
import type { LastError } from '../../events/envelope.ts';
import { buildEntry, type BusEntry } from '../../shared/events/publisher.ts';
import type { LocalRuntime } from '../../shared/runtimes/local/runtime.ts';

/** Reports a channel state for a destination (as channel-provisioner would). */
export async function reportChannelState(rt: LocalRuntime, destinationId: string, state: ChannelState, opts: { error?: LastError | null; channelId?: string; observedAt?: string } = {}): Promise<void> {
  const entry = buildEntry(
    ChannelStateChangedV1,
    {
      destinationId,
      channelId: opts.channelId ?? `channel-${destinationId.slice(0, 8)}`,
      state,
      error: opts.error ?? null,
      observedAt: opts.observedAt ?? new Date().toISOString(),
    },
    { correlationId: `test-${randomUUID()}` },
  );
  await put(rt, entry);
}

/** Reports that a destination's flow output is gone (as flow-output would, last step of a teardown). */
export async function reportFlowOutputRemoved(rt: LocalRuntime, destinationId: string): Promise<void> {
  const entry = buildEntry(FlowOutputRemovedV1, { destinationId, flowArn: 'arn:aws:mediaconnect:eu-west-1:000000000000:flow:test', outputArn: null }, { correlationId: `test-${randomUUID()}` });
  await put(rt, entry);
}

async function put(rt: LocalRuntime, entry: BusEntry): Promise<void> {
  const out = await rt.bus.putEvents([{ ...entry, EventBusName: rt.config.eventBus }]);
  if (out.FailedEntryCount > 0) throw new Error(`the bus rejected the test event: ${JSON.stringify(out.Entries)}`);
}
