/**
 * The fan-out against a real RTMP server (nginx-rtmp, test/support/nginx-rtmp.ts), fed by a real
 * FFmpeg FLV mux: what the platforms will see.
 *
 * @media FFmpeg, nginx-rtmp (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { freeTcpPort, NginxRtmp } from '../../../../test/support/nginx-rtmp.ts';
import { RtmpFanout, type RtmpFanoutEvent } from './rtmp-fanout.ts';
import { RtmpPublisher, RtmpPublishError } from './rtmp-publisher.ts';
import { liveFlv, type LiveFlv } from './testing.ts';

const BAD_KEY = 'bad-key-0123456789';

describe('RtmpFanout → nginx-rtmp', () => {
  let nginx: NginxRtmp;
  let src: LiveFlv;
  const events: RtmpFanoutEvent[] = [];
  let fan: RtmpFanout;

  before(async () => {
    nginx = await NginxRtmp.start({ rejectKeys: [BAD_KEY], tls: true });
    src = liveFlv({ width: 640, height: 360, fps: 25, gop: 25, bitrate: 800_000 });
    fan = new RtmpFanout({ onEvent: (e) => events.push(e) });
    fan.attach(src.stdout);
  });

  after(async () => {
    await fan.close();
    await src.stop();
    await nginx.close();
  });

  const closedEvent = (id: string) => () => events.find((e): e is Extract<RtmpFanoutEvent, { type: 'closed' }> => e.type === 'closed' && e.id === id);

  it('publishes one FFmpeg FLV mux to 3 targets; removing one leaves the others untouched', async () => {
    const keys = ['fan-a-1234', 'fan-b-1234', 'fan-c-1234'];
    for (const k of keys) fan.add(k, { url: nginx.url('live'), streamKey: k });
    await waitFor('3 publishing', () => events.filter((e) => e.type === 'publishing').length === 3, { timeoutMs: 10_000 });
    const probes = await Promise.all(keys.map((k) => nginx.probe('live', k)));
    for (const p of probes) assert.deepEqual(p, { videoCodec: 'h264', width: 640, height: 360, frameRate: 25, audioCodec: 'aac' });
    const info = await Promise.all(keys.map((k) => nginx.hasPublisher(k)));
    for (const i of info) {
      assert.equal(i?.publishing, true);
      assert.equal(i?.width, 640);
      assert.equal(i?.videoCodec, 'H264');
    }
    const st = fan.stats();
    // One chunking per message, whatever the number of destinations.
    assert.ok(st.messages > 50);
    assert.ok(st.chunkings <= st.messages, `${st.chunkings} chunkings for ${st.messages} messages`);

    await fan.remove('fan-b-1234');
    await waitFor('b unpublished', async () => (await nginx.hasPublisher('fan-b-1234'))?.publishing === false);
    const before = await Promise.all(['fan-a-1234', 'fan-c-1234'].map((k) => nginx.hasPublisher(k)));
    await waitFor(
      'a and c still growing on the same connections',
      async () => {
        const now = await Promise.all(['fan-a-1234', 'fan-c-1234'].map((k) => nginx.hasPublisher(k)));
        return now.every((n, i) => n?.publishing && n.clientId === before[i]?.clientId && n.bytesIn > (before[i]?.bytesIn ?? 0) + 100_000);
      },
      { timeoutMs: 10_000 },
    );
    for (const id of ['fan-a-1234', 'fan-c-1234']) {
      const d = fan.stats().destinations[id]!;
      assert.equal(d.state, 'publishing');
      assert.equal(d.droppedVideoFrames, 0);
      assert.ok(d.videoFramesSent > 25 && d.bytesSent > 100_000, JSON.stringify(d));
    }
    assert.equal(closedEvent('fan-b-1234')()?.error, null);
  });

  it('a late joiner starts with the cached GOP', async () => {
    fan.add('late-1234', { url: nginx.url('live'), streamKey: 'late-1234' });
    await waitFor('late publishing', () => events.some((e) => e.type === 'publishing' && e.id === 'late-1234'), { timeoutMs: 10_000 });
    // The GOP went out with the join: frames at once, starting at a keyframe.
    const d = fan.stats().destinations['late-1234']!;
    assert.ok(d.keyframesSent === 1 && d.videoFramesSent >= 1, JSON.stringify(d));
    assert.deepEqual(await nginx.probe('live', 'late-1234'), { videoCodec: 'h264', width: 640, height: 360, frameRate: 25, audioCodec: 'aac' });
    await fan.remove('late-1234');
  });

  it('a refused stream key is RTMP_STREAM_KEY_REJECTED, a closed port RTMP_CONNECTION_REFUSED', async () => {
    fan.add('bad', { url: nginx.url('live'), streamKey: BAD_KEY });
    const bad = await waitFor('bad closed', closedEvent('bad'));
    assert.equal(bad.error?.code, 'RTMP_STREAM_KEY_REJECTED');
    assert.equal(bad.error?.retryable, false);
    assert.ok(!JSON.stringify(bad.error).includes(BAD_KEY));

    const port = await freeTcpPort();
    fan.add('refused', { url: `rtmp://127.0.0.1:${port}/live`, streamKey: 'refused-1234' });
    const refused = await waitFor('refused closed', closedEvent('refused'));
    assert.equal(refused.error?.code, 'RTMP_CONNECTION_REFUSED');
    assert.equal(refused.error?.retryable, true);
    assert.deepEqual(fan.ids.sort(), ['fan-a-1234', 'fan-c-1234']);
  });

  it('publishes over RTMPS; an unverifiable certificate or a plain port is TLS_HANDSHAKE_FAILED', async () => {
    fan.add('tls-1234', { url: nginx.rtmpsUrl('live'), streamKey: 'tls-1234', tls: { rejectUnauthorized: false } });
    await waitFor('tls publishing', () => events.some((e) => e.type === 'publishing' && e.id === 'tls-1234'), { timeoutMs: 10_000 });
    assert.deepEqual(await nginx.probe('live', 'tls-1234'), { videoCodec: 'h264', width: 640, height: 360, frameRate: 25, audioCodec: 'aac' });
    await fan.remove('tls-1234');

    // Certificates are verified by default: the test's is self-signed.
    const verified = new RtmpPublisher({ url: nginx.rtmpsUrl('live'), streamKey: 'tls-verify-1234' });
    const e1 = await verified.start().catch((e: unknown) => e);
    assert.ok(e1 instanceof RtmpPublishError);
    assert.equal(e1.code, 'TLS_HANDSHAKE_FAILED');
    assert.match(e1.message, /self.signed/i);

    // rtmps:// to nginx's plain RTMP port.
    const plain = new RtmpPublisher({ url: `rtmps://127.0.0.1:${nginx.rtmpPort}/live`, streamKey: 'tls-plain-1234', tls: { rejectUnauthorized: false }, connectTimeoutMs: 1500 });
    const e2 = await plain.start().catch((e: unknown) => e);
    assert.ok(e2 instanceof RtmpPublishError);
    assert.equal(e2.code, 'TLS_HANDSHAKE_FAILED');
    assert.match(e2.message, /during the TLS handshake/);

    // rtmp:// to the TLS port: the TLS server hangs up on our RTMP handshake.
    const tlsPort = Number(new URL(nginx.rtmpsUrl('live').replace(/^rtmps/, 'http')).port);
    const e3 = await new RtmpPublisher({ url: `rtmp://127.0.0.1:${tlsPort}/live`, streamKey: 'plain-tls-1234', connectTimeoutMs: 3000 }).start().catch((e: unknown) => e);
    assert.ok(e3 instanceof RtmpPublishError);
    assert.equal(e3.code, 'RTMP_CONNECTION_CLOSED');
    assert.match(e3.message, /during the RTMP handshake/);
  });

  it('an ingest that goes away mid-stream is RTMP_CONNECTION_CLOSED', async () => {
    await waitFor('5 s of media', () => (fan.stats().destinations['fan-a-1234']?.mediaSentMs ?? 0) > 5500, { timeoutMs: 15_000 });
    await nginx.restart();
    const a = await waitFor('a closed', closedEvent('fan-a-1234'));
    const c = await waitFor('c closed', closedEvent('fan-c-1234'));
    for (const e of [a, c]) {
      assert.equal(e.error?.code, 'RTMP_CONNECTION_CLOSED');
      assert.equal(e.error?.retryable, true);
    }
    // Re-adding works against the restarted ingest.
    fan.add('fan-a-1234', { url: nginx.url('live'), streamKey: 'fan-a-1234' });
    await waitFor('a again', async () => (await nginx.hasPublisher('fan-a-1234'))?.publishing, { timeoutMs: 10_000 });
  });
});
