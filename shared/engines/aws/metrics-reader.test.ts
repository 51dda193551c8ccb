/**
 * AwsMetricsReader against the in-memory MediaConnect (aws-fake.ts) and a CloudWatch that answers
 * GetMetricData from a table of datapoints per metric and dimensions (aws-fake.ts fakeCloudWatch):
 * what each API figure is made of, when nothing is asked (a flow in standby), null for a channel
 * with no datapoints, each source's figures by SourceARN, the cache, and every request checked
 * against the official models.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { AwsFake, fakeCloudWatch, metricKey, type FakeDatapoints } from './aws-fake.ts';
import { AwsMetricsReader } from './metrics-reader.ts';
import { capturedFromMock, expectAllValid, modelsOrSkip } from './request-capture.ts';

const NOW = new Date('2026-12-02T10:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function harness(o: { flow?: 'ACTIVE' | 'STANDBY'; connected?: boolean; points?: FakeDatapoints; cacheMs?: number } = {}) {
  const fake = new AwsFake({ initialFlowState: o.flow ?? 'ACTIVE' });
  fake.sourceConnected = o.connected ?? true;
  const cw = fakeCloudWatch(o.points ?? {});
  const reader = new AwsMetricsReader({ flowArn: fake.flowArn, cacheMs: o.cacheMs ?? 0 }, { cloudwatch: cw.client, mediaconnect: fake.mediaconnect, now: () => NOW });
  const captured = () => [...fake.captured(), ...capturedFromMock(cw.mock, 'cloudwatch')];
  return { fake, reader, cw, captured };
}

describe('AwsMetricsReader', () => {
  test('input health: the flow source (DescribeFlow, DescribeFlowSourceMetadata) and the newest MediaConnect source metrics', async (t) => {
    const fake = new AwsFake();
    const flow = { FlowARN: fake.flowArn };
    const mc = (name: string) => metricKey('AWS/MediaConnect', name, flow);
    const h = harness({
      points: {
        [mc('SourceBitRate')]: [
          [minutesAgo(1), 4_512_000],
          [minutesAgo(2), 3_000_000],
        ],
        [mc('SourceRoundTripTime')]: [[minutesAgo(1), 38]],
        [mc('SourcePacketLossPercent')]: [[minutesAgo(1), 0.25]],
        [mc('SourceNotRecoveredPackets')]: [[minutesAgo(1), 3]],
        [mc('SourceARQRequests')]: [[minutesAgo(1), 12]],
      },
    });
    // The reader is given the fake's own flow ARN (each fake has the same one).
    assert.equal(h.fake.flowArn, fake.flowArn);
    const health = await h.reader.inputHealth();
    assert.deepEqual(
      { ...health, updatedAt: undefined },
      { connected: true, sourceAddress: null, connectedSince: null, bitrateInKbps: 4512, packetLossPercent: 0.25, packetsLost: 3, retransmits: 12, rttMs: 38, lastError: null, updatedAt: undefined },
    );
    assert.deepEqual(
      h
        .captured()
        .map((c) => c.operation)
        .sort(),
      ['DescribeFlow', 'DescribeFlowSourceMetadata', 'GetMetricData'],
    );
    const query = h.captured().find((c) => c.operation === 'GetMetricData')!.input as GetMetricDataCommandInput;
    assert.equal(query.ScanBy, 'TimestampDescending');
    assert.equal(NOW.getTime() - query.StartTime!.valueOf(), 300_000, 'the last five minutes');
    assert.ok(query.MetricDataQueries!.every((q) => /^[a-z][a-zA-Z0-9_]*$/.test(q.Id!) && q.MetricStat!.Period === 60));
    const models = modelsOrSkip(t);
    if (models) expectAllValid(h.captured(), models);
  });

  test('an encoder that is not connected: connected false with the source message as lastError; metrics without data stay null', async () => {
    const h = harness({ connected: false });
    const health = await h.reader.inputHealth();
    assert.equal(health.connected, false);
    assert.equal(health.lastError?.code, 'SOURCE_DISCONNECTED');
    assert.equal(health.bitrateInKbps, null);
    assert.equal(health.rttMs, null);
  });

  test('a flow in standby has no source to ask about: one DescribeFlow, nothing else', async () => {
    const h = harness({ flow: 'STANDBY' });
    const health = await h.reader.inputHealth();
    assert.equal(health.connected, false);
    assert.deepEqual(
      h.captured().map((c) => c.operation),
      ['DescribeFlow'],
    );
  });

  test("a destination's channel: NetworkOut (Mbps), OutputVideoFrameRate and DroppedFrames on pipeline 0; null without datapoints", async (t) => {
    const ch = { ChannelId: '1234567', Pipeline: '0' };
    const ml = (name: string, extra: Record<string, string> = {}) => metricKey('AWS/MediaLive', name, { ...ch, ...extra });
    const h = harness({
      points: {
        [ml('NetworkOut')]: [[minutesAgo(1), 4.6]],
        [ml('OutputVideoFrameRate', { OutputName: 'rtmp' })]: [[minutesAgo(1), 29.97]],
        [ml('DroppedFrames')]: [[minutesAgo(2), 4]],
        [ml('ActiveOutputs', { OutputGroupName: 'rtmp' })]: [[minutesAgo(1), 1]],
      },
    });
    const m = await h.reader.channelMetrics('1234567');
    assert.ok(m);
    assert.equal(m.bitrateKbps, 4600);
    assert.equal(m.fps, 29.97);
    assert.equal(m.droppedFrames, 4);
    assert.equal(m.frames, null, 'MediaLive publishes no frame count');
    assert.equal(m.updatedAt, minutesAgo(1).toISOString(), 'the newest datapoint');
    assert.equal(await h.reader.channelMetrics('7654321'), null, 'a channel that published nothing lately is not running');
    const models = modelsOrSkip(t);
    if (models) expectAllValid(h.captured(), models);
  });

  test('no active output: the bitrate is 0 whatever NetworkOut says (nothing reaches the platform)', async () => {
    const ch = { ChannelId: '1234567', Pipeline: '0' };
    const h = harness({ points: { [metricKey('AWS/MediaLive', 'NetworkOut', ch)]: [[minutesAgo(1), 0.1]], [metricKey('AWS/MediaLive', 'ActiveOutputs', { ...ch, OutputGroupName: 'rtmp' })]: [[minutesAgo(1), 0]] } });
    assert.equal((await h.reader.channelMetrics('1234567'))?.bitrateKbps, 0);
  });

  test('per source: the Source* metrics and SourceUptime by SourceARN, main and backup in one GetMetricData; a source with no datapoints has null figures', async (t) => {
    const fake = new AwsFake();
    const src = (name: string, input: 'main' | 'backup') => metricKey('AWS/MediaConnect', name, { SourceARN: fake.sourceArn(input) });
    const h = harness({
      points: {
        [src('SourceBitRate', 'main')]: [[minutesAgo(1), 6_000_400]],
        [src('SourcePacketLossPercent', 'main')]: [[minutesAgo(1), 0.5]],
        [src('SourceNotRecoveredPackets', 'main')]: [[minutesAgo(1), 2]],
        [src('SourceARQRequests', 'main')]: [[minutesAgo(1), 40]],
        [src('SourceRoundTripTime', 'main')]: [[minutesAgo(1), 21]],
        // Connected 10 minutes before the end of the newest period (one minute ago + 60 s = now).
        [src('SourceUptime', 'main')]: [[minutesAgo(1), 600]],
        // The flow-level series (every source together) is not what a source reports.
        [metricKey('AWS/MediaConnect', 'SourceBitRate', { FlowARN: fake.flowArn })]: [[minutesAgo(1), 9_999_000]],
      },
    });
    const figures = await h.reader.sourceFigures({ main: fake.sourceArn('main'), backup: fake.sourceArn('backup') });
    assert.deepEqual(figures.main, { bitrateInKbps: 6000, packetLossPercent: 0.5, packetsLost: 2, retransmits: 40, rttMs: 21, connectedSince: minutesAgo(10).toISOString() });
    assert.deepEqual(figures.backup, { bitrateInKbps: null, packetLossPercent: null, packetsLost: null, retransmits: null, rttMs: null, connectedSince: null });
    const calls = h.captured().filter((c) => c.operation === 'GetMetricData');
    assert.equal(calls.length, 1, 'one request for both sources');
    const queries = (calls[0]!.input as GetMetricDataCommandInput).MetricDataQueries!;
    assert.equal(queries.length, 12, 'six metrics per source');
    assert.deepEqual(new Set(queries.map((q) => q.MetricStat!.Metric!.Dimensions!.map((d) => d.Name).join(','))), new Set(['SourceARN']));
    assert.deepEqual(new Set(queries.map((q) => q.MetricStat!.Metric!.Dimensions![0]!.Value)), new Set([fake.sourceArn('main'), fake.sourceArn('backup')]));
    assert.ok(queries.every((q) => /^[a-z][a-zA-Z0-9_]*$/.test(q.Id!)));
    const models = modelsOrSkip(t);
    if (models) expectAllValid(h.captured(), models);
  });

  test('per source: nothing to ask without a source ARN; an uptime of 0 is no connectedSince', async () => {
    const fake = new AwsFake();
    const h = harness({ points: { [metricKey('AWS/MediaConnect', 'SourceUptime', { SourceARN: fake.sourceArn('main') })]: [[minutesAgo(1), 0]] } });
    assert.equal((await h.reader.sourceFigures({})).main.bitrateInKbps, null);
    assert.equal(h.cw.mock.commandCalls(GetMetricDataCommand).length, 0);
    assert.equal((await h.reader.sourceFigures({ main: fake.sourceArn('main') })).main.connectedSince, null);
  });

  test('answers are reused for cacheMs: a polling dashboard costs one GetMetricData per channel per period', async () => {
    const h = harness({ cacheMs: 60_000 });
    await h.reader.channelMetrics('1234567');
    await h.reader.channelMetrics('1234567');
    await h.reader.inputHealth();
    await h.reader.inputHealth();
    const sources = { main: h.fake.sourceArn('main'), backup: h.fake.sourceArn('backup') };
    await h.reader.sourceFigures(sources);
    await h.reader.sourceFigures({ ...sources });
    assert.equal(h.cw.mock.commandCalls(GetMetricDataCommand).length, 3);
    const uncached = harness({ cacheMs: 0 });
    await uncached.reader.channelMetrics('1234567');
    await uncached.reader.channelMetrics('1234567');
    assert.equal(uncached.cw.mock.commandCalls(GetMetricDataCommand).length, 2);
  });
});
