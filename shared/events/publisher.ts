/**
 * Publishing domain events. The `EventPublisher` port has two adapters: EventBridge (PutEvents on
 * the custom bus) on AWS and the in-process bus locally. `buildEntry` validates an event against
 * its catalogue schema before it can be written anywhere, so a producer cannot emit a malformed
 * event (tests capture every entry and check this again).
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventData, EventDefinition } from '../../events/envelope.ts';

export interface BusEntry {
  Source: string;
  DetailType: string;
  /** JSON of `{ version, id, occurredAt, correlationId, data }`. */
  Detail: string;
  EventBusName?: string;
  Resources?: string[];
}

export interface EventPublisher {
  /** Publishes in order; throws if any entry was not accepted (the outbox keeps it for the next try). */
  publish(entries: BusEntry[]): Promise<void>;
}

/** Builds a validated bus entry for an event. `id` defaults to a new UUID. */
export function buildEntry<E extends EventDefinition>(def: E, data: EventData<E>, meta: { correlationId: string; id?: string; occurredAt?: string }): BusEntry {
  const detail = def.detail.parse({
    version: def.version,
    id: meta.id ?? randomUUID(),
    occurredAt: meta.occurredAt ?? new Date().toISOString(),
    correlationId: meta.correlationId,
    data,
  });
  return { Source: def.source, DetailType: def.name, Detail: JSON.stringify(detail) };
}

/** PutEvents' limits per call: 10 entries, 256 KiB (Source, DetailType and Detail counted). */
export const PUT_EVENTS_LIMITS = { entries: 10, bytes: 256 * 1024 } as const;

const entryBytes = (e: BusEntry): number => Buffer.byteLength(e.Source) + Buffer.byteLength(e.DetailType) + Buffer.byteLength(e.Detail);

/**
 * Splits entries, in order, into calls PutEvents accepts: at most 10 entries and 256 KiB each. An
 * outbox can hold more than one call's worth (the cost-tracker's tracker item with 21 running
 * destinations held 21): every publisher sends through this, AWS's and the local bus's alike.
 */
export function putEventsBatches(entries: readonly BusEntry[]): BusEntry[][] {
  const batches: BusEntry[][] = [];
  let batch: BusEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = entryBytes(e);
    if (batch.length > 0 && (batch.length === PUT_EVENTS_LIMITS.entries || bytes + size > PUT_EVENTS_LIMITS.bytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(entries: BusEntry[]): Promise<void> {
    for (const batch of putEventsBatches(entries)) {
      const out = await this.client.send(new PutEventsCommand({ Entries: batch.map((e) => ({ ...e, EventBusName: this.busName })) }));
      if ((out.FailedEntryCount ?? 0) > 0) {
        const codes = (out.Entries ?? []).map((e) => e.ErrorCode).filter(Boolean);
        throw new Error(`EventBridge rejected ${out.FailedEntryCount} event(s): ${codes.join(', ')}`);
      }
    }
  }
}

/** Fans published entries out to in-process listeners too (the local runtime's live event stream uses it). */
export class TappedPublisher implements EventPublisher {
  private readonly listeners = new Set<(entry: BusEntry) => void>();
  constructor(private readonly inner: EventPublisher) {}

  onPublished(listener: (entry: BusEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(entries: BusEntry[]): Promise<void> {
    await this.inner.publish(entries);
    for (const e of entries) for (const l of this.listeners) l(e);
  }
}
