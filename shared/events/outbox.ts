/**
 * The embedded outbox: no event is lost between a DynamoDB write and its publication.
 *
 * dynalite (our local DynamoDB) has no transactions, and a write-then-publish can lose the event if
 * the process dies in between. So every aggregate item carries its own outbox: the write that
 * changes the item also adds the events it produced to the item's `outbox` map, in one atomic
 * single-item write. Publishing happens after the write (at once, in the request) and again from
 * a sweep (at start-up and on a schedule) for anything left behind by a crash or a failed
 * PutEvents. Publication is therefore at least once; consumers are idempotent on the event id.
 * Deleted aggregates become tombstones until their last event is out, then they are removed.
 * See docs/adr/0002-embedded-outbox.md.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, scanAll } from '../store/dynamo.ts';
import type { BusEntry, EventPublisher } from './publisher.ts';
import type { Log } from '../logging/logger.ts';

export interface OutboxRecord {
  /** Order of publication within the item. */
  seq: number;
  entry: BusEntry;
}

export type OutboxMap = Record<string, OutboxRecord>;

export interface OutboxItem {
  version: number;
  outbox?: OutboxMap;
  tombstone?: boolean;
}

/** Adds events to an item's outbox map (keyed by the event id in the detail). */
export function appendToOutbox(existing: OutboxMap | undefined, entries: BusEntry[]): OutboxMap {
  const out: OutboxMap = { ...(existing ?? {}) };
  let seq = Math.max(0, ...Object.values(out).map((r) => r.seq));
  for (const entry of entries) {
    const id = (JSON.parse(entry.Detail) as { id: string }).id;
    out[id] = { seq: ++seq, entry };
  }
  return out;
}

export class EmbeddedOutbox {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly publisher: EventPublisher,
    private readonly tableName: string,
    private readonly keyName: string,
    private readonly log: Pick<Log, 'info' | 'warn'>,
  ) {}

  /** Publishes an item's pending events in order, then clears them; removes a drained tombstone. */
  async flush(item: OutboxItem): Promise<number> {
    const pending = Object.entries(item.outbox ?? {}).sort(([, a], [, b]) => a.seq - b.seq);
    const key = { [this.keyName]: this.keyOf(item) };
    if (pending.length > 0) await this.publisher.publish(pending.map(([, r]) => r.entry));
    // The usual case: nobody wrote the item since, so its outbox is exactly what was just
    // published: one conditional write clears it (or removes the tombstone).
    try {
      const unchanged = { TableName: this.tableName, Key: key, ConditionExpression: '#v = :v', ExpressionAttributeValues: { ':v': item.version } };
      if (item.tombstone) await this.doc.send(new DeleteCommand({ ...unchanged, ExpressionAttributeNames: { '#v': 'version' } }));
      else await this.doc.send(new UpdateCommand({ ...unchanged, UpdateExpression: 'REMOVE #o', ExpressionAttributeNames: { '#v': 'version', '#o': 'outbox' } }));
      return pending.length;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    // Written again meanwhile (the new version carries these events too, and maybe others): remove
    // exactly the ones published, then the map or the tombstone if nothing else is left.
    if (pending.length > 0) {
      const names: Record<string, string> = { '#o': 'outbox' };
      for (const [i, [id]] of pending.entries()) names[`#e${i}`] = id;
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `REMOVE ${pending.map((_, i) => `#o.#e${i}`).join(', ')}`,
            ConditionExpression: 'attribute_exists(#o)',
            ExpressionAttributeNames: names,
          }),
        );
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    }
    // Drop the empty map, and a tombstone whose last event is out (unless written again meanwhile).
    try {
      if (item.tombstone) {
        await this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: key,
            ConditionExpression: '#v = :v AND (attribute_not_exists(#o) OR size(#o) = :zero)',
            ExpressionAttributeNames: { '#v': 'version', '#o': 'outbox' },
            ExpressionAttributeValues: { ':v': item.version, ':zero': 0 },
          }),
        );
      } else {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'REMOVE #o',
            ConditionExpression: 'attribute_exists(#o) AND size(#o) = :zero',
            ExpressionAttributeNames: { '#o': 'outbox' },
            ExpressionAttributeValues: { ':zero': 0 },
          }),
        );
      }
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    return pending.length;
  }

  /** Flushes after a write without failing the write: a failure is left for the sweep. */
  async flushQuietly(item: OutboxItem): Promise<void> {
    try {
      await this.flush(item);
    } catch (err) {
      this.log.warn('outbox publish failed; the sweep will retry', { error: (err as Error).message, key: this.keyOf(item) });
    }
  }

  private keyOf(item: OutboxItem): unknown {
    return (item as unknown as Record<string, unknown>)[this.keyName];
  }

  /** Finds every item with pending events or an undrained tombstone and flushes it. Returns events published. */
  async sweep(): Promise<number> {
    let published = 0;
    const pending = await scanAll<OutboxItem>(this.doc, {
      TableName: this.tableName,
      FilterExpression: 'attribute_exists(#o) OR attribute_exists(#t)',
      ExpressionAttributeNames: { '#o': 'outbox', '#t': 'tombstone' },
    });
    for (const item of pending) {
      try {
        published += await this.flush(item);
      } catch (err) {
        this.log.warn('outbox sweep could not publish; will retry', { error: (err as Error).message, key: this.keyOf(item) });
      }
    }
    if (published > 0) this.log.info('outbox sweep published events left behind', { published });
    return published;
  }
}
