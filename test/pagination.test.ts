/**
 * GET /api/destinations with 200+ destinations: the whole list by default (what the dashboards
 * read: `{ destinations: [...] }`), or pages with `?limit=&cursor=` in the same order, stable while
 * destinations come and go elsewhere in the list. Bad paging parameters are 400s.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestRuntime, type TestRuntime } from './support/local.ts';

let rt: TestRuntime;
const COUNT = 210;
before(async () => {
  rt = await startTestRuntime({ FANOUT_RATE_LIMIT_PER_MINUTE: '100000' });
  // Ten at a time (creation order within a batch is whatever the clock and ids say: the list's order).
  for (let i = 0; i < COUNT; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, COUNT - i) }, (_, j) => rt.api('POST', '/api/destinations', { body: { name: `D${i + j}`, platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: `page-key-${i + j}-0123456789` } })),
    );
    for (const res of batch) assert.equal(res.status, 201, res.text);
  }
});
after(async () => rt?.close());

const ids = (r: { json: { destinations: { destinationId: string }[] } }) => r.json.destinations.map((d) => d.destinationId);

test('without limit: every destination in one answer, as the list always was ({ destinations } and nothing else)', async () => {
  const all = await rt.api('GET', '/api/destinations');
  assert.equal(all.status, 200);
  assert.equal(all.json.destinations.length, COUNT);
  assert.deepEqual(Object.keys(all.json), ['destinations']);
});

test('with limit: pages in the same order as the whole list, each at most limit long, the last with nextCursor null', async () => {
  const whole = ids(await rt.api('GET', '/api/destinations'));
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await rt.api('GET', `/api/destinations?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.destinations.length <= 50);
    seen.push(...ids(res));
    cursor = res.json.nextCursor;
    pages++;
  } while (cursor);
  assert.equal(pages, Math.ceil(COUNT / 50));
  assert.deepEqual(seen, whole);
});

test('a page is stable while destinations before and after it are added and removed', async () => {
  const first = await rt.api('GET', '/api/destinations?limit=20');
  const whole = ids(await rt.api('GET', '/api/destinations'));
  // Remove one already seen and add one at the end: the next page starts where the first ended.
  assert.equal((await rt.api('DELETE', `/api/destinations/${ids(first)[0]}`)).status, 202);
  assert.equal((await rt.api('POST', '/api/destinations', { body: { name: 'Late', platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: 'late-key-0123456789' } })).status, 201);
  const second = await rt.api('GET', `/api/destinations?limit=20&cursor=${first.json.nextCursor}`);
  assert.deepEqual(ids(second), whole.slice(20, 40));
});

test('bad paging parameters are 400 VALIDATION_FAILED naming the parameter', async () => {
  for (const [query, path] of [
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=10&cursor=not%20a%20cursor', 'cursor'],
    ['limit=10&cursor=bm90LWpzb24', 'cursor'],
    ['cursor=WyJ4IiwieSJd', 'cursor'],
  ] as const) {
    const res = await rt.api('GET', `/api/destinations?${query}`);
    assert.equal(res.status, 400, `${query}: ${res.text}`);
    assert.equal(res.json.code, 'VALIDATION_FAILED');
    assert.ok(
      res.json.errors.some((e: { path: string }) => e.path === path),
      `${query}: ${res.text}`,
    );
  }
});
