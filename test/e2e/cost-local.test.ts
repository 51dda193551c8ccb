/**
 * cost-tracker with real media on the local engine: a test source feeds Fanout over SRT, a
 * destination with a transcoding preset streams to nginx-rtmp on loopback, then stops. The
 * running session is recorded from the real start and stop, its CPU seconds measured from the
 * engine's own processes (/proc/<pid>/stat of the encoder, listed by GET /api/admin/engine/processes),
 * priced as its share of the configured machine-hour, and settled once (UsageSessionClosed); the
 * rest of the machine's time is the idle row of the report.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestFeed } from '../support/feed.ts';
import { NginxRtmp } from '../support/nginx-rtmp.ts';
import { eventually } from '../support/local.ts';

const PASSPHRASE = 'cost-e2e-passphrase-0123456789';
const KEY = 'cost-e2e-key-000111222333';

test('local engine: a real start and stop give one running session with its measured CPU time', { timeout: 240_000 }, async () => {
  const nginx = await NginxRtmp.start();
  const feed = await startTestFeed({ passphrase: PASSPHRASE, env: { FANOUT_COST_SETTLE_SECONDS: '1', FANOUT_COST_LOCAL_MACHINE_HOUR_USD: '3.6', FANOUT_COST_LOCAL_CORES: '2' } });
  const { rt } = feed;
  try {
    const created = await rt.api('POST', '/api/destinations', { body: { name: 'Cost e2e', platform: 'custom', rtmpUrl: nginx.url('live'), streamKey: KEY, preset: 'generic-720p30' } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.destinationId as string;
    const status = async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status as string;
    await eventually(async () => (await status()) === 'idle', { timeoutMs: 30_000, what: 'idle' });
    await rt.api('POST', `/api/destinations/${id}/start`);
    await eventually(async () => (await nginx.hasPublisher(KEY))?.publishing, { timeoutMs: 60_000, what: 'publishing to nginx' });
    // The encoder for the preset is a process of its own: its CPU time is this destination's.
    const procs = (await rt.api('GET', '/api/admin/engine/processes')).json.processes as { role: string; pid: number | null; channelIds: string[] }[];
    assert.ok(
      procs.some((p) => p.role === 'encoder' && p.pid !== null),
      JSON.stringify(procs.map((p) => p.role)),
    );
    // Two ticks some seconds apart measure CPU time (the first reads the counters, the second the growth).
    await eventually(
      async () => {
        await rt.bus.runScheduled('costTrackerTick');
        const s = ((await rt.api('GET', `/api/cost/sessions?destinationId=${id}&kind=running`)).json.sessions as { cpuSeconds: number | null }[])[0];
        return (s?.cpuSeconds ?? 0) > 0.5;
      },
      { timeoutMs: 60_000, intervalMs: 2000, what: 'CPU seconds measured' },
    );
    await rt.api('POST', `/api/destinations/${id}/stop`);
    await eventually(async () => (await status()) === 'idle', { timeoutMs: 30_000, what: 'idle again' });
    await rt.bus.drain(15_000);
    const closedEvents = () =>
      rt.published
        .filter((e) => e.DetailType === 'UsageSessionClosed')
        .map((e) => JSON.parse(e.Detail).data)
        .filter((d) => d.destinationId === id && d.kind === 'running');
    await eventually(
      async () => {
        await rt.bus.runScheduled('costTrackerTick');
        return closedEvents().length > 0;
      },
      { timeoutMs: 20_000, what: 'UsageSessionClosed' },
    );
    const [closed] = closedEvents();
    assert.equal(closedEvents().length, 1, 'settled once');
    assert.equal(closed.engine, 'local');
    assert.equal(closed.endReason, 'stopped');
    assert.ok(closed.durationSeconds > 1, `duration ${closed.durationSeconds}`);
    const cpu = closed.breakdown.lines.find((l: { operation: string }) => l.operation === 'CPU_TIME');
    assert.ok(cpu, JSON.stringify(closed.breakdown.lines));
    assert.equal(cpu.unit, 'Core-Hours');
    assert.equal(cpu.unitPrice, 1.8, '$3.6 machine-hour ÷ 2 cores');
    assert.match(cpu.computation, /CPU-s measured/);
    assert.ok(Number(cpu.cost) > 0);
    const sessions = (await rt.api('GET', `/api/cost/sessions?destinationId=${id}&kind=running`)).json.sessions;
    assert.equal(sessions.length, 1);
    assert.ok(sessions[0].cpuSeconds > 0.5, `cpu ${sessions[0].cpuSeconds}`);
    const report = await rt.api('GET', '/api/cost');
    assert.equal(report.json.engine, 'local');
    assert.ok(report.json.byDestination.some((r: { key: string }) => r.key === id));
    assert.ok(
      report.json.byDestination.some((r: { key: string }) => r.key === '__idle__'),
      'the machine time nobody used',
    );
    // No always-on comparison locally, and the report says why (the machine costs the same either way).
    assert.equal(report.json.fixedDesign, null);
    assert.equal(report.json.fixedDesignNotApplicable?.reason, 'local-engine');
    assert.match(report.json.fixedDesignNotApplicable?.detail ?? '', /would cost the same/);
    const everything = [...rt.responses, ...rt.published.map((e) => e.Detail)].join('\n');
    assert.ok(!everything.includes(KEY) && !everything.includes(PASSPHRASE), 'no secret in responses or events');
  } finally {
    await feed.close();
    await nginx.close();
  }
});
