/**
 * The notifier through the running local runtime (memory engine, short Alertmanager timings):
 * events published on the in-process bus reach it by serverless.yml's rules and queue, and its
 * Slack and webhook deliveries go to a loopback receiver. Grouping and the group wait, resolved,
 * inhibition while the input is lost, 429 with Retry-After, retries, the webhook signature checked
 * by the receiver, a dead-letter queue filling, the admin API (test message, deliveries, filters),
 * and every captured message, response and event scanned for secrets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BudgetThresholdCrossedV1, DestinationStatusChangedV1, FlowStateChangedV1 } from '../events/catalogue.ts';
import { buildEntry } from '../shared/events/publisher.ts';
import { verifyWebhook } from '../services/notifier/src/domain/signature.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from './support/local.ts';
import { startReceiver, type Receiver } from './support/receiver.ts';

const SLACK_PATH = '/services/T0FANOUT/B0FANOUT/slackSecretXYZ0123456789';
const HOOK_PATH = '/hooks/webhook-secret-path-0123456789';
const STREAM_KEY = 'live-streamkey-SECRET-4242';

describe('notifier through the local runtime', () => {
  let rt: TestRuntime;
  let rx: Receiver;
  let slackUrl: string;
  let hookUrl: string;
  let signingSecret: string;
  let slackId: string;
  let hookId: string;

  const publish = async (entry: ReturnType<typeof buildEntry>) => {
    const out = await rt.bus.putEvents([{ ...entry, EventBusName: rt.config.eventBus }]);
    assert.equal(out.FailedEntryCount, 0);
  };
  const status = (destinationId: string, to: 'error' | 'running', lastError: { code: string; message: string; hint: string } | null, v: number) =>
    publish(buildEntry(DestinationStatusChangedV1, { destinationId, aggregateVersion: v, from: to === 'error' ? 'running' : 'error', to, desired: 'running', lastError }, { correlationId: `t-${v}` }));
  const flow = (sourceConnected: boolean) =>
    publish(
      buildEntry(FlowStateChangedV1, { flowArn: 'arn:aws:mediaconnect:eu-west-1:000000000000:flow:1-local:contribution', state: 'ACTIVE', sourceConnected, sourceAddress: null, connectedSince: null, outputs: 1 }, { correlationId: 'flow' }),
    );
  const slackMessages = () => rx.on(SLACK_PATH).map((r) => ({ ...r, json: JSON.parse(r.body) as { text: string; attachments: { color: string; blocks: unknown[] }[] } }));
  const createDestination = async (name: string) => {
    const res = await rt.api('POST', '/api/destinations', { body: { name, platform: 'youtube', streamKey: STREAM_KEY } });
    assert.equal(res.status, 201, res.text);
    const id = res.json.destinationId as string;
    // Its own status events (creating → idle) first, so they do not overtake the ones the test publishes.
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { what: 'idle' });
    await rt.bus.drain();
    return id;
  };

  before(async () => {
    rx = await startReceiver();
    slackUrl = `${rx.url}${SLACK_PATH}`;
    hookUrl = `${rx.url}${HOOK_PATH}`;
    rt = await startTestRuntime(
      {
        FANOUT_PRIMARY_HLS: 'off',
        FANOUT_NOTIFY_GROUP_WAIT_SECONDS: '1',
        FANOUT_NOTIFY_GROUP_INTERVAL_SECONDS: '1',
        FANOUT_NOTIFY_DESTINATION_GRACE_SECONDS: '0.5',
        FANOUT_NOTIFY_INPUT_GRACE_SECONDS: '0.2',
        FANOUT_NOTIFY_RETRY_INITIAL_SECONDS: '0.3',
      },
      { engine: 'memory' },
    );
    const slack = await rt.api('POST', '/api/admin/notifications/channels', { body: { name: 'ops Slack', kind: 'slack', url: slackUrl, minSeverity: 'warning' } });
    assert.equal(slack.status, 201, slack.text);
    slackId = slack.json.channel.channelId;
    assert.equal(slack.json.channel.target, `${rx.url}/***6789`);
    assert.equal(slack.json.signingSecret, undefined);
    const hook = await rt.api('POST', '/api/admin/notifications/channels', { body: { name: 'pager hook', kind: 'webhook', url: hookUrl, alertNames: ['DestinationFailing', 'ContributionInputLost'] } });
    assert.equal(hook.status, 201, hook.text);
    hookId = hook.json.channel.channelId;
    signingSecret = hook.json.signingSecret;
    assert.match(signingSecret, /^whsec_/);
  });

  after(async () => {
    // No secret anywhere: what the receiver got, what the API answered, what was published.
    const secrets = [slackUrl, hookUrl, SLACK_PATH, HOOK_PATH, STREAM_KEY, signingSecret, ADMIN_TOKEN];
    const captured = [...rx.received.map((r) => r.body), ...rt.responses.filter((b) => !b.includes('whsec_')), ...rt.published.map((e) => e.Detail)];
    for (const text of captured) for (const s of secrets) assert.ok(!text.includes(s), `a secret (${s.slice(0, 12)}…) appears in: ${text.slice(0, 300)}`);
    await rt?.close();
    await rx?.close();
  });

  it('lists channels with their targets masked, and refuses what cannot be a channel', async () => {
    const list = await rt.api('GET', '/api/admin/notifications/channels');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.channels.map((c: { kind: string }) => c.kind).sort(), ['slack', 'webhook']);
    assert.ok(!list.text.includes(SLACK_PATH) && !list.text.includes(HOOK_PATH));
    const bad = await rt.api('POST', '/api/admin/notifications/channels', { body: { name: 'x', kind: 'slack', url: 'ftp://example.com/x' } });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.code, 'NOTIFICATION_CHANNEL_INVALID');
    const sns = await rt.api('POST', '/api/admin/notifications/channels', { body: { name: 'x', kind: 'sns' } });
    assert.equal(sns.json.code, 'NOTIFICATION_CHANNEL_INVALID', 'no SNS topic locally');
    const unknown = await rt.api('PUT', '/api/admin/notifications/channels/00000000-0000-4000-8000-000000000000', { body: { enabled: false } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'NOTIFICATION_CHANNEL_NOT_FOUND');
    const operator = (await rt.api('POST', '/api/admin/tokens', { body: { name: 'op', role: 'operator' } })).json.token as string;
    assert.equal((await rt.api('GET', '/api/admin/notifications/channels', { token: operator })).status, 403);
  });

  it('a failing destination: one grouped Slack message after the group wait, a signed webhook, then resolved', async () => {
    const id = await createDestination('Main YT');
    const before = slackMessages().length;
    const err = { code: 'RTMP_CONNECTION_REFUSED', message: `connection refused by rtmp://127.0.0.1:1/live/${STREAM_KEY}`, hint: 'Check the ingest URL and that the server runs.' };
    await status(id, 'error', err, 10);
    const msg = await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((m) => m.body.includes('Main YT')),
      { timeoutMs: 15_000, what: 'the Slack message' },
    );
    assert.equal(msg.json.attachments[0]!.color, '#D0021B');
    assert.match(msg.json.text, /\[FIRING:1\] Main YT is failing/);
    assert.ok(msg.body.includes('RTMP_CONNECTION_REFUSED') && msg.body.includes('Check the ingest URL'));
    // The webhook: Alertmanager's body, signed; the receiver verifies it as a receiver would.
    const hook = await eventually(() => rx.on(HOOK_PATH).find((r) => r.body.includes(id)), { what: 'the webhook' });
    const verified = verifyWebhook({ secret: signingSecret, headers: hook.headers as Record<string, string>, body: hook.body, now: new Date(), seen: () => false });
    assert.deepEqual(verified, { ok: true, id: hook.headers['webhook-id'] });
    assert.equal(verifyWebhook({ secret: signingSecret, headers: hook.headers as Record<string, string>, body: hook.body.replace('firing', 'resolvd'), now: new Date(), seen: () => false }).ok, false);
    assert.equal(JSON.parse(hook.body).version, '4');
    // Still failing: nothing more (the repeat interval is hours).
    await status(id, 'error', err, 11);
    await rt.bus.drain();
    const firing = slackMessages().filter((m) => m.body.includes('Main YT') && m.body.includes('FIRING'));
    assert.equal(firing.length, 1);
    // Recovered: one resolved message.
    await status(id, 'running', null, 12);
    const resolved = await eventually(() => slackMessages().find((m) => m.json.text.startsWith('[RESOLVED]') && m.body.includes('Main YT')), { timeoutMs: 15_000, what: 'resolved' });
    assert.equal(resolved.json.attachments[0]!.color, '#2EB67D');
    await eventually(async () => (await rt.api('GET', `/api/admin/notifications/deliveries?channelId=${slackId}`)).json.deliveries.some((d: { outcome: string; status: string }) => d.outcome === 'sent' && d.status === 'resolved'), {
      what: 'the resolved delivery recorded',
    });
    assert.ok(rt.published.some((e) => e.DetailType === 'NotificationSent' && JSON.parse(e.Detail).data.channelName === 'pager hook'));
  });

  it('while the input is lost, the destination alerts it causes are not sent; they are once it is back', async () => {
    const id = await createDestination('Twitch backup');
    const before = slackMessages().length;
    await flow(false);
    await status(id, 'error', { code: 'RTMP_STALLED', message: 'no data', hint: 'Check the input.' }, 20);
    const lost = await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((m) => m.body.includes('contribution feed is lost')),
      { timeoutMs: 15_000, what: 'input lost' },
    );
    assert.ok(!lost.body.includes('Twitch backup'), 'inhibited: the destination is not in the message');
    await eventually(() => rt.api('GET', '/api/admin/notifications/alerts').then((r) => r.json.firing.some((a: { alertname: string }) => a.alertname === 'DestinationFailing')), { what: 'the destination alert fires (inhibited)' });
    assert.ok(
      !slackMessages()
        .slice(before)
        .some((m) => m.body.includes('Twitch backup')),
    );
    await flow(true);
    const back = await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((m) => m.body.includes('Twitch backup is failing')),
      { timeoutMs: 15_000, what: 'the destination alert after the input is back' },
    );
    assert.ok(back);
    await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((m) => m.json.text.includes('[RESOLVED] The contribution feed is lost')),
      { timeoutMs: 15_000, what: 'input resolved' },
    );
    await status(id, 'running', null, 21);
  });

  it('a rejected stream key is sent at once, even while the input is lost (input loss does not cause it)', async () => {
    const id = await createDestination('Key rejected');
    const before = slackMessages().length;
    await flow(false);
    await status(id, 'error', { code: 'RTMP_STREAM_KEY_REJECTED', message: 'The platform rejected the stream key.', hint: 'Copy the key again from the platform.' }, 25);
    const m = await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((x) => x.body.includes('Key rejected: the platform rejected the stream key')),
      { timeoutMs: 15_000, what: 'key rejected' },
    );
    assert.ok(m.body.includes('Copy the key again'));
    await eventually(
      () =>
        slackMessages()
          .slice(before)
          .some((x) => x.body.includes('The contribution feed is lost')),
      { timeoutMs: 15_000, what: 'input lost' },
    );
    await flow(true);
    await status(id, 'running', null, 26);
    await eventually(
      () =>
        slackMessages()
          .slice(before)
          .some((x) => x.json.text.includes('[RESOLVED] The contribution feed is lost')),
      { timeoutMs: 15_000, what: 'input back' },
    );
  });

  it('a native MediaLive channel alert names the destination whose channel it is; a budget threshold is one message', async () => {
    const id = await createDestination('Alerting channel');
    const channelId = await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.mediaLiveChannelId as string | null, { what: 'the channel id' });
    const before = slackMessages().length;
    rt.bus.deliverServiceEvent({
      Source: 'aws.medialive',
      DetailType: 'MediaLive Channel Alert',
      Resources: [`arn:aws:medialive:eu-west-1:000000000000:channel:${channelId}`],
      Detail: JSON.stringify({ alarm_state: 'SET', alarm_id: 'a1', alert_type: 'RTMP Stream Not Found', pipeline: '0', channel_arn: `arn:aws:medialive:eu-west-1:000000000000:channel:${channelId}`, message: 'Waiting for RTMP input' }),
    });
    const m = await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((x) => x.body.includes('MediaLive: RTMP Stream Not Found (Alerting channel)')),
      { timeoutMs: 15_000, what: 'channel alert' },
    );
    assert.equal(m.json.attachments[0]!.color, '#F2A81D');
    const money = (n: number) => n.toFixed(6);
    await publish(
      buildEntry(
        BudgetThresholdCrossedV1,
        {
          month: '2026-12',
          timeZone: 'UTC',
          thresholdPercent: 80,
          currency: 'USD',
          budget: money(500),
          threshold: money(400),
          basis: 'projection',
          monthToDate: money(120),
          projection: money(410),
          crossedAt: new Date().toISOString(),
          computation: 'month to date over 2 days, projected over 31',
        },
        { correlationId: 'budget' },
      ),
    );
    const b = await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((x) => x.body.includes('80 % of the monthly budget')),
      { timeoutMs: 15_000, what: 'budget' },
    );
    assert.equal(b.json.attachments[0]!.color, '#F2A81D');
  });

  it('429 Retry-After is honoured and errors are retried with backoff', async () => {
    const id = await createDestination('Retry me');
    rx.script(SLACK_PATH, [
      { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' },
      { status: 500, body: 'internal' },
    ]);
    const from = rx.on(SLACK_PATH).length;
    await status(id, 'error', { code: 'RTMP_CONNECTION_REFUSED', message: 'refused', hint: 'h' }, 30);
    await eventually(() => rx.on(SLACK_PATH).slice(from).length >= 3, { timeoutMs: 20_000, what: 'three attempts' });
    const [first, second, third] = rx.on(SLACK_PATH).slice(from);
    assert.ok(second!.at - first!.at >= 950, `Retry-After 1 s honoured (waited ${second!.at - first!.at} ms)`);
    assert.ok(third!.at - second!.at >= 250, 'backoff before the retry');
    assert.equal(third!.body, second!.body, 'the same message is retried');
    const d = await eventually(
      async () => (await rt.api('GET', `/api/admin/notifications/deliveries?channelId=${slackId}`)).json.deliveries.find((x: { alertNames: string[]; outcome: string; attempts: number }) => x.outcome === 'sent' && x.attempts === 3),
      { what: 'the delivery record' },
    );
    assert.equal(d.httpStatus, 200);
    await status(id, 'running', null, 31);
  });

  it('a non-retryable answer fails the delivery at once: NotificationFailed, recorded', async () => {
    rx.script(HOOK_PATH, [{ status: 410, body: 'channel_is_archived' }]);
    const id = await createDestination('Gone hook');
    await status(id, 'error', { code: 'RTMP_CONNECTION_REFUSED', message: 'refused', hint: 'h' }, 40);
    const failed = await eventually(() => rt.published.find((e) => e.DetailType === 'NotificationFailed'), { timeoutMs: 15_000, what: 'NotificationFailed' });
    const data = JSON.parse(failed.Detail).data;
    assert.equal(data.outcome, 'non-retryable');
    assert.equal(data.error.code, 'HTTP_410');
    assert.equal(data.target, `${rx.url}/***6789`);
    await status(id, 'running', null, 41);
  });

  it('a message in a dead-letter queue is an alert', async () => {
    const before = slackMessages().length;
    rt.bus.sendMessage('FlowOutputDLQ', JSON.stringify({ poison: true }));
    const m = await eventually(
      () =>
        slackMessages()
          .slice(before)
          .find((x) => x.body.includes('dead-letter queue FlowOutputDLQ')),
      { timeoutMs: 15_000, what: 'DLQ alert' },
    );
    assert.equal(m.json.attachments[0]!.color, '#F2A81D');
  });

  it('test messages, and alert types switched off per channel', async () => {
    const test = await rt.api('POST', `/api/admin/notifications/channels/${hookId}/test`);
    assert.equal(test.status, 200, test.text);
    assert.equal(test.json.outcome, 'sent');
    assert.equal(test.json.test, true);
    const got = rx.on(HOOK_PATH).at(-1)!;
    assert.ok(got.body.includes('Test message from Fanout'));
    assert.equal(verifyWebhook({ secret: signingSecret, headers: got.headers as Record<string, string>, body: got.body, now: new Date(), seen: () => false }).ok, true);
    const off = await rt.api('PUT', `/api/admin/notifications/channels/${slackId}`, { body: { alertNames: ['StreamKeyRejected'] } });
    assert.equal(off.status, 200, off.text);
    const from = rx.on(SLACK_PATH).length;
    const id = await createDestination('Filtered');
    await status(id, 'error', { code: 'RTMP_CONNECTION_REFUSED', message: 'refused', hint: 'h' }, 50);
    await eventually(() => rx.on(HOOK_PATH).some((r) => r.body.includes(id)), { timeoutMs: 15_000, what: 'the webhook still gets it' });
    assert.equal(
      rx
        .on(SLACK_PATH)
        .slice(from)
        .filter((r) => r.body.includes('Filtered')).length,
      0,
      'Slack does not take DestinationFailing any more',
    );
  });
});
