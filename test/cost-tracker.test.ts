/**
 * cost-tracker wired into the local runtime on the memory engine (AWS's state machines, no
 * media): usage sessions recorded from a real start and stop through the bus, duplicate and
 * reordered events counted once, an open session kept across a restart on the same data dir,
 * the API (JSON, FOCUS CSV read back by csv-parse, estimate, budget, rates), its problem
 * documents on bad input, and who may call what.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

const SETTLE = { FANOUT_COST_SETTLE_SECONDS: '1' };

const status = async (rt: TestRuntime, id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as { status: string };
const until = (rt: TestRuntime, id: string, want: string) => eventually(async () => (await status(rt, id)).status === want, { timeoutMs: 15_000, what: `status ${want}` });

interface SessionOut {
  sessionId: string;
  resource: { kind: string; id: string; destinationId: string | null };
  kind: string;
  startedAt: string;
  endedAt: string | null;
  provisional: boolean;
  endReason: string | null;
  platform: string | null;
  lines: { serviceLine: string; computation: string }[];
}
const sessionsOf = async (rt: TestRuntime, q = '') => (await rt.api('GET', `/api/cost/sessions${q}`)).json.sessions as SessionOut[];
const published = (rt: TestRuntime, type: string) => rt.published.filter((e) => e.DetailType === type).map((e) => JSON.parse(e.Detail) as { id: string; data: Record<string, unknown> });

async function createAndRun(rt: TestRuntime, name = 'YouTube main'): Promise<string> {
  const id = (await rt.api('POST', '/api/destinations', { body: { name, platform: 'youtube', streamKey: 'yt-0123456789abcdef', preset: 'youtube-1080p30' } })).json.destinationId as string;
  await until(rt, id, 'idle');
  await rt.api('POST', `/api/destinations/${id}/start`);
  await until(rt, id, 'running');
  return id;
}

test('a start and a stop give one running session, settled once, priced line by line', async () => {
  const rt = await startTestRuntime(SETTLE, { engine: 'memory' });
  try {
    const id = await createAndRun(rt);
    const open = await eventually(async () => (await sessionsOf(rt, `?destinationId=${id}`)).find((s) => s.kind === 'running' && s.endedAt === null), { what: 'open running session' });
    assert.equal(open.provisional, true);
    assert.equal(open.platform, 'youtube');
    await rt.api('POST', `/api/destinations/${id}/stop`);
    await until(rt, id, 'idle');
    await rt.bus.drain(15_000);
    // The settle window passes; the tick settles.
    await eventually(
      async () => {
        await rt.bus.runScheduled('costTrackerTick');
        return published(rt, 'UsageSessionClosed').some((e) => e.data.destinationId === id && e.data.kind === 'running');
      },
      { what: 'UsageSessionClosed' },
    );
    const closed = published(rt, 'UsageSessionClosed').filter((e) => e.data.destinationId === id && e.data.kind === 'running');
    assert.equal(closed.length, 1, 'announced once');
    const data = closed[0]!.data as { endReason: string; breakdown: { lines: { serviceLine: string; computation: string }[] } };
    assert.equal(data.endReason, 'stopped');
    assert.ok(
      data.breakdown.lines.some((l) => l.serviceLine === 'MediaLive output' && /10-minute minimum/.test(l.computation)),
      'a short run bills the 10-minute minimum',
    );
    // Running the tick again settles nothing more.
    await rt.bus.runScheduled('costTrackerTick');
    await rt.bus.drain(15_000);
    assert.equal(published(rt, 'UsageSessionClosed').filter((e) => e.data.destinationId === id && e.data.kind === 'running').length, 1);
    const running = await sessionsOf(rt, `?destinationId=${id}&kind=running`);
    assert.equal(running.length, 1);
    assert.equal(running[0]!.provisional, false);
    const report = await rt.api('GET', '/api/cost');
    assert.equal(report.status, 200);
    assert.ok(Number(report.json.monthToDate) > 0, `month to date ${report.json.monthToDate}`);
    assert.ok(report.json.byDestination.some((r: { key: string }) => r.key === id));
    assert.match(report.json.projection.computation, /projection \$/);
    assert.ok(report.json.fixedDesign, "the plan's fixed design priced for the same usage");
    assert.equal(report.json.fixedDesignNotApplicable, null, 'on the AWS engine (memory) it applies');
  } finally {
    await rt.close();
  }
});

test('duplicate and reordered events are counted once', async () => {
  const rt = await startTestRuntime(SETTLE, { engine: 'memory' });
  try {
    const id = await createAndRun(rt);
    await rt.api('POST', `/api/destinations/${id}/stop`);
    await until(rt, id, 'idle');
    await rt.bus.drain(15_000);
    // Every ChannelStateChanged of this destination again, newest first (reordered), twice (duplicated).
    const again = rt.published.filter((e) => e.DetailType === 'ChannelStateChanged' && JSON.parse(e.Detail).data.destinationId === id).reverse();
    assert.ok(again.length >= 3);
    const entries = [...again, ...again].map((e) => ({ ...e, EventBusName: rt.config.eventBus }));
    for (let i = 0; i < entries.length; i += 10) await rt.bus.putEvents(entries.slice(i, i + 10));
    await rt.bus.drain(15_000);
    await eventually(
      async () => {
        await rt.bus.runScheduled('costTrackerTick');
        return (await sessionsOf(rt, `?destinationId=${id}&kind=running`)).every((s) => !s.provisional);
      },
      { what: 'settled' },
    );
    const running = await sessionsOf(rt, `?destinationId=${id}&kind=running`);
    assert.equal(running.length, 1, JSON.stringify(running.map((s) => s.sessionId)));
    assert.equal(published(rt, 'UsageSessionClosed').filter((e) => e.data.destinationId === id && e.data.kind === 'running').length, 1);
  } finally {
    await rt.close();
  }
});

test('an open session survives a restart on the same data dir and resumes', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-cost-restart-'));
  try {
    let rt = await startTestRuntime(SETTLE, { engine: 'memory', inMemory: false, dataDir, persistMemoryEngine: true });
    let id: string;
    let before: SessionOut;
    try {
      id = await createAndRun(rt);
      before = await eventually(async () => (await sessionsOf(rt, `?destinationId=${id}&kind=running`)).find((s) => s.endedAt === null), { what: 'open session' });
    } finally {
      await rt.stop();
    }
    rt = await startTestRuntime(SETTLE, { engine: 'memory', inMemory: false, dataDir, persistMemoryEngine: true });
    try {
      await until(rt, id, 'running');
      await rt.bus.runScheduled('costTrackerTick');
      const after = await sessionsOf(rt, `?destinationId=${id}&kind=running`);
      assert.equal(after.length, 1, 'one running session, not two');
      assert.equal(after[0]!.sessionId, before.sessionId, 'the same session resumed');
      assert.equal(after[0]!.startedAt, before.startedAt);
      assert.equal(after[0]!.endedAt, null);
    } finally {
      await rt.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the FOCUS CSV reads back with csv-parse, by ?format=csv and by Accept', async () => {
  const rt = await startTestRuntime(SETTLE, { engine: 'memory' });
  try {
    const id = await createAndRun(rt, '=HYPERLINK("x")');
    await eventually(async () => (await sessionsOf(rt, `?destinationId=${id}&kind=running`)).length > 0, { what: 'session' });
    for (const res of [await rt.api('GET', '/api/cost/sessions?format=csv'), await rt.api('GET', '/api/cost/sessions', { headers: { accept: 'text/csv' } })]) {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      const rows = parse(res.text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
      assert.ok(rows.length > 0);
      for (const col of [
        'BillingPeriodStart',
        'ChargePeriodStart',
        'ChargePeriodEnd',
        'ServiceName',
        'ChargeCategory',
        'ResourceId',
        'ResourceName',
        'ConsumedQuantity',
        'ConsumedUnit',
        'ListUnitPrice',
        'ListCost',
        'BillingCurrency',
        'Tags',
        'x_DestinationId',
        'x_Platform',
        'x_Estimated',
      ])
        assert.ok(col in rows[0]!, `column ${col}`);
      const mine = rows.filter((r) => r.x_DestinationId === id);
      assert.ok(mine.length > 0);
      assert.ok(mine.every((r) => r.BillingCurrency === 'USD' && r.x_Platform === 'youtube'));
      assert.ok(
        mine.every((r) => r.ResourceName!.startsWith("'=")),
        'a formula in a name is defused',
      );
      assert.ok(!res.text.includes('yt-0123456789abcdef'), 'no stream key');
    }
    const json = await rt.api('GET', '/api/cost/sessions', { headers: { accept: 'application/json' } });
    assert.match(json.headers.get('content-type') ?? '', /json/);
  } finally {
    await rt.close();
  }
});

test('estimate, budget and rates: answers, problem documents on bad input, access per role', async () => {
  const rt = await startTestRuntime(SETTLE, { engine: 'memory' });
  try {
    const est = await rt.api('POST', '/api/cost/estimate', {
      body: { hoursPerMonth: 100, monthHours: 720, destinations: [{ label: 'YouTube', platform: 'youtube', encode: { width: 1920, height: 1080, frameRate: 30, videoBitrate: 6000000 } }] },
    });
    assert.equal(est.status, 200, est.text);
    assert.ok(Number(est.json.fixedDesign.total) > Number(est.json.fanout.total));
    for (const [method, path, body] of [
      ['POST', '/api/cost/estimate', { hoursPerMonth: -1, destinations: [] }],
      ['POST', '/api/cost/estimate', { hoursPerMonth: 1, destinations: [], extra: true }],
      ['PUT', '/api/admin/cost/budget', { amount: 0 }],
      ['PUT', '/api/admin/cost/rates', { overrides: [{ key: 'medialive:no-such-rate', price: 1 }] }],
    ] as const) {
      const res = await rt.api(method, path, { body });
      assert.equal(res.status, 400, `${method} ${path}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.json.code, 'VALIDATION_FAILED');
    }
    const badQuery = await rt.api('GET', '/api/cost/sessions?from=yesterday');
    assert.equal(badQuery.status, 400);
    assert.equal(badQuery.json.code, 'VALIDATION_FAILED');
    const badJson = await rt.api('PUT', '/api/admin/cost/budget', { raw: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(badJson.json.code, 'MALFORMED_JSON');
    assert.equal((await rt.api('GET', '/api/admin/cost/rates')).json.overrides.length, 0, 'a refused PUT changed nothing');

    const budget = await rt.api('PUT', '/api/admin/cost/budget', { body: { amount: 500 } });
    assert.equal(budget.status, 200, budget.text);
    assert.equal(budget.json.budget.amount, '500.000000');
    assert.deepEqual(budget.json.budget.thresholdsPercent, [80, 100]);
    const rates = await rt.api('PUT', '/api/admin/cost/rates', { body: { overrides: [{ key: 'mediaconnect:flow-hour', price: 0.2, effectiveDate: null, note: 'our contract' }] } });
    assert.equal(rates.status, 200, rates.text);
    assert.equal(rates.json.overrides[0].by, 'admin-env');
    assert.equal(rates.json.priceList, null, 'no Price List refresh yet');
    // The local runtime cannot read the AWS Price List: 503, a stable code, nothing changed; operators may not ask.
    const refresh = await rt.api('POST', '/api/admin/cost/rates/refresh', { body: {} });
    assert.equal(refresh.status, 503, refresh.text);
    assert.equal(refresh.json.code, 'PRICE_LIST_UNAVAILABLE');
    assert.equal((await rt.api('GET', '/api/admin/cost/rates')).json.overrides.length, 1);
    assert.deepEqual(await rt.bus.runScheduled('costTrackerPriceList'), { refreshed: false, reason: 'no Price List client in this runtime' });

    // Operators read the report and estimate; only admins reach /api/admin/cost/*; nobody without a token.
    const op = (await rt.api('POST', '/api/admin/tokens', { body: { name: 'op', role: 'operator' } })).json.token as string;
    assert.equal((await rt.api('GET', '/api/cost', { token: op })).status, 200);
    assert.equal((await rt.api('GET', '/api/cost/sessions', { token: op })).status, 200);
    assert.equal((await rt.api('GET', '/api/admin/cost/budget', { token: op })).json.code, 'FORBIDDEN');
    assert.equal((await rt.api('PUT', '/api/admin/cost/budget', { token: op, body: { amount: 1 } })).json.code, 'FORBIDDEN');
    assert.equal((await rt.api('PUT', '/api/admin/cost/rates', { token: op, body: { overrides: [] } })).json.code, 'FORBIDDEN');
    assert.equal((await rt.api('POST', '/api/admin/cost/rates/refresh', { token: op, body: {} })).json.code, 'FORBIDDEN');
    for (const path of ['/api/cost', '/api/cost/sessions', '/api/admin/cost/budget', '/api/admin/cost/rates']) assert.equal((await rt.api('GET', path, { token: null })).status, 401, path);
    // The routes are in the OpenAPI document.
    const doc = (await rt.api('GET', '/api/openapi.json', { token: null })).json;
    for (const p of ['/api/cost', '/api/cost/sessions', '/api/cost/estimate', '/api/admin/cost/budget', '/api/admin/cost/rates', '/api/admin/cost/rates/refresh']) assert.ok(doc.paths[p], `${p} in the OpenAPI document`);
  } finally {
    await rt.close();
  }
});

test('budget: each threshold crossed is announced once in the month, however often the tick runs', async () => {
  const rt = await startTestRuntime(SETTLE, { engine: 'memory' });
  try {
    // A run bills at least 10 minutes: far above a one-cent budget, so the month to date crosses both thresholds.
    assert.equal((await rt.api('PUT', '/api/admin/cost/budget', { body: { amount: 0.01 } })).status, 200);
    await createAndRun(rt);
    await eventually(
      async () => {
        await rt.bus.runScheduled('costTrackerTick');
        return published(rt, 'BudgetThresholdCrossed').length >= 2;
      },
      { what: 'both thresholds crossed' },
    );
    for (let i = 0; i < 3; i++) await rt.bus.runScheduled('costTrackerTick');
    const crossed = published(rt, 'BudgetThresholdCrossed').map((e) => e.data as { thresholdPercent: number; basis: string; month: string });
    assert.deepEqual(
      crossed.map((c) => c.thresholdPercent).sort((a, b) => a - b),
      [80, 100],
    );
    assert.ok(crossed.every((c) => c.basis === 'month-to-date'));
    const budget = await rt.api('GET', '/api/admin/cost/budget');
    assert.deepEqual(budget.json.crossed.thresholdsPercent, [80, 100]);
    // A new amount does not re-arm what this month already crossed.
    await rt.api('PUT', '/api/admin/cost/budget', { body: { amount: 0.02 } });
    await rt.bus.runScheduled('costTrackerTick');
    assert.equal(published(rt, 'BudgetThresholdCrossed').length, 2);
    const report = await rt.api('GET', '/api/cost');
    assert.ok(report.json.budget.usedPercent >= 100);
  } finally {
    await rt.close();
  }
});
