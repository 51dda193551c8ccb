/**
 * GET /metrics (the local runtime's Prometheus endpoint) without media: who may read it (the
 * `metrics` role and admins; 401 without a token, 403 for an operator), that a metrics token is
 * good for nothing else (403 everywhere in the API, the event stream included), and what it shows
 * of the in-process bus and of the HTTP API (latency labelled by route pattern, never by raw
 * path), read back with a Prometheus text-format parser. With real media: test/e2e/metrics.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

let rt: TestRuntime;
let metricsToken: string;
let operatorToken: string;

const family = (families: ParsedFamily[], name: string) => families.find((f) => f.name === name);

/**
 * The samples of a histogram with their labels. The parser keeps a histogram family's buckets but
 * drops its label sets (and _count/_sum), so the family's HELP and TYPE lines are removed and its
 * `_count` samples are read as the untyped samples they then are.
 */
function histogramCounts(text: string, name: string): { labels: Record<string, string>; count: number; sum: number }[] {
  const untyped = parsePrometheusTextFormat(
    text
      .split('\n')
      .filter((l) => !l.startsWith(`# HELP ${name} `) && !l.startsWith(`# TYPE ${name} `))
      .join('\n'),
  );
  const all = (suffix: string) => untyped.filter((f) => f.name === `${name}${suffix}`).flatMap((f) => f.metrics);
  const sums = all('_sum');
  return all('_count').map((m) => ({ labels: m.labels ?? {}, count: Number(m.value), sum: Number(sums.find((x) => JSON.stringify(x.labels) === JSON.stringify(m.labels))?.value) }));
}

