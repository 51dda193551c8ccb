/**
 * Input redundancy above the port (issue 15) on the local runtime with the memory engine: the
 * inputs' health (compatible with the single-input answer), manual switches, the backup test,
 * failover settings (admin only, validated), the stable problems, and the runtimes without it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MemoryEngine } from '../shared/engines/memory/index.ts';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

const FAST = { mode: 'automatic', inputLossThresholdMs: 100, errorClearTimeMs: null, slateTimeoutMs: 60_000 } as const;

describe('input redundancy API on the memory engine', () => {
  let rt: TestRuntime;
  let engine: MemoryEngine;
  let operator: string;
  before(async () => {
    rt = await startTestRuntime({}, { engine: 'memory' });
    engine = rt.engine as unknown as MemoryEngine;
    const res = await rt.api('POST', '/api/admin/tokens', { body: { name: 'op', role: 'operator' } });
    assert.equal(res.status, 201, res.text);
    operator = res.json.token;
  });
  after(async () => rt.close());

  test('health keeps the single-input fields and adds both inputs, the active one, the mode, the last switch', async () => {
    const res = await rt.api('GET', '/api/mediaconnect/inputs/health', { token: operator });
    assert.equal(res.status, 200, res.text);
    for (const k of ['connected', 'sourceAddress', 'connectedSince', 'bitrateInKbps', 'packetLossPercent', 'packetsLost', 'retransmits', 'rttMs', 'lastError', 'updatedAt']) assert.ok(k in res.json, `still has ${k}`);
    assert.equal(res.json.connected, false);
    assert.equal(res.json.active, null);
    assert.equal(res.json.mode, 'automatic');
    assert.equal(res.json.lastSwitch, null);
    assert.equal(res.json.inputs.backup.configured, true);
    assert.equal(res.json.slate, null);
  });

  test('switching to an input with no media is 409 INPUT_NOT_CONNECTED; a bad body is VALIDATION_FAILED; nothing changes', async () => {
    const dead = await rt.api('POST', '/api/mediaconnect/inputs/switch', { token: operator, body: { to: 'backup' } });
    assert.equal(dead.status, 409, dead.text);
    assert.match(dead.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(dead.json.code, 'INPUT_NOT_CONNECTED');
    for (const bad of [{ to: 'slate' }, {}, { to: 'main', extra: 1 }]) {
      const res = await rt.api('POST', '/api/mediaconnect/inputs/switch', { token: operator, body: bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.json.code, 'VALIDATION_FAILED');
    }
    assert.equal((await rt.api('GET', '/api/mediaconnect/inputs/health')).json.lastSwitch, null);
  });

  test('failover settings: admin only, validated, stored as given', async () => {
    const asOperator = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { token: operator, body: FAST });
    assert.equal(asOperator.status, 403);
    assert.equal(asOperator.json.code, 'FORBIDDEN');
    for (const bad of [{ ...FAST, mode: 'sometimes' }, { ...FAST, inputLossThresholdMs: 5 }, { ...FAST, errorClearTimeMs: 'never' }, { mode: 'manual' }]) {
      const res = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.json.code, 'VALIDATION_FAILED');
    }
    const res = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: FAST });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, FAST);
    assert.deepEqual((await rt.api('GET', '/api/mediaconnect/inputs/health')).json.settings, FAST);
  });

  test('manual switch both ways by an operator; the backup test does not switch; automatic failover shows in the health', async () => {
    engine.connectInput('main', { sourceAddress: '127.0.0.1:41000' });
    engine.connectInput('backup', { sourceAddress: '127.0.0.1:42000', video: { codec: 'h264', width: 1920, height: 1080, frameRate: 30 } });
    const t = await rt.api('POST', '/api/mediaconnect/inputs/backup/test', { token: operator });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.connected, true);
    assert.equal(t.json.decodable, true);
    assert.ok(
      t.json.problems.some((p: string) => p.includes('resolution')),
      'names the resolution mismatch',
    );
    assert.equal((await rt.api('GET', '/api/mediaconnect/inputs/health')).json.active, 'main');

    const sw = await rt.api('POST', '/api/mediaconnect/inputs/switch', { token: operator, body: { to: 'backup' } });
    assert.equal(sw.status, 200, sw.text);
    assert.deepEqual([sw.json.from, sw.json.to, sw.json.reason], ['main', 'backup', 'manual']);
    const h = (await rt.api('GET', '/api/mediaconnect/inputs/health')).json;
    assert.equal(h.active, 'backup');
    assert.equal(h.sourceAddress, '127.0.0.1:42000', "the top-level fields are the active input's");
    assert.deepEqual(h.lastSwitch, sw.json);

    const back = await rt.api('POST', '/api/mediaconnect/inputs/switch', { token: operator, body: { to: 'main' } });
    assert.deepEqual([back.json.from, back.json.to], ['backup', 'main']);

    engine.loseInput('main');
    await eventually(async () => (await rt.api('GET', '/api/mediaconnect/inputs/health')).json.lastSwitch?.reason === 'input-loss', { timeoutMs: 5000, what: 'automatic failover' });
    const failed = (await rt.api('GET', '/api/mediaconnect/inputs/health')).json;
    assert.equal(failed.active, 'backup');
    assert.equal(failed.inputs.main.connected, false);

    // Each switch, manual or automatic, is one InputSwitched v1 from flow-output (from the engine's native event).
    const switched = () => rt.published.filter((e) => e.DetailType === 'InputSwitched').map((e) => JSON.parse(e.Detail) as { version: number; data: Record<string, unknown> });
    await eventually(() => switched().length >= 3, { timeoutMs: 5000, what: 'three InputSwitched events' });
    assert.deepEqual(
      switched().map((e) => [e.version, e.data.from, e.data.to, e.data.reason, e.data.mode]),
      [
        [1, 'main', 'backup', 'manual', 'automatic'],
        [1, 'backup', 'main', 'manual', 'automatic'],
        [1, 'main', 'backup', 'input-loss', 'automatic'],
      ],
    );
    assert.equal(switched()[0]!.data.switchedAt, sw.json.at);
    assert.ok(rt.published.filter((e) => e.DetailType === 'InputSwitched').every((e) => e.Source === 'fanout.flow-output'));
  });

  test('unauthenticated requests are refused', async () => {
    for (const [method, path] of [
      ['GET', '/api/mediaconnect/inputs/health'],
      ['POST', '/api/mediaconnect/inputs/switch'],
      ['POST', '/api/mediaconnect/inputs/backup/test'],
      ['PUT', '/api/mediaconnect/inputs/failover'],
    ] as const) {
      const res = await rt.api(method, path, method === 'GET' ? { token: null } : { token: null, body: { to: 'main' } });
      assert.equal(res.status, 401, `${method} ${path}`);
    }
  });
});

test('without an engine the input routes answer 503 ENGINE_UNAVAILABLE', async () => {
  const rt = await startTestRuntime();
  try {
    for (const [method, path, body] of [
      ['GET', '/api/mediaconnect/inputs/health', undefined],
      ['POST', '/api/mediaconnect/inputs/switch', { to: 'main' }],
      ['POST', '/api/mediaconnect/inputs/backup/test', undefined],
    ] as const) {
      const res = await rt.api(method, path, body ? { body } : {});
      assert.equal(res.status, 503, `${method} ${path}`);
      assert.equal(res.json.code, 'ENGINE_UNAVAILABLE');
    }
  } finally {
    await rt.close();
  }
});

test('an engine without InputRedundancy (the AWS engine over the in-memory AWS, before it had it): health as before, the rest 501 INPUT_REDUNDANCY_UNSUPPORTED', async () => {
  const rt = await startTestRuntime({}, { engine: 'aws-fake' });
  try {
    if (typeof (rt.engine as unknown as { switchInput?: unknown }).switchInput === 'function') return; // the engine has gained it: its own contract tests cover it
    const health = await rt.api('GET', '/api/mediaconnect/inputs/health');
    assert.equal(health.status, 200, health.text);
    assert.equal(typeof health.json.connected, 'boolean');
    assert.ok(!('inputs' in health.json), 'no backup members where the engine has no backup');
    for (const [method, path, body] of [
      ['POST', '/api/mediaconnect/inputs/switch', { to: 'backup' }],
      ['POST', '/api/mediaconnect/inputs/backup/test', undefined],
      ['PUT', '/api/mediaconnect/inputs/failover', FAST],
    ] as const) {
      const res = await rt.api(method, path, body ? { body } : {});
      assert.equal(res.status, 501, `${method} ${path}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.json.code, 'INPUT_REDUNDANCY_UNSUPPORTED');
    }
  } finally {
    await rt.close();
  }
});

test('the AWS engine over the in-memory AWS (aws-fake): both inputs from the flow, an API switch is UpdateFlow, MediaConnect failing over is seen, each an InputSwitched', { timeout: 30_000 }, async () => {
  const rt = await startTestRuntime({}, { engine: 'aws-fake' });
  try {
    const fake = rt.awsFake!;
    await rt.engine!.startFlow();
    await eventually(async () => (await rt.engine!.describeFlow()).state === 'ACTIVE', { timeoutMs: 5000, what: 'flow ACTIVE' });
    fake.connectSource('main');
    fake.connectSource('backup');
    const health = await rt.api('GET', '/api/mediaconnect/inputs/health');
    assert.equal(health.status, 200, health.text);
    assert.deepEqual([health.json.active, health.json.inputs.main.connected, health.json.inputs.backup.configured, health.json.inputs.backup.connected], ['main', true, true, true]);
    const sw = await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'backup' } });
    assert.equal(sw.status, 200, sw.text);
    assert.equal(fake.sourceInUse, 'backup', 'MediaConnect uses the new primary source');
    assert.deepEqual(fake.sourceFailoverConfig?.SourcePriority, { PrimarySource: 'srt-backup' });
    // MediaConnect fails over by itself when the backup's encoder stops; the next read sees it.
    fake.loseSource('backup');
    await eventually(async () => (await rt.api('GET', '/api/mediaconnect/inputs/health')).json.active === 'main', { timeoutMs: 5000, what: 'back on the main' });
    const switched = () => rt.published.filter((e) => e.DetailType === 'InputSwitched').map((e) => (JSON.parse(e.Detail) as { data: { from: string; to: string; reason: string } }).data);
    await eventually(() => switched().length >= 2, { timeoutMs: 5000, what: 'two InputSwitched events' });
    assert.deepEqual(
      switched().map((d) => [d.from, d.to, d.reason]),
      [
        ['main', 'backup', 'manual'],
        ['backup', 'main', 'input-loss'],
      ],
    );
    const test = await rt.api('POST', '/api/mediaconnect/inputs/backup/test');
    assert.equal(test.status, 200, test.text);
    assert.equal(test.json.connected, false, 'the backup encoder is gone');
  } finally {
    await rt.close();
  }
});

test('the notifier tells of each switch: the backup, the slate on air, its timeout, back on the main (webhook)', { timeout: 60_000 }, async () => {
  const { startReceiver } = await import('./support/receiver.ts');
  const rx = await startReceiver();
  const rt = await startTestRuntime({ FANOUT_NOTIFY_GROUP_WAIT_SECONDS: '0.2', FANOUT_NOTIFY_GROUP_INTERVAL_SECONDS: '0.2', FANOUT_NOTIFY_RETRY_INITIAL_SECONDS: '0.3' }, { engine: 'memory' });
  try {
    const engine = rt.engine as unknown as MemoryEngine;
    const hook = await rt.api('POST', '/api/admin/notifications/channels', {
      body: { name: 'input hook', kind: 'webhook', url: `${rx.url}/hooks/inputs-0123456789`, alertNames: ['InputSwitchedToBackup', 'SlateOnAir', 'SlateTimedOut'], minSeverity: 'info' },
    });
    assert.equal(hook.status, 201, hook.text);
    await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: { mode: 'automatic', inputLossThresholdMs: 100, errorClearTimeMs: null, slateTimeoutMs: 1500 } });
    const said = (alertname: string, status: string) =>
      rx.on('/hooks/inputs-0123456789').some((r) => {
        const body = JSON.parse(r.body) as { alerts?: { status: string; labels: Record<string, string> }[] };
        return (body.alerts ?? []).some((a) => a.labels.alertname === alertname && a.status === status);
      });
    engine.connectInput('main');
    engine.connectInput('backup');
    engine.loseInput('main');
    await eventually(() => said('InputSwitchedToBackup', 'firing'), { timeoutMs: 15_000, what: 'told of the switch to the backup' });
    engine.loseInput('backup');
    await eventually(() => said('SlateOnAir', 'firing'), { timeoutMs: 15_000, what: 'told of the slate on air' });
    await eventually(() => said('SlateTimedOut', 'firing'), { timeoutMs: 15_000, what: 'told of the slate timeout' });
    engine.connectInput('main');
    await eventually(() => said('SlateOnAir', 'resolved') && said('InputSwitchedToBackup', 'resolved'), { timeoutMs: 15_000, what: 'told the main is back' });
  } finally {
    await rt.close();
    await rx.close();
  }
});

test('flow-output publishes one InputSwitched per native switch event, however often it is delivered', { timeout: 30_000 }, async () => {
  const { flowOutput } = await import('../shared/runtimes/local/services/flow-output.ts');
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const inbox = flowOutput.handlers.inbox!(flowOutput.deps(rt.infrastructure)) as (event: unknown, context: unknown) => Promise<unknown>;
    const native = {
      version: '0',
      id: 'native-switch-0001',
      'detail-type': 'MediaConnect Source Failover Switch',
      source: 'aws.mediaconnect',
      account: '000000000000',
      time: '2026-12-02T12:00:00Z',
      region: 'local',
      resources: ['arn:aws:mediaconnect:local:000000000000:flow:1-memory-primary:fanout-ingest'],
      detail: { previous_source: 'main', current_source: 'backup', reason: 'input-loss', switched_at: '2026-12-02T12:00:00.000Z', failover_mode: 'automatic', slate_stops_at: null },
    };
    const sqs = (messageId: string) => ({
      Records: [{ messageId, receiptHandle: messageId, body: JSON.stringify(native), attributes: {}, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:local:0:FlowOutputQueue', awsRegion: 'local' }],
    });
    const context = { getRemainingTimeInMillis: () => 30_000 } as never;
    for (const id of ['m1', 'm2', 'm3']) assert.deepEqual(await inbox(sqs(id), context), { batchItemFailures: [] });
    const switched = rt.published.filter((e) => e.DetailType === 'InputSwitched').map((e) => JSON.parse(e.Detail).data);
    assert.deepEqual(switched, [{ flowArn: native.resources[0], from: 'main', to: 'backup', reason: 'input-loss', switchedAt: '2026-12-02T12:00:00.000Z', mode: 'automatic', slateStopsAt: null }]);
  } finally {
    await rt.close();
  }
});
