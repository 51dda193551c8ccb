import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestRuntime } from '../../test/support/local.ts';
import { type BusEntry, type EventPublisher, PUT_EVENTS_LIMITS, putEventsBatches } from './publisher.ts';

const entry = (i: number, detailBytes = 10): BusEntry => ({ Source: 'fanout.test', DetailType: 'Batch Test', Detail: JSON.stringify({ i, pad: 'x'.repeat(detailBytes) }) });

test('putEventsBatches: in order, at most 10 entries and 256 KiB a call', () => {
  const batches = putEventsBatches(Array.from({ length: 21 }, (_, i) => entry(i)));
  assert.deepEqual(
    batches.map((b) => b.length),
    [10, 10, 1],
  );
  assert.deepEqual(
    batches.flat().map((e) => (JSON.parse(e.Detail) as { i: number }).i),
    Array.from({ length: 21 }, (_, i) => i),
  );
  // Three entries of 100 KiB each: two fit in a call, the third starts the next.
  const big = putEventsBatches([entry(0, 100 * 1024), entry(1, 100 * 1024), entry(2, 100 * 1024)]);
  assert.deepEqual(
    big.map((b) => b.length),
    [2, 1],
  );
  for (const b of big) assert.ok(b.reduce((s, e) => s + e.Source.length + e.DetailType.length + e.Detail.length, 0) <= PUT_EVENTS_LIMITS.bytes);
  assert.deepEqual(putEventsBatches([]), []);
});

test('the local runtime publishes an outbox of 21 events (more than one PutEvents call) in full', async () => {
  let inner: EventPublisher | null = null;
  const rt = await startTestRuntime({}, { wrapPublisher: (p) => (inner = p) });
  try {
    assert.ok(inner);
    const before = rt.bus.publishedEvents().length;
    await (inner as EventPublisher).publish(Array.from({ length: 21 }, (_, i) => entry(i)));
    const got = rt.bus
      .publishedEvents()
      .slice(before)
      .filter((e) => e.event.source === 'fanout.test');
    assert.equal(got.length, 21);
  } finally {
    await rt.close();
  }
});
