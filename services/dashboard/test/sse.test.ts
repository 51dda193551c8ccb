/**
 * The dashboards' event-stream client against a real HTTP server on loopback (and against the
 * real Fanout API): the token in the Authorization header and never in the URL, resume with
 * Last-Event-ID after the connection drops, backoff between attempts, a silent connection taken
 * for dead, a refused token ending the attempts.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { LiveStream, reconnectDelay, type StreamEvent, type StreamState } from '../src/lib/sse.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime } from '../../../test/support/local.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

async function server(handler: Handler): Promise<{ url: string; requests: IncomingMessage[]; close(): Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const open = new Set<ServerResponse>();
  const s = createServer((req, res) => {
    requests.push(req);
    open.add(res);
    res.on('close', () => open.delete(res));
    handler(req, res, requests.length);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/events`,
    requests,
    close: () => {
      for (const r of open) r.destroy();
      return new Promise((r) => s.close(() => r()));
    },
  };
}

const sse = (res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
};
const closers: (() => unknown)[] = [];
after(async () => {
  // Last in, first out: streams stop before the servers they read from close.
  for (const c of closers.reverse()) await c();
});

test('reconnect delays double from the initial delay up to the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((a) => reconnectDelay(a, { initialMs: 1000, maxMs: 15_000 })),
    [1000, 2000, 4000, 8000, 15_000, 15_000],
  );
});

test('sends the token as a header, resumes with Last-Event-ID after a drop, and backs off', async () => {
  const srv = await server((_req, res, n) => {
    sse(res);
    if (n === 1) {
      res.write('event: ready\ndata: {}\n\n');
      res.write('id: boot-1\nevent: destination.status\ndata: {"to":"running"}\n\n');
      res.write('id: boot-2\nevent: destination.status\ndata: {"to":"stopping"}\n\n');
      // The connection breaks.
      setTimeout(() => res.destroy(), 30);
    } else {
      res.write('event: ready\ndata: {}\n\n');
      res.write('id: boot-3\nevent: destination.status\ndata: {"to":"idle"}\n\n');
    }
  });
  closers.push(srv.close);
  const events: StreamEvent[] = [];
  const states: StreamState[] = [];
  const stream = new LiveStream({ url: srv.url, token: () => 'tok-123', onEvent: (e) => events.push(e), onState: (s) => states.push(s), backoff: { initialMs: 50, maxMs: 200 } });
  closers.push(() => stream.stop());
  stream.start();
  await eventually(() => events.some((e) => e.id === 'boot-3'), { what: 'the event after the reconnect' });
  stream.stop();
  assert.deepEqual(
    events.map((e) => [e.event, e.id]),
    [
      ['ready', undefined],
      ['destination.status', 'boot-1'],
      ['destination.status', 'boot-2'],
      ['ready', undefined],
      ['destination.status', 'boot-3'],
    ],
  );
  assert.equal(srv.requests[0]!.headers.authorization, 'Bearer tok-123');
  assert.equal(srv.requests[0]!.headers['last-event-id'], undefined, 'nothing to resume at first');
  assert.equal(srv.requests[1]!.headers['last-event-id'], 'boot-2', 'resumes after the last id it got');
  assert.ok(
    srv.requests.every((r) => !(r.url ?? '').includes('tok-123')),
    'the token is never in the URL',
  );
  const offline = states.find((s) => s.kind === 'offline');
  assert.ok(offline && offline.kind === 'offline' && offline.attempt === 1, `went offline once: ${JSON.stringify(states)}`);
  assert.equal(states.at(-1)?.kind, 'open');
});

test('a connection that stays silent past silenceMs is taken for dead and reopened', async () => {
  const srv = await server((_req, res) => {
    sse(res);
    res.write('event: ready\ndata: {}\n\n');
    // ...and then nothing, not even a ping.
  });
  closers.push(srv.close);
  const states: StreamState[] = [];
  const stream = new LiveStream({ url: srv.url, token: () => 't', onEvent: () => undefined, onState: (s) => states.push(s), silenceMs: 150, backoff: { initialMs: 20, maxMs: 20 } });
  closers.push(() => stream.stop());
  stream.start();
  await eventually(() => srv.requests.length >= 2, { what: 'a second connection' });
  stream.stop();
  const offline = states.find((s) => s.kind === 'offline');
  assert.ok(offline?.kind === 'offline' && /no data for/.test(offline.reason), JSON.stringify(offline));
});

test('a refused token stops the attempts (unauthorized); an unreachable server is retried', async () => {
  const srv = await server((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'UNAUTHENTICATED', detail: 'The token is not valid.' }));
  });
  closers.push(srv.close);
  const states: StreamState[] = [];
  const stream = new LiveStream({ url: srv.url, token: () => 'bad', onEvent: () => undefined, onState: (s) => states.push(s), backoff: { initialMs: 10, maxMs: 10 } });
  closers.push(() => stream.stop());
  stream.start();
  await eventually(() => states.some((s) => s.kind === 'unauthorized'), { what: 'unauthorized' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(srv.requests.length, 1, 'no retry with a refused token');
  assert.deepEqual(states.at(-1), { kind: 'unauthorized', reason: 'The token is not valid.' });

  const gone: StreamState[] = [];
  const dead = new LiveStream({ url: 'http://127.0.0.1:9/api/events', token: () => 't', onEvent: () => undefined, onState: (s) => gone.push(s), backoff: { initialMs: 10, maxMs: 10 } });
  closers.push(() => dead.stop());
  dead.start();
  await eventually(() => gone.filter((s) => s.kind === 'offline').length >= 2, { what: 'retries against a closed port' });
  dead.stop();
});

test('against the real API: the header token is accepted and a missed status event is replayed on resume', async () => {
  const rt = await startTestRuntime({}, { ssePingMs: 60_000 });
  closers.push(() => rt.close());
  const events: StreamEvent[] = [];
  const stream = new LiveStream({ url: `${rt.url}/api/events`, token: () => ADMIN_TOKEN, onEvent: (e) => events.push(e), backoff: { initialMs: 20, maxMs: 20 } });
  closers.push(() => stream.stop());
  stream.start();
  await eventually(() => events.some((e) => e.event === 'ready'), { what: 'ready' });
  const first = await rt.api('POST', '/api/destinations', { body: { name: 'one', platform: 'youtube', streamKey: 'sse-client-key-0000' } });
  await eventually(() => events.some((e) => e.event === 'destination.created'), { what: 'created' });
  // Drop the connection and make a change while it is down: the resume must bring it.
  stream.stop();
  const second = await rt.api('POST', '/api/destinations', { body: { name: 'two', platform: 'youtube', streamKey: 'sse-client-key-1111' } });
  stream.start();
  await eventually(() => events.some((e) => e.event === 'destination.created' && (JSON.parse(e.data) as { destinationId: string }).destinationId === second.json.destinationId), { what: 'the missed event replayed' });
  stream.stop();
  assert.equal(events.filter((e) => e.event === 'destination.created' && (JSON.parse(e.data) as { destinationId: string }).destinationId === first.json.destinationId).length, 1, 'nothing delivered twice');
  assert.equal(events.filter((e) => e.event === 'reset').length, 0);
});
