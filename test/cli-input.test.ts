/**
 * `fanout input status | switch | test | failover` through the real bin against a running Fanout
 * (memory engine: the test connects and cuts the inputs), and the 501 of an engine without a
 * backup input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemoryEngine } from '../shared/engines/memory/index.ts';
import { cliRunner } from './support/cli.ts';
import { ADMIN_TOKEN, startTestRuntime } from './support/local.ts';

test('fanout input: status, switch both ways, backup test, failover settings', { timeout: 120_000 }, async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const engine = rt.engine as unknown as MemoryEngine;
    const cli = cliRunner({ FANOUT_URL: rt.url, FANOUT_TOKEN: ADMIN_TOKEN, NO_COLOR: '1' });

    const empty = await cli.run(['input', 'status']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /active\s+none yet/);
    assert.match(empty.stdout, /backup\s+not connected/);

    const dead = await cli.run(['input', 'switch', 'backup']);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /INPUT_NOT_CONNECTED/);
    const badArg = await cli.run(['input', 'switch', 'slate']);
    assert.equal(badArg.code, 2, 'slate is not an input one switches to');

    const notReady = await cli.run(['input', 'test']);
    assert.equal(notReady.code, 1, 'a backup test without a backup fails');
    assert.match(notReady.stdout, /not connected/);

    engine.connectInput('main', { sourceAddress: '127.0.0.1:41000' });
    engine.connectInput('backup', { sourceAddress: '127.0.0.1:42000' });
    const ready = await cli.run(['input', 'test']);
    assert.equal(ready.code, 0, ready.stderr);
    assert.match(ready.stdout, /backup\s+ready/);
    assert.match(ready.stdout, /h264 1280x720/);

    const sw = await cli.run(['--json', 'input', 'switch', 'backup']);
    assert.equal(sw.code, 0, sw.stderr);
    assert.deepEqual([JSON.parse(sw.stdout).from, JSON.parse(sw.stdout).to, JSON.parse(sw.stdout).reason], ['main', 'backup', 'manual']);
    assert.match((await cli.run(['status'])).stdout, /on the backup input/, '`fanout status` says so too');
    const status = await cli.run(['input']);
    assert.match(status.stdout, /active\s+backup/);
    assert.match(status.stdout, /last switch\s+main → backup \(manual\)/);
    assert.match(status.stdout, /backup\s+connected from 127\.0\.0\.1:42000/);
    const back = await cli.run(['input', 'switch', 'main']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /switched: backup → main \(manual\)/);

    const shown = await cli.run(['input', 'failover']);
    assert.match(shown.stdout, /automatic, loss after 1000 ms, back to main after 10000 ms clean, slate for 300 s/);
    const changed = await cli.run(['--json', 'input', 'failover', '--mode', 'manual', '--no-revert', '--slate-ms', '60000']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(JSON.parse(changed.stdout), { mode: 'manual', inputLossThresholdMs: 1000, errorClearTimeMs: null, slateTimeoutMs: 60000 });
    const invalid = await cli.run(['input', 'failover', '--loss-ms', '5']);
    assert.equal(invalid.code, 2, 'the API rejects it as invalid');
    assert.match(invalid.stderr, /VALIDATION_FAILED/);

    const op = (await rt.api('POST', '/api/admin/tokens', { body: { name: 'op', role: 'operator' } })).json.token as string;
    const asOperator = cliRunner({ FANOUT_URL: rt.url, FANOUT_TOKEN: op });
    assert.equal((await asOperator.run(['input', 'switch', 'backup'])).code, 0, 'operators switch');
    const refused = await asOperator.run(['input', 'failover', '--mode', 'automatic']);
    assert.equal(refused.code, 4, 'failover settings are admin only');
    for (const out of [...cli.outputs, ...asOperator.outputs]) assert.ok(!out.includes(ADMIN_TOKEN) && !out.includes(op), 'no token in any output');
  } finally {
    await rt.close();
  }
});

test('fanout input on an engine without a backup input: status shows the main, switch is INPUT_REDUNDANCY_UNSUPPORTED', { timeout: 60_000 }, async () => {
  const rt = await startTestRuntime({}, { engine: 'aws-fake' });
  try {
    if (typeof (rt.engine as unknown as { switchInput?: unknown }).switchInput === 'function') return;
    const cli = cliRunner({ FANOUT_URL: rt.url, FANOUT_TOKEN: ADMIN_TOKEN, NO_COLOR: '1' });
    const status = await cli.run(['input', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /this engine has no backup input/);
    const sw = await cli.run(['input', 'switch', 'backup']);
    assert.equal(sw.code, 1);
    assert.match(sw.stderr, /INPUT_REDUNDANCY_UNSUPPORTED/);
  } finally {
    await rt.close();
  }
});
