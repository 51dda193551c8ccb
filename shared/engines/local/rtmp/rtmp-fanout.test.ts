import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../process/fixtures/wait-for.ts';
import type { RtmpMessage } from './rtmp-chunk.ts';
import { RtmpFanout, type RtmpFanoutEvent, type RtmpFanoutOptions } from './rtmp-fanout.ts';
import { FakeRtmpServer, type FakeRtmpServerOptions, flvHeader, flvTag, syntheticStream, type FakeSession, type SyntheticTag } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function server(o: FakeRtmpServerOptions = {}): Promise<FakeRtmpServer> {
  const s = await FakeRtmpServer.start(o);
  cleanup.push(() => s.close());
  return s;
}

function fanout(o: RtmpFanoutOptions = {}): { fan: RtmpFanout; events: RtmpFanoutEvent[]; source: PassThrough } {
  const events: RtmpFanoutEvent[] = [];
  // Every read is live unless a test says otherwise (the start-up hold has its own test).
  const fan = new RtmpFanout({ holdUntilLive: false, ...o, onEvent: (e) => events.push(e) });
  const source = new PassThrough();
  fan.attach(source);
  cleanup.push(() => fan.close());
  return { fan, events, source };
}

/** Writes FLV bytes in 64 kB pieces, yielding to the event loop between them (the servers run in this process). */
async function feed(source: PassThrough, bytes: Buffer, piece = 65536): Promise<void> {
  for (let at = 0; at < bytes.length; at += piece) {
    source.write(bytes.subarray(at, at + piece));
    await new Promise((r) => setImmediate(r));
  }
}

const tagBytes = (tags: readonly SyntheticTag[]): Buffer => Buffer.concat(tags.map(flvTag));
/** Video frames a session received: [frame number (filler byte), keyframe, timestamp]. */
const videoFrames = (s: FakeSession): [number, boolean, number][] => s.media.filter((m) => m.type === 9 && m.payload[1] === 1).map((m) => [m.payload[5]!, m.payload[0] === 0x17, m.timestamp]);
const kinds = (ms: RtmpMessage[]): string[] => ms.map((m) => (m.type === 18 ? 'meta' : m.type === 9 ? (m.payload[1] === 0 ? 'vseq' : m.payload[0] === 0x17 ? 'key' : 'v') : m.payload[1] === 0 ? 'aseq' : 'a'));

