import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Backoff, DEFAULT_RETRY_POLICY, delayForAttempt, isRetryable, resolveRetryPolicy } from './backoff.ts';

const T0 = 1_700_000_000_000;
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: T0 }));
afterEach(() => mock.timers.reset());

const retryable = { code: 'RTMP_CONNECTION_REFUSED', retryable: true };
const rejected = { code: 'RTMP_STREAM_KEY_REJECTED', retryable: false };

test('delays grow 1 s, 2 s, 4 s … and cap at 60 s with the default policy', () => {
  const p = resolveRetryPolicy();
  const expected = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000];
  assert.deepEqual(
    expected.map((_, i) => delayForAttempt(p, i + 1)),
    expected,
  );
  assert.equal(delayForAttempt(resolveRetryPolicy({ backoffCoefficient: 1.5, initialIntervalMs: 100 }), 3), 225);
});

test('the defaults are the ones documented, and the resolved policy is frozen', () => {
  const p = resolveRetryPolicy();
  assert.equal(p.initialIntervalMs, 1000);
  assert.equal(p.backoffCoefficient, 2);
  assert.equal(p.maximumIntervalMs, 60_000);
  assert.equal(p.resetAfterStableMs, 60_000);
  assert.equal(p.maximumAttempts, undefined);
  assert.equal(p.nonRetryableMaxAttempts, 3);
  assert.ok(Object.isFrozen(p) && Object.isFrozen(DEFAULT_RETRY_POLICY));
  // undefined overrides mean "default", not "unset"
  assert.equal(resolveRetryPolicy({ initialIntervalMs: undefined }).initialIntervalMs, 1000);
});

test('an invalid policy is rejected with every problem at once', () => {
  assert.throws(
    () => resolveRetryPolicy({ initialIntervalMs: 0, backoffCoefficient: 0.5, maximumAttempts: 0, nonRetryableMaxAttempts: 1.5 }),
    (err: Error) => {
      assert.ok(err instanceof RangeError);
      for (const field of ['initialIntervalMs', 'backoffCoefficient', 'maximumAttempts', 'nonRetryableMaxAttempts']) assert.match(err.message, new RegExp(field));
      return true;
    },
  );
  assert.throws(() => resolveRetryPolicy({ initialIntervalMs: 5000, maximumIntervalMs: 1000 }), /maximumIntervalMs/);
});

test('each failure schedules the next retry at now + delay (fake clock)', () => {
  const b = new Backoff();
  assert.equal(b.attempt, 0);
  assert.equal(b.nextRetryAt, null);
  for (const [n, delay] of [
    [1, 1000],
    [2, 2000],
    [3, 4000],
  ] as const) {
    const d = b.nextDelay(retryable);
    assert.deepEqual(d, { retry: true, attempt: n, delayMs: delay, retryAt: Date.now() + delay });
    assert.equal(b.attempt, n);
    assert.equal(b.nextRetryAt, Date.now() + delay);
    mock.timers.tick(delay);
  }
  b.clearRetry();
  assert.equal(b.nextRetryAt, null);
});

test('a retry scheduled with setTimeout fires exactly when nextRetryAt says (fake timers)', () => {
  const b = new Backoff();
  const fired: number[] = [];
  const d = b.nextDelay(retryable);
  assert.ok(d.retry);
  setTimeout(() => fired.push(Date.now()), d.delayMs);
  mock.timers.tick(999);
  assert.deepEqual(fired, []);
  mock.timers.tick(1);
  assert.deepEqual(fired, [b.nextRetryAt]);
});

test('a run that stays up for resetAfterStableMs resets the failure count', () => {
  const b = new Backoff();
  b.nextDelay(retryable);
  b.nextDelay(retryable);
  b.nextDelay(retryable);
  assert.equal(b.attempt, 3);
  b.recordStart();
  assert.equal(b.nextRetryAt, null);
  mock.timers.tick(59_999);
  assert.equal(b.recordStableRun(), false);
  assert.equal(b.attempt, 3);
  mock.timers.tick(1);
  assert.equal(b.recordStableRun(), true);
  assert.equal(b.attempt, 0);
  // The next failure starts again from the initial interval.
  const d = b.nextDelay(retryable);
  assert.ok(d.retry && d.delayMs === 1000 && d.attempt === 1);
});

test('nextDelay notices a long run by itself, but not a short one', () => {
  const b = new Backoff({ resetAfterStableMs: 10_000 });
  b.nextDelay(retryable);
  b.nextDelay(retryable);
  b.recordStart();
  mock.timers.tick(9_000);
  let d = b.nextDelay(retryable);
  assert.ok(d.retry && d.attempt === 3 && d.delayMs === 4000, 'short run: keeps climbing');
  b.recordStart();
  mock.timers.tick(10_000);
  d = b.nextDelay(retryable);
  assert.ok(d.retry && d.attempt === 1 && d.delayMs === 1000, 'stable run: back to the start');
});

test('maximumAttempts gives up at the n-th consecutive failure and says why', () => {
  const b = new Backoff({ maximumAttempts: 3 });
  assert.ok(b.nextDelay(retryable).retry);
  assert.ok(b.nextDelay(retryable).retry);
  const d = b.nextDelay(retryable);
  assert.equal(d.retry, false);
  assert.ok(!d.retry && d.reason === 'maximum-attempts' && d.attempt === 3);
  assert.ok(!d.retry && /3 consecutive failed attempts/.test(d.explanation));
  assert.equal(b.nextRetryAt, null);
});

test('a non-retryable error gives up after nonRetryableMaxAttempts in a row', () => {
  const b = new Backoff();
  assert.ok(b.nextDelay(rejected).retry);
  assert.ok(b.nextDelay(rejected).retry);
  const d = b.nextDelay(rejected);
  assert.ok(!d.retry && d.reason === 'non-retryable');
  assert.ok(!d.retry && /RTMP_STREAM_KEY_REJECTED is not retryable; gave up after it happened 3 times in a row/.test(d.explanation));
});

test('a retryable failure in between breaks the non-retryable streak', () => {
  const b = new Backoff();
  b.nextDelay(rejected);
  b.nextDelay(rejected);
  b.nextDelay(retryable);
  assert.ok(b.nextDelay(rejected).retry);
  assert.ok(b.nextDelay(rejected).retry);
  assert.equal(b.nextDelay(rejected).retry, false);
});

test('nonRetryableMaxAttempts 1 is Temporal behaviour; nonRetryableCodes make any code final', () => {
  const strict = new Backoff({ nonRetryableMaxAttempts: 1 });
  const d = strict.nextDelay(rejected);
  assert.ok(!d.retry && /gave up after it happened once/.test(d.explanation));

  const p = resolveRetryPolicy({ nonRetryableCodes: ['DNS_RESOLUTION_FAILED'], nonRetryableMaxAttempts: 1 });
  assert.equal(isRetryable(p, { code: 'DNS_RESOLUTION_FAILED', retryable: true }), false);
  assert.equal(isRetryable(p, retryable), true);
  assert.equal(new Backoff(p).nextDelay({ code: 'DNS_RESOLUTION_FAILED', retryable: true }).retry, false);
});

test('reset forgets attempts, streaks and the pending retry', () => {
  const b = new Backoff();
  b.nextDelay(rejected);
  b.nextDelay(rejected);
  b.reset();
  assert.equal(b.attempt, 0);
  assert.equal(b.nextRetryAt, null);
  assert.ok(b.nextDelay(rejected).retry);
  assert.ok(b.nextDelay(rejected).retry, 'the streak restarted from zero');
});
