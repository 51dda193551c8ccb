/**
 * Every Query, Scan and ListTables closes its LevelDB iterator (closeDynaliteIterators), on disk
 * and in memory: read to its end or cut short by a Limit.
 *
 * repairIndexes: what a kill -9 leaves between dynalite's index write and its item write (an
 * entry for an item never written, an entry telling a write the item never got, a live item
 * without its entry) is mended at the next start, and the table is the truth. The crash is made
 * by editing dynalite's LevelDB while it is closed, as the killed process would have left it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DynamoDBClient, ListTablesCommand, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { countLevelResources } from '../../../test/support/level-resources.ts';
import { waitFor } from '../../engines/local/process/fixtures/wait-for.ts';
import { ensureTables, repairIndexes, startDynalite } from './dynalite.ts';
import type { TableWiring } from './serverless-config.ts';

const TABLE: TableWiring = {
  logicalId: 'ThingsTable',
  tableName: 'things',
  keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  attributeDefinitions: [
    { AttributeName: 'id', AttributeType: 'S' },
    { AttributeName: 'listKey', AttributeType: 'S' },
    { AttributeName: 'listSort', AttributeType: 'S' },
  ],
  globalSecondaryIndexes: [
    {
      IndexName: 'byCreation',
      KeySchema: [
        { AttributeName: 'listKey', KeyType: 'HASH' },
        { AttributeName: 'listSort', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['status'] },
    },
  ],
};

const client = (endpoint: string): DynamoDBClient => new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

async function listed(c: DynamoDBClient): Promise<string[]> {
  const out = await c.send(new QueryCommand({ TableName: 'things', IndexName: 'byCreation', KeyConditionExpression: 'listKey = :k', ExpressionAttributeValues: { ':k': { S: 'thing' } } }));
  return (out.Items ?? []).map((i) => `${i.id?.S}:${i.status?.S}`);
}

test('repairIndexes removes a ghost entry, refreshes a stale one, restores a missing one, and leaves a sound index alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-dynalite-'));
  try {
    let db = await startDynalite(dir);
    let c = client(db.endpoint);
    await ensureTables(c, [TABLE]);
    const things: [string, string][] = [
      ['a', 'creating'],
      ['b', 'idle'],
      ['c', 'running'],
      ['d', 'idle'],
    ];
    for (const [id, status] of things) await c.send(new PutItemCommand({ TableName: 'things', Item: { id: { S: id }, listKey: { S: 'thing' }, listSort: { S: `t#${id}` }, status: { S: status }, secret: { S: 'not projected' } } }));
    c.destroy();
    await db.close();

    // As a kill -9 would leave it: a's item never written, b's index told a write its item never
    // got, c's entry dropped by a write (a tombstone) that never reached the item.
    const { Level } = (await import('level')) as unknown as { Level: new (path: string, o: object) => LevelLike };
    const level = new Level(dir, { valueEncoding: 'json' });
    for await (const [key, value] of level.iterator()) {
      const id = (value as { id?: { S?: string } }).id?.S;
      if (key.startsWith('item-things~') && id === 'a') await level.del(key);
      if (key.startsWith('index-global~things~byCreation~') && id === 'b') await level.put(key, { ...(value as object), status: { S: 'running' } });
      if (key.startsWith('index-global~things~byCreation~') && id === 'c') await level.del(key);
    }
    await level.close();

    db = await startDynalite(dir);
    c = client(db.endpoint);
    assert.deepEqual(await listed(c), ['a:creating', 'b:running', 'd:idle'], 'the crash as dynalite shows it');
    const reports = await repairIndexes(c, [TABLE]);
    assert.deepEqual(reports, [{ table: 'things', index: 'byCreation', removed: 1, rewritten: 2 }]);
    assert.deepEqual(await listed(c), ['b:idle', 'c:running', 'd:idle'], 'the index tells the table');
    assert.deepEqual(await repairIndexes(c, [TABLE]), [], 'a second run finds nothing');
    c.destroy();
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface LevelLike {
  iterator(): AsyncIterable<[string, unknown]>;
  del(key: string): Promise<void>;
  put(key: string, value: unknown): Promise<void>;
  close(): Promise<void>;
}

for (const where of ['disk', 'memory'] as const) {
  test(`every Query, Scan and ListTables closes its iterator (database ${where === 'disk' ? 'on disk' : 'in memory'})`, async () => {
    const dir = where === 'disk' ? mkdtempSync(join(tmpdir(), 'fanout-dynalite-')) : undefined;
    const resources = countLevelResources();
    try {
      const db = await startDynalite(dir);
      const c = client(db.endpoint);
      try {
        await ensureTables(c, [TABLE]);
        for (let i = 0; i < 12; i++) await c.send(new PutItemCommand({ TableName: 'things', Item: { id: { S: `t${i}` }, listKey: { S: 'thing' }, listSort: { S: `t#${i}` }, status: { S: 'idle' } } }));
        const before = resources.open();
        const reads: [string, () => Promise<unknown>][] = [
          ['Query on an index, to its end', () => listed(c)],
          ['Query on an index, cut short by a Limit', () => c.send(new QueryCommand({ TableName: 'things', IndexName: 'byCreation', KeyConditionExpression: 'listKey = :k', ExpressionAttributeValues: { ':k': { S: 'thing' } }, Limit: 3 }))],
          ['Query on the table', () => c.send(new QueryCommand({ TableName: 'things', KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': { S: 't1' } } }))],
          ['Scan, to its end', () => c.send(new ScanCommand({ TableName: 'things' }))],
          ['Scan, cut short by a Limit', () => c.send(new ScanCommand({ TableName: 'things', Limit: 2 }))],
          ['ListTables', () => c.send(new ListTablesCommand({}))],
        ];
        for (const [what, read] of reads) {
          for (let i = 0; i < 10; i++) await read();
          await waitFor(`${what}: its iterators closed`, () => resources.open() <= before, { timeoutMs: 5_000, intervalMs: 20 }).catch((err: Error) =>
            assert.fail(`${err.message}: ${resources.open() - before} still open after 10 requests`),
          );
        }
      } finally {
        c.destroy();
        await db.close();
      }
    } finally {
      resources.restore();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
}