describe('RtmpFanout', () => {
  it('chunks each message once and writes it to every destination', async () => {
    const servers = await Promise.all([server(), server(), server()]);
    const { fan, events, source } = fanout();
    for (const [i, s] of servers.entries()) fan.add(`d${i}`, { url: s.url(), streamKey: `key-${i}-abcdef` });
    await waitFor('3 publishing', () => events.filter((e) => e.type === 'publishing').length === 3);
    const { flv, tags } = syntheticStream({ frames: 100, gop: 25, frameBytes: 9000 });
    await feed(source, flv);
    for (const s of servers) await waitFor('all media', () => s.sessions[0]!.media.length === tags.length);
    const st = fan.stats();
    assert.equal(st.messages, tags.length);
    assert.equal(st.chunkings, tags.length);
    assert.ok(st.writes % 3 === 0 && st.writes < tags.length, `${st.writes} batches`);
    for (const s of servers) {
      const got = s.sessions[0]!.media;
      assert.deepEqual(kinds(got).slice(0, 5), ['meta', 'vseq', 'aseq', 'key', 'a']);
      assert.equal(videoFrames(s.sessions[0]!).length, 100);
      // @setDataFrame onMetaData
      assert.equal(got[0]!.payload.toString('latin1', 3, 16), '@setDataFrame');
    }
    for (const d of Object.values(st.destinations)) {
      assert.equal(d.videoFramesSent, 100);
      assert.equal(d.audioFramesSent, 100);
      assert.equal(d.droppedVideoFrames, 0);
    }
  });

  it('gives a late joiner the cached metadata, sequence headers and GOP (caught up: its video ends at the latest timestamp), then the live feed', async () => {
    const [a, b] = await Promise.all([server(), server()]);
    const { fan, events, source } = fanout();
    fan.add('a', { url: a.url(), streamKey: 'key-a-abcdef' });
    await waitFor('a publishing', () => events.some((e) => e.type === 'publishing'));
    const { tags } = syntheticStream({ frames: 60, gop: 20, frameBytes: 1000 });
    // 3 config tags, then (video, audio) pairs: stop after frame 30 (mid second GOP, keyframe 20).
    const cut = 3 + 2 * 31;
    await feed(source, Buffer.concat([flvHeader(), tagBytes(tags.slice(0, cut))]));
    await waitFor('a got frame 30', () => videoFrames(a.sessions[0]!).length === 31);
    assert.ok(fan.stats().gopCacheBytes > 0);
    fan.add('b', { url: b.url(), streamKey: 'key-b-abcdef' });
    await waitFor('b publishing', () => events.filter((e) => e.type === 'publishing').length === 2);
    await feed(source, tagBytes(tags.slice(cut)));
    await waitFor('b got the rest', () => videoFrames(b.sessions[0]!).at(-1)?.[0] === 59);
    const got = b.sessions[0]!.media;
    assert.deepEqual(kinds(got).slice(0, 4), ['meta', 'vseq', 'aseq', 'key']);
    const frames = videoFrames(b.sessions[0]!).map((f) => f[0]);
    assert.deepEqual(
      frames,
      Array.from({ length: 40 }, (_, i) => 20 + i),
      'GOP from keyframe 20, then live, no gap',
    );
    assert.equal(fan.stats().destinations['b']!.skippedFrames, 0);
    // Caught up: the cached frames 20..30 are 1 ms apart and end at frame 30's own timestamp (what
    // `a` got), and no audio of the past comes before the live feed.
    const ts = (s: { media: RtmpMessage[] }, kind: (k: string) => boolean): number[] => s.media.filter((m) => kind(kinds([m])[0]!)).map((m) => m.timestamp);
    const aVideo = ts(a.sessions[0]!, (k) => k === 'key' || k === 'v');
    const bVideo = ts(b.sessions[0]!, (k) => k === 'key' || k === 'v');
    assert.deepEqual(
      bVideo.slice(0, 11),
      Array.from({ length: 11 }, (_, i) => aVideo[30]! - 10 + i),
    );
    assert.deepEqual(bVideo.slice(11), aVideo.slice(31), 'then the live feed with its own timestamps');
    const firstAudio = b.sessions[0]!.media.findIndex((m) => kinds([m])[0] === 'a');
    const firstLive = b.sessions[0]!.media.findIndex((m) => m.type === 9 && m.timestamp === aVideo[31]);
    assert.ok(firstAudio > 0 && b.sessions[0]!.media[firstAudio]!.timestamp >= aVideo[30]! - 40, 'no cached audio');
    assert.ok(firstLive > 0);
  });

  it('holds a publisher that publishes while the source starts until its start-up burst is over, then gives it the GOP caught up: a keyframe first, nothing of the past as it came', async () => {
    const s = await server();
    const { fan, events, source } = fanout({ holdUntilLive: true });
    fan.add('d', { url: s.url(), streamKey: 'key-d-abcdef' });
    await waitFor('connected', () => fan.publisher('d')?.publishing);
    assert.equal(fan.joined('d'), false, 'held: no source read yet');
    // The burst: a GOP and a half (keyframes 0 and 20, 40 ms apart), read in pieces, with a pause
    // of more than a frame inside it (FFmpeg descheduled): still the burst.
    const { tags } = syntheticStream({ frames: 60, gop: 20, frameBytes: 1000 });
    const cut = 3 + 2 * 31;
    const burst = Buffer.concat([flvHeader(), tagBytes(tags.slice(0, cut))]);
    await feed(source, burst.subarray(0, burst.length / 2), 512);
    await new Promise((r) => setTimeout(r, 60));
    await feed(source, burst.subarray(burst.length / 2), 512);
    assert.equal(fan.joined('d'), false, 'held through the burst');
    assert.equal(events.filter((e) => e.type === 'publishing').length, 0);
    assert.equal(s.sessions[0]!.media.length, 0, 'nothing of the burst sent');
    // Live: a frame (and its audio) every 40 ms, at the media's own pace.
    for (let i = cut; i < tags.length; i += 2) {
      await new Promise((r) => setTimeout(r, 40));
      source.write(tagBytes(tags.slice(i, i + 2)));
    }
    await waitFor('d got the live feed', () => videoFrames(s.sessions[0]!).at(-1)?.[0] === 59);
    assert.equal(fan.joined('d'), true);
    assert.equal(events.filter((e) => e.type === 'publishing').length, 1);
    const got = s.sessions[0]!.media;
    assert.deepEqual(kinds(got).slice(0, 4), ['meta', 'vseq', 'aseq', 'key']);
    const frames = videoFrames(s.sessions[0]!);
    // Joined at a live read (frame j ≥ 31): the GOP from keyframe 20 up to it, caught up (1 ms
    // apart, ending at frame j's own timestamp), then the live feed: no gap, nothing of the first GOP.
    assert.deepEqual(
      frames.map((f) => f[0]),
      Array.from({ length: 40 }, (_, i) => 20 + i),
    );
    const j = frames.findIndex((f, i) => i > 0 && f[2] - frames[i - 1]![2] === 40) + 19;
    assert.ok(j >= 31 && j < 59, `joined at frame ${j}`);
    assert.deepEqual(
      frames.slice(0, j - 19).map((f) => f[2]),
      Array.from({ length: j - 19 }, (_, i) => j * 40 - (j - 20) + i),
    );
    assert.ok(
      frames.slice(j - 19).every((f) => f[2] === f[0] * 40),
      'then the live feed with its own timestamps',
    );
  });

  it('drops video on a stalled destination only, until a keyframe, and recovers', async () => {
    const [ok, slow] = await Promise.all([server(), server({ stallAfterPublish: true })]);
    const { fan, events, source } = fanout({ publisherDefaults: { maxBufferBytes: 512 * 1024 } });
    fan.add('ok', { url: ok.url(), streamKey: 'key-ok-abcdef' });
    fan.add('slow', { url: slow.url(), streamKey: 'key-slow-abcdef' });
    await waitFor('both publishing', () => events.filter((e) => e.type === 'publishing').length === 2);
    // 24 MB: more than the loopback socket buffers hold.
    const { flv } = syntheticStream({ frames: 480, gop: 30, frameBytes: 50_000 });
    let maxBuffered = 0;
    for (let at = 0; at < flv.length; at += 65536) {
      source.write(flv.subarray(at, at + 65536));
      maxBuffered = Math.max(maxBuffered, fan.publisher('slow')!.bufferedBytes);
      await new Promise((r) => setImmediate(r));
    }
    const okSession = ok.sessions[0]!;
    await waitFor('ok got everything', () => videoFrames(okSession).length === 480, { timeoutMs: 10_000 });
    let st = fan.stats().destinations;
    assert.equal(st['ok']!.droppedVideoFrames, 0);
    assert.equal(st['ok']!.videoFramesSent, 480);
    assert.ok(st['slow']!.droppedVideoFrames > 100, JSON.stringify(st['slow']));
    assert.ok(st['slow']!.dropEpisodes >= 1);
    // Bounded: the limit plus about one frame (and its audio).
    assert.ok(maxBuffered < 512 * 1024 + 120_000, `buffered ${maxBuffered}`);
    // The platform catches up: video resumes at a keyframe.
    const slowSession = slow.sessions[0]!;
    slowSession.socket.resume();
    const more = syntheticStream({ frames: 90, gop: 30, frameBytes: 50_000, startMs: 480 * 40 });
    await feed(source, tagBytes(more.tags.slice(3)));
    await waitFor('slow resumed', () => fan.stats().destinations['slow']!.videoFramesSent > st['slow']!.videoFramesSent + 30, { timeoutMs: 10_000 });
    st = fan.stats().destinations;
    const frames = videoFrames(slowSession);
    // After each gap, the next frame is a keyframe.
    for (let i = 1; i < frames.length; i++) {
      const contiguous = frames[i]![2] - frames[i - 1]![2] === 40;
      if (!contiguous) assert.equal(frames[i]![1], true, `frame after gap at ${frames[i]![2]} ms is a keyframe`);
    }
    assert.ok(frames.length < 570);
  });

  it('keeps timestamps going when the source is replaced, and resumes at the new keyframe', async () => {
    const s = await server();
    const { fan, events, source } = fanout();
    fan.add('d', { url: s.url(), streamKey: 'key-d-abcdef' });
    await waitFor('publishing', () => events.some((e) => e.type === 'publishing'));
    await feed(source, syntheticStream({ frames: 50, gop: 25, frameBytes: 500 }).flv);
    await waitFor('first source', () => videoFrames(s.sessions[0]!).length === 50);
    const second = new PassThrough();
    fan.attach(second);
    // The new source starts at 0 again, with an inter frame first (should not happen, but may).
    const { tags } = syntheticStream({ frames: 50, gop: 25, frameBytes: 500 });
    const reordered = [tags[0]!, tags[1]!, tags[2]!, { type: 9 as const, timestamp: 0, data: tags[5]!.data }, ...tags.slice(3)];
    await feed(second, Buffer.concat([flvHeader(), tagBytes(reordered)]));
    await waitFor('second source', () => videoFrames(s.sessions[0]!).length === 100);
    const ts = s.sessions[0]!.media.filter((m) => m.type !== 18).map((m) => m.timestamp);
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! >= ts[i - 1]!, `timestamp ${ts[i]} after ${ts[i - 1]}`);
    const frames = videoFrames(s.sessions[0]!);
    assert.deepEqual(frames[50], [0, true, 49 * 40 + 40]);
    assert.equal(fan.stats().source.sources, 2);
    // Source end is reported; the destination stays connected.
    second.end();
    await waitFor('source-end', () => events.some((e) => e.type === 'source-end'));
    assert.equal(fan.publisher('d')?.state, 'publishing');
  });

  it('reports a failed destination and removes it, leaving the others alone', async () => {
    const good = await server();
    const bad = await server({ publish: 'badname' });
    const { fan, events } = fanout();
    fan.add('good', { url: good.url(), streamKey: 'key-good-abcdef' });
    fan.add('bad', { url: bad.url(), streamKey: 'key-bad-abcdef' });
    await waitFor('bad closed', () => events.find((e) => e.type === 'closed'));
    const closed = events.find((e) => e.type === 'closed');
    assert.equal(closed?.type === 'closed' && closed.id, 'bad');
    assert.equal(closed?.type === 'closed' && closed.error?.code, 'RTMP_STREAM_KEY_REJECTED');
    assert.deepEqual(fan.ids, ['good']);
    await waitFor('good publishing', () => fan.publisher('good')?.publishing);
    assert.throws(() => fan.add('good', { url: good.url(), streamKey: 'x-abcdef' }), /already added/);
    await fan.remove('good');
    await waitFor('good closed', () => events.some((e) => e.type === 'closed' && e.id === 'good' && e.error === null));
    assert.deepEqual(fan.ids, []);
  });
});
