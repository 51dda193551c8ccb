/**
 * The embedded DynamoDB: dynalite (DynamoDB's API on LevelDB) on a loopback port, persisted under
 * the data dir, with the tables created from their definitions in serverless.yml.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  PutItemCommand,
  ScanCommand,
  type DynamoDBClient,
  type ScanCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { TableWiring } from './serverless-config.ts';

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * dynalite 4.0.0 reads every Query, Scan and ListTables through a stream over an abstract-level
 * iterator, and ends that iterator with `iterator.return()` (the async-iterator protocol) when the
 * stream is done or cut short (a Limit). abstract-level 3's iterators have no `return`: they end
 * with `close()`. So each of those requests left its iterator open until the database closed: held
 * in the database's set of open resources (the V8 heap) and, on disk, a LevelDB iterator with the
 * snapshot, memtables and table files it pins (native memory, outside V8). The soak measured it as
 * 185.8 MiB/h of RSS with the database on disk (docs/performance.md, ADR 0029). The iterators get
 * the `return` dynalite calls, which closes them; the patch finds abstract-level the way dynalite
 * itself loads it (through `level` → `classic-level` on disk, `memory-level` in memory), and
 * leaves alone an iterator class that already has a `return`.
 */
export function closeDynaliteIterators(): number {
  let patched = 0;
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const chains = [
    ['level', 'classic-level', 'abstract-level'],
    ['memory-level', 'abstract-level'],
  ];
  for (const chain of chains) {
    let req = fromDynalite;
    for (const name of chain.slice(0, -1)) req = createRequire(req.resolve(name));
    const lib = req(chain.at(-1)!) as Record<string, { prototype: object } | undefined>;
    for (const name of ['AbstractIterator', 'AbstractKeyIterator', 'AbstractValueIterator']) {
      const proto = lib[name]?.prototype as { close?: () => Promise<void>; return?: unknown } | undefined;
      if (!proto || typeof proto.close !== 'function' || 'return' in proto) continue;
      Object.defineProperty(proto, 'return', {
        configurable: true,
        writable: true,
        value: async function (this: { close(): Promise<void> }): Promise<IteratorReturnResult<undefined>> {
          await this.close();
          return { done: true, value: undefined };
        },
      });
      patched++;
    }
  }
  return patched;
}

