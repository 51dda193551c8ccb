/**
 * The notifier's one DynamoDB table (NotifierTable: `pk` + `sk`), holding:
 *
 *   pk channel   sk <channelId>     a delivery channel: kind, name, filters, the webhook URL and
 *                                   signing secret as ciphertexts (never in clear), the masked target
 *   pk state     sk alerting        the Alertmanager state (src/domain/alerting.ts), as JSON
 *   pk queue     sk <channelId>     the channel's delivery queue (src/domain/delivery.ts), as JSON
 *   pk delivery  sk <at>#<id>       one delivery's outcome (what NotificationSent/Failed said), 30 days
 *   pk dest      sk <destinationId> a destination's name and platform as last seen, so alerts about a
 *                                   deleted destination keep the labels (and fingerprint) they fired with
 *
 * Every read-modify-write is conditional on the item's `version` and retried on a lost race
 * (`mutate`): the inbox, the tick and the admin API may touch the same item at once.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../../../shared/errors/index.ts';
import { isConditionalCheckFailed, storeError } from '../../../../shared/store/dynamo.ts';
import type { AlertName, Severity } from '../domain/alerts.ts';
import type { AlertingState } from '../domain/alerting.ts';
import type { ChannelKind, ChannelQueue } from '../domain/delivery.ts';

export const SCHEMA_VERSION = 1;

export interface ChannelRecord {
  channelId: string;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  alertNames: AlertName[] | 'all';
  minSeverity: Severity;
  /** Where it goes, masked (`https://hooks.slack.com/***abcd`, the topic, `log`). */
  target: string;
  /** slack / webhook: the URL, encrypted. */
  urlCiphertext?: string;
  /** webhook: the signing secret (`whsec_...`), encrypted. */
  signingSecretCiphertext?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface DeliveryRecord {
  deliveryId: string;
  channelId: string;
  channelName: string;
  channel: ChannelKind;
  target: string;
  outcome: 'sent' | 'failed';
  /** `non-retryable` / `attempts-exhausted` for failures. */
  reason: string | null;
  status: 'firing' | 'resolved';
  severity: Severity;
  alertNames: string[];
  groups: string[];
  attempts: number;
  httpStatus: number | null;
  error: { code: string; message: string; hint: string } | null;
  test: boolean;
  at: string;
}

const DELIVERY_TTL_SECONDS = 30 * 24 * 3600;
const MUTATE_ATTEMPTS = 8;

type Item = Record<string, unknown> & { pk: string; sk: string; version?: number };

