/**
 * cost-tracker's store on dynalite (the store every test and the local runtime use; like DynamoDB
 * it refuses an item over 400 KB):
 *
 *   - the limit is enforced here, so a state that outgrows one item fails in the tests as it did
 *     in production (DestinationCreated retried forever at about 1,000 destinations);
 *   - 1,000 destinations' worth of cost state (each created, 60 running, 20 of them stopped) is
 *     stored, ticked, settled and reported, one item per resource, and the same state as one
 *     item is refused;
 *   - a version 1 `tracker` record (the whole state in one item, with events still in its outbox)
 *     is split into tracks on first use, its sessions carry on, and a second store migrates nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ChannelStateChangedV1, DestinationCreatedV1 } from '../../../../events/catalogue.ts';
import { buildEntry, type BusEntry } from '../../../../shared/events/publisher.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../../../../shared/runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../../../../shared/runtimes/local/serverless-config.ts';
import { createDocumentClient, createDynamoClient, scanAll } from '../../../../shared/store/dynamo.ts';
import { costTrackerFor } from '../app/build.ts';
import type { IncomingEvent } from '../app/cost-tracker.ts';
import type { CostTrackerDeps } from '../deps.ts';
import { observationsFromEvent } from '../domain/observations.ts';
import { emptyTracker, observe, settle, type TrackerState } from '../domain/sessions.ts';
import { CostStore } from './cost-store.ts';

const ITEM_LIMIT = 400 * 1024;
let db: EmbeddedDynamo;
const wiring = loadServerlessConfig({ stage: 'test' });
const env = wiring.environment;
const published: BusEntry[] = [];
let clock = new Date('2026-12-01T10:00:00Z');

/** Fresh costs and destinations tables per test, so counts, reconciles and migrations see only their own records. */
async function deps(): Promise<CostTrackerDeps> {
  const dynamo = createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
  const suffix = randomUUID().slice(0, 8);
  const own = (logicalId: string) => ({ ...wiring.tables.find((t) => t.logicalId === logicalId)!, tableName: `${logicalId}-${suffix}` });
  const [costs, destinations] = [own('CostsTable'), own('DestinationsTable')];
  await ensureTables(dynamo, [costs, destinations]);
  return {
    doc: createDocumentClient(dynamo),
    idempotency: { client: dynamo, tableName: env.FANOUT_TABLE_IDEMPOTENCY! },
    publisher: { publish: async (e) => void published.push(...e) },
    log: createLogger('cost-store-test'),
    tables: { costs: costs.tableName, destinations: destinations.tableName, presets: env.FANOUT_TABLE_PRESETS! },
    engine: 'aws',
    timeZone: 'Europe/Paris',
    settleMs: 15 * 60_000,
    local: { machineHourUsd: 0.1, cores: 2 },
    now: () => clock,
  };
}

const incoming = (e: BusEntry, time: string): IncomingEvent => ({ id: randomUUID(), source: e.Source, detailType: e.DetailType, time, resources: [], detail: JSON.parse(e.Detail) });
const created = (destinationId: string, at: string) =>
  incoming(
    buildEntry(
      DestinationCreatedV1,
      {
        destinationId,
        aggregateVersion: 1,
        name: `Destination ${destinationId.slice(0, 8)} with a name of ordinary length`,
        platform: 'youtube',
        preset: 'youtube-1080p30',
        rtmpUrl: 'rtmps://a.rtmps.youtube.com:443/live2',
        status: 'idle',
        desired: 'stopped',
      },
      { correlationId: 'c', occurredAt: at },
    ),
    at,
  );
const channelState = (destinationId: string, state: 'RUNNING' | 'IDLE', at: string) =>
  incoming(buildEntry(ChannelStateChangedV1, { destinationId, channelId: `ch-${destinationId.slice(0, 8)}`, state, observedAt: at, error: null } as never, { correlationId: 'c', occurredAt: at }), at);

const itemBytes = (item: unknown) => Buffer.byteLength(JSON.stringify(item));

before(async () => {
  db = await startDynalite(undefined);
  await ensureTables(createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint }), wiring.tables);
});
after(async () => db.close());

test('the store the tests use refuses an item over 400 KB, as DynamoDB does', async () => {
  const d = await deps();
  const put = (bytes: number) => d.doc.send(new PutCommand({ TableName: d.tables.costs, Item: { pk: 'too-big', version: 1, state: 'x'.repeat(bytes) } }));
  await assert.rejects(put(ITEM_LIMIT + 1024), /Item size has exceeded the maximum allowed size/);
  await put(ITEM_LIMIT - 1024);
});

