/**
 * A small versioned record store for a service's own table: get, list, conditional put (new, or
 * replacing a known version), remove. Used by flow-output (outputs) and channel-provisioner
 * (channels); a lost race surfaces as VERSION_CONFLICT and the SQS retry runs the step again.
 *
 * Every record carries the embedded outbox of ADR 0002 (`shared/events/outbox.ts`), as the
 * destination items do: `put(next, events)` and `remove(record, events)` store the events in the
 * same single-item write that changes the record, publish them right after, and the owner's
 * scheduled reconcile sweeps (`sweepOutbox`) whatever a crash or a failed publication left. A
 * removed record with events still to publish stays as a tombstone until they are out. So an event
 * announcing a write is never lost between the write and its publication (ADR 0016). Records carry
 * the schema version they were written in and are upgraded on read (ADR 0017, schema-version.ts).
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../errors/index.ts';
import { appendToOutbox, EmbeddedOutbox, type OutboxMap } from '../events/outbox.ts';
import type { BusEntry, EventPublisher } from '../events/publisher.ts';
import type { Log } from '../logging/logger.ts';
import { isConditionalCheckFailed, scanAll } from './dynamo.ts';
import { stamp, upgrade, type RecordSchema } from './schema-version.ts';

export interface VersionedRecord {
  version: number;
}

type Stored<T> = T & { outbox?: OutboxMap; tombstone?: boolean };

export interface RecordStoreOutbox {
  /** Where the records' events go. */
  publisher: EventPublisher;
  log: Pick<Log, 'info' | 'warn'>;
}

export class RecordStore<T extends VersionedRecord> {
  private readonly outbox: EmbeddedOutbox;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly keyName: keyof T & string,
    events: RecordStoreOutbox,
    /** The records' stored shape (ADR 0017): version 1 with no upgrades unless a service says otherwise. */
    readonly schema: RecordSchema = { name: tableName, version: 1, steps: {} },
  ) {
    this.outbox = new EmbeddedOutbox(doc, events.publisher, tableName, keyName, events.log);
  }

  private async getItem(key: string): Promise<Stored<T> | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [this.keyName]: key }, ConsistentRead: true }));
    return out.Item as Stored<T> | undefined;
  }

  /** The record, or undefined when there is none (a tombstone is none). */
  async get(key: string): Promise<T | undefined> {
    const item = await this.getItem(key);
    return item && !item.tombstone ? this.read(item) : undefined;
  }

  async list(): Promise<T[]> {
    const items = await scanAll<Stored<T>>(this.doc, { TableName: this.tableName, ConsistentRead: true });
    return items.filter((i) => !i.tombstone).map((i) => this.read(i));
  }

  async queryIndex(indexName: string, attribute: string, value: string): Promise<T[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#a = :v',
        ExpressionAttributeNames: { '#a': attribute },
        ExpressionAttributeValues: { ':v': value },
      }),
    );
    return ((out.Items ?? []) as Stored<T>[]).filter((i) => !i.tombstone).map((i) => this.read(i));
  }

  /**
   * Writes `next` (new when `next.version === 1`, else replacing version `next.version - 1`) with
   * `events` in its outbox, then publishes them. Events an earlier write left unpublished are kept.
   */
  async put(next: T, events: BusEntry[] = []): Promise<void> {
    const key = String(next[this.keyName]);
    const current = await this.getItem(key);
    const expected = next.version - 1;
    // Fail early on a known conflict (the conditional write below is what guarantees it).
    if (next.version === 1 ? current !== undefined : !current || current.tombstone || current.version !== expected) throw this.conflict(key);
    const outbox = appendToOutbox(current?.outbox, events);
    const item: Stored<T> = { ...stamp(this.schema, next), ...(Object.keys(outbox).length > 0 ? { outbox } : {}) };
    await this.write(
      next.version === 1
        ? { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': this.keyName } }
        : {
            TableName: this.tableName,
            Item: item,
            ConditionExpression: '#v = :expected AND attribute_not_exists(#t)',
            ExpressionAttributeNames: { '#v': 'version', '#t': 'tombstone' },
            ExpressionAttributeValues: { ':expected': expected },
          },
      key,
    );
    if (item.outbox) await this.outbox.flushQuietly(item);
  }

  /**
   * Removes `record` if it is still at its version, publishing `events` after: the record becomes
   * a tombstone holding them, removed once they are out.
   */
  async remove(record: T, events: BusEntry[] = []): Promise<void> {
    const key = String(record[this.keyName]);
    const current = await this.getItem(key);
    if (!current || current.tombstone || current.version !== record.version) throw this.conflict(key);
    const outbox = appendToOutbox(current.outbox, events);
    if (Object.keys(outbox).length === 0) {
      try {
        await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { [this.keyName]: key }, ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': record.version } }));
      } catch (err) {
        if (isConditionalCheckFailed(err)) throw this.conflict(key);
        throw err;
      }
      return;
    }
    const tombstone: Stored<T> = { ...stamp(this.schema, record), version: record.version + 1, outbox, tombstone: true };
    await this.write({ TableName: this.tableName, Item: tombstone, ConditionExpression: '#v = :expected', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':expected': record.version } }, key);
    await this.outbox.flushQuietly(tombstone);
  }

  /** Publishes what a crash or a failed publication left in any record's outbox (the owner's reconcile calls it). */
  sweepOutbox(): Promise<number> {
    return this.outbox.sweep();
  }

  private async write(input: ConstructorParameters<typeof PutCommand>[0], key: string): Promise<void> {
    try {
      await this.doc.send(new PutCommand(input));
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw this.conflict(key);
      throw err;
    }
  }

  /** A stored item as the record it holds: without its outbox, upgraded to the current schema version. */
  private read(item: Stored<T>): T {
    return upgrade<T>(this.schema, strip(item) as unknown as Record<string, unknown>);
  }

  private conflict(key: string): AppError {
    return new AppError('VERSION_CONFLICT', `${this.tableName}: ${key} changed concurrently.`);
  }
}

function strip<T>(item: Stored<T>): T {
  const { outbox: _o, tombstone: _t, ...rest } = item;
  return rest as T;
}