export class NotifierStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private async get(pk: string, sk: string): Promise<Item | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }));
      return out.Item as Item | undefined;
    } catch (err) {
      storeError(err);
    }
  }

  private async query(pk: string, o: { limit?: number; newestFirst?: boolean } = {}): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ConsistentRead: true,
            ScanIndexForward: !o.newestFirst,
            ...(o.limit ? { Limit: o.limit - items.length } : {}),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...((out.Items ?? []) as Item[]));
        start = out.LastEvaluatedKey;
      } while (start && (!o.limit || items.length < o.limit));
    } catch (err) {
      storeError(err);
    }
    return items;
  }

  /** Writes `next` if the item is still at `version` (0: absent). False when it was not. */
  private async putIf(item: Item, version: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...item, version: version + 1, schemaVersion: SCHEMA_VERSION },
          ...(version === 0 ? { ConditionExpression: 'attribute_not_exists(pk)' } : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': version } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      storeError(err);
    }
  }

  /**
   * Read-modify-write of one JSON item: `change` gets the current value (undefined when absent)
   * and returns the next one (undefined: write nothing) and a result. Retried on a lost race.
   */
  async mutate<T, R>(pk: string, sk: string, change: (current: T | undefined) => { next?: T; result: R } | Promise<{ next?: T; result: R }>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      const item = await this.get(pk, sk);
      const current = item ? (JSON.parse(item.body as string) as T) : undefined;
      const { next, result } = await change(current);
      if (next === undefined) return result;
      if (await this.putIf({ pk, sk, body: JSON.stringify(next) }, item?.version ?? 0)) return result;
      if (attempt >= MUTATE_ATTEMPTS) throw new AppError('VERSION_CONFLICT', `notifier ${pk}/${sk} kept changing under this write`);
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }

  async readJson<T>(pk: string, sk: string): Promise<T | undefined> {
    const item = await this.get(pk, sk);
    return item ? (JSON.parse(item.body as string) as T) : undefined;
  }

  // ---- channels

  async channels(): Promise<ChannelRecord[]> {
    return (await this.query('channel')).map(toChannel);
  }

  async channel(channelId: string): Promise<ChannelRecord | undefined> {
    const item = await this.get('channel', channelId);
    return item ? toChannel(item) : undefined;
  }

  /** Creates (version 0) or replaces the channel at `record.version`; VERSION_CONFLICT otherwise. */
  async putChannel(record: Omit<ChannelRecord, 'version'>, version: number): Promise<ChannelRecord> {
    const ok = await this.putIf({ pk: 'channel', sk: record.channelId, ...record }, version);
    if (!ok) throw new AppError(version === 0 ? 'ALREADY_EXISTS' : 'VERSION_CONFLICT', version === 0 ? 'A channel with this id exists.' : 'The channel changed meanwhile; read it again.');
    return { ...record, version: version + 1 };
  }

  async deleteChannel(channelId: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: 'channel', sk: channelId } }));
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: 'queue', sk: channelId } }));
    } catch (err) {
      storeError(err);
    }
  }

  // ---- delivery records

  async recordDelivery(r: DeliveryRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: 'delivery', sk: `${r.at}#${r.deliveryId}#${r.channelId}`, ...r, expiresAt: Math.floor(Date.parse(r.at) / 1000) + DELIVERY_TTL_SECONDS, schemaVersion: SCHEMA_VERSION },
        }),
      );
    } catch (err) {
      storeError(err);
    }
  }

  async deliveries(limit: number, channelId?: string): Promise<DeliveryRecord[]> {
    const items = await this.query('delivery', { newestFirst: true, ...(channelId ? {} : { limit }) });
    return items
      .map(toDelivery)
      .filter((d) => !channelId || d.channelId === channelId)
      .slice(0, limit);
  }

  // ---- destination names

  async destination(destinationId: string): Promise<{ name: string; platform: string } | undefined> {
    const item = await this.get('dest', destinationId);
    return item ? { name: item.name as string, platform: item.platform as string } : undefined;
  }

  async rememberDestination(destinationId: string, d: { name: string; platform: string }): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'dest', sk: destinationId, name: d.name, platform: d.platform, schemaVersion: SCHEMA_VERSION } }));
    } catch (err) {
      storeError(err);
    }
  }

  // ---- alerting state and queues (JSON items, through mutate)

  alerting<R>(change: (s: AlertingState | undefined) => { next?: AlertingState; result: R } | Promise<{ next?: AlertingState; result: R }>): Promise<R> {
    return this.mutate('state', 'alerting', change);
  }

  queue<R>(channelId: string, change: (q: StoredQueue | undefined) => { next?: StoredQueue; result: R } | Promise<{ next?: StoredQueue; result: R }>): Promise<R> {
    return this.mutate('queue', channelId, change);
  }

  async queues(): Promise<{ channelId: string; queue: StoredQueue }[]> {
    return (await this.query('queue')).map((i) => ({ channelId: i.sk, queue: JSON.parse(i.body as string) as StoredQueue }));
  }
}

/** A channel's queue as stored: the domain queue and when its in-flight attempt was claimed. */
export interface StoredQueue {
  queue: ChannelQueue;
  /** When the in-flight delivery was claimed (a claim older than the lease is an interrupted attempt). */
  inFlightSinceMs: number | null;
  /** Notification ids this queue took (the newest few hundred): a retried tick queues none twice. */
  recentIds: string[];
}

function toChannel(i: Item): ChannelRecord {
  const { pk: _pk, sk: _sk, schemaVersion: _v, ...rest } = i;
  return rest as unknown as ChannelRecord;
}

function toDelivery(i: Item): DeliveryRecord {
  const { pk: _pk, sk: _sk, schemaVersion: _v, expiresAt: _e, ...rest } = i;
  return rest as unknown as DeliveryRecord;
}
