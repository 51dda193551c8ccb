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
export function buildEntry<E extends EventDefinition>(
  def: E,
  data: EventData<E>,
  meta: { correlationId: string; id?: string; occurredAt?: string },
): BusEntry {
  const detail = def.detail.parse({
    version: def.version,
    id: meta.id ?? randomUUID(),
    occurredAt: meta.occurredAt ?? new Date().toISOString(),
    correlationId: meta.correlationId,
    data,
  });
  return { Source: def.source, DetailType: def.name, Detail: JSON.stringify(detail) };
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(entries: BusEntry[]): Promise<void> {
    // PutEvents takes at most 10 entries per call.
    for (let i = 0; i < entries.length; i += 10) {
      const batch = entries.slice(i, i + 10).map((e) => ({ ...e, EventBusName: this.busName }));
      const out = await this.client.send(new PutEventsCommand({ Entries: batch }));
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
