import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AlertUpdate } from './alerts.ts';
import { emptyAlerting, receive, tick, type Notification } from './alerting.ts';
import { findSecrets, maskUrl, scrub } from './mask.ts';
import { escapeSlack, renderLog, renderSlack, renderSns, renderWebhook, SEVERITY_COLOURS, snsSubject, type RenderContext } from './render.ts';

const HOOK = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx';
const KEY = 'live_123456789_StreamKeySecret';
const ctx: RenderContext = { stage: 'prod', secrets: [HOOK, KEY], dashboardUrl: 'https://fanout.example.org' };
const D = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';

function notify(updates: AlertUpdate[], resolveAfter?: AlertUpdate[]): Notification[] {
  let s = emptyAlerting();
  for (const u of updates) s = receive(s, u);
  let r = tick(s, '2026-11-10T10:01:00.000Z');
  if (!resolveAfter) return r.notifications;
  s = r.state;
  for (const u of resolveAfter) s = receive(s, u);
  r = tick(s, '2026-11-10T10:07:00.000Z');
  return r.notifications;
}

const failing = (name = 'YouTube <!channel> & co', message = `Connection refused by rtmp://a.rtmp.youtube.com/live2/${KEY}`): AlertUpdate => ({
  status: 'firing',
  labels: { alertname: 'DestinationFailing', severity: 'critical', category: 'destination', scope: `destination:${D}`, destinationId: D, platform: 'youtube', input: 'contribution', stage: 'prod' },
  annotations: { summary: `${name} is failing`, description: message, hint: `Check the ingest URL; the webhook ${HOOK} said no`, errorCode: 'RTMP_CONNECTION_REFUSED', destinationName: name },
  at: '2026-11-10T10:00:00.000Z',
  forMs: 0,
  oneShot: false,
});
const budget: AlertUpdate = {
  status: 'firing',
  labels: { alertname: 'BudgetThresholdCrossed', severity: 'warning', category: 'budget', scope: 'budget', month: '2026-11', threshold: '80', stage: 'prod' },
  annotations: { summary: 'Cost reached 80 % of the monthly budget', description: 'projection $330', hint: 'See GET /api/cost' },
  at: '2026-11-10T10:00:00.000Z',
  forMs: 0,
  oneShot: true,
};

describe('Slack', () => {
  test('colour by severity, what happened, destination, platform, error, what to do', () => {
    const [n] = notify([failing()]);
    const p = renderSlack([n!], ctx);
    assert.equal(p.attachments.length, 1);
    assert.equal(p.attachments[0]!.color, SEVERITY_COLOURS.critical);
    const json = JSON.stringify(p);
    for (const want of ['[FIRING:1]', 'Destination*', 'Platform*', 'youtube', 'RTMP_CONNECTION_REFUSED', 'What to do:', 'stage prod']) assert.ok(json.includes(want), want);
    assert.match(p.text, /^\[FIRING:1\] YouTube &lt;!channel&gt; &amp; co is failing$/);
  });

  test('user text cannot inject Slack control sequences', () => {
    const p = renderSlack(notify([failing()]), ctx);
    const json = JSON.stringify(p);
    assert.equal(json.includes('<!channel>'), false);
    assert.ok(json.includes('&lt;!channel&gt;'));
  });

  test('no secret in the message: the stream key and the webhook URL are gone, URLs masked', () => {
    const p = renderSlack(notify([failing()]), ctx);
    assert.deepEqual(findSecrets(p, ctx.secrets), []);
    assert.equal(JSON.stringify(p).includes('T0AAAAAAA'), false, 'not even the Slack workspace id');
    assert.ok(JSON.stringify(p).includes('https://hooks.slack.com/***uvwx'));
  });

  test('resolved: green, with when it started and ended', () => {
    const [n] = notify([failing()], [{ ...failing(), status: 'resolved', at: '2026-11-10T10:03:00.000Z' }]);
    assert.equal(n!.status, 'resolved');
    const p = renderSlack([n!], ctx);
    assert.equal(p.attachments[0]!.color, SEVERITY_COLOURS.resolved);
    assert.match(p.text, /^\[RESOLVED\]/);
    assert.ok(JSON.stringify(p).includes('resolved 2026-11-10T10:03:00.000Z'));
  });

  test('a merged burst: one attachment per group, a combined fallback text', () => {
    const ns = notify([failing(), budget]);
    assert.equal(ns.length, 2);
    const p = renderSlack(ns, ctx);
    assert.deepEqual(p.attachments.map((a) => a.color).sort(), [SEVERITY_COLOURS.critical, SEVERITY_COLOURS.warning].sort());
    assert.match(p.text, /^2 alert groups: /);
  });

  test('escaping', () => assert.equal(escapeSlack('<a href> & </a>'), '&lt;a href&gt; &amp; &lt;/a&gt;'));
});

