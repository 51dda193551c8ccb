/**
 * The event path of the destination service, end to end in one process: the outbox (no event lost
 * when publishing fails or the process dies between the write and the publish), the inbox consumer
 * (a duplicate or stale event changes nothing) and the create/start/delete saga as the other
 * services will drive it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChannelStateChangedV1, FlowOutputAddedV1, FlowOutputRemovedV1, FlowStateChangedV1 } from '../events/catalogue.ts';
import { findEvent } from '../events/catalogue.ts';
import { buildEntry, type BusEntry, type EventPublisher } from '../shared/events/publisher.ts';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

const names = (entries: BusEntry[]) => entries.map((e) => e.DetailType);
const detailOf = (e: BusEntry) => JSON.parse(e.Detail) as { id: string; data: Record<string, unknown> };

async function create(rt: TestRuntime, name = 'Main'): Promise<string> {
  const res = await rt.api('POST', '/api/destinations', { body: { name, platform: 'youtube', streamKey: 'yt-key-0123456789' } });
  assert.equal(res.status, 201, res.text);
  return res.json.destinationId as string;
}

async function emit(rt: TestRuntime, entry: BusEntry): Promise<void> {
  await rt.bus.putEvents([{ ...entry, EventBusName: rt.config.eventBus }]);
  await rt.bus.drain(10_000);
}

const channelState = (destinationId: string, state: 'IDLE' | 'STARTING' | 'RUNNING' | 'STOPPING', observedAt = new Date().toISOString(), id?: string) =>
  buildEntry(ChannelStateChangedV1, { destinationId, channelId: 'ch-1', state, error: null, observedAt }, { correlationId: 'test', ...(id ? { id } : {}) });

test('every published event matches its catalogue schema', async () => {
  const rt = await startTestRuntime();
  try {
    const id = await create(rt);
    await rt.api('POST', `/api/destinations/${id}/start`);
    await rt.api('DELETE', `/api/destinations/${id}`);
    assert.deepEqual(names(rt.published), ['DestinationCreated', 'DestinationStartRequested', 'DestinationDeleteRequested', 'DestinationStatusChanged']);
    for (const e of rt.published) {
      const def = findEvent(e.Source, e.DetailType, detailOf(e) && (JSON.parse(e.Detail) as { version: number }).version);
      assert.ok(def, `${e.DetailType} is in the catalogue`);
      def.detail.parse(JSON.parse(e.Detail));
    }
  } finally {
    await rt.close();
  }
});

test('the saga: output added, channel idle, start, running, delete, output removed, destination gone', async () => {
  const rt = await startTestRuntime();
  try {
    const id = await create(rt);
    await emit(rt, buildEntry(FlowOutputAddedV1, { destinationId: id, flowArn: 'local:flow', outputArn: 'local:output:1' }, { correlationId: 't' }));
    await emit(rt, channelState(id, 'IDLE'));
    let d = (await rt.api('GET', `/api/destinations/${id}`)).json;
    assert.equal(d.status, 'idle');
    assert.equal(d.mediaConnectOutputArn, 'local:output:1');
    assert.equal(d.mediaLiveChannelId, 'ch-1');

    assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    await emit(rt, channelState(id, 'STARTING'));
    await emit(rt, channelState(id, 'RUNNING'));
    d = (await rt.api('GET', `/api/destinations/${id}`)).json;
    assert.equal(d.status, 'running');
    assert.equal(d.desired, 'running');

    assert.equal((await rt.api('DELETE', `/api/destinations/${id}`)).status, 202);
    await emit(rt, buildEntry(FlowOutputRemovedV1, { destinationId: id, flowArn: 'local:flow', outputArn: 'local:output:1' }, { correlationId: 't' }));
    assert.equal((await rt.api('GET', `/api/destinations/${id}`)).status, 404);
    const statuses = rt.published.filter((e) => e.DetailType === 'DestinationStatusChanged').map((e) => `${detailOf(e).data.from}>${detailOf(e).data.to}`);
    assert.deepEqual(statuses, ['creating>idle', 'idle>starting', 'starting>running', 'running>deleting']);
    assert.equal(names(rt.published).at(-1), 'DestinationDeleted');
    // The tombstone is removed once its last event is out.
    await eventually(async () => (await rt.api('GET', '/api/destinations')).json.destinations.length === 0);
  } finally {
    await rt.close();
  }
});

test('a consumer receiving the same event twice changes nothing', async () => {
  const rt = await startTestRuntime();
  try {
    const id = await create(rt);
    const eventId = randomUUID();
    const observedAt = new Date().toISOString();
    await emit(rt, channelState(id, 'IDLE', observedAt, eventId));
    const once = (await rt.api('GET', `/api/destinations/${id}`)).json;
    const publishedOnce = rt.published.length;
    await emit(rt, channelState(id, 'IDLE', observedAt, eventId));
    const twice = (await rt.api('GET', `/api/destinations/${id}`)).json;
    assert.deepEqual(twice, once);
    assert.equal(rt.published.length, publishedOnce);
    assert.equal(rt.bus.queueStats().DestinationInboxQueue?.dlq ?? 0, 0);
  } finally {
    await rt.close();
  }
});

test('a stale (reordered) observation is dropped', async () => {
  const rt = await startTestRuntime();
  try {
    const id = await create(rt);
    const t0 = Date.now();
    await emit(rt, channelState(id, 'IDLE', new Date(t0).toISOString()));
    await rt.api('POST', `/api/destinations/${id}/start`);
    await emit(rt, channelState(id, 'RUNNING', new Date(t0 + 2000).toISOString()));
    await emit(rt, channelState(id, 'STARTING', new Date(t0 + 1000).toISOString()));
    assert.equal((await rt.api('GET', `/api/destinations/${id}`)).json.status, 'running');
  } finally {
    await rt.close();
  }
});

test('flow status is answered from what flow-output reports, UNKNOWN before', async () => {
  const rt = await startTestRuntime();
  try {
    assert.equal((await rt.api('GET', '/api/mediaconnect/flow/status')).json.state, 'UNKNOWN');
    await emit(rt, buildEntry(FlowStateChangedV1, { flowArn: 'local:flow:primary', state: 'ACTIVE', sourceConnected: true, sourceAddress: '127.0.0.1:50000', connectedSince: new Date().toISOString(), outputs: 2 }, { correlationId: 't' }));
    const f = (await rt.api('GET', '/api/mediaconnect/flow/status')).json;
    assert.equal(f.state, 'ACTIVE');
    assert.equal(f.sourceConnected, true);
    assert.equal(f.outputs, 2);
  } finally {
    await rt.close();
  }
});

test('an event whose publication failed is published later by the outbox sweep', async () => {
  let failing = true;
  const rt = await startTestRuntime({}, { wrapPublisher: (inner: EventPublisher) => ({ publish: (e) => (failing ? Promise.reject(new Error('bus down')) : inner.publish(e)) }) });
  try {
    const id = await create(rt);
    assert.equal(rt.published.length, 0, 'nothing went out while the bus was down');
    failing = false;
    await rt.bus.runScheduled('outboxRelay');
    const created = rt.published.find((e) => e.DetailType === 'DestinationCreated');
    assert.ok(created);
    assert.equal(detailOf(created).data.destinationId, id);
  } finally {
    await rt.close();
  }
});

test('a crash between the write and the publish loses no event: the next start publishes it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-crash-'));
  try {
    // First life: the write commits, then the process "dies" before publishing (publish never returns).
    const first = await startTestRuntime({}, { dataDir, inMemory: false, wrapPublisher: () => ({ publish: () => Promise.reject(new Error('killed before publish')) }) });
    const id = await create(first);
    assert.equal(first.published.length, 0);
    await first.close();
    // Second life on the same data dir: the start-up sweep publishes what the first left behind.
    const second = await startTestRuntime({}, { dataDir, inMemory: false });
    try {
      const created = await eventually(() => second.published.find((e) => e.DetailType === 'DestinationCreated'), { what: 'DestinationCreated after restart' });
      assert.equal(detailOf(created).data.destinationId, id);
      assert.equal((await second.api('GET', `/api/destinations/${id}`)).json.status, 'creating');
      await second.bus.runScheduled('outboxRelay');
      assert.equal(second.published.filter((e) => e.DetailType === 'DestinationCreated').length, 1, 'published once, then cleared');
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
