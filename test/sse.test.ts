/**
 * The live event stream (GET /api/events): frames with ids, resuming with Last-Event-ID, `reset`
 * when an id cannot be resumed, and keep-alive pings (every 200 ms here).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reportChannelState } from './support/engine-events.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from './support/local.ts';
import { openSse, type SseClient, type SseFrame } from './support/sse.ts';

let rt: TestRuntime;
const open: SseClient[] = [];

before(async () => {
  rt = await startTestRuntime({}, { ssePingMs: 200 });
});
after(async () => {
  await Promise.all(open.map((c) => c.close()));
  await rt?.close();
});

async function connect(headers: Record<string, string> = {}, token = ADMIN_TOKEN): Promise<SseClient> {
  const c = await openSse(`${rt.url}/api/events?access_token=${encodeURIComponent(token)}`, headers);
  open.push(c);
  return c;
}

const withId = (c: SseClient): SseFrame[] => c.frames.filter((f) => f.id !== undefined);
const data = (f: SseFrame): any => JSON.parse(f.data);
const seq = (id: string): number => Number(id.split('-')[1]);

async function frame(c: SseClient, match: (f: SseFrame) => boolean, what: string): Promise<SseFrame> {
  return eventually(() => c.frames.find(match), { what, timeoutMs: 5_000 });
}

async function createDestination(name: string): Promise<string> {
  const res = await rt.api('POST', '/api/destinations', { body: { name, platform: 'youtube', streamKey: 'sse-test-stream-key-0123' } });
  assert.equal(res.status, 201, res.text);
  return res.json.destinationId;
}

let firstIds: string[] = [];
let destinationId = '';

test('the stream opens with `ready`, then carries destination events with ids', async () => {
  const c = await connect();
  assert.equal(c.status, 200);
  assert.match(c.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.match(c.headers.get('cache-control') ?? '', /no-(cache|store)/, 'never cached');
  assert.equal(c.headers.get('x-accel-buffering'), 'no', 'proxies must not buffer it');
  await frame(c, (f) => f.event === 'ready', 'ready');
  assert.equal(c.frames[0]?.event, 'ready', 'ready comes first');
  assert.equal(c.frames[0]?.id, undefined);

  destinationId = await createDestination('SSE one');
  const created = await frame(c, (f) => f.event === 'destination.created', 'destination.created');
  assert.ok(created.id, 'events carry ids');
  assert.equal(data(created).destinationId, destinationId);
  assert.equal(data(created).status, 'creating');
  assert.equal(typeof data(created).eventId, 'string');
  assert.ok(!created.data.includes('sse-test-stream-key-0123'));

  // The channel becomes idle (reported by the engine), then the operator starts it.
  await reportChannelState(rt, destinationId, 'IDLE');
  const idle = await frame(c, (f) => f.event === 'destination.status' && data(f).to === 'idle', 'status idle');
  assert.equal(data(idle).from, 'creating');
  const start = await rt.api('POST', `/api/destinations/${destinationId}/start`);
  assert.equal(start.status, 202);
  const starting = await frame(c, (f) => f.event === 'destination.status' && data(f).to === 'starting', 'status starting');
  assert.deepEqual({ destinationId: data(starting).destinationId, from: data(starting).from, to: data(starting).to, desired: data(starting).desired }, { destinationId, from: 'idle', to: 'starting', desired: 'running' });

  const events = withId(c);
  assert.deepEqual(
    events.map((f) => f.event),
    ['destination.created', 'destination.status', 'destination.status'],
  );
  const seqs = events.map((f) => seq(f.id!));
  assert.deepEqual(
    [...seqs].sort((a, b) => a - b),
    seqs,
    'ids increase',
  );
  assert.equal(new Set(seqs).size, seqs.length, 'ids are unique');
  firstIds = events.map((f) => f.id!);
  await c.close();
});

test('reconnecting with Last-Event-ID delivers exactly the missed events', async () => {
  assert.equal(firstIds.length, 3, 'needs the first test');
  // Missed while disconnected: an update and a stop.
  assert.equal((await rt.api('PUT', `/api/destinations/${destinationId}`, { body: { name: 'SSE renamed' } })).status, 200);
  assert.equal((await rt.api('POST', `/api/destinations/${destinationId}/stop`)).status, 202);

  const c = await connect({ 'last-event-id': firstIds[0]! });
  await frame(c, (f) => f.event === 'ready', 'ready');
  // One more, live: once it arrives, everything before it has arrived too.
  const other = await createDestination('SSE two');
  await frame(c, (f) => f.event === 'destination.created' && data(f).destinationId === other, 'live event after the replay');

  const events = withId(c);
  assert.deepEqual(
    events.map((f) => `${f.event}:${f.event === 'destination.status' ? data(f).to : data(f).destinationId === other ? 'two' : 'one'}`),
    ['destination.status:idle', 'destination.status:starting', 'destination.updated:one', 'destination.status:stopping', 'destination.created:two'],
  );
  assert.deepEqual(
    events.slice(0, 2).map((f) => f.id),
    firstIds.slice(1),
    'the replay has the original ids',
  );
  assert.ok(!c.frames.some((f) => f.event === 'reset'));
  await c.close();

  // Resuming from the newest id replays nothing.
  const newest = events.at(-1)!.id!;
  const c2 = await connect({ 'last-event-id': newest });
  await frame(c2, (f) => f.event === 'ready', 'ready');
  const third = await createDestination('SSE three');
  await frame(c2, (f) => f.event === 'destination.created' && data(f).destinationId === third, 'live event');
  assert.deepEqual(
    withId(c2).map((f) => data(f).destinationId),
    [third],
  );
  await c2.close();
});

test('an id that cannot be resumed gets `event: reset`, then the live stream', async () => {
  for (const id of ['deadbeef-1', 'garbage']) {
    const c = await connect({ 'last-event-id': id });
    await frame(c, (f) => f.event === 'ready', 'ready');
    assert.equal(c.frames[0]?.event, 'reset', `reset first for ${id}`);
    assert.match(data(c.frames[0]!).reason, /reload/);
    assert.deepEqual(withId(c), [], 'nothing is replayed');
    const d = await createDestination(`SSE after reset ${id}`);
    await frame(c, (f) => f.event === 'destination.created' && data(f).destinationId === d, 'live event after reset');
    await c.close();
  }
});

test('pings keep an idle stream alive', async () => {
  const c = await connect();
  await frame(c, (f) => f.event === 'ready', 'ready');
  await eventually(() => c.frames.filter((f) => f.event === 'ping').length >= 2, { what: 'two pings', timeoutMs: 5_000 });
  const ping = c.frames.find((f) => f.event === 'ping')!;
  assert.equal(ping.id, undefined, 'pings have no id (they are not resumable events)');
  assert.ok(!Number.isNaN(Date.parse(data(ping).at)));
  await c.close();
});

test('the stream needs a valid token', async () => {
  const res = await rt.api('GET', '/api/events', { token: null });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.json.code, 'UNAUTHENTICATED');
  const bad = await fetch(`${rt.url}/api/events?access_token=fo_wrong`);
  assert.equal(bad.status, 401);
  assert.equal(((await bad.json()) as { code: string }).code, 'UNAUTHENTICATED');
  // The Authorization header works too.
  const c = await openSse(`${rt.url}/api/events`, { authorization: `Bearer ${ADMIN_TOKEN}` });
  open.push(c);
  assert.equal(c.status, 200);
  await frame(c, (f) => f.event === 'ready', 'ready');
  await c.close();
});
