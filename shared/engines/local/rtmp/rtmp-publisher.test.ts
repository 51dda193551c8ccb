import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { freeTcpPort } from '../../../../test/support/nginx-rtmp.ts';
import { MSG, OutboundMessage } from './rtmp-chunk.ts';
import { EgressPolicy, type HostResolver } from '../../../net/egress.ts';
import { parseRtmpTarget, PUBLISHED_REJECT_MS, RtmpPublisher, RtmpPublishError, type RtmpPublisherOptions } from './rtmp-publisher.ts';
import { avcTag, FakeRtmpServer, type FakeRtmpServerOptions } from './testing.ts';

const KEY = 'sk-live-0123456789abcdef';
const cleanup: (() => Promise<void>)[] = [];
/** Everything the publishers logged: the key must never be in it. */
const logged: string[] = [];
const logger = {
  debug: (m: string, x?: Record<string, unknown>) => logged.push(`${m} ${JSON.stringify(x)}`),
  info: (m: string, x?: Record<string, unknown>) => logged.push(`${m} ${JSON.stringify(x)}`),
  warn: (m: string, x?: Record<string, unknown>) => logged.push(`${m} ${JSON.stringify(x)}`),
};
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  const leaks = logged.splice(0).filter((l) => l.includes(KEY));
  assert.deepEqual(leaks, [], 'the stream key was logged');
});

async function server(o: FakeRtmpServerOptions = {}): Promise<FakeRtmpServer> {
  const s = await FakeRtmpServer.start(o);
  cleanup.push(() => s.close());
  return s;
}

function publisher(o: Partial<RtmpPublisherOptions> & { url: string }): RtmpPublisher {
  const p = new RtmpPublisher({ streamKey: KEY, connectTimeoutMs: 3000, logger, ...o });
  cleanup.push(() => p.close(100));
  return p;
}

