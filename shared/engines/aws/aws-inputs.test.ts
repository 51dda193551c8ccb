/**
 * Input redundancy on AWS (aws-inputs.ts) against the in-memory MediaConnect (aws-fake.ts): what
 * each port call sends (UpdateFlow's SourceFailoverConfig, the flow's tags), what MediaConnect's
 * failover rule then does, how the engine reads it back (the active input, switches MediaConnect
 * made by itself, the slate, the backup's problems), each input's CloudWatch figures (through
 * AwsMetricsReader over a datapoint table: one cached GetMetricData for both sources) and that
 * every request is valid against the official MediaConnect and CloudWatch models.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { MediaConnectSourceFailoverSwitch } from '../../../events/native/schemas.ts';
import { EngineError } from '../port/errors.ts';
import type { FailoverSettings, InputHealth, NativeEngineEvent } from '../port/ports.ts';
import { AwsFake, FAST_TIMINGS, fakeCloudWatch, mediaconnectError, metricKey } from './aws-fake.ts';
import { AwsInputRedundancy, decodeFailover, decodeSwitch, encodeFailover, encodeSwitch, INPUT_TAGS } from './aws-inputs.ts';
import { waitFor } from '../local/process/fixtures/wait-for.ts';
import { AwsMetricsReader } from './metrics-reader.ts';
import { capturedFromMock, expectAllValid, modelsOrSkip } from './request-capture.ts';

const REVERTIVE: FailoverSettings = { mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 10_000, slateTimeoutMs: 300_000 };
const NON_REVERTIVE: FailoverSettings = { ...REVERTIVE, errorClearTimeMs: null };

async function harness(t: TestContext, o: { backupSource?: boolean; active?: boolean } = {}) {
  const fake = new AwsFake({ timings: FAST_TIMINGS, ...(o.backupSource === undefined ? {} : { backupSource: o.backupSource }), initialFlowState: o.active === false ? 'STANDBY' : 'ACTIVE' });
  const events: NativeEngineEvent[] = [];
  const inputs = new AwsInputRedundancy({ flowArn: fake.flowArn }, { mediaconnect: fake.mediaconnect, sink: (e) => events.push(e) });
  t.after(() => {
    const models = modelsOrSkip(t);
    if (models) expectAllValid(fake.captured(), models);
    fake.close();
  });
  const updates = () =>
    fake
      .captured()
      .filter((c) => c.operation === 'UpdateFlow')
      .map((c) => (c.input as { SourceFailoverConfig: unknown }).SourceFailoverConfig);
  return { fake, inputs, events, updates };
}

const notConnected = (e: unknown) => e instanceof EngineError && e.code === 'INPUT_NOT_CONNECTED';

describe('AwsInputRedundancy', () => {
  test('the tag encodings round-trip and reject anything else', () => {
    for (const s of [REVERTIVE, NON_REVERTIVE, { ...REVERTIVE, mode: 'manual' as const }]) assert.deepEqual(decodeFailover(encodeFailover(s)), s);
    const sw = { from: 'main' as const, to: 'backup' as const, reason: 'manual' as const, at: '2026-12-02T10:00:00.000Z' };
    assert.deepEqual(decodeSwitch(encodeSwitch(sw)), sw);
    assert.deepEqual(decodeSwitch(encodeSwitch({ ...sw, from: null })), { ...sw, from: null });
    assert.match(encodeFailover(NON_REVERTIVE), /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, 'a valid tag value');
    assert.match(encodeSwitch(sw), /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, 'a valid tag value');
    assert.equal(decodeFailover('mode=sometimes/loss=1/clear=1/slate=1'), null);
    assert.equal(decodeSwitch('from=main/to=backup/reason=whim/at=2026-12-02T10:00:00.000Z'), null);
  });

  test('failover settings: revertive = the main as primary source, non-revertive = equal priority, manual = the input in use pinned; stored as given', async (t) => {
    const { fake, inputs, updates } = await harness(t);
    fake.connectSource('main');
    fake.connectSource('backup');
    assert.deepEqual(await inputs.setFailover(REVERTIVE), REVERTIVE);
    assert.deepEqual(await inputs.setFailover(NON_REVERTIVE), NON_REVERTIVE);
    assert.equal((await inputs.inputsHealth()).active, 'main');
    await inputs.switchInput('backup');
    const manual: FailoverSettings = { ...REVERTIVE, mode: 'manual' };
    assert.deepEqual(await inputs.setFailover(manual), manual);
    assert.deepEqual(updates(), [
      { State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: { PrimarySource: 'srt-in' } },
      { State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: {} },
      { State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: { PrimarySource: 'srt-backup' } },
      { State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: { PrimarySource: 'srt-backup' } },
    ]);
    assert.equal(fake.tagsOfFlow[INPUT_TAGS.failover], 'mode=manual/loss=1000/clear=10000/slate=300000');
    assert.deepEqual((await inputs.inputsHealth()).settings, manual, 'read back from the flow');
  });

  test('a manual switch sets the primary source; MediaConnect uses it; a source with no media is INPUT_NOT_CONNECTED', async (t) => {
    const { fake, inputs, events, updates } = await harness(t);
    fake.connectSource('main');
    await assert.rejects(inputs.switchInput('backup'), notConnected);
    assert.deepEqual(updates(), [], 'a refused switch changes nothing');
    fake.connectSource('backup');
    assert.equal((await inputs.inputsHealth()).active, 'main');
    assert.equal(events.length, 0, 'the first input seen is not a switch');
    const sw = await inputs.switchInput('backup');
    assert.deepEqual([sw.from, sw.to, sw.reason], ['main', 'backup', 'manual']);
    assert.equal(fake.sourceInUse, 'backup', 'MediaConnect moved to the new primary');
    const health = await inputs.inputsHealth();
    assert.equal(health.active, 'backup');
    assert.deepEqual(health.lastSwitch, sw);
    assert.equal(events.length, 1);
    const wire = MediaConnectSourceFailoverSwitch.parse({
      version: '0',
      id: 'x',
      account: fake.account,
      time: sw.at,
      region: fake.region,
      'detail-type': events[0]!.detailType,
      source: events[0]!.source,
      resources: events[0]!.resources,
      detail: events[0]!.detail,
    });
    assert.deepEqual([wire.detail.previous_source, wire.detail.current_source, wire.detail.reason], ['main', 'backup', 'manual']);
    assert.deepEqual(await inputs.switchInput('backup'), sw, 'switching to the active input is a no-op');
    assert.equal(updates().length, 1);
  });

  test('automatic (revertive): MediaConnect fails over and back by itself; the engine sees it, records it once and reports it', async (t) => {
    const { fake, inputs, events } = await harness(t);
    await inputs.setFailover(REVERTIVE);
    fake.connectSource('main');
    fake.connectSource('backup');
    assert.equal((await inputs.inputsHealth()).active, 'main');
    fake.loseSource('main');
    let health = await inputs.inputsHealth();
    assert.equal(health.active, 'backup');
    assert.deepEqual([health.lastSwitch?.from, health.lastSwitch?.to, health.lastSwitch?.reason], ['main', 'backup', 'input-loss']);
    assert.equal(health.inputs.main.connected, false, 'the inactive input is monitored');
    assert.match(health.inputs.main.lastError?.message ?? '', /^SOURCE_DISCONNECTED: /);
    assert.equal(health.inputs.backup.connected, true);
    await inputs.inputsHealth();
    assert.equal(events.length, 1, 'one switch, reported once');
    fake.connectSource('main');
    health = await inputs.inputsHealth();
    assert.equal(health.active, 'main', 'MediaConnect returns to the primary as soon as it delivers');
    assert.deepEqual([health.lastSwitch?.from, health.lastSwitch?.to, health.lastSwitch?.reason], ['backup', 'main', 'recovered']);
    assert.deepEqual(
      events.map((e) => [e.detail.previous_source, e.detail.current_source, e.detail.reason]),
      [
        ['main', 'backup', 'input-loss'],
        ['backup', 'main', 'recovered'],
      ],
    );
  });

  test('non-revertive: equal priority, MediaConnect stays on the backup when the main returns', async (t) => {
    const { fake, inputs } = await harness(t);
    await inputs.setFailover(NON_REVERTIVE);
    fake.connectSource('main');
    fake.connectSource('backup');
    await inputs.inputsHealth();
    fake.loseSource('main');
    assert.equal((await inputs.inputsHealth()).active, 'backup');
    fake.connectSource('main');
    assert.equal((await inputs.inputsHealth()).active, 'backup');
    assert.equal(fake.sourceInUse, 'backup');
  });

  test('no input delivering: the slate (the channels’ input-loss image) with its time; an input returning is recovered', async (t) => {
    const { fake, inputs, events } = await harness(t);
    fake.connectSource('main');
    await inputs.inputsHealth();
    fake.loseSource('main');
    const health = await inputs.inputsHealth();
    assert.equal(health.active, 'slate');
    assert.equal(health.lastSwitch?.reason, 'input-loss');
    assert.equal(health.slate?.since, health.lastSwitch?.at);
    assert.equal(Date.parse(health.slate!.stopsAt) - Date.parse(health.slate!.since), REVERTIVE.slateTimeoutMs);
    assert.equal(events.at(-1)?.detail.slate_stops_at, health.slate?.stopsAt);
    fake.connectSource('backup');
    const back = await inputs.inputsHealth();
    assert.equal(back.active, 'backup');
    assert.deepEqual([back.lastSwitch?.from, back.lastSwitch?.reason, back.slate], ['slate', 'recovered', null]);
  });

  test('the slate past its time: one slate-timeout switch, stamped when it ran out, recorded; nothing sent to MediaLive; an input back is recovered', async (t) => {
    const fake = new AwsFake({ timings: FAST_TIMINGS, initialFlowState: 'ACTIVE' });
    let now = Date.parse('2026-12-02T10:00:00.000Z');
    const events: NativeEngineEvent[] = [];
    const sink = (e: NativeEngineEvent) => void events.push(e);
    const inputs = new AwsInputRedundancy({ flowArn: fake.flowArn }, { mediaconnect: fake.mediaconnect, sink, now: () => new Date(now) });
    t.after(() => {
      const models = modelsOrSkip(t);
      if (models) expectAllValid(fake.captured(), models);
      fake.close();
    });
    await inputs.setFailover({ ...REVERTIVE, slateTimeoutMs: 120_000 });
    fake.connectSource('main');
    await inputs.inputsHealth();
    fake.loseSource('main');
    const slate = await inputs.inputsHealth();
    assert.equal(slate.slate?.stopsAt, '2026-12-02T10:02:00.000Z');
    now += 60_000;
    await inputs.inputsHealth();
    assert.deepEqual(
      events.map((e) => e.detail.reason),
      ['input-loss'],
      'not before its time',
    );
    now += 61_000;
    const timedOut = await inputs.inputsHealth();
    assert.deepEqual(timedOut.lastSwitch, { from: 'slate', to: 'slate', reason: 'slate-timeout', at: '2026-12-02T10:02:00.000Z' });
    assert.deepEqual(timedOut.slate, { since: '2026-12-02T10:00:00.000Z', stopsAt: '2026-12-02T10:02:00.000Z' }, 'the slate still says when it began and ran out');
    const wire = MediaConnectSourceFailoverSwitch.safeParse({
      version: '0',
      id: 'x',
      'detail-type': events.at(-1)!.detailType,
      source: events.at(-1)!.source,
      account: '',
      time: '2026-12-02T10:02:00Z',
      region: 'eu-west-1',
      resources: events.at(-1)!.resources,
      detail: events.at(-1)!.detail,
    });
    assert.ok(wire.success, 'the native shape flow-output parses');
    assert.equal(events.at(-1)!.detail.slate_stops_at, null);
    now += 60_000;
    await inputs.inputsHealth();
    await new AwsInputRedundancy({ flowArn: fake.flowArn }, { mediaconnect: fake.mediaconnect, sink, now: () => new Date(now) }).inputsHealth();
    assert.deepEqual(
      events.map((e) => e.detail.reason),
      ['input-loss', 'slate-timeout'],
      'once, also for a new instance (the tag remembers it)',
    );
    assert.equal(fake.tagsOfFlow[INPUT_TAGS.lastSwitch], 'from=slate/to=slate/reason=slate-timeout/at=2026-12-02T10:02:00.000Z');
    assert.deepEqual(
      fake.captured().filter((c) => c.service !== 'mediaconnect'),
      [],
      'the inputs never call MediaLive: the destinations stop through their own events',
    );
    fake.connectSource('main');
    const back = await inputs.inputsHealth();
    assert.deepEqual([back.active, back.lastSwitch?.from, back.lastSwitch?.reason, back.slate], ['main', 'slate', 'recovered', null]);
  });

  test('the backup test: connected and clean without switching; codec and resolution once it is in use; a refused encoder says why', async (t) => {
    const { fake, inputs, updates } = await harness(t);
    fake.connectSource('main');
    let result = await inputs.testBackupInput();
    assert.deepEqual([result.connected, result.decodable], [false, false]);
    assert.match(result.problems[0] ?? '', /SOURCE_DISCONNECTED/);
    fake.connectSource('backup', { video: { codec: 'h264', width: 1920, height: 1080, frameRate: '30000/1001' } });
    result = await inputs.testBackupInput();
    assert.deepEqual([result.connected, result.decodable, result.video], [true, true, null]);
    assert.match(result.problems[0] ?? '', /source in use only/);
    assert.equal((await inputs.inputsHealth()).active, 'main', 'the test does not switch');
    assert.deepEqual(updates(), []);
    await inputs.switchInput('backup');
    result = await inputs.testBackupInput();
    assert.deepEqual(result.video, { codec: 'h264', width: 1920, height: 1080, frameRate: 29.97 });
    assert.deepEqual(result.audio, { codec: 'aac', sampleRate: 48_000, channels: 2 });
    await inputs.switchInput('main');
    fake.failSource('backup', { Code: 'SOURCE_AUTH_FAILED', Message: 'The SRT passphrase did not match.' });
    const health = await inputs.inputsHealth();
    assert.equal(health.active, 'main');
    assert.equal(health.inputs.main.connected, true, 'the main is untouched');
    assert.equal(health.inputs.main.lastError, null);
    assert.equal(health.inputs.backup.connected, false);
    assert.match(health.inputs.backup.lastError?.message ?? '', /^SOURCE_AUTH_FAILED: The SRT passphrase/);
    assert.match((await inputs.testBackupInput()).problems[0] ?? '', /SOURCE_AUTH_FAILED/);
  });

  test('a flow in standby: no input active, nothing recorded, a switch is INPUT_NOT_CONNECTED', async (t) => {
    const { fake, inputs } = await harness(t, { active: false });
    fake.connectSource('main');
    const health = await inputs.inputsHealth();
    assert.equal(health.active, null);
    assert.equal(health.inputs.main.connected, false);
    assert.deepEqual(fake.tagsOfFlow, {});
    await assert.rejects(inputs.switchInput('main'), notConnected);
    assert.equal((await inputs.testBackupInput()).connected, false);
  });

  test('a flow without the backup source: backup not configured, a switch to it is INPUT_NOT_CONNECTED, the settings are only stored', async (t) => {
    const { fake, inputs, updates } = await harness(t, { backupSource: false });
    fake.connectSource('main');
    const health = await inputs.inputsHealth();
    assert.equal(health.inputs.backup.configured, false);
    assert.equal(health.active, 'main');
    await assert.rejects(inputs.switchInput('backup'), notConnected);
    assert.deepEqual(await inputs.setFailover(NON_REVERTIVE), NON_REVERTIVE);
    assert.deepEqual(updates(), [], 'no UpdateFlow for a one-source flow');
    assert.equal((await inputs.testBackupInput()).connected, false);
  });

  test('without a sink (the destination API) a switch is recorded only; the next observer with one reports it once, as recorded', async (t) => {
    const { fake, inputs: reporter, events } = await harness(t);
    const api = new AwsInputRedundancy({ flowArn: fake.flowArn }, { mediaconnect: fake.mediaconnect });
    fake.connectSource('main');
    fake.connectSource('backup');
    assert.equal((await reporter.inputsHealth()).active, 'main');
    const sw = await api.switchInput('backup');
    assert.equal(fake.tagsOfFlow[INPUT_TAGS.active], 'main', 'not reported yet');
    assert.deepEqual((await api.inputsHealth()).lastSwitch, sw, 'the API reads its switch back');
    assert.equal(events.length, 0);
    assert.deepEqual((await reporter.inputsHealth()).lastSwitch, sw);
    await reporter.inputsHealth();
    assert.deepEqual(
      events.map((e) => [e.detail.previous_source, e.detail.current_source, e.detail.reason, e.detail.switched_at]),
      [['main', 'backup', 'manual', sw.at]],
    );
    // A switch MediaConnect makes while only the API looks: recorded with the time it was first seen, reported later as that.
    fake.loseSource('backup');
    const seen = (await api.inputsHealth()).lastSwitch;
    assert.deepEqual([seen?.from, seen?.to, seen?.reason], ['backup', 'main', 'input-loss']);
    assert.deepEqual((await api.inputsHealth()).lastSwitch, seen, 'stable between reads');
    await reporter.inputsHealth();
    assert.deepEqual(events.at(-1)?.detail.switched_at, seen?.at);
    assert.equal(events.length, 2);
  });

  test('MediaConnect throttling the update is the port ENGINE_UNAVAILABLE, and nothing switched', async (t) => {
    const { fake, inputs } = await harness(t);
    fake.connectSource('main');
    fake.connectSource('backup');
    fake.failNext('UpdateFlow', () => mediaconnectError('TooManyRequestsException', 'Too many requests'));
    await assert.rejects(inputs.switchInput('backup'), (e: unknown) => e instanceof EngineError && e.code === 'ENGINE_UNAVAILABLE' && e.retryable);
    await waitFor('still on the main', async () => (await inputs.inputsHealth()).active === 'main', { timeoutMs: 1_000 });
  });
  describe('figures per input (CloudWatch by SourceARN)', () => {
    const NOW = new Date('2026-12-02T10:00:00Z');
    const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

    function withMetrics(t: TestContext, o: { cacheMs?: number; active?: boolean } = {}) {
      const fake = new AwsFake({ timings: FAST_TIMINGS, initialFlowState: o.active === false ? 'STANDBY' : 'ACTIVE' });
      const cw = fakeCloudWatch();
      const src = (name: string, input: 'main' | 'backup') => metricKey('AWS/MediaConnect', name, { SourceARN: fake.sourceArn(input) });
      const warnings: string[] = [];
      const log = { warn: (m: string) => void warnings.push(m) };
      const metrics = new AwsMetricsReader({ flowArn: fake.flowArn, cacheMs: o.cacheMs ?? 0 }, { cloudwatch: cw.client, mediaconnect: fake.mediaconnect, now: () => NOW });
      const inputs = new AwsInputRedundancy({ flowArn: fake.flowArn }, { mediaconnect: fake.mediaconnect, metrics, now: () => NOW, log });
      t.after(() => {
        const models = modelsOrSkip(t);
        if (models) expectAllValid([...fake.captured(), ...capturedFromMock(cw.mock, 'cloudwatch')], models);
        fake.close();
      });
      const metricCalls = () => cw.mock.commandCalls(GetMetricDataCommand).length;
      return { fake, cw, src, inputs, metricCalls, warnings };
    }

    test('main and backup each report their own bitrate, loss, lost packets, retransmits, RTT and connected-since; a source without datapoints has null figures', async (t) => {
      const { fake, cw, src, inputs, metricCalls } = withMetrics(t);
      fake.connectSource('main', { peerIpAddress: '203.0.113.20' });
      fake.connectSource('backup');
      Object.assign(cw.points, {
        [src('SourceBitRate', 'main')]: [[ago(60), 5_200_000]],
        [src('SourcePacketLossPercent', 'main')]: [[ago(60), 0.1]],
        [src('SourceNotRecoveredPackets', 'main')]: [[ago(60), 1]],
        [src('SourceARQRequests', 'main')]: [[ago(60), 17]],
        [src('SourceRoundTripTime', 'main')]: [[ago(60), 33]],
        [src('SourceUptime', 'main')]: [[ago(60), 3600]],
        [src('SourceBitRate', 'backup')]: [[ago(60), 2_900_000]],
        [src('SourcePacketLossPercent', 'backup')]: [[ago(60), 2.5]],
        [src('SourceNotRecoveredPackets', 'backup')]: [[ago(60), 9]],
        [src('SourceARQRequests', 'backup')]: [[ago(60), 120]],
        [src('SourceRoundTripTime', 'backup')]: [[ago(60), 140]],
        [src('SourceUptime', 'backup')]: [[ago(60), 120]],
      });
      const health = await inputs.inputsHealth();
      const figures = (h: InputHealth) => [h.bitrateInKbps, h.packetLossPercent, h.packetsLost, h.retransmits, h.rttMs, h.connectedSince];
      assert.deepEqual(figures(health.inputs.main), [5200, 0.1, 1, 17, 33, ago(3600).toISOString()]);
      assert.deepEqual(figures(health.inputs.backup), [2900, 2.5, 9, 120, 140, ago(120).toISOString()]);
      assert.equal(health.inputs.main.sourceAddress, '203.0.113.20', "the encoder's address (Source.PeerIpAddress)");
      assert.equal(health.inputs.backup.sourceAddress, null);
      assert.equal(metricCalls(), 1, 'one GetMetricData for both sources');

      // The backup's encoder goes away and its series stops: null figures, no connected-since, the main unchanged.
      fake.loseSource('backup');
      for (const k of Object.keys(cw.points)) if (k.includes(fake.sourceArn('backup'))) delete cw.points[k];
      const after = await inputs.inputsHealth();
      assert.deepEqual(figures(after.inputs.backup), [null, null, null, null, null, null]);
      assert.equal(after.inputs.backup.connected, false);
      assert.deepEqual(figures(after.inputs.main), figures(health.inputs.main));
    });

    test('a lost source keeps no connected-since or address even while its last period still shows', async (t) => {
      const { fake, cw, src, inputs } = withMetrics(t);
      fake.connectSource('main');
      fake.connectSource('backup', { peerIpAddress: '203.0.113.21' });
      cw.points[src('SourceUptime', 'backup')] = [[ago(60), 300]];
      cw.points[src('SourceBitRate', 'backup')] = [[ago(60), 1_000_000]];
      fake.loseSource('backup');
      const backup = (await inputs.inputsHealth()).inputs.backup;
      assert.equal(backup.connected, false);
      assert.equal(backup.connectedSince, null);
      assert.equal(backup.sourceAddress, null);
      assert.equal(backup.bitrateInKbps, 1000, "the newest minute's figure, as CloudWatch has it");
    });

    test('two health reads within the cache window cost one GetMetricData; a flow in standby asks nothing', async (t) => {
      const { fake, inputs, metricCalls } = withMetrics(t, { cacheMs: 30_000 });
      fake.connectSource('main');
      fake.connectSource('backup');
      await inputs.inputsHealth();
      await inputs.inputsHealth();
      assert.equal(metricCalls(), 1);
      const standby = withMetrics(t, { active: false });
      const health = await standby.inputs.inputsHealth();
      assert.equal(health.inputs.main.bitrateInKbps, null);
      assert.equal(standby.metricCalls(), 0, 'a flow in standby publishes nothing: nothing is asked');
    });

    test('CloudWatch failing leaves the figures null and the health answered', async (t) => {
      const { fake, cw, inputs, warnings } = withMetrics(t);
      fake.connectSource('main');
      cw.mock.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
      const health = await inputs.inputsHealth();
      assert.equal(health.active, 'main');
      assert.equal(health.inputs.main.connected, true);
      assert.equal(health.inputs.main.bitrateInKbps, null);
      assert.deepEqual(warnings, ['source metrics unavailable']);
    });
  });
});
