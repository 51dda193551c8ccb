/**
 * Notifications from real media: the local engine pushes an SRT test feed to a destination on a
 * private nginx-rtmp; a loopback receiver stands in for Slack and a webhook. The nginx dies: the
 * destination goes to error with its lastError and hint, and after the grace period and the group
 * wait exactly one grouped Slack message says so; nginx comes back: one "resolved" message. The
 * encoder drops: one message about the lost contribution, none about what it starves (inhibition);
 * the encoder comes back: resolved. Every message the receiver got is scanned for the stream key,
 * the SRT passphrase and the webhook URLs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyWebhook } from '../../services/notifier/src/domain/signature.ts';
import { startTestFeed, type TestFeed } from '../support/feed.ts';
import { eventually, type TestRuntime } from '../support/local.ts';
import { NginxRtmp } from '../support/nginx-rtmp.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const PASSPHRASE = 'notify-passphrase-0123456789';
const STREAM_KEY = 'live_notify_key_5566778899';
const SLACK_PATH = '/services/T0E2E/B0E2E/e2eSlackSecret0123456789';
const HOOK_PATH = '/hooks/e2e-webhook-secret-0123456789';

describe('notifications from real media', { timeout: 300_000 }, () => {
  let nginx: NginxRtmp;
  let feed: TestFeed;
  let rt: TestRuntime;
  let rx: Receiver;
  let id = '';
  let signingSecret = '';
  const slack = () => rx.on(SLACK_PATH).map((r) => ({ ...r, json: JSON.parse(r.body) as { text: string; attachments: { color: string }[] } }));
  const status = async () => (await rt.api('GET', `/api/destinations/${id}`)).json as { status: string; lastError: { code: string; hint: string } | null };

  before(async () => {
    rx = await startReceiver();
    nginx = await NginxRtmp.start();
    feed = await startTestFeed({
      passphrase: PASSPHRASE,
      env: { FANOUT_NOTIFY_GROUP_WAIT_SECONDS: '2', FANOUT_NOTIFY_GROUP_INTERVAL_SECONDS: '2', FANOUT_NOTIFY_DESTINATION_GRACE_SECONDS: '3', FANOUT_NOTIFY_INPUT_GRACE_SECONDS: '1' },
    });
    rt = feed.rt;
    const s = await rt.api('POST', '/api/admin/notifications/channels', { body: { name: 'ops Slack', kind: 'slack', url: `${rx.url}${SLACK_PATH}` } });
    assert.equal(s.status, 201, s.text);
    const w = await rt.api('POST', '/api/admin/notifications/channels', { body: { name: 'hook', kind: 'webhook', url: `${rx.url}${HOOK_PATH}` } });
    assert.equal(w.status, 201, w.text);
    signingSecret = w.json.signingSecret;
    const d = await rt.api('POST', '/api/destinations', { body: { name: 'Nginx main', platform: 'custom', rtmpUrl: nginx.url('live'), streamKey: STREAM_KEY, preset: 'passthrough' } });
    assert.equal(d.status, 201, d.text);
    id = d.json.destinationId;
    await eventually(async () => (await status()).status === 'idle', { timeoutMs: 30_000, what: 'idle' });
    assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    await eventually(async () => (await status()).status === 'running', { timeoutMs: 60_000, what: 'running' });
  });

  after(async () => {
    const secrets = [STREAM_KEY, PASSPHRASE, SLACK_PATH, HOOK_PATH, signingSecret];
    for (const r of rx?.received ?? []) for (const s of secrets) assert.ok(!r.body.includes(s), `a secret in a message: ${r.body.slice(0, 200)}`);
    for (const e of rt?.published ?? []) for (const s of secrets) assert.ok(!e.Detail.includes(s), `a secret in an event: ${e.Detail.slice(0, 200)}`);
    await feed?.close();
    await nginx?.close();
    await rx?.close();
  });

  it('the platform dies: one grouped Slack message after the grace and group wait; it recovers: resolved', async () => {
    const from = slack().length;
    await nginx.stop();
    const failing = await eventually(
      async () => {
        const d = await status();
        return d.status === 'error' && d.lastError ? d : null;
      },
      { timeoutMs: 30_000, what: 'status error' },
    );
    // The first failure names it (DestinationFailing, or StreamKeyRejected when the local engine reads
    // a server that closes right after the publish as a refused key): critical, with its code and hint.
    assert.match(failing.lastError!.code, /^RTMP_/);
    // Grouped: the destination's error and the channel alert the engine raises with it arrive in one
    // message, titled by the group's first alert and naming the destination.
    const msg = await eventually(
      () =>
        slack()
          .slice(from)
          .find((m) => /^\[FIRING:2\] .*Nginx main/.test(m.json.text)),
      { timeoutMs: 60_000, what: 'the Slack message' },
    ).catch(async (err: Error) => {
      // What the notifier had firing and what the receiver got: a failure here needs both.
      const alerts = (await rt.api('GET', '/api/admin/notifications/alerts')).text;
      throw new Error(`${err.message}\nfiring: ${alerts}\nreceived: ${JSON.stringify(slack().map((m) => m.json.text))}`);
    });
    assert.equal(msg.json.attachments[0]!.color, '#D0021B');
    assert.match(msg.body, /RTMP_[A-Z_]+/, 'the error code is in the message');
    const hook = await eventually(() => rx.on(HOOK_PATH).find((r) => r.body.includes(id)), { what: 'the webhook' });
    assert.equal(verifyWebhook({ secret: signingSecret, headers: hook.headers as Record<string, string>, body: hook.body, now: new Date(), seen: () => false }).ok, true);
    await nginx.restart();
    await eventually(async () => (await status()).status === 'running', { timeoutMs: 90_000, what: 'running again' });
    const resolved = await eventually(
      () =>
        slack()
          .slice(from)
          .find((m) => m.json.text.startsWith('[RESOLVED]') && m.body.includes('Nginx main')),
      { timeoutMs: 30_000, what: 'resolved' },
    );
    assert.equal(resolved.json.attachments[0]!.color, '#2EB67D');
  });

  it('the encoder drops: one message about the input, none about what it starves; it comes back: resolved', async () => {
    const from = slack().length;
    feed.encoder.kill('SIGKILL');
    const lost = await eventually(
      () =>
        slack()
          .slice(from)
          .find((m) => m.body.includes('The contribution feed is lost')),
      { timeoutMs: 60_000, what: 'input lost' },
    );
    assert.ok(!lost.body.includes('Nginx main'));
    await feed.reconnect();
    const back = await eventually(
      () =>
        slack()
          .slice(from)
          // One group for the input: the slate going on air (at once) and the feed lost (after its
          // grace) page together, titled by the first; resolved when both are.
          .find((m) => m.json.text.startsWith('[RESOLVED]') && m.body.includes('The contribution feed is lost')),
      { timeoutMs: 60_000, what: 'input resolved' },
    );
    // While the input was lost, what it starved was not paged separately (it may be once the input
    // is back, if it still fails then: Alertmanager's inhibition ends with its source).
    const during = slack()
      .slice(from)
      .filter((m) => m.at < back.at);
    assert.ok(!during.some((m) => m.json.text.includes('[FIRING') && m.body.includes('Nginx main')), 'no destination page while the input was lost');
    await eventually(async () => (await status()).status === 'running', { timeoutMs: 90_000, what: 'running after the input is back' });
  });
});