test('1,000 destinations: stored one item per resource, ticked, settled and reported; as one item the same state is refused', async () => {
  const d = await deps();
  const store = new CostStore(d.doc, d.tables.costs, { publisher: d.publisher, log: d.log });
  const tracker = costTrackerFor(d);
  const ids = Array.from({ length: 1000 }, () => randomUUID());
  const running = ids.slice(0, 60);
  const stopped = running.slice(0, 20);
  const each = async (list: string[], fn: (id: string) => Promise<void>) => {
    const queue = [...list];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) await fn(id);
      }),
    );
  };
  // Each destination's track as its DestinationCreated leaves it (the reducer's own observation
  // of that event, settled), written through the store: the state that outgrew one item.
  const ctx = { engine: 'aws' as const, destination: () => undefined, primaryEncodes: [] };
  await each(ids, async (id) => {
    let state = emptyTracker();
    for (const o of observationsFromEvent(created(id, '2026-12-01T09:40:00Z'), ctx)) state = observe(state, o).state;
    state = settle(state, '2026-12-01T10:00:00Z').state;
    const key = `destination-channel:${id}`;
    await store.putTrack(await store.track(key), { track: state.tracks[key]!, stats: state.stats }, []);
  });
  // The running ones as the inbox records them; their destinations' records say what the tick's reconcile reads.
  for (const id of running)
    await d.doc.send(
      new PutCommand({
        TableName: d.tables.destinations,
        Item: { destinationId: id, name: id.slice(0, 8), platform: 'youtube', preset: 'passthrough', status: stopped.includes(id) ? 'idle' : 'running', lastModified: '2026-12-01T09:00:00Z' },
      }),
    );
  clock = new Date('2026-12-01T10:00:00Z');
  await each(running, (id) => tracker.record(channelState(id, 'RUNNING', '2026-12-01T10:00:00Z'), 'c'));
  await each(stopped, (id) => tracker.record(channelState(id, 'IDLE', '2026-12-01T10:30:00Z'), 'c'));
  clock = new Date('2026-12-01T11:00:00Z');
  await tracker.tick('t');

  const items = await scanAll<Record<string, unknown>>(d.doc, { TableName: d.tables.costs, ConsistentRead: true });
  assert.equal(items.filter((i) => String(i.pk).startsWith('track#')).length, 1000, 'one track per destination');
  const largest = Math.max(...items.map(itemBytes));
  assert.ok(largest < 16 * 1024, `the largest item is ${largest} bytes: none grows with the number of destinations`);
  const open = (await tracker.sessions({ kind: 'running' })).chosen.filter((p) => p.session.endedAt === null);
  assert.deepEqual(open.map((p) => p.session.resource.id).sort(), running.slice(20).sort(), 'the 40 still running');
  const closed = published.filter((e) => e.DetailType === 'UsageSessionClosed').map((e) => JSON.parse(e.Detail).data);
  const runs = closed.filter((x) => stopped.includes(x.destinationId) && x.kind === 'running');
  assert.equal(runs.length, 20, 'each stopped run settled and announced once');
  assert.ok(runs.every((x) => x.durationSeconds === 1800));
  assert.equal((await tracker.report()).sessions > 0, true);

  // The state the single `tracker` record held before (schema version 1) is over the limit here.
  const whole: TrackerState = (await new CostStore(d.doc, d.tables.costs, { publisher: d.publisher, log: d.log }).everything()).state;
  assert.equal(Object.keys(whole.tracks).length, 1000);
  await assert.rejects(
    d.doc.send(new PutCommand({ TableName: d.tables.costs, Item: { pk: 'tracker-v1-shape', version: 1, state: JSON.stringify(whole), lastTickAt: null } })),
    /Item size has exceeded the maximum allowed size/,
    `${itemBytes(whole)} bytes as one item`,
  );
});

