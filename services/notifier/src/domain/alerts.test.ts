import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { alertsFromEvent, deadLetterAlert, fingerprint, identity, type AlertContext } from './alerts.ts';
import sample from '../../../../events/native/medialive-channel-alert.json' with { type: 'json' };

const D = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const ctx: AlertContext = {
  stage: 'test',
  destination: (id) => (id === D ? { name: 'YouTube main', platform: 'youtube' } : undefined),
  channelOwner: (arn) => (arn.endsWith(':1234567') ? D : arn.endsWith(':999') ? 'primary' : undefined),
  graceMs: 60_000,
  inputGraceMs: 10_000,
};
const env = (data: unknown) => ({ version: 1, id: randomUUID(), occurredAt: '2026-11-10T10:00:00.000Z', correlationId: 'c', data });
const status = (to: string, lastError: unknown) => ({ source: 'fanout.destination', detailType: 'DestinationStatusChanged', detail: env({ destinationId: D, aggregateVersion: 3, from: 'running', to, desired: 'running', lastError }) });
const flow = (state: string, sourceConnected: boolean, primary: unknown = null) => ({
  source: 'fanout.flow-output',
  detailType: 'FlowStateChanged',
  detail: env({ flowArn: 'arn:flow', state, sourceConnected, sourceAddress: null, connectedSince: null, outputs: 1, primary }),
});
const brief = (us: ReturnType<typeof alertsFromEvent>) => us.map((u) => [u.labels.alertname, u.status, u.forMs]);