async function startError(p: RtmpPublisher): Promise<RtmpPublishError> {
  const err = await p.start().then(
    () => assert.fail('publish should have failed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RtmpPublishError, String(err));
  assert.equal(await p.closed, err.error);
  // The key is never in what we show.
  assert.ok(!JSON.stringify(err.error).includes(KEY), JSON.stringify(err.error));
  return err;
}

describe('parseRtmpTarget', () => {
  it('splits URL and key the way FFmpeg does', () => {
    assert.deepEqual(parseRtmpTarget('rtmp://a.rtmp.youtube.com/live2', 'abcd-efgh'), {
      secure: false,
      host: 'a.rtmp.youtube.com',
      port: 1935,
      app: 'live2',
      tcUrl: 'rtmp://a.rtmp.youtube.com/live2',
      streamName: 'abcd-efgh',
    });
    assert.deepEqual(parseRtmpTarget('rtmps://live-api-s.facebook.com:443/rtmp/', 'FB-123?s_bl=1'), {
      secure: true,
      host: 'live-api-s.facebook.com',
      port: 443,
      app: 'rtmp',
      tcUrl: 'rtmps://live-api-s.facebook.com:443/rtmp',
      streamName: 'FB-123?s_bl=1',
    });
    assert.equal(parseRtmpTarget('rtmps://h/app', 'k').port, 443);
    assert.equal(parseRtmpTarget('rtmp://[::1]:1936/a/b', 'k').host, '::1');
    assert.equal(parseRtmpTarget('rtmp://[::1]:1936/a/b', 'k').app, 'a/b');
    // A URL pasted whole, with no separate key: app is the first segment.
    const whole = parseRtmpTarget('rtmp://h/live/my-key', '');
    assert.equal(whole.app, 'live');
    assert.equal(whole.streamName, 'my-key');
    assert.equal(whole.tcUrl, 'rtmp://h/live');
  });

  it('refuses what is not an rtmp(s) URL with INVALID_URL, without the key', () => {
    for (const [url, key] of [
      ['http://h/live', KEY],
      ['rtmp://h', KEY],
      ['rtmp://h/live', ''],
      ['rtmp://h:99999/live', KEY],
    ] as const) {
      assert.throws(
        () => parseRtmpTarget(url, key),
        (e: unknown) => e instanceof RtmpPublishError && e.code === 'INVALID_URL' && !e.message.includes(KEY) && /RTMP publisher/.test(e.message) && !/FFmpeg/.test(e.message),
        url,
      );
    }
  });
});

describe('RtmpPublisher and the egress policy (checked where it connects)', () => {
  const closed = { policy: new EgressPolicy({ allowPrivate: false }) };
  // What a rebinding DNS answers once the door is passed: the name now points at loopback.
  const rebound: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];

  it('refuses an IP literal the policy does not allow before connecting: EGRESS_REFUSED, not retryable', async () => {
    const s = await server();
    const err = await startError(publisher({ url: s.url(), egress: closed }));
    assert.equal(err.code, 'EGRESS_REFUSED');
    assert.equal(err.error.retryable, false);
    assert.match(err.error.message, /may not connect to 127\.0\.0\.1: it is a loopback address/);
    assert.equal(s.sessions.length, 0, 'nothing was sent to the server');
  });

  it('refuses a name whose address is refused by the time it connects (DNS rebinding), on rtmp and rtmps', async () => {
    const s = await server();
    for (const scheme of ['rtmp', 'rtmps'] as const) {
      const err = await startError(publisher({ url: `${scheme}://rebound.example:${s.port}/live`, egress: { ...closed, resolve: rebound } }));
      assert.equal(err.code, 'EGRESS_REFUSED', scheme);
      assert.match(err.error.message, /rebound\.example: it resolves to 127\.0\.0\.1/);
    }
    assert.equal(s.sessions.length, 0, 'no connection was made');
  });

  it('metadata is refused even where private addresses are allowed; what the policy allows connects and publishes', async () => {
    const open = { policy: new EgressPolicy({ allowPrivate: true }), resolve: rebound };
    const meta = await startError(publisher({ url: 'rtmp://169.254.169.254/latest', egress: open }));
    assert.equal(meta.code, 'EGRESS_REFUSED');
    const s = await server();
    const p = publisher({ url: `rtmp://rebound.example:${s.port}/live`, egress: open });
    await p.start();
    assert.equal(p.state, 'publishing');
  });
});

describe('RtmpPublisher against a fake server', () => {
  it('connects, creates a stream and publishes the key, as FFmpeg does', async () => {
    const s = await server({ streamId: 7 });
    const p = publisher({ url: s.url('live') });
    await p.start();
    assert.equal(p.state, 'publishing');
    assert.equal(p.streamId, 7);
    assert.ok(logged.some((l) => l.startsWith('rtmp publisher: publishing')));
    const session = s.sessions[0]!;
    assert.deepEqual(
      session.commands.map((c) => c[0]),
      ['connect', 'releaseStream', 'FCPublish', 'createStream', 'publish'],
    );
    assert.deepEqual(session.commands[0]![2], { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; Fanout)', tcUrl: s.url('live') });
    assert.deepEqual(session.commands[4]!.slice(2), [null, KEY, 'live']);
    // Set Peer Bandwidth is answered with our Window Acknowledgement Size.
    await waitFor('window ack size', () => session.windowAcks.length === 1);
    assert.deepEqual(session.windowAcks, [5_000_000]);

    // Media: 10 kB messages arrive whole (so the server applied our 4096 chunk size), on stream 7.
    const key = new OutboundMessage(MSG.VIDEO, 0, avcTag('key', 10_000), 6, true, false);
    const inter = new OutboundMessage(MSG.VIDEO, 40, avcTag('inter', 10_000), 6, false, false);
    assert.equal(p.send(inter), 'skipped'); // waits for a keyframe
    assert.equal(p.send(key), 'sent');
    assert.equal(p.send(inter), 'sent');
    await waitFor('media', () => session.media.length === 2);
    assert.deepEqual(
      session.media.map((m) => [m.type, m.streamId, m.timestamp, m.payload.length]),
      [
        [9, 7, 0, 10_005],
        [9, 7, 40, 10_005],
      ],
    );
    const st = p.stats();
    assert.equal(st.videoFramesSent, 2);
    assert.equal(st.keyframesSent, 1);
    assert.equal(st.skippedFrames, 1);
    assert.equal(st.droppedVideoFrames, 0);
    assert.equal(st.mediaSentMs, 40);
    assert.ok(st.uptimeMs !== null && st.connectMs !== null);
    await waitFor('bytes sent', () => p.stats().bufferedBytes === 0);
    assert.equal(p.stats().bytesSent, p.stats().bytesQueued);

    // A polite close: FCUnpublish and deleteStream, then `closed` resolves with null.
    await p.close();
    assert.equal(await p.closed, null);
    await waitFor('unpublish', () => session.commands.some((c) => c[0] === 'deleteStream'));
    assert.ok(session.commands.some((c) => c[0] === 'FCUnpublish' && c[3] === KEY));
  });

  it("measures the CPU time of each publisher's media writes (cpuMicros): more bytes, more CPU", async () => {
    const s = await server();
    const heavy = publisher({ url: s.url('live'), label: 'heavy' });
    const light = publisher({ url: s.url('live'), label: 'light' });
    await Promise.all([heavy.start(), light.start()]);
    assert.deepEqual([heavy.stats().cpuMicros >= 0, light.stats().cpuMicros >= 0], [true, true]);
    const before = heavy.stats().cpuMicros;
    // The same number of frames each: 200 kB for one, 100 bytes for the other; in steps the buffer can hold.
    for (let step = 0; step < 10; step++) {
      for (let i = 0; i < 15; i++) {
        const n = step * 15 + i;
        const ts = n * 40;
        assert.equal(heavy.send(new OutboundMessage(MSG.VIDEO, ts, avcTag(n === 0 ? 'key' : 'inter', 200_000), 6, n === 0, false)), 'sent');
        assert.equal(light.send(new OutboundMessage(MSG.VIDEO, ts, avcTag(n === 0 ? 'key' : 'inter', 100), 6, n === 0, false)), 'sent');
      }
      await waitFor('sent', () => heavy.stats().bufferedBytes === 0 && light.stats().bufferedBytes === 0);
    }
    const h = heavy.stats().cpuMicros;
    const l = light.stats().cpuMicros;
    assert.ok(h > before, `heavy: ${h} µs`);
    assert.ok(l > 0, `light: ${l} µs`);
    // 30 MB written against 15 kB: the measured shares say which destination used the process.
    assert.ok(h > 2 * l, `heavy ${h} µs vs light ${l} µs`);
    // A write to a closed publisher costs (almost) nothing and is still counted, never reset.
    await light.close();
    assert.equal(light.send(new OutboundMessage(MSG.VIDEO, 99_999, avcTag('inter', 100), 6, false, false)), 'closed');
    assert.ok(light.stats().cpuMicros >= l);
  });

  it('answers pings and acknowledges once the server window is exceeded', async () => {
    const s = await server({ windowAckSize: 200 });
    const p = publisher({ url: s.url() });
    await p.start();
    const session = s.sessions[0]!;
    for (let i = 1; i <= 20; i++) s.ping(session, 1000 * i);
    await waitFor('pongs', () => session.pongs.length === 20);
    assert.deepEqual(
      session.pongs,
      Array.from({ length: 20 }, (_, i) => 1000 * (i + 1)),
    );
    // 20 pings × 12 bytes plus the connect answers: several windows of 200 bytes.
    await waitFor('acks', () => session.acks.length >= 2);
    for (let i = 1; i < session.acks.length; i++) assert.ok(session.acks[i]! - session.acks[i - 1]! >= 200);
  });

  it('maps refusals to typed errors', async () => {
    const cases: [FakeRtmpServerOptions, string, RegExp][] = [
      [{ connect: 'reject' }, 'RTMP_STREAM_KEY_REJECTED', /NetConnection\.Connect\.Rejected/],
      [{ connect: 'close' }, 'RTMP_STREAM_KEY_REJECTED', /during connect\/publish/],
      [{ publish: 'badname-in-use' }, 'RTMP_STREAM_KEY_IN_USE', /Server error: NetStream\.Publish\.BadName \(Already publishing\)/],
      [{ publish: 'badname' }, 'RTMP_STREAM_KEY_REJECTED', /Server error: NetStream\.Publish\.BadName/],
      [{ publish: 'close' }, 'RTMP_STREAM_KEY_REJECTED', /during connect\/publish/],
    ];
    for (const [opts, code, message] of cases) {
      const s = await server(opts);
      const err = await startError(publisher({ url: s.url() }));
      assert.equal(err.code, code, JSON.stringify(opts));
      assert.match(err.message, message);
    }
  });

  it('a close at once after Publish.Start is a refused key; seconds into the session it is a drop, retried as such', async () => {
    const refusing = await server({ closeAfterPublishMs: 0 });
    const p1 = publisher({ url: refusing.url() });
    await p1.start().catch(() => undefined); // the close may beat Publish.Start's arrival
    const refused = await p1.closed;
    assert.equal(refused?.code, 'RTMP_STREAM_KEY_REJECTED');
    assert.equal(refused?.retryable, false);

    const dropping = await server({ closeAfterPublishMs: PUBLISHED_REJECT_MS + 500 });
    const p2 = publisher({ url: dropping.url() });
    await p2.start();
    const dropped = await p2.closed;
    assert.equal(dropped?.code, 'RTMP_CONNECTION_CLOSED');
    assert.equal(dropped?.retryable, true);
    assert.match(dropped?.message ?? '', /after 2(\.\d)? s of publishing/);
  });

  it('times out a server that never answers, refuses a closed port, and reports DNS failures', async () => {
    const silent = await server({ silentHandshake: true });
    const t0 = Date.now();
    const timeout = await startError(publisher({ url: silent.url(), connectTimeoutMs: 300 }));
    assert.equal(timeout.code, 'RTMP_TIMEOUT');
    assert.match(timeout.message, /during the RTMP handshake within 300 ms/);
    assert.ok(Date.now() - t0 < 2000);

    const port = await freeTcpPort();
    const refused = await startError(publisher({ url: `rtmp://127.0.0.1:${port}/live` }));
    assert.equal(refused.code, 'RTMP_CONNECTION_REFUSED');

    const dns = await startError(publisher({ url: 'rtmp://fanout-test.invalid/live' }));
    assert.equal(dns.code, 'DNS_RESOLUTION_FAILED');
  });

  it('fails with RTMP_TIMEOUT when the server stops accepting data', async () => {
    const s = await server({ stallAfterPublish: true });
    const p = publisher({ url: s.url(), stallTimeoutMs: 400, maxBufferBytes: 1 << 20 });
    await p.start();
    let ts = 0;
    // Write until the kernel buffers are full and bytes wait in Node.
    await waitFor(
      'a full socket',
      () => {
        for (let i = 0; i < 20; i++) {
          ts += 40;
          p.send(new OutboundMessage(MSG.VIDEO, ts, avcTag('key', 100_000), 6, true, false));
        }
        return p.bufferedBytes > 0;
      },
      { timeoutMs: 10_000 },
    );
    const err = await p.closed;
    assert.equal(err?.code, 'RTMP_TIMEOUT');
    assert.match(err?.message ?? '', /accepted no data/);
  });
});
