import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { BudgetThresholdCrossedV1, CostSummaryV1, UsageSessionClosedV1 } from '../../../../events/catalogue.ts';
import { budgetThresholdCrossedData, costSummaryData, usageSessionClosedData } from './cost-events.ts';
import { BudgetConfigSchema, EMPTY_BUDGET_STATE, evaluateBudget } from './budget.ts';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { observationsFromEvent, type ObservationContext, type ReceivedEvent } from './observations.ts';
import { priceSession } from './pricing.ts';
import { emptyTracker, observe, settle } from './sessions.ts';
import { breakdown, partsWithin } from './summary.ts';
import { HD1080P30 } from './testing/fixtures.ts';

const D = '55555555-5555-4555-8555-555555555555';
const ctx: ObservationContext = {
  engine: 'aws',
  destination: (id) => (id === D ? { name: 'YouTube main', platform: 'youtube', presetId: 'youtube-1080p30', encode: HD1080P30 } : undefined),
  primaryEncodes: [HD1080P30],
};
const envelope = (data: unknown, occurredAt: string, id: string = randomUUID()) => ({ version: 1, id, occurredAt, correlationId: 'c-1', data });
const channel = (state: string, observedAt: string, error: unknown = null, id?: string): ReceivedEvent => ({
  source: 'fanout.channel-provisioner',
  detailType: 'ChannelStateChanged',
  detail: envelope({ destinationId: D, channelId: '7654321', state, error, observedAt }, observedAt, id),
});
const lastError = { code: 'RTMP_STREAM_KEY_REJECTED', message: 'rejected', hint: 'check the key' };

describe('events → observations', () => {
  const cases: [string, ReceivedEvent, unknown][] = [
    ['RUNNING → running', channel('RUNNING', '2026-11-10T10:00:00Z'), 'running'],
    ['RUNNING with a failing push → recovering', channel('RUNNING', '2026-11-10T10:00:00Z', lastError), 'recovering'],
    ['STARTING → idle (not yet billed as running)', channel('STARTING', '2026-11-10T10:00:00Z'), 'idle'],
    ['STOPPING → running (billed until stopped)', channel('STOPPING', '2026-11-10T10:00:00Z'), 'running'],
    ['IDLE → idle', channel('IDLE', '2026-11-10T10:00:00Z'), 'idle'],
    ['DELETED → absent', channel('DELETED', '2026-11-10T10:00:00Z'), 'absent'],
  ];
  for (const [name, e, state] of cases)
    test(name, () => {
      const [o] = observationsFromEvent(e, ctx);
      assert.equal(o!.state, state);
      assert.equal(o!.resource.destinationId, D);
      assert.equal(o!.attributes?.platform, 'youtube');
    });

  test('FlowStateChanged gives the flow and the primary channel', () => {
    const os = observationsFromEvent(
      {
        source: 'fanout.flow-output',
        detailType: 'FlowStateChanged',
        detail: envelope({ flowArn: 'arn:flow', state: 'STANDBY', sourceConnected: false, sourceAddress: null, connectedSince: null, outputs: 2, primary: { channelId: '1234567', state: 'IDLE', error: null } }, '2026-11-10T10:00:00Z'),
      },
      ctx,
    );
    assert.deepEqual(
      os.map((o) => [o.resource.kind, o.state]),
      [
        ['flow', 'idle'],
        ['primary-channel', 'idle'],
      ],
    );
    assert.equal(os[0]!.attributes?.flowOutputs, 2);
    assert.equal(os[0]!.attributes?.flowSources, ctx.engine === 'aws' ? 2 : 1, "the stack's flow has a backup source on AWS (issue 15)");
  });

  test('ChannelReclaimed ends with reason reclaimed; unknown events and bad payloads give nothing', () => {
    const [o] = observationsFromEvent({ source: 'fanout.channel-provisioner', detailType: 'ChannelReclaimed', detail: envelope({ destinationId: D, channelId: '1', idleMinutes: 30 }, '2026-11-10T10:00:00Z') }, ctx);
    assert.deepEqual([o!.state, o!.reason], ['absent', 'reclaimed']);
    assert.deepEqual(observationsFromEvent({ source: 'fanout.other', detailType: 'X', detail: envelope({}, '2026-11-10T10:00:00Z') }, ctx), []);
    assert.deepEqual(observationsFromEvent({ source: 'fanout.channel-provisioner', detailType: 'ChannelStateChanged', detail: envelope({ destinationId: 'nope' }, '2026-11-10T10:00:00Z') }, ctx), []);
  });

  test('the same event delivered twice is one observation recorded once', () => {
    const e = channel('RUNNING', '2026-11-10T10:00:00Z');
    let s = emptyTracker();
    for (const o of [...observationsFromEvent(e, ctx), ...observationsFromEvent(e, ctx)]) s = observe(s, o).state;
    assert.equal(s.stats.applied, 1);
    assert.equal(s.stats.duplicates, 1);
  });
});

