import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { NotificationFailedV1, NotificationSentV1 } from '../../../../events/catalogue.ts';
import type { Notification } from './alerting.ts';
import { backoffMs, complete, DEFAULT_RETRY_POLICY, enqueue, failedRecord, forChannel, newQueue, nextDue, parseRetryAfter, sentRecord, type AttemptOutcome, type ChannelQueue, type ChannelSettings } from './delivery.ts';
import { scrub } from './mask.ts';

const T0 = Date.parse('2026-11-10T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms);
const slack: ChannelSettings = { channelId: 'ops-slack', name: 'ops Slack', kind: 'slack', enabled: true, alertNames: 'all', minSeverity: 'info', target: 'https://hooks.slack.com/***abcd' };
const hook: ChannelSettings = { ...slack, channelId: 'ops-hook', name: 'ops webhook', kind: 'webhook', target: 'https://receiver.example/***wxyz' };

function n(group: string, atMs: number, alertname = 'DestinationFailing', severity = 'critical'): Notification {
  const a = {
    fingerprint: `fp-${group}-${alertname}`,
    status: 'firing' as const,
    labels: { alertname, severity, scope: group },
    annotations: { summary: `${group} ${alertname}`, description: '', hint: '' },
    startsAt: at(0).toISOString(),
    endsAt: null,
  };
  return {
    id: `${group}@${at(atMs).toISOString()}`,
    groupKey: group,
    groupLabels: { scope: group },
    status: 'firing',
    reason: 'initial',
    severity: severity as Notification['severity'],
    firing: [a],
    resolved: [],
    at: at(atMs).toISOString(),
  };
}

/**
 * Drives a queue through time: `arrivals` (ms → notifications) are enqueued, due deliveries are
 * attempted and answered by `answer` (attempt number → outcome). Returns each attempt.
 */
function drive(q0: ChannelQueue, arrivals: [number, Notification][], answer: (attempt: number, ms: number) => AttemptOutcome, untilMs: number, policy = DEFAULT_RETRY_POLICY) {
  let q = q0;
  let attempt = 0;
  const attempts: { ms: number; groups: string[]; id: string; result: string }[] = [];
  for (let ms = 0; ms <= untilMs; ms += 100) {
    for (const [when, x] of arrivals) if (when === ms) q = enqueue(q, x, at(ms));
    const due = nextDue(q, at(ms));
    q = due.queue;
    if (!('delivery' in due)) continue;
    attempt++;
    const c = complete(q, answer(attempt, ms), at(ms), policy);
    q = c.queue;
    attempts.push({ ms, groups: due.delivery.notifications.map((x) => x.groupKey), id: due.delivery.deliveryId, result: c.result.kind });
  }
  return { attempts, queue: q };
}
const ok: AttemptOutcome = { kind: 'ok', status: 200 };

describe('Slack: one message per second per webhook, bursts merged', () => {
  test('a burst of five groups within 300 ms: the first goes at once, the rest merge into one message a second later', () => {
    const arrivals: [number, Notification][] = [
      [0, n('g1', 0)],
      [100, n('g2', 100)],
      [200, n('g3', 200)],
      [200, n('g4', 200)],
      [300, n('g5', 300)],
    ];
    const { attempts } = drive(newQueue(slack), arrivals, () => ok, 5000);
    assert.deepEqual(
      attempts.map((a) => [a.ms, a.groups]),
      [
        [0, ['g1']],
        [1000, ['g2', 'g3', 'g4', 'g5']],
      ],
    );
  });

  test('a newer notification of a waiting group replaces the older one', () => {
    const { attempts, queue } = drive(
      newQueue(slack),
      [
        [0, n('g1', 0)],
        [100, n('g2', 100)],
        [200, n('g2', 200)],
      ],
      () => ok,
      3000,
    );
    assert.deepEqual(
      attempts.map((a) => a.groups),
      [['g1'], ['g2']],
    );
    assert.equal(queue.waiting.length, 0);
  });

  test('sends are never closer than one second', () => {
    const arrivals: [number, Notification][] = Array.from({ length: 30 }, (_, i): [number, Notification] => [i * 200, n(`g${i}`, i * 200)]);
    const { attempts } = drive(newQueue(slack), arrivals, () => ok, 10_000);
    for (let i = 1; i < attempts.length; i++) assert.ok(attempts[i]!.ms - attempts[i - 1]!.ms >= 1000);
    assert.equal(new Set(attempts.flatMap((a) => a.groups)).size, 30, 'every group delivered');
  });

  test('429 with Retry-After: nothing is sent to the webhook until it has passed, then one merged message', () => {
    const answer = (i: number): AttemptOutcome => (i === 1 ? { kind: 'http', status: 429, retryAfterMs: parseRetryAfter('5', at(0)), detail: 'rate_limited' } : ok);
    const { attempts } = drive(
      newQueue(slack),
      [
        [0, n('g1', 0)],
        [1000, n('g2', 1000)],
        [2000, n('g3', 2000)],
      ],
      answer,
      10_000,
    );
    assert.deepEqual(
      attempts.map((a) => [a.ms, a.groups, a.result]),
      [
        [0, ['g1'], 'retry'],
        [5000, ['g1', 'g2', 'g3'], 'sent'],
      ],
    );
  });

  test('429 does not use up the attempts', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maximumAttempts: 2 };
    const answer = (i: number): AttemptOutcome => (i <= 5 ? { kind: 'http', status: 429, retryAfterMs: 1000 } : ok);
    assert.equal(drive(newQueue(slack), [[0, n('g1', 0)]], answer, 20_000, policy).attempts.at(-1)!.result, 'sent');
  });
});

