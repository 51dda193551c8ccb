/**
 * `fanout notify` against a running Fanout (memory engine) and a loopback webhook receiver: add a
 * webhook channel with its URL on stdin (the signing secret printed once, alone on stdout), list
 * it masked, send a test message the receiver verifies, read the deliveries, switch alert types,
 * remove it; a failing test message exits 1. No webhook URL in any output.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyWebhook } from '../services/notifier/src/domain/signature.ts';
import { cliRunner, type CliRunner } from './support/cli.ts';
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime } from './support/local.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';

const HOOK_PATH = '/hooks/cli-secret-path-0123456789';

describe('fanout notify', () => {
  let rt: TestRuntime;
  let rx: Receiver;
  let cli: CliRunner;
  before(async () => {
    rx = await startReceiver();
    rt = await startTestRuntime({ FANOUT_PRIMARY_HLS: 'off' }, { engine: 'memory' });
    cli = cliRunner({ FANOUT_URL: rt.url, FANOUT_TOKEN: ADMIN_TOKEN });
  });
  after(async () => {
    for (const o of cli.outputs) assert.ok(!o.includes(HOOK_PATH), `the webhook URL in CLI output: ${o}`);
    await rt?.close();
    await rx?.close();
  });

  test('add, list, test, deliveries, set, remove', async () => {
    const add = await cli.run(['notify', 'add', '--name', 'ci hook', '--kind', 'webhook', '--url-stdin', '--alerts', 'DestinationFailing'], { input: `${rx.url}${HOOK_PATH}\n` });
    assert.equal(add.code, 0, add.stderr);
    const secret = add.stdout.trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/, 'the signing secret alone on stdout');
    const list = await cli.run(['--json', 'notify', 'channels']);
    assert.equal(list.code, 0, list.stderr);
    const [ch] = JSON.parse(list.stdout) as { channelId: string; target: string; alertNames: string[] }[];
    assert.equal(ch!.target, `${rx.url}/***6789`);
    assert.deepEqual(ch!.alertNames, ['DestinationFailing']);
    const t = await cli.run(['notify', 'test', ch!.channelId]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /delivered to ci hook \(HTTP 200\)/);
    const got = rx.on(HOOK_PATH).at(-1)!;
    assert.equal(verifyWebhook({ secret, headers: got.headers as Record<string, string>, body: got.body, now: new Date(), seen: () => false }).ok, true);
    const d = await cli.run(['notify', 'deliveries']);
    assert.match(d.stdout, /ci hook\s+sent\s+test/);
    const set = await cli.run(['notify', 'set', ch!.channelId, '--disable', '--alerts', 'all']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /disabled, all ≥warning/);
    rx.script(HOOK_PATH, [{ status: 404, body: 'no_service' }]);
    const failing = await cli.run(['notify', 'test', ch!.channelId]);
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /HTTP_404/);
    const rm = await cli.run(['notify', 'rm', ch!.channelId, '--yes']);
    assert.equal(rm.code, 0, rm.stderr);
    const missing = await cli.run(['notify', 'test', ch!.channelId]);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /NOTIFICATION_CHANNEL_NOT_FOUND/);
  });
});