describe('the published cost events validate against their schemas', () => {
  test('UsageSessionClosed, CostSummary and BudgetThresholdCrossed', () => {
    let s = emptyTracker();
    for (const e of [channel('IDLE', '2026-11-10T09:00:00Z'), channel('RUNNING', '2026-11-10T10:00:00Z'), channel('IDLE', '2026-11-10T11:03:00Z')]) for (const o of observationsFromEvent(e, ctx)) s = observe(s, o).state;
    const { closed } = settle(s, '2026-11-10T12:00:00Z');
    assert.equal(closed.length, 2);
    for (const c of closed) {
      const data = usageSessionClosedData(c, priceSession(c, DEFAULT_RATE_TABLE), DEFAULT_RATE_TABLE);
      assert.doesNotThrow(() => UsageSessionClosedV1.detail.parse(envelope(data, '2026-11-10T12:00:00.000Z')));
    }
    const run = closed.find((c) => c.kind === 'running')!;
    const data = usageSessionClosedData(run, priceSession(run, DEFAULT_RATE_TABLE), DEFAULT_RATE_TABLE);
    assert.equal(data.breakdown.total, '0.850273'); // 63 min: $0.147420 + $0.442260 + 2.89548 GB × $0.09 = $0.260593
    assert.equal(data.encodes[0]!.framerateBand, 'MAX_30_FPS');

    const lines = closed.flatMap((c) => priceSession(c, DEFAULT_RATE_TABLE).lines);
    const b = breakdown(partsWithin(lines, Date.parse('2026-11-10T00:00:00Z'), Date.parse('2026-11-11T00:00:00Z'), 'UTC', 'day'));
    const summary = costSummaryData({
      kind: 'day',
      label: '2026-11-10',
      startMs: Date.parse('2026-11-10T00:00:00Z'),
      endMs: Date.parse('2026-11-11T00:00:00Z'),
      timeZone: 'UTC',
      asOf: '2026-11-11T00:10:00.000Z',
      breakdown: b,
      table: DEFAULT_RATE_TABLE,
      projection: null,
    });
    assert.doesNotThrow(() => CostSummaryV1.detail.parse(envelope(summary, '2026-11-11T00:10:00.000Z')));
    assert.equal(summary.complete, true);

    const crossing = evaluateBudget(BudgetConfigSchema.parse({ budgetMicros: 1_000_000 }), EMPTY_BUDGET_STATE, {
      month: '2026-11',
      monthToDateMicros: 900_000,
      projectionMicros: 900_000,
      elapsedHours: 300,
      projectionComputation: 'p',
      at: '2026-11-13T12:00:00.000Z',
    }).crossings;
    assert.equal(crossing.length, 1);
    assert.doesNotThrow(() => BudgetThresholdCrossedV1.detail.parse(envelope(budgetThresholdCrossedData(crossing[0]!), '2026-11-13T12:00:00.000Z')));
  });
});
