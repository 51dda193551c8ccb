/**
 * Destinations in DynamoDB. Every write is conditional: creation requires the id to be new, every
 * other write requires the version read (optimistic concurrency; a lost race is VERSION_CONFLICT).
 * The events a write produces travel in the same item write (the embedded outbox) and are
 * published right after it.
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../../../shared/errors/index.ts';
import { appendToOutbox, type EmbeddedOutbox, type OutboxMap } from '../../../../shared/events/outbox.ts';
import type { BusEntry } from '../../../../shared/events/publisher.ts';
import { isConditionalCheckFailed, scanAll, storeError } from '../../../../shared/store/dynamo.ts';
import { stamp, upgrade } from '../../../../shared/store/schema-version.ts';
import type { DestinationListItem, DestinationRecord } from '../domain/destination.ts';
import { DESTINATION_SCHEMA, LIST_KEY, listSort } from './record-schemas.ts';

type Item = DestinationRecord & { outbox?: OutboxMap; tombstone?: boolean; schemaVersion?: number; listKey?: string; listSort?: string };

/** The list index (serverless.yml): live destinations in creation order, their view's fields only. */
export const LIST_INDEX = 'byCreation';

/** The item as written: the record, its schema version and, while it is not deleted, the list index's keys. */
function itemOf(record: DestinationRecord, outbox: OutboxMap | undefined, tombstone: boolean): Item {
  return { ...stamp(DESTINATION_SCHEMA, record), outbox, ...(tombstone ? { tombstone: true } : { listKey: LIST_KEY, listSort: listSort(record) }) } as Item;
}

const badCursor = (): AppError => new AppError('VALIDATION_FAILED', 'cursor: not a nextCursor of this list.', { errors: [{ path: 'cursor', message: 'not a nextCursor of this list' }] });

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A nextCursor's position: base64url of the JSON [createdAt, destinationId] of the page's last item. */
export function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && ISO_TIME.test(v[0]) && UUID.test(v[1])) return [v[0], v[1]];
  } catch {
    // falls through
  }
  throw badCursor();
}

export const encodeCursor = (d: { createdAt: string; destinationId: string }): string => Buffer.from(JSON.stringify([d.createdAt, d.destinationId])).toString('base64url');

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
   * is stable while destinations are added or removed elsewhere in the list). Read from the list
   * index (ADR 0025): DynamoDB pages it (a Query with Limit and ExclusiveStartKey), the items hold
   * the view's fields only (no stream-key ciphertext, no outbox), nothing is sorted or decrypted
   * here. One item more than `limit` is asked for, so the last page says so (nextCursor null)
   * rather than leading to an empty one. The index is eventually consistent: a destination
   * created a moment ago may be missing from a page read at once (its 201 and the event stream
   * tell of it). The cursor is opaque to clients: base64url of the last item's
   * [createdAt, destinationId], as it always was, so cursors handed out before stay valid.
   * @throws AppError VALIDATION_FAILED for a cursor this repository did not make
   */
  async page(limit: number, cursor?: string): Promise<{ items: DestinationListItem[]; nextCursor: string | null }> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    let startKey: Record<string, unknown> | undefined = after ? { listKey: LIST_KEY, listSort: `${after[0]}#${after[1]}`, destinationId: after[1] } : undefined;
    const found: Item[] = [];
    try {
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: LIST_INDEX,
            KeyConditionExpression: 'listKey = :k',
            ExpressionAttributeValues: { ':k': LIST_KEY },
            Limit: limit + 1 - found.length,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        found.push(...((out.Items ?? []) as Item[]));
        startKey = out.LastEvaluatedKey;
      } while (startKey && found.length <= limit);
    } catch (err) {
      return storeError(err);
    }
    const items = found.slice(0, limit).map((i) => strip(i) as DestinationListItem);
    const last = items.at(-1);
    return { items, nextCursor: found.length > limit && last ? encodeCursor(last) : null };
  }

  /** Creates a destination; false when it already exists (an idempotent retry). */
  async create(record: DestinationRecord, events: BusEntry[]): Promise<boolean> {
    const item = itemOf(record, appendToOutbox(undefined, events), false);
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
    const item = itemOf(next, appendToOutbox(current.outbox, events), opts.tombstone === true);
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
  const { listKey: _k, listSort: _s, ...record } = upgrade<DestinationRecord & { listKey?: string; listSort?: string }>(DESTINATION_SCHEMA, rest as unknown as Record<string, unknown>);
  return record;
}
