/**
 * Schema versions of stored records: upgrades on read through every step (a synthetic future v3
 * stands for the next change), stamping on write, refusal of records from a newer Fanout, and the
 * in-place migration of a table on dynalite (only changed attributes, the outbox kept, a racing
 * writer wins, idempotent).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startDynalite, type EmbeddedDynamo } from '../runtimes/local/dynalite.ts';
import { createDocumentClient, createDynamoClient } from './dynamo.ts';
import { migrateTable, stamp, upgrade, versionOf, type RecordSchema } from './schema-version.ts';

const V3: RecordSchema = {
  name: 'thing',
  version: 3,
  steps: {
    1: (r) => ({ ...r, url: String(r.url).toLowerCase() }),
    2: (r) => {
      const { legacy: _legacy, ...rest } = r;
      return { ...rest, colour: r.colour ?? 'blue' };
    },
  },
};

test('an unversioned record is version 1 and is upgraded through every step; the version is not returned', () => {
  assert.equal(versionOf({}), 1);
  assert.deepEqual(upgrade(V3, { id: 'a', url: 'RTMP://X/Live', legacy: true }), { id: 'a', url: 'rtmp://x/live', colour: 'blue' });
  assert.deepEqual(upgrade(V3, { id: 'a', url: 'RTMP://X', colour: 'red', schemaVersion: 2 }), { id: 'a', url: 'RTMP://X', colour: 'red' }, 'from 2, only step 2');
  assert.deepEqual(upgrade(V3, { id: 'a', schemaVersion: 3 }), { id: 'a' });
  assert.deepEqual(stamp(V3, { id: 'a' }), { id: 'a', schemaVersion: 3 });
});

test('a record from a newer Fanout is STORE_SCHEMA_TOO_NEW, never guessed at', () => {
  assert.throws(
    () => upgrade(V3, { id: 'a', schemaVersion: 4 }),
    (e: { code?: string; message: string }) => e.code === 'STORE_SCHEMA_TOO_NEW' && /schema version 4; this Fanout reads up to 3/.test(e.message),
  );
});

let db: EmbeddedDynamo;
const client = () => createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
before(async () => {
  db = await startDynalite(undefined);
  await client().send(new CreateTableCommand({ TableName: 'things', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
});
after(async () => db?.close());

test('migrateTable rewrites older records in place, keeps what it does not migrate, skips a record a writer changed, and is idempotent', async () => {
  const doc = createDocumentClient(client());
  const outbox = { e1: { seq: 1, entry: { Source: 's', DetailType: 'd', Detail: '{}' } } };
  await doc.send(new PutCommand({ TableName: 'things', Item: { id: 'old', version: 4, url: 'RTMP://A/Live', legacy: 'x', outbox } }));
  await doc.send(new PutCommand({ TableName: 'things', Item: { id: 'mid', version: 1, url: 'rtmp://b/live', schemaVersion: 2 } }));
  await doc.send(new PutCommand({ TableName: 'things', Item: { id: 'new', version: 7, url: 'rtmp://c/live', colour: 'green', schemaVersion: 3 } }));
  const report = await migrateTable(doc, 'things', 'id', V3);
  assert.deepEqual(report, { table: 'things', scanned: 3, migrated: 2, skipped: 0 });
  const old = (await doc.send(new GetCommand({ TableName: 'things', Key: { id: 'old' } }))).Item;
  assert.deepEqual(old, { id: 'old', version: 4, url: 'rtmp://a/live', colour: 'blue', outbox, schemaVersion: 3 }, 'the legacy attribute removed, the outbox and version kept');
  assert.equal((await doc.send(new GetCommand({ TableName: 'things', Key: { id: 'mid' } }))).Item?.colour, 'blue');
  assert.deepEqual(await migrateTable(doc, 'things', 'id', V3), { table: 'things', scanned: 3, migrated: 0, skipped: 0 }, 'a second run does nothing');

  // A writer that changes the record between the scan and the rewrite wins.
  await doc.send(new PutCommand({ TableName: 'things', Item: { id: 'race', version: 1, url: 'RTMP://R' } }));
  const racing = createDocumentClient(client());
  const send = racing.send.bind(racing);
  racing.send = (async (cmd: { constructor: { name: string } }) => {
    if (cmd.constructor.name === 'UpdateCommand') await doc.send(new PutCommand({ TableName: 'things', Item: { id: 'race', version: 2, url: 'rtmp://r/written', schemaVersion: 3 } }));
    return send(cmd as never);
  }) as typeof racing.send;
  const raced = await migrateTable(racing, 'things', 'id', V3);
  assert.equal(raced.skipped, 1);
  assert.equal((await doc.send(new GetCommand({ TableName: 'things', Key: { id: 'race' } }))).Item?.url, 'rtmp://r/written');

  await doc.send(new PutCommand({ TableName: 'things', Item: { id: 'future', version: 1, schemaVersion: 9 } }));
  await assert.rejects(migrateTable(doc, 'things', 'id', V3), /STORE_SCHEMA_TOO_NEW|schema version 9/);
});
