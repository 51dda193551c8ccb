/**
 * RecordStore's embedded outbox (ADR 0016) on dynalite, with the channels table of serverless.yml
 * (it has a secondary index): a write and its events are one item write; a publication that fails
 * (or never happens: a crash) is left in the record for the sweep; a later write keeps what is
 * still unpublished; a removal with events is a tombstone, invisible to reads, until they are out.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ChannelDeletedV1, ChannelStateChangedV1 } from '../../events/catalogue.ts';
import { buildEntry, type BusEntry, type EventPublisher } from '../events/publisher.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../runtimes/local/serverless-config.ts';
import { createDocumentClient, createDynamoClient } from './dynamo.ts';
import { RecordStore } from './record-store.ts';

interface Rec {
  destinationId: string;
  channelId: string;
  state: string;
  version: number;
}

/** Records what it publishes; fails while `failing`. */
class CapturingPublisher implements EventPublisher {
  published: BusEntry[] = [];
  failing = false;
  async publish(entries: BusEntry[]): Promise<void> {
    if (this.failing) throw new Error('bus unavailable (test)');
    this.published.push(...entries);
  }
}

let db: EmbeddedDynamo;
let doc: DynamoDBDocumentClient;
let table: string;
const publisher = new CapturingPublisher();
const warnings: string[] = [];
let store: RecordStore<Rec>;

before(async () => {
  db = await startDynalite(undefined);
  const dynamo = createDynamoClient({ region: 'local', endpoint: db.endpoint });
  const wiring = loadServerlessConfig({ stage: 'record-store-test' });
  await ensureTables(dynamo, wiring.tables);
  table = wiring.environment.FANOUT_TABLE_CHANNELS!;
  doc = createDocumentClient(dynamo);
  store = new RecordStore<Rec>(doc, table, 'destinationId', { publisher, log: { warn: (m) => warnings.push(m), info: () => undefined } });
});

after(async () => {
  doc.destroy();
  await db.close();
});

const raw = async (destinationId: string) => (await doc.send(new GetCommand({ TableName: table, Key: { destinationId }, ConsistentRead: true }))).Item;
const state = (r: Rec, s: string): BusEntry => buildEntry(ChannelStateChangedV1, { destinationId: r.destinationId, channelId: r.channelId, state: s as 'IDLE', error: null, observedAt: new Date().toISOString() }, { correlationId: 't' });
const idOf = (e: BusEntry) => (JSON.parse(e.Detail) as { id: string }).id;

test('a write publishes its events and leaves no outbox behind', async () => {
  const r: Rec = { destinationId: randomUUID(), channelId: '1000001', state: 'CREATING', version: 1 };
  const e = state(r, 'CREATING');
  await store.put(r, [e]);
  assert.ok(publisher.published.some((p) => idOf(p) === idOf(e)));
  const item = await raw(r.destinationId);
  assert.equal(item?.outbox, undefined, 'cleared');
  assert.equal(item?.version, 1);
  assert.deepEqual(await store.get(r.destinationId), r, 'reads never show the outbox');
});

test('events whose publication failed stay in the record, survive the next write, and are published by the sweep in order', async () => {
  const r: Rec = { destinationId: randomUUID(), channelId: '1000002', state: 'CREATING', version: 1 };
  await store.put(r);
  publisher.failing = true;
  const first = state(r, 'IDLE');
  await store.put({ ...r, state: 'IDLE', version: 2 }, [first]); // the write stands; the event waits
  assert.equal(Object.keys((await raw(r.destinationId))?.outbox ?? {}).length, 1);
  assert.ok(warnings.length > 0, 'the failed publication is logged');
  // A later write (a write without events too) keeps the unpublished one.
  await store.put({ ...r, state: 'IDLE', version: 3 });
  const second = state(r, 'STARTING');
  await store.put({ ...r, state: 'STARTING', version: 4 }, [second]);
  assert.deepEqual(Object.keys((await raw(r.destinationId))?.outbox ?? {}).sort(), [idOf(first), idOf(second)].sort());
  publisher.failing = false;
  const before = publisher.published.length;
  assert.ok((await store.sweepOutbox()) >= 2);
  assert.deepEqual(
    publisher.published
      .slice(before)
      .filter((p) => [idOf(first), idOf(second)].includes(idOf(p)))
      .map(idOf),
    [idOf(first), idOf(second)],
    'in the order written',
  );
  assert.equal((await raw(r.destinationId))?.outbox, undefined);
  assert.equal(await store.sweepOutbox(), 0, 'nothing twice');
});

test('a removal with events is a tombstone no read shows, removed once its events are out', async () => {
  const r: Rec = { destinationId: randomUUID(), channelId: `2${Math.floor(Math.random() * 1e6)}`, state: 'IDLE', version: 1 };
  await store.put(r);
  publisher.failing = true;
  const gone = buildEntry(ChannelDeletedV1, { destinationId: r.destinationId, channelId: r.channelId }, { correlationId: 't' });
  await store.remove(r, [gone]);
  assert.equal((await raw(r.destinationId))?.tombstone, true, 'kept until its event is out');
  assert.equal(await store.get(r.destinationId), undefined);
  assert.ok(!(await store.list()).some((x) => x.destinationId === r.destinationId));
  assert.deepEqual(await store.queryIndex('channelId-index', 'channelId', r.channelId), []);
  await assert.rejects(store.put({ ...r, version: 2 }), /changed concurrently/, 'a tombstone is not written over');
  publisher.failing = false;
  await store.sweepOutbox();
  assert.ok(publisher.published.some((p) => idOf(p) === idOf(gone)));
  assert.equal(await raw(r.destinationId), undefined, 'gone once its event is out');
});

test('writes are conditional on the version read; a removal without events is a plain delete', async () => {
  const r: Rec = { destinationId: randomUUID(), channelId: '1000004', state: 'IDLE', version: 1 };
  await store.put(r);
  await assert.rejects(store.put(r), /changed concurrently/, 'a second version 1');
  await assert.rejects(store.put({ ...r, version: 3 }), /changed concurrently/, 'skipping a version');
  await assert.rejects(store.remove({ ...r, version: 2 }), /changed concurrently/);
  await store.remove(r);
  assert.equal(await raw(r.destinationId), undefined);
});