test('a version 1 tracker (one item, events in its outbox) is split on first use, a track an interrupted run wrote is kept; its sessions carry on; a second store migrates nothing', async () => {
  const d = await deps();
  const [a, b] = [randomUUID(), randomUUID()];
  // The reducer's state as version 1 stored it: A running since 09:00, B idle since 08:00.
  const ref = (id: string) => ({ kind: 'destination-channel' as const, id, destinationId: id });
  let state = emptyTracker();
  state = observe(state, { eventId: 'e-b', observedAt: '2026-12-02T08:00:00Z', resource: ref(b), state: 'idle' }).state;
  state = observe(state, { eventId: 'e-a', observedAt: '2026-12-02T09:00:00Z', resource: ref(a), state: 'running' }).state;
  state = settle(state, '2026-12-02T09:30:00Z').state;
  const pending = buildEntry(ChannelStateChangedV1, { destinationId: a, channelId: 'ch-a', state: 'RUNNING', observedAt: '2026-12-02T09:00:00Z', error: null } as never, { correlationId: 'c' });
  const pendingId = JSON.parse(pending.Detail).id as string;

  // An interrupted earlier run (or another container) already wrote C's track, changed since: kept.
  const c = randomUUID();
  const cState = observe(emptyTracker(), { eventId: 'e-c', observedAt: '2026-12-02T09:10:00Z', resource: ref(c), state: 'idle' }).state;
  const cTrack = { pk: `track#destination-channel:${c}`, version: 3, schemaVersion: 2, state: JSON.stringify({ track: cState.tracks[`destination-channel:${c}`], stats: cState.stats }) };
  await d.doc.send(new PutCommand({ TableName: d.tables.costs, Item: cTrack }));
  state = { ...state, tracks: { ...state.tracks, [`destination-channel:${c}`]: settle(cState, '2026-12-02T08:00:00Z').state.tracks[`destination-channel:${c}`]! } };
  await d.doc.send(new PutCommand({ TableName: d.tables.costs, Item: { pk: 'tracker', version: 7, state: JSON.stringify(state), lastTickAt: '2026-12-02T09:30:00Z', outbox: { [pendingId]: { seq: 1, entry: pending } } } }));

  clock = new Date('2026-12-02T10:00:00Z');
  const tracker = costTrackerFor(d);
  const open = await tracker.sessions({ kind: 'running' });
  assert.deepEqual(
    open.chosen.map((p) => [p.session.resource.id, p.session.startedAt, p.session.endedAt]),
    [[a, '2026-12-02T09:00:00.000Z', null]],
    'the open session read from the migrated tracks',
  );
  const get = async (pk: string) => (await d.doc.send(new GetCommand({ TableName: d.tables.costs, Key: { pk }, ConsistentRead: true }))).Item;
  const summary = await get('tracker');
  assert.equal(summary?.state, undefined, 'the summary no longer holds the state');
  assert.equal(summary?.schemaVersion, 2);
  assert.equal(summary?.version, 8);
  assert.equal(summary?.lastTickAt, '2026-12-02T09:30:00Z');
  // What the old record still had to publish is kept with the summary and published (the write flushes it).
  assert.ok(
    published.some((e) => JSON.parse(e.Detail).id === pendingId),
    'the old outbox published',
  );
  assert.equal(summary?.outbox, undefined);
  for (const id of [a, b]) {
    const t = await get(`track#destination-channel:${id}`);
    assert.equal(t?.schemaVersion, 2);
    assert.equal(t?.version, 1);
  }
  assert.deepEqual(await get(cTrack.pk), cTrack, 'a track already migrated is not overwritten');
  published.length = 0;

  // A second store (a new process, another container) finds nothing to migrate and changes nothing.
  const again = new CostStore(d.doc, d.tables.costs, { publisher: d.publisher, log: d.log });
  const before = await scanAll<Record<string, unknown>>(d.doc, { TableName: d.tables.costs, ConsistentRead: true });
  await again.ready();
  const afterwards = await scanAll<Record<string, unknown>>(d.doc, { TableName: d.tables.costs, ConsistentRead: true });
  assert.deepEqual(afterwards, before);

  // The session the old record had open closes as one: started at 09:00, not at the migration.
  await tracker.record(channelState(a, 'IDLE', '2026-12-02T10:00:00Z'), 'c');
  clock = new Date('2026-12-02T10:20:00Z');
  await tracker.tick('t');
  const closed = published.filter((e) => e.DetailType === 'UsageSessionClosed').map((e) => JSON.parse(e.Detail).data);
  const run = closed.filter((x) => x.destinationId === a && x.kind === 'running');
  assert.equal(run.length, 1);
  assert.equal(run[0].startedAt, '2026-12-02T09:00:00.000Z');
  assert.equal(run[0].durationSeconds, 3600);
});