describe('retries (Temporal-style policy)', () => {
  test('backoff: initial 1 s, coefficient 2, capped at the maximum interval', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 8, 20].map((a) => backoffMs(DEFAULT_RETRY_POLICY, a)),
      [1000, 2000, 4000, 8000, 100_000, 100_000],
    );
  });

  test('500, 500, then 200: retried after 1 s and 2 s, the same delivery id each time', () => {
    const answer = (i: number): AttemptOutcome => (i < 3 ? { kind: 'http', status: 500, retryAfterMs: null } : ok);
    const { attempts } = drive(newQueue(hook), [[0, n('g1', 0)]], answer, 10_000);
    assert.deepEqual(
      attempts.map((a) => [a.ms, a.result]),
      [
        [0, 'retry'],
        [1000, 'retry'],
        [3000, 'sent'],
      ],
    );
    assert.equal(new Set(attempts.map((a) => a.id)).size, 1);
  });

  test('a network error is retried like a 5xx', () => {
    const answer = (i: number): AttemptOutcome => (i === 1 ? { kind: 'network', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' } : ok);
    assert.deepEqual(
      drive(newQueue(hook), [[0, n('g1', 0)]], answer, 5000).attempts.map((a) => a.result),
      ['retry', 'sent'],
    );
  });

  const nonRetryable: [string, AttemptOutcome][] = [
    ['404 (Slack no_service: the webhook was removed)', { kind: 'http', status: 404, retryAfterMs: null, detail: 'no_service' }],
    ['410 (channel archived)', { kind: 'http', status: 410, retryAfterMs: null }],
    ['403 (action prohibited)', { kind: 'http', status: 403, retryAfterMs: null }],
    ['400 (invalid payload)', { kind: 'http', status: 400, retryAfterMs: null }],
    ['an invalid URL', { kind: 'network', code: 'ERR_INVALID_URL', message: 'Invalid URL' }],
  ];
  for (const [name, outcome] of nonRetryable)
    test(`${name}: fails at once, not retried`, () => {
      assert.deepEqual(
        drive(newQueue(hook), [[0, n('g1', 0)]], () => outcome, 10_000).attempts.map((a) => a.result),
        ['failed'],
      );
    });

  test('the attempts run out: failed after the maximum', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maximumAttempts: 3 };
    const { attempts } = drive(newQueue(hook), [[0, n('g1', 0)]], () => ({ kind: 'http', status: 503, retryAfterMs: null }), 60_000, policy);
    assert.deepEqual(
      attempts.map((a) => [a.ms, a.result]),
      [
        [0, 'retry'],
        [1000, 'retry'],
        [3000, 'failed'],
      ],
    );
  });

  test('Retry-After: seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('30', at(0)), 30_000);
    assert.equal(parseRetryAfter(new Date(T0 + 7000).toUTCString(), at(0)), 7000);
    assert.equal(parseRetryAfter('soon', at(0)), null);
    assert.equal(parseRetryAfter(null, at(0)), null);
  });
});