describe('SNS', () => {
  test('message attributes subscribers filter on, and an ASCII subject under 100 characters', () => {
    const p = renderSns(notify([failing('Caf\u00e9 \ud83c\udfa5 '.repeat(20))]), ctx);
    assert.deepEqual(Object.keys(p.MessageAttributes).sort(), ['destinationId', 'eventType', 'platform', 'severity', 'stage', 'status']);
    assert.deepEqual(p.MessageAttributes.severity, { DataType: 'String', StringValue: 'critical' });
    assert.deepEqual(p.MessageAttributes.eventType, { DataType: 'String', StringValue: 'DestinationFailing' });
    assert.deepEqual(p.MessageAttributes.destinationId, { DataType: 'String', StringValue: D });
    assert.ok(p.Subject.length < 100);
    assert.match(p.Subject, /^[\x20-\x7E]+$/);
    assert.deepEqual(findSecrets(p, ctx.secrets), []);
    assert.match(p.Message, /what to do: Check the ingest URL/);
  });

  test('several alert types: eventType is a String.Array; no destinationId when it is not about one', () => {
    const p = renderSns(notify([failing(), budget]), ctx);
    assert.deepEqual(p.MessageAttributes.eventType, { DataType: 'String.Array', StringValue: '["BudgetThresholdCrossed","DestinationFailing"]' });
    assert.equal(p.MessageAttributes.destinationId, undefined);
  });

  test('subject rules', () => {
    assert.equal(snsSubject('line\nbreak\ttab'), 'line break tab');
    assert.equal(snsSubject('\u00e9\u00e8'), 'ee');
    assert.equal(snsSubject('\ud83d\udd25'), 'Fanout alert');
    assert.equal(snsSubject('x'.repeat(200)).length, 99);
  });
});

describe('generic webhook', () => {
  test("Alertmanager's webhook body (version 4), scrubbed", () => {
    const [n] = notify([failing()]);
    const { body } = renderWebhook(n!, { ...ctx, receiver: 'ops-webhook' });
    const b = JSON.parse(body);
    assert.equal(b.version, '4');
    assert.equal(b.status, 'firing');
    assert.equal(b.receiver, 'ops-webhook');
    assert.deepEqual(b.groupLabels, { scope: `destination:${D}` });
    assert.equal(b.alerts[0].endsAt, '0001-01-01T00:00:00Z');
    assert.equal(b.commonLabels.destinationId, D);
    assert.equal(b.fanout.severity, 'critical');
    assert.deepEqual(findSecrets(b, ctx.secrets), []);
    assert.ok(b.alerts[0].annotations.description.includes('rtmp://a.rtmp.youtube.com/live2/***'));
  });

  test('the log record', () => {
    const r = renderLog(notify([failing()])[0]!, ctx);
    assert.equal(r.severity, 'critical');
    assert.deepEqual(findSecrets(r, ctx.secrets), []);
  });
});

describe('masking', () => {
  const cases: [string, string][] = [
    [HOOK, 'https://hooks.slack.com/***uvwx'],
    ['https://user:pass@example.org/hook?token=abc', 'https://example.org/***=abc'],
    ['https://x.io/a', 'https://x.io/***'],
    ['not a url', '***'],
  ];
  for (const [url, masked] of cases) test(`${url} → ${masked}`, () => assert.equal(maskUrl(url), masked));
  test('scrub removes known secrets and masks URLs in free text', () => {
    assert.equal(scrub(`POST ${HOOK} failed: 404`, [HOOK]), 'POST https://hooks.slack.com/***uvwx failed: 404');
    assert.equal(scrub(`key ${KEY} leaked`, [KEY]), 'key *** leaked');
    assert.equal(scrub('POST https://hooks.slack.com/services/T1/B2/zzzzzzzzzzzzzzzz failed'), 'POST https://hooks.slack.com/***zzzz failed');
  });
});
