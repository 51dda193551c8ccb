/**
 * Destinations in DynamoDB. Every write is conditional: creation requires the id to be new, every
 * other write requires the version read (optimistic concurrency; a lost race is VERSION_CONFLICT).
 * The events a write produces travel in the same item write (the embedded outbox) and are
 * published right after it.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../../../shared/errors/index.ts';
import { appendToOutbox, type EmbeddedOutbox, type OutboxMap } from '../../../../shared/events/outbox.ts';
import type { BusEntry } from '../../../../shared/events/publisher.ts';
import { isConditionalCheckFailed, scanAll, storeError } from '../../../../shared/store/dynamo.ts';
import { stamp, upgrade } from '../../../../shared/store/schema-version.ts';
import type { DestinationRecord } from '../domain/destination.ts';
import { DESTINATION_SCHEMA } from './record-schemas.ts';

type Item = DestinationRecord & { outbox?: OutboxMap; tombstone?: boolean; schemaVersion?: number };

export class DestinationRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly outbox: EmbeddedOutbox,
  ) {}

  private async getItem(destinationId: string): Promise<Item | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { destinationId }, ConsistentRead: true }));
      return out.Item as Item | undefined;
    } catch (err) {
      return storeError(err);
    }
  }

  async get(destinationId: string): Promise<DestinationRecord | undefined> {
    const item = await this.getItem(destinationId);
    return item && !item.tombstone ? strip(item) : undefined;
  }

  async require(destinationId: string): Promise<DestinationRecord> {
    const r = await this.get(destinationId);
    if (!r) throw new AppError('DESTINATION_NOT_FOUND', `No destination with id ${destinationId}.`, { destinationId });
    return r;
  }

  async list(): Promise<DestinationRecord[]> {
    let items: Item[];
    try {
      items = await scanAll<Item>(this.doc, { TableName: this.tableName, ConsistentRead: true });
    } catch (err) {
      return storeError(err);
    }
    const out = items.filter((item) => !item.tombstone).map(strip);
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.destinationId.localeCompare(b.destinationId));
  }

  /**
   * One page of the list, in its order (creation time, then id), after `cursor` (keyset: a page
   * is stable while destinations are added or removed elsewhere in the list). The cursor is
   * opaque to clients: base64url of the last item's [createdAt, destinationId].
   * @throws AppError VALIDATION_FAILED for a cursor this repository did not make
   */
  async page(limit: number, cursor?: string): Promise<{ items: DestinationRecord[]; nextCursor: string | null }> {
    let after: [string, string] | null = null;
    if (cursor !== undefined) {
      try {
        const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
        if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') after = [v[0], v[1]];
      } catch {
        // falls through to the error below
      }
      if (!after) throw new AppError('VALIDATION_FAILED', 'cursor: not a nextCursor of this list.', { errors: [{ path: 'cursor', message: 'not a nextCursor of this list' }] });
    }
    const all = await this.list();
    const start = after ? all.findIndex((d) => d.createdAt > after[0] || (d.createdAt === after[0] && d.destinationId > after[1])) : 0;
    const items = start < 0 ? [] : all.slice(start, start + limit);
    const last = items.at(-1);
    const more = start >= 0 && start + limit < all.length;
    return { items, nextCursor: more && last ? Buffer.from(JSON.stringify([last.createdAt, last.destinationId])).toString('base64url') : null };
  }

  /** Creates a destination; false when it already exists (an idempotent retry). */
  async create(record: DestinationRecord, events: BusEntry[]): Promise<boolean> {
    const item: Item = { ...stamp(DESTINATION_SCHEMA, record), outbox: appendToOutbox(undefined, events) };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(destinationId)',
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      return storeError(err);
    }
    await this.outbox.flushQuietly(item);
    return true;
  }

  /**
   * Replaces the record if its stored version is still `next.version - 1`, adding `events` to its
   * outbox. Throws VERSION_CONFLICT when someone else wrote first.
   */
  async save(next: DestinationRecord, events: BusEntry[], opts: { tombstone?: boolean } = {}): Promise<void> {
    const current = await this.getItem(next.destinationId);
    if (!current || current.tombstone) throw new AppError('DESTINATION_NOT_FOUND', `No destination with id ${next.destinationId}.`);
    const expected = next.version - 1;
    if (current.version !== expected)
      throw new AppError('VERSION_CONFLICT', `The destination changed (version ${current.version}, expected ${expected}).`, {
        currentVersion: current.version,
      });
    const item: Item = {
      ...stamp(DESTINATION_SCHEMA, next),
      outbox: appendToOutbox(current.outbox, events),
      ...(opts.tombstone ? { tombstone: true } : {}),
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: '#v = :expected AND attribute_not_exists(tombstone)',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':expected': expected },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new AppError('VERSION_CONFLICT', 'The destination changed while this request was being handled; retry.', {});
      return storeError(err);
    }
    await this.outbox.flushQuietly(item);
  }

  /** Destinations using a preset or platform (for in-use checks). */
  async usedBy(field: 'preset' | 'platform', value: string): Promise<string[]> {
    return (await this.list()).filter((d) => d[field] === value).map((d) => d.destinationId);
  }
}

/** The record in the current shape (older schema versions upgraded), without the store's own attributes. */
function strip(item: Item): DestinationRecord {
  const { outbox: _o, tombstone: _t, ...rest } = item;
  return upgrade<DestinationRecord>(DESTINATION_SCHEMA, rest as unknown as Record<string, unknown>);
}