/** Starts dynalite; `path` undefined keeps everything in memory (tests). */
export async function startDynalite(path: string | undefined): Promise<EmbeddedDynamo> {
  closeDynaliteIterators();
  if (path) mkdirSync(path, { recursive: true });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/**
 * Creates every table of the wiring that does not exist yet, and gives an existing one the global
 * secondary indexes its definition gained since it was created (the destinations' list index,
 * ADR 0025). DynamoDB adds an index to a live table (CloudFormation does it on AWS); dynalite
 * cannot, so the table is rebuilt: its items copied to `<table>.rebuild`, the table made again
 * with its indexes, the items copied back, the copy dropped. A start cut short in the middle finds
 * the copy and finishes from it (the copy is complete before the table is dropped).
 */
export async function ensureTables(client: DynamoDBClient, tables: readonly TableWiring[]): Promise<void> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const t of tables) {
    const copy = `${t.tableName}.rebuild`;
    if (existing.has(copy)) {
      // An earlier rebuild was cut short: the copy holds every item.
      if (existing.has(t.tableName)) await deleteTable(client, t.tableName);
      await createTable(client, t, t.tableName);
      await copyItems(client, copy, t.tableName);
      await deleteTable(client, copy);
      continue;
    }
    if (!existing.has(t.tableName)) {
      await createTable(client, t, t.tableName);
      continue;
    }
    const wanted = ((t.globalSecondaryIndexes ?? []) as { IndexName: string }[]).map((i) => i.IndexName);
    if (wanted.length === 0) continue;
    const has = new Set(((await client.send(new DescribeTableCommand({ TableName: t.tableName }))).Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    if (wanted.every((n) => has.has(n))) continue;
    await createTable(client, { ...t, globalSecondaryIndexes: [] }, copy);
    await copyItems(client, t.tableName, copy);
    await deleteTable(client, t.tableName);
    await createTable(client, t, t.tableName);
    await copyItems(client, copy, t.tableName);
    await deleteTable(client, copy);
  }
}

type RawItem = Record<string, AttributeValue>;

interface IndexDefinition {
  IndexName: string;
  KeySchema: { AttributeName: string }[];
  Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
}

export interface IndexRepair {
  table: string;
  index: string;
  /** Index entries whose item does not exist (a create cut short): removed. */
  removed: number;
  /** Items whose index entry was missing or told an older write: the item written again as it is. */
  rewritten: number;
}

/**
 * Makes every global secondary index agree with its table again after a crash. dynalite writes an
 * item's index entries and then the item, as separate LevelDB writes (actions/putItem.js), so a
 * kill -9 between the two leaves an index entry for an item that was never written (a create cut
 * short: a destination listed as `creating` that nothing reconciles, since every internal reader
 * reads the table, never the index), or an entry that tells a write the table never got, or
 * (a tombstone cut short) no entry for an item still live. DynamoDB keeps its indexes itself and
 * has none of this. Run at every start, before anything reads or writes: the table is the truth.
 * A ghost entry is removed through the API (an item put under its key, with its index keys,
 * then deleted: dynalite replaces the entry, then drops it); a stale or missing one by writing the
 * item again as it is. An entry under other index keys than its live item's is only reported
 * (no index of Fanout changes an item's index keys, so no crash can leave one).
 */
export async function repairIndexes(client: DynamoDBClient, tables: readonly TableWiring[], warn: (message: string, data: Record<string, unknown>) => void = () => undefined): Promise<IndexRepair[]> {
  const reports: IndexRepair[] = [];
  for (const t of tables) {
    const indexes = (t.globalSecondaryIndexes ?? []) as IndexDefinition[];
    if (indexes.length === 0) continue;
    const tableKeys = t.keySchema.map((k) => k.AttributeName);
    const keyOf = (item: RawItem): string => canonical(pick(item, tableKeys));
    const items = new Map((await scanRaw(client, { TableName: t.tableName, ConsistentRead: true })).map((i) => [keyOf(i), i]));
    for (const index of indexes) {
      const report: IndexRepair = { table: t.tableName, index: index.IndexName, removed: 0, rewritten: 0 };
      const indexKeys = index.KeySchema.map((k) => k.AttributeName);
      const projected = (item: RawItem): RawItem => {
        const type = index.Projection?.ProjectionType ?? 'ALL';
        if (type === 'ALL') return item;
        return pick(item, [...indexKeys, ...tableKeys, ...(type === 'INCLUDE' ? (index.Projection?.NonKeyAttributes ?? []) : [])]);
      };
      const entries = new Map((await scanRaw(client, { TableName: t.tableName, IndexName: index.IndexName })).map((e) => [keyOf(e), e]));
      for (const [key, entry] of entries) {
        const item = items.get(key);
        if (item) {
          if (canonical(pick(item, indexKeys)) !== canonical(pick(entry, indexKeys))) warn('dynalite: an index entry is under other keys than its item', { table: t.tableName, index: index.IndexName });
          continue;
        }
        const placeholder = pick(entry, [...tableKeys, ...indexKeys]);
        const names = Object.fromEntries(tableKeys.map((k, i) => [`#k${i}`, k]));
        await client.send(
          new PutItemCommand({
            TableName: t.tableName,
            Item: placeholder,
            ConditionExpression: Object.keys(names)
              .map((n) => `attribute_not_exists(${n})`)
              .join(' AND '),
            ExpressionAttributeNames: names,
          }),
        );
        await client.send(new DeleteItemCommand({ TableName: t.tableName, Key: pick(entry, tableKeys) }));
        report.removed++;
      }
      for (const [key, item] of items) {
        if (!indexKeys.every((k) => item[k] !== undefined)) continue;
        const entry = entries.get(key);
        if (entry && canonical(projected(entry)) === canonical(projected(item))) continue;
        await client.send(new PutItemCommand({ TableName: t.tableName, Item: item }));
        report.rewritten++;
      }
      if (report.removed + report.rewritten > 0) reports.push(report);
    }
  }
  return reports;
}

async function scanRaw(client: DynamoDBClient, input: Omit<ScanCommandInput, 'ExclusiveStartKey'>): Promise<RawItem[]> {
  const out: RawItem[] = [];
  let startKey: RawItem | undefined;
  do {
    const page = await client.send(new ScanCommand({ ...input, ExclusiveStartKey: startKey }));
    out.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
}

function pick(item: RawItem, names: readonly string[]): RawItem {
  const out: RawItem = {};
  for (const n of names) if (item[n] !== undefined) out[n] = item[n];
  return out;
}

/** A stable text of an attribute value (map keys sorted), to compare items read by different requests. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The table's status, null once it is gone (dynalite drops a deleted table's entry a moment after answering). */
async function statusOf(client: DynamoDBClient, name: string): Promise<string | null> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus ?? null;
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return null;
    throw err;
  }
}

async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`dynalite: timed out waiting for ${what}`);
}

async function deleteTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: name }));
  await until(`table ${name} deleted`, async () => (await statusOf(client, name)) === null);
}

async function createTable(client: DynamoDBClient, t: TableWiring, name: string): Promise<void> {
  const gsis = t.globalSecondaryIndexes && t.globalSecondaryIndexes.length > 0 ? t.globalSecondaryIndexes : undefined;
  // An index's key attributes are defined only with the index (DynamoDB refuses unused definitions).
  const used = new Set([...t.keySchema, ...((gsis ?? []) as { KeySchema: { AttributeName: string }[] }[]).flatMap((i) => i.KeySchema)].map((k) => k.AttributeName));
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: t.keySchema,
      AttributeDefinitions: t.attributeDefinitions.filter((a) => used.has(a.AttributeName!)),
      BillingMode: 'PAY_PER_REQUEST',
      ...(gsis ? { GlobalSecondaryIndexes: gsis as never } : {}),
    }),
  );
  await until(`table ${name} active`, async () => (await statusOf(client, name)) === 'ACTIVE');
}

/** Every item of `from` written to `to` (25 a request, what BatchWriteItem takes; unprocessed ones again). */
async function copyItems(client: DynamoDBClient, from: string, to: string): Promise<void> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: from, ConsistentRead: true, ExclusiveStartKey: startKey }));
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let requests: Record<string, WriteRequest[]> | undefined = { [to]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
      while (requests && Object.keys(requests).length > 0) requests = (await client.send(new BatchWriteItemCommand({ RequestItems: requests }))).UnprocessedItems;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
