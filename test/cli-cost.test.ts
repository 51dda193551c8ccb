/**
 * `fanout cost` and `fanout cost sessions [--csv]` through the real bin against a running Fanout
 * (memory engine): the month's figures per destination, the sessions table, the FOCUS CSV read
 * back by csv-parse, and no token or stream key in any output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { cliRunner } from './support/cli.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime } from './support/local.ts';

const KEY = 'cli-cost-stream-key-0123456789';

test('fanout cost and fanout cost sessions --csv', { timeout: 120_000 }, async () => {
  const rt = await startTestRuntime({ FANOUT_COST_SETTLE_SECONDS: '1' }, { engine: 'memory' });
  try {
    const cli = cliRunner({ FANOUT_URL: rt.url, FANOUT_TOKEN: ADMIN_TOKEN });
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'CLI cost', platform: 'twitch', streamKey: KEY } })).json.destinationId as string;
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { timeoutMs: 15_000, what: 'idle' });
    await rt.api('POST', `/api/destinations/${id}/start`);
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'running', { timeoutMs: 15_000, what: 'running' });
    await eventually(async () => ((await rt.api('GET', `/api/cost/sessions?destinationId=${id}&kind=running`)).json.sessions as unknown[]).length > 0, { what: 'a running session' });

    const report = await cli.run(['--json', 'cost']);
    assert.equal(report.code, 0, report.stderr);
    const body = JSON.parse(report.stdout);
    assert.ok(body.byDestination.some((r: { key: string }) => r.key === id));
    const table = await cli.run(['cost']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /so far, projected \$/);
    assert.match(table.stdout, /CLI cost/);

    const sessions = await cli.run(['cost', 'sessions']);
    assert.equal(sessions.code, 0, sessions.stderr);
    assert.match(sessions.stdout, /destination-channel\s+running/);
    const csv = await cli.run(['cost', 'sessions', '--csv', '--destination', id]);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parse(csv.stdout, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.x_DestinationId === id && r.x_Platform === 'twitch' && r.BillingCurrency === 'USD'));

    const bad = await cli.run(['--json', 'cost', 'sessions', '--from', 'yesterday']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /VALIDATION_FAILED/);
    for (const out of cli.outputs) {
      assert.ok(!out.includes(ADMIN_TOKEN), 'no token in any output');
      assert.ok(!out.includes(KEY), 'no stream key in any output');
    }
  } finally {
    await rt.close();
  }
});