describe('webhooks and SNS: one delivery per notification', () => {
  test('three notifications, three deliveries with their own ids, no minimum interval', () => {
    const { attempts } = drive(
      newQueue({ ...hook, channelId: 'ops.hook' }),
      [
        [0, n('g1', 0)],
        [0, n('g2', 0)],
        [0, n('g3', 0)],
      ],
      () => ok,
      1000,
    );
    assert.deepEqual(
      attempts.map((a) => [a.ms, a.groups]),
      [
        [0, ['g1']],
        [100, ['g2']],
        [200, ['g3']],
      ],
    );
    assert.equal(new Set(attempts.map((a) => a.id)).size, 3);
    for (const a of attempts) assert.doesNotMatch(a.id, /\./, 'usable as a webhook-id');
  });
});

describe('channel settings', () => {
  const mixed: Notification = { ...n('g1', 0), firing: [...n('g1', 0).firing, ...n('g1', 0, 'BudgetThresholdCrossed', 'warning').firing] };
  test('disabled channels get nothing; disabled alert types and lower severities are left out', () => {
    assert.equal(forChannel(mixed, { ...slack, enabled: false }), null);
    assert.deepEqual(
      forChannel(mixed, { ...slack, alertNames: ['BudgetThresholdCrossed'] })!.firing.map((a) => a.labels.alertname),
      ['BudgetThresholdCrossed'],
    );
    assert.deepEqual(
      forChannel(mixed, { ...slack, minSeverity: 'critical' })!.firing.map((a) => a.labels.alertname),
      ['DestinationFailing'],
    );
    assert.equal(forChannel(mixed, { ...slack, alertNames: ['StreamKeyRejected'] }), null);
  });
});

describe('delivery records', () => {
  const env = (data: unknown) => ({ version: 1, id: randomUUID(), occurredAt: at(0).toISOString(), correlationId: 'c', data });
  test('NotificationSent and NotificationFailed validate against their schemas and hold no URL', () => {
    let q = enqueue(newQueue(slack), n('g1', 0), at(0));
    let due = nextDue(q, at(0));
    assert.ok('delivery' in due);
    let c = complete(due.queue, { kind: 'ok', status: 200 }, at(0));
    assert.equal(c.result.kind, 'sent');
    const sent = c.result;
    const sentQueue = c.queue;
    if (sent.kind === 'sent') assert.doesNotThrow(() => NotificationSentV1.detail.parse(env(sentRecord(sentQueue, sent))));

    q = enqueue(c.queue, n('g2', 1000), at(1000));
    due = nextDue(q, at(1000));
    assert.ok('delivery' in due);
    c = complete(due.queue, { kind: 'network', code: 'ERR_INVALID_URL', message: 'Invalid URL https://hooks.slack.com/services/T1/B2/secretsecretsecret' }, at(1000));
    assert.equal(c.result.kind, 'failed');
    if (c.result.kind === 'failed') {
      const data = failedRecord(c.queue, c.result, (s) => scrub(s));
      assert.doesNotThrow(() => NotificationFailedV1.detail.parse(env(data)));
      assert.equal(data.error.code, 'ERR_INVALID_URL');
      assert.equal(JSON.stringify(data).includes('secretsecretsecret'), false);
      assert.equal(data.outcome, 'non-retryable');
    }
  });
});