describe('GET /metrics', () => {
  before(async () => {
    rt = await startTestRuntime({}, { engine: 'memory' });
    const make = async (role: string) => {
      const res = await rt.api('POST', '/api/admin/tokens', { body: { name: `${role} token`, role } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.role, role);
      return res.json.token as string;
    };
    metricsToken = await make('metrics');
    operatorToken = await make('operator');
  });
  after(async () => rt?.close());

  test('401 without a token, 403 for an operator token, 200 for a metrics or an admin token', async () => {
    const none = await rt.api('GET', '/metrics', { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.json.code, 'UNAUTHENTICATED');
    assert.match(none.headers.get('content-type') ?? '', /application\/problem\+json/);
    const wrong = await rt.api('GET', '/metrics', { token: 'fo_not-a-token' });
    assert.equal(wrong.status, 401);
    const op = await rt.api('GET', '/metrics', { token: operatorToken });
    assert.equal(op.status, 403);
    assert.equal(op.json.code, 'FORBIDDEN');
    for (const token of [metricsToken, undefined]) {
      const ok = await rt.api('GET', '/metrics', { ...(token ? { token } : {}) });
      assert.equal(ok.status, 200, ok.text);
      assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(ok.headers.get('cache-control'), 'no-store');
    }
  });

  test('a metrics token is refused everywhere else (403), the event stream and the admin routes included', async () => {
    for (const [method, path] of [
      ['GET', '/api/destinations'],
      ['GET', '/api/presets'],
      ['GET', '/api/mediaconnect/inputs/health'],
      ['GET', '/api/admin/tokens'],
      ['GET', '/api/channels/validate'],
      ['POST', '/api/destinations'],
    ] as const) {
      const res = await rt.api(method, path, { token: metricsToken, ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assert.equal(res.json.code, 'FORBIDDEN');
      assert.match(res.json.detail, /metrics token/);
    }
    const sse = await fetch(`${rt.url}/api/events?access_token=${metricsToken}`);
    assert.equal(sse.status, 403);
    await sse.body?.cancel();
    // Public routes stay public; GET /api/session tells any token its role.
    assert.equal((await rt.api('GET', '/api/health', { token: metricsToken })).status, 200);
    const session = await rt.api('GET', '/api/session', { token: metricsToken });
    assert.equal(session.status, 200, session.text);
    assert.equal(session.json.role, 'metrics');
    assert.deepEqual(Object.keys(session.json).sort(), ['name', 'role', 'tokenId']);
    assert.equal((await rt.api('GET', '/api/session', { token: null })).status, 401);
  });

  test('the exposition parses; HTTP latency is labelled by route pattern, never by raw path; the bus queues are there', async () => {
    const created = await rt.api('POST', '/api/destinations', { body: { name: 'Metrics YouTube', platform: 'youtube', rtmpUrl: 'rtmp://a.rtmp.youtube.com/live2', streamKey: 'metrics-secret-key-0123456789', preset: 'passthrough' } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.destinationId as string;
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { what: 'idle' });
    assert.equal((await rt.api('GET', `/api/destinations/${id}/metrics`)).status, 200);
    assert.equal((await rt.api('GET', '/api/no/such/route')).status, 404);

    const res = await rt.api('GET', '/metrics', { token: metricsToken });
    const families = parsePrometheusTextFormat(res.text);
    assert.ok(families.length > 10);
    assert.ok(!res.text.includes('metrics-secret-key'), 'no stream key in the exposition');
    assert.ok(!res.text.includes('rtmp://'), 'no ingest URL in the exposition');

    const status = family(families, 'fanout_destination_status')!;
    assert.equal(status.type, 'GAUGE');
    const mine = status.metrics.find((m) => m.labels?.destination_id === id)!;
    assert.deepEqual(mine.labels, { destination_id: id, name: 'Metrics YouTube', platform: 'youtube', status: 'idle' });
    assert.equal(Number(mine.value), 1);

    assert.equal(family(families, 'fanout_http_request_duration_seconds')?.type, 'HISTOGRAM');
    const http = histogramCounts(res.text, 'fanout_http_request_duration_seconds');
    const routes = http.map((m) => `${m.labels.method} ${m.labels.route} ${m.labels.status}`);
    assert.ok(routes.includes('GET /api/destinations/:id/metrics 200'), routes.join('\n'));
    assert.ok(routes.includes('POST /api/destinations 201'), routes.join('\n'));
    assert.ok(routes.includes('GET unmatched 404'), 'an unknown path is one series, whatever was asked');
    assert.ok(routes.includes('GET /metrics 403') && routes.includes('GET /metrics 401'), 'the refused scrapes are counted too');
    assert.ok(!routes.some((r) => r.includes(id) || r.includes('/no/such')), 'no raw path in a label');
    const one = http.find((m) => m.labels.route === '/api/destinations/:id/metrics')!;
    assert.ok(one.count >= 1 && one.sum > 0);

    const queues = family(families, 'fanout_queue_messages')!;
    const names = new Set(queues.metrics.map((m) => m.labels?.queue));
    assert.ok(names.has('DestinationInboxQueue'), [...names].join());
    assert.deepEqual(new Set(queues.metrics.map((m) => m.labels?.state)), new Set(['visible', 'in_flight', 'delayed']));
    assert.ok(family(families, 'fanout_queue_dead_letter_messages')!.metrics.some((m) => m.labels?.queue === 'DestinationInboxQueue'));
    assert.ok(family(families, 'fanout_queue_oldest_message_age_seconds')!.metrics.every((m) => Number(m.value) >= 0));
    assert.ok(family(families, 'process_cpu_user_seconds_total'), "the process's own figures");
  });

  test('a message its consumer keeps failing is dead-lettered: DLQ depth and the age of the oldest message show it', async () => {
    // Scaled time (its own runtime, the destination service alone): a failing message reaches its
    // DLQ after maxReceiveCount visibility timeouts in a few seconds.
    const fast = await startTestRuntime({}, { timeScale: 0.01 });
    try {
      const queue = 'DestinationInboxQueue';
      fast.bus.sendMessage(queue, 'not an event at all');
      await eventually(() => (fast.bus.queueStats()[queue]?.dlq ?? 0) > 0, { timeoutMs: 30_000, what: 'the message dead-lettered' });
      const f = await eventually(
        async () => {
          const parsed = parsePrometheusTextFormat((await fast.api('GET', '/metrics')).text);
          const dlq = family(parsed, 'fanout_queue_dead_letter_messages')!.metrics.find((m) => m.labels?.queue === queue);
          return Number(dlq?.value) === 1 ? parsed : null;
        },
        { what: 'the DLQ depth in /metrics' },
      );
      // The DLQ has no consumer: its oldest message ages, as SQS's ApproximateAgeOfOldestMessage would.
      const dlqAge = family(f, 'fanout_queue_oldest_message_age_seconds')!.metrics.find((m) => m.labels?.queue === 'DestinationInboxDLQ');
      assert.ok(Number(dlqAge?.value) > 0, JSON.stringify(dlqAge));
    } finally {
      await fast.close();
    }
  });

  test("cost-tracker's month to date (total and per destination, USD) and the budget used (fraction) are gauges, the same figures as GET /api/cost", async () => {
    const created = await rt.api('POST', '/api/destinations', { body: { name: 'Cost gauge YouTube', platform: 'youtube', rtmpUrl: 'rtmp://a.rtmp.youtube.com/live2', streamKey: 'cost-gauge-key-0123456789', preset: 'youtube-1080p30' } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.destinationId as string;
    const statusIs = (want: string) => eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === want, { timeoutMs: 15_000, what: want });
    await statusIs('idle');
    assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    await statusIs('running');
    // The destination's usage shows in the report (an open session, priced up to now).
    await eventually(async () => ((await rt.api('GET', '/api/cost')).json.byDestination as { key: string }[]).some((r) => r.key === id), { timeoutMs: 15_000, what: 'the destination in GET /api/cost' });
    const budget = await rt.api('PUT', '/api/admin/cost/budget', { body: { amount: 40 } });
    assert.equal(budget.status, 200, budget.text);

    // Costs only grow within a month: the scrape lies between two reports read around it.
    const usd = (v: string) => Number(v);
    const before = (await rt.api('GET', '/api/cost')).json;
    const res = await rt.api('GET', '/metrics', { token: metricsToken });
    const after = (await rt.api('GET', '/api/cost')).json;
    assert.equal(res.status, 200);
    const families = parsePrometheusTextFormat(res.text);
    const sample = (name: string) => {
      const f = family(families, name);
      assert.ok(f, `${name} exposed`);
      assert.equal(f.type, 'GAUGE', name);
      return f.metrics;
    };
    const [total] = sample('fanout_cost_month_to_date_usd');
    assert.equal(total!.labels?.month, before.month);
    const t = Number(total!.value);
    assert.ok(t > 0 && t >= usd(before.monthToDate) - 1e-6 && t <= usd(after.monthToDate) + 1e-6, `total ${t} within [${before.monthToDate}, ${after.monthToDate}]`);

    const rows = sample('fanout_cost_destination_month_to_date_usd');
    const mine = rows.find((r) => r.labels?.destination_id === id);
    assert.ok(mine, 'a series for the destination');
    assert.equal(mine.labels?.name, 'Cost gauge YouTube');
    const rowOf = (report: { byDestination: { key: string; cost: string }[] }) => usd(report.byDestination.find((r) => r.key === id)!.cost);
    const v = Number(mine.value);
    assert.ok(v > 0 && v >= rowOf(before) - 1e-6 && v <= rowOf(after) + 1e-6, `destination ${v} within [${rowOf(before)}, ${rowOf(after)}]`);
    // The rows add up to the total (the shared and idle rows included).
    assert.ok(Math.abs(rows.reduce((a, r) => a + Number(r.value), 0) - t) < 1e-5, 'rows sum to the total');
    assert.deepEqual(new Set(rows.map((r) => r.labels?.destination_id)), new Set((after.byDestination as { key: string }[]).map((r) => r.key)));

    assert.equal(Number(sample('fanout_cost_budget_usd')[0]!.value), 40);
    const used = Number(sample('fanout_cost_budget_used_ratio')[0]!.value);
    assert.ok(Math.abs(used - t / 40) < 1e-9, `budget used ${used} = ${t} / 40`);
    assert.ok(used * 100 >= before.budget.usedPercent - 0.05 && used * 100 <= after.budget.usedPercent + 0.05, `${used} against usedPercent ${before.budget.usedPercent}..${after.budget.usedPercent}`);
    assert.ok(!res.text.includes('cost-gauge-key'), 'no stream key in the exposition');
    assert.equal((await rt.api('POST', `/api/destinations/${id}/stop`)).status, 202);
  });
});