describe('alerts from events', () => {
  const cases: [string, Parameters<typeof alertsFromEvent>[0], unknown[]][] = [
    [
      'a destination in error: failing after the grace period',
      status('error', { code: 'RTMP_CONNECTION_REFUSED', message: 'refused', hint: 'check the URL' }),
      [
        ['DestinationFailing', 'firing', 60_000],
        ['StreamKeyRejected', 'resolved', 0],
      ],
    ],
    [
      'a rejected stream key: at once, as its own alert',
      status('error', { code: 'RTMP_STREAM_KEY_REJECTED', message: 'rejected', hint: 'copy the key again' }),
      [
        ['StreamKeyRejected', 'firing', 0],
        ['DestinationFailing', 'resolved', 0],
      ],
    ],
    [
      'out of error: both resolved',
      status('running', null),
      [
        ['DestinationFailing', 'resolved', 0],
        ['StreamKeyRejected', 'resolved', 0],
      ],
    ],
    ['flow ACTIVE without a source: input lost (10 s grace)', flow('ACTIVE', false), [['ContributionInputLost', 'firing', 10_000]]],
    ['source back: resolved', flow('ACTIVE', true), [['ContributionInputLost', 'resolved', 0]]],
    [
      'primary not running while the flow is active',
      flow('ACTIVE', true, { channelId: '999', state: 'IDLE', error: null }),
      [
        ['ContributionInputLost', 'resolved', 0],
        ['PrimaryOutputDown', 'firing', 60_000],
      ],
    ],
    [
      'primary starting is not down',
      flow('ACTIVE', true, { channelId: '999', state: 'STARTING', error: null }),
      [
        ['ContributionInputLost', 'resolved', 0],
        ['PrimaryOutputDown', 'resolved', 0],
      ],
    ],
    ['a flow in standby has no input to lose', flow('STANDBY', false), [['ContributionInputLost', 'resolved', 0]]],
  ];
  for (const [name, e, expected] of cases) test(name, () => assert.deepEqual(brief(alertsFromEvent(e, ctx)), expected));

  test("the destination's name, platform, error and hint are carried; labels hold ids only", () => {
    const [u] = alertsFromEvent(status('error', { code: 'RTMP_CONNECTION_REFUSED', message: 'Connection refused by a.rtmp.youtube.com', hint: 'check the URL' }), ctx);
    assert.equal(u!.annotations.destinationName, 'YouTube main');
    assert.equal(u!.annotations.errorCode, 'RTMP_CONNECTION_REFUSED');
    assert.equal(u!.annotations.hint, 'check the URL');
    assert.deepEqual(u!.labels, { alertname: 'DestinationFailing', severity: 'critical', category: 'destination', scope: `destination:${D}`, destinationId: D, input: 'contribution', stage: 'test', platform: 'youtube' });
  });

  test("the native MediaLive Channel Alert: SET fires, CLEARED resolves, in the owning destination's group", () => {
    assert.deepEqual(alertsFromEvent({ source: sample.source, detailType: sample['detail-type'], detail: sample.detail }, ctx), [], 'needs the event time');
    const [u] = alertsFromEvent({ source: sample.source, detailType: sample['detail-type'], detail: sample.detail, time: sample.time }, ctx);
    assert.equal(u!.status, 'firing');
    assert.equal(u!.labels.scope, `destination:${D}`);
    assert.equal(u!.labels.alertType, 'RTMP Stream Not Found');
    const [c] = alertsFromEvent({ source: sample.source, detailType: sample['detail-type'], detail: { ...sample.detail, alarm_state: 'CLEARED' }, time: '2026-11-21T10:25:00Z' }, ctx);
    assert.equal(c!.status, 'resolved');
    assert.equal(fingerprint(identity(c!.labels)), fingerprint(identity(u!.labels)));
  });

  test('a budget crossing is a one-shot alert, critical at 100 %', () => {
    const e = (pct: number) => ({
      source: 'fanout.cost-tracker',
      detailType: 'BudgetThresholdCrossed',
      detail: env({
        month: '2026-11',
        timeZone: 'UTC',
        thresholdPercent: pct,
        currency: 'USD',
        budget: '400.000000',
        threshold: '320.000000',
        basis: 'projection',
        monthToDate: '100.000000',
        projection: '330.000000',
        crossedAt: '2026-11-10T10:00:00.000Z',
        computation: 'x',
      }),
    });
    const [w] = alertsFromEvent(e(80), ctx);
    const [c] = alertsFromEvent(e(100), ctx);
    assert.deepEqual([w!.labels.severity, w!.oneShot, c!.labels.severity], ['warning', true, 'critical']);
  });

  test('a dead-letter queue with messages fires; empty resolves', () => {
    assert.equal(deadLetterAlert({ queue: 'cost-tracker-dlq', depth: 2, at: '2026-11-10T10:00:00Z', stage: 'test' }).status, 'firing');
    assert.equal(deadLetterAlert({ queue: 'cost-tracker-dlq', depth: 0, at: '2026-11-10T10:00:00Z', stage: 'test' }).status, 'resolved');
  });

  test('each input switch is an alert: on the backup, the slate on air (with its end), back on the main, the slate timeout once', () => {
    const sw = (from: string | null, to: string, reason: string, slateStopsAt: string | null = null) =>
      alertsFromEvent(
        { source: 'fanout.flow-output', detailType: 'InputSwitched', detail: env({ flowArn: 'arn:aws:mediaconnect:local:0:flow:1-x:fanout', from, to, reason, switchedAt: '2026-11-10T10:00:00.000Z', mode: 'automatic', slateStopsAt }) },
        ctx,
      ).map((a) => [a.labels.alertname, a.status, a.labels.scope, a.oneShot]);
    assert.deepEqual(sw('main', 'backup', 'input-loss'), [
      ['SlateOnAir', 'resolved', 'input:contribution', false],
      ['InputSwitchedToBackup', 'firing', 'input:contribution', false],
    ]);
    assert.deepEqual(sw('backup', 'main', 'recovered'), [
      ['SlateOnAir', 'resolved', 'input:contribution', false],
      ['InputSwitchedToBackup', 'resolved', 'input:contribution', false],
    ]);
    assert.deepEqual(sw('main', 'slate', 'input-loss', '2026-11-10T10:05:00.000Z'), [['SlateOnAir', 'firing', 'input:contribution', false]]);
    const [onAir] = alertsFromEvent(
      {
        source: 'fanout.flow-output',
        detailType: 'InputSwitched',
        detail: env({ flowArn: 'f', from: 'main', to: 'slate', reason: 'input-loss', switchedAt: '2026-11-10T10:00:00.000Z', mode: 'automatic', slateStopsAt: '2026-11-10T10:05:00.000Z' }),
      },
      ctx,
    );
    assert.match(onAir!.annotations.description, /until 2026-11-10T10:05:00.000Z/);
    assert.deepEqual(sw('slate', 'slate', 'slate-timeout'), [['SlateTimedOut', 'firing', 'input:contribution', true]]);
    assert.deepEqual(
      sw('main', 'backup', 'manual').map((a) => a[0]),
      ['SlateOnAir', 'InputSwitchedToBackup'],
    );
  });

  test('unknown events and malformed payloads give nothing', () => {
    assert.deepEqual(alertsFromEvent({ source: 'fanout.destination', detailType: 'DestinationStatusChanged', detail: env({ destinationId: 'x' }) }, ctx), []);
    assert.deepEqual(alertsFromEvent({ source: 'x', detailType: 'y', detail: null }, ctx), []);
  });

  test('the fingerprint ignores label order and severity', () => {
    assert.equal(fingerprint(identity({ a: '1', b: '2', severity: 'warning' })), fingerprint(identity({ b: '2', a: '1', severity: 'critical' })));
    assert.notEqual(fingerprint({ a: '1' }), fingerprint({ a: '2' }));
  });
});
