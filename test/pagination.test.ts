/**
 * GET /api/destinations with 200+ destinations (ADR 0025): always a page, read from the list index
 * in creation order. Without `limit` the default page (100) and its nextCursor; following the
 * cursors gives every destination once, in order, the last page with nextCursor null (also when
 * the list ends exactly at a page's end). Pages are stable while destinations come and go
 * elsewhere in the list (a removed record leaving the index: repository.contract.test.ts). The answer holds no stream-key
 * ciphertext and no outbox. Bad paging parameters are 400 VALIDATION_FAILED naming the parameter.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestRuntime, type TestRuntime } from './support/local.ts';

let rt: TestRuntime;
const COUNT = 210;
const DEFAULT_LIMIT = 100;
const created: { id: string; createdAt: string }[] = [];
before(async () => {
  rt = await startTestRuntime({ FANOUT_RATE_LIMIT_PER_MINUTE: '100000' });
  // Ten at a time (creation order within a batch is whatever the clock and ids say: the list's order).
  for (let i = 0; i < COUNT; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, COUNT - i) }, (_, j) => rt.api('POST', '/api/destinations', { body: { name: `D${i + j}`, platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: `page-key-${i + j}-0123456789` } })),
    );
    for (const res of batch) {
      assert.equal(res.status, 201, res.text);
      created.push({ id: res.json.destinationId, createdAt: res.json.createdAt });
    }
  }
});
after(async () => rt?.close());

type Page = { json: { destinations: { destinationId: string; createdAt: string }[]; nextCursor: string | null } };
const ids = (r: Page) => r.json.destinations.map((d) => d.destinationId);
const creationOrder = () => [...created].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)).map((d) => d.id);

/** Every id, following nextCursor from `query`; and the pages' sizes. */
async function follow(query: string): Promise<{ ids: string[]; sizes: number[] }> {
  const out: string[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '';
    const res = (await rt.api('GET', `/api/destinations?${query}${cursor ? `${sep}cursor=${cursor}` : ''}`)) as Page & { status: number; text: string };
    assert.equal(res.status, 200, res.text);
    out.push(...ids(res));
    sizes.push(res.json.destinations.length);
    cursor = res.json.nextCursor;
  } while (cursor);
  return { ids: out, sizes };
}

test('without limit: the default page (100) in creation order with a nextCursor; the cursors lead through every destination once', async () => {
  const first = await rt.api('GET', '/api/destinations');
  assert.equal(first.status, 200);
  assert.deepEqual(Object.keys(first.json).sort(), ['destinations', 'nextCursor']);
  assert.equal(first.json.destinations.length, DEFAULT_LIMIT);
  assert.equal(typeof first.json.nextCursor, 'string');
  const all = await follow('');
  assert.deepEqual(all.sizes, [100, 100, 10]);
  assert.deepEqual(all.ids, creationOrder());
});

test('with limit: pages in the same order, each at most limit long, the last with nextCursor null', async () => {
  const all = await follow('limit=50');
  assert.deepEqual(all.sizes, [50, 50, 50, 50, 10]);
  assert.deepEqual(all.ids, creationOrder());
});

test('a list that ends exactly at the end of a page: that page says nextCursor null (no empty page after it)', async () => {
  const whole = await rt.api('GET', `/api/destinations?limit=${COUNT}`);
  assert.equal(whole.json.destinations.length, COUNT);
  assert.equal(whole.json.nextCursor, null);
  assert.deepEqual((await follow('limit=105')).sizes, [105, 105]);
});

test('the answer holds no stream key, ciphertext or outbox', async () => {
  const res = await rt.api('GET', '/api/destinations?limit=500');
  for (const word of ['streamKeyCiphertext', 'outbox', 'listKey', 'listSort', 'schemaVersion', 'page-key-']) assert.ok(!res.text.includes(word), word);
  assert.ok(res.json.destinations.every((d: { streamKeyLast4: string }) => typeof d.streamKeyLast4 === 'string'));
});

test('a page is stable while destinations before and after it are added and removed', async () => {
  const first = (await rt.api('GET', '/api/destinations?limit=20')) as Page;
  const whole = (await follow('limit=500')).ids;
  // Remove one already seen and add one at the end: the next page starts where the first ended.
  const gone = ids(first)[0]!;
  assert.equal((await rt.api('DELETE', `/api/destinations/${gone}`)).status, 202);
  const late = await rt.api('POST', '/api/destinations', { body: { name: 'Late', platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: 'late-key-0123456789' } });
  assert.equal(late.status, 201);
  const second = (await rt.api('GET', `/api/destinations?limit=20&cursor=${first.json.nextCursor}`)) as Page;
  assert.deepEqual(ids(second), whole.slice(20, 40));
  // Engine-less, the delete saga does not finish: the destination is listed as deleting until it does.
  const now = (await rt.api('GET', '/api/destinations?limit=500')).json.destinations as { destinationId: string; status: string }[];
  assert.equal(now.find((d) => d.destinationId === gone)?.status, 'deleting');
  assert.equal(now.at(-1)?.destinationId, late.json.destinationId, 'the new one is last');
});

test('a cursor given without limit pages with the default size', async () => {
  const first = (await rt.api('GET', '/api/destinations?limit=10')) as Page;
  const next = (await rt.api('GET', `/api/destinations?cursor=${first.json.nextCursor}`)) as Page;
  assert.equal(next.json.destinations.length, DEFAULT_LIMIT);
  assert.equal(ids(next)[0], (await follow('limit=500')).ids[10]);
});

test('bad paging parameters are 400 VALIDATION_FAILED naming the parameter, as a problem document', async () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  for (const [query, path] of [
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=10&cursor=not%20a%20cursor', 'cursor'],
    ['limit=10&cursor=bm90LWpzb24', 'cursor'],
    ['cursor=WyJ4IiwieSJd', 'cursor'],
    [`cursor=${b64(['2026-01-01T00:00:00.000Z', 'not-a-uuid'])}`, 'cursor'],
    [`cursor=${b64(['yesterday', '6f915711-0964-48cf-81d9-7f643f413f36'])}`, 'cursor'],
    [`cursor=${b64({ createdAt: '2026-01-01T00:00:00.000Z' })}`, 'cursor'],
  ] as const) {
    const res = await rt.api('GET', `/api/destinations?${query}`);
    assert.equal(res.status, 400, `${query}: ${res.text}`);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(res.json.code, 'VALIDATION_FAILED');
    assert.ok(
      res.json.errors.some((e: { path: string }) => e.path === path),
      `${query}: ${res.text}`,
    );
  }
});
