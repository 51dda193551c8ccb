import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { TS_PACKET } from './gop-cache.ts';
import { ACTIVE_AFTER_BYTES, REPLAY_FRESH_MS, TsHub, type TsHubOptions } from './ts-hub.ts';

const open: TsHub[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

function hub(o: Partial<TsHubOptions> = {}): { hub: TsHub; source: PassThrough; warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const h = new TsHub({ name: 'test', logger: { warn: (_m, extra) => warnings.push(extra ?? {}) }, ...o });
  open.push(h);
  const source = new PassThrough();
  h.input(source);
  return { hub: h, source, warnings };
}

/** A TS packet on PID 0x100, numbered in its payload so order can be checked. */
function ts(n: number): Buffer {
  const p = Buffer.alloc(TS_PACKET, 0xff);
  p[0] = 0x47;
  p[1] = 0x01;
  p[2] = 0x00;
  p[3] = 0x10;
  p.writeUInt32BE(n, 8);
  return p;
}

/** PAT and PMT announcing an H.264 stream on PID 0x100. */
function psi(): [Buffer, Buffer] {
  const pat = Buffer.alloc(TS_PACKET, 0xff);
  Buffer.from([0x47, 0x40, 0x00, 0x10, 0, 0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xf0, 0x00, 0, 0, 0, 0]).copy(pat);
  const pmt = Buffer.alloc(TS_PACKET, 0xff);
  Buffer.from([0x47, 0x50, 0x00, 0x10, 0, 0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0, 0x1b, 0xe1, 0x00, 0xf0, 0, 0, 0, 0, 0]).copy(pmt);
  return [pat, pmt];
}

/** Packet `n` as a "keyframe": PUSI on PID 0x100, a PES whose payload starts with an SPS. */
function keyframe(n: number): Buffer {
  const key = ts(n);
  key[1] = 0x41;
  Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0, 0, 0, 1, 0x67]).copy(key, 12);
  return key;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * A consumer's stdin that records every write. `stuck`: never completes a write, so everything
 * stays in its buffer (a consumer that stopped reading); `release()` completes them all.
 */
function stdin(o: { stuck?: boolean } = {}) {
  const writes: Buffer[] = [];
  const pending: (() => void)[] = [];
  let stuck = o.stuck ?? false;
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk);
      if (stuck) pending.push(cb);
      else cb();
    },
  });
  return {
    stream,
    writes,
    /** Packet numbers received, in order; checks that every write is whole packets. */
    numbers: (): number[] => {
      for (const w of writes) {
        assert.equal(w.length % TS_PACKET, 0, 'a write of whole packets');
        assert.equal(w[0], 0x47, 'a write starting on a sync byte');
      }
      const all = Buffer.concat(writes);
      return range(0, all.length / TS_PACKET).map((i) => all.readUInt32BE(i * TS_PACKET + 8));
    },
    release: (): void => {
      stuck = false;
      for (const cb of pending.splice(0)) cb();
    },
  };
}

/**
 * Feeds `data` to the source in reads of the given sizes (cycled), each as its own 'data' event.
 * @returns the number of reads
 */
function feed(source: PassThrough, data: Buffer, sizes: number[] = [data.length]): number {
  let i = 0;
  for (let at = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] ?? data.length;
    source.write(data.subarray(at, at + n));
    at += n;
  }
  return i;
}

/** Resolves once the PassThrough has delivered everything written to it. */
const drained = (source: PassThrough): Promise<void> => waitFor('source drained', () => source.readableLength === 0 && source.writableLength === 0).then(() => undefined);

describe('TsHub', () => {
  it('hands every packet, in order, to every consumer, in whole packets whatever the read sizes', async () => {
    const { hub: h, source } = hub();
    const a = stdin();
    const b = stdin();
    h.attach('a', a.stream);
    h.attach('b', b.stream);
    const data = Buffer.concat(range(0, 600).map(ts));
    // Odd sizes: reads end mid-packet, even mid-header, and some are shorter than a packet.
    const reads = feed(source, data, [1000, 7, 4096, 188, 1, 187, 30_001, 376]);
    await drained(source);
    assert.deepEqual(a.numbers(), range(0, 600));
    assert.deepEqual(b.numbers(), range(0, 600));
    const st = h.stats();
    assert.equal(st.reads, reads, 'the hub saw the reads as cut');
    assert.equal(st.bytesIn, data.length);
    assert.equal(st.packetsIn, 600);
    assert.equal(st.discardedBytes, 0);
    assert.equal(st.writes, a.writes.length + b.writes.length);
    assert.ok(a.writes.length < st.reads, 'reads that made no whole packet wrote nothing');
    assert.deepEqual(
      st.consumers.map((c) => [c.id, c.attached, c.bytesOut, c.droppedBytes]),
      [
        ['a', true, data.length, 0],
        ['b', true, data.length, 0],
      ],
    );
  });

  it('replays the cached GOP to a consumer that attaches, then live, with nothing repeated or missed', async () => {
    const { hub: h, source } = hub({ gopCache: true });
    const early = stdin();
    h.attach('early', early.stream);
    // PAT/PMT announcing an H.264 stream on PID 0x100, then a "keyframe" (SPS at a PES start), then 50 packets.
    const [pat, pmt] = psi();
    const key = keyframe(1000);
    // Packets of the previous GOP share the keyframe's read: the replay starts at the keyframe.
    feed(source, Buffer.concat([pat, pmt, ts(998), ts(999), key, ...range(1001, 1051).map(ts)]), [1000, 333, 5000]);
    await drained(source);
    const late = stdin();
    assert.equal(h.attach('late', late.stream), 53 * TS_PACKET, 'PAT, PMT, keyframe, 50 more');
    feed(source, Buffer.concat(range(1051, 1061).map(ts)), [500]);
    await drained(source);
    const got = Buffer.concat(late.writes);
    assert.deepEqual([got[1], got[TS_PACKET + 1]], [0x40, 0x50], 'PAT and PMT first');
    assert.deepEqual(late.numbers().slice(2), range(1000, 1061), 'the GOP from its keyframe, then live');
    assert.deepEqual(early.numbers().slice(2), range(998, 1061), 'the consumer that was there got the stream as it came');
  });

  it('drops for a stuck consumer (whole chunks, logged once) while another receives everything; it resumes once drained', async () => {
    const max = 50 * TS_PACKET;
    const { hub: h, source, warnings } = hub({ maxBufferedBytes: max });
    const stuck = stdin({ stuck: true });
    const fine = stdin();
    h.attach('stuck', stuck.stream);
    h.attach('fine', fine.stream);
    feed(source, Buffer.concat(range(0, 1000).map(ts)), [10 * TS_PACKET + 17]);
    await drained(source);
    assert.deepEqual(fine.numbers(), range(0, 1000), 'the other consumer got every packet');
    let st = h.stats().consumers.find((c) => c.id === 'stuck');
    assert.ok(st && st.droppedChunks > 0 && st.dropping, JSON.stringify(st));
    assert.equal(st.dropEpisodes, 1);
    assert.ok(st.bufferedBytes <= max + 11 * TS_PACKET, `bounded: ${st.bufferedBytes} bytes held`);
    assert.equal(st.droppedBytes % TS_PACKET, 0, 'whole packets dropped');
    assert.equal(st.bytesOut + st.droppedBytes, 1000 * TS_PACKET, 'every chunk was either written or dropped');
    assert.equal(warnings.length, 1, 'one warning per episode');
    assert.equal(warnings[0]?.['consumer'], 'stuck');
    // What it did get is whole packets, in order (a gap where the drops were).
    const received = stuck.numbers();
    assert.deepEqual(
      received,
      [...received].sort((x, y) => x - y),
    );

    stuck.release();
    feed(source, Buffer.concat(range(1000, 1010).map(ts)));
    await drained(source);
    st = h.stats().consumers.find((c) => c.id === 'stuck');
    assert.equal(st?.dropping, false, 'drained: live again');
    assert.deepEqual(stuck.numbers().slice(-10), range(1000, 1010));
    assert.equal(h.stats().dropEpisodes, 1);
  });

  it('survives a consumer whose process died: EPIPE and destroyed stdins are swallowed, the others carry on', async () => {
    const { hub: h, source } = hub();
    const child = spawn(process.execPath, ['-e', 'process.exit(0)'], { stdio: ['pipe', 'ignore', 'ignore'] });
    assert.ok(child.stdin);
    h.attach('dead', child.stdin);
    const destroyed = stdin();
    h.attach('destroyed', destroyed.stream);
    destroyed.stream.destroy();
    const fine = stdin();
    h.attach('fine', fine.stream);
    await new Promise((r) => child.once('exit', r));
    // Keep writing while the pipe breaks: the hub must neither throw nor leave an 'error' unhandled.
    for (let i = 0; i < 200; i++) {
      feed(source, ts(i));
      await new Promise((r) => setImmediate(r));
    }
    await drained(source);
    assert.deepEqual(fine.numbers(), range(0, 200));
    await waitFor('the dead stdin forgotten', () => h.stats().consumers.find((c) => c.id === 'dead')?.attached === false);
    assert.equal(h.stats().consumers.find((c) => c.id === 'destroyed')?.attached, false);
    // A new run of the consumer attaches a fresh stdin under the same id.
    const again = stdin();
    h.attach('dead', again.stream);
    feed(source, ts(200));
    await drained(source);
    assert.deepEqual(again.numbers(), [200]);
    assert.equal(h.stats().consumers.find((c) => c.id === 'dead')?.attaches, 2);
  });

  it('skips junk to the next sync byte; a new source starts clean', async () => {
    const { hub: h, source } = hub();
    const a = stdin();
    h.attach('a', a.stream);
    feed(source, Buffer.concat([Buffer.from('junk!'), ts(1), ts(2)]), [3, 200]);
    await drained(source);
    // A half packet left by the first source must not be glued to the second's first packet.
    feed(source, ts(3).subarray(0, 100));
    await drained(source);
    const next = new PassThrough();
    h.input(next);
    feed(next, Buffer.concat([ts(4), ts(5)]));
    source.write(ts(99)); // the old source is not read any more
    await drained(next);
    assert.deepEqual(a.numbers(), [1, 2, 4, 5]);
    assert.equal(h.stats().discardedBytes, 5);
  });

  it('replays no GOP once media stopped arriving: a consumer restarted after the encoder vanished gets nothing stale', async () => {
    const { hub: h, source } = hub({ gopCache: true, idleAfterMs: 60_000 });
    feed(source, Buffer.concat([...psi(), keyframe(1000), ...range(1001, 1051).map(ts)]));
    await drained(source);
    assert.equal(h.active, true);
    const quick = stdin();
    assert.ok(h.attach('quick', quick.stream) > 0, 'media arriving: the GOP is replayed');
    await waitFor('the source quiet for longer than a replay may be stale', () => Date.now() - (h.stats().lastPacketAt ?? 0) > REPLAY_FRESH_MS + 50, { timeoutMs: 3000 });
    assert.equal(h.active, true, 'still within the idle window');
    const late = stdin();
    assert.equal(h.attach('late', late.stream), 0, 'no replay');
    assert.deepEqual(late.writes, []);
    feed(source, Buffer.concat([keyframe(2000), ts(2001)]));
    await drained(source);
    assert.deepEqual(late.numbers(), [2000, 2001], 'live media as it comes');
    const next = stdin();
    assert.ok(h.attach('next', next.stream) > 0, 'media arriving again: replays resume');
  });

  it('tells its owner when media starts and stops arriving; a stale tail after a gap is not media arriving', async () => {
    const seen: boolean[] = [];
    const { hub: h, source } = hub({ idleAfterMs: 300, onActivity: (a) => seen.push(a) });
    const block = Buffer.concat(range(0, Math.ceil(ACTIVE_AFTER_BYTES / TS_PACKET)).map(ts));
    feed(source, block.subarray(0, 5 * TS_PACKET));
    await drained(source);
    assert.deepEqual(seen, [], 'not yet: less than a stdio block');
    feed(source, block);
    await waitFor('active', () => seen.length === 1);
    assert.equal(h.active, true);
    await waitFor('idle', () => seen.length === 2, { timeoutMs: 2000 });
    assert.deepEqual(seen, [true, false]);
    assert.equal(h.stats().bitrateKbps, 0);
    // What srt-live-transmit flushes when it notices the encoder is gone: a few packets, then nothing.
    const a = stdin();
    h.attach('a', a.stream);
    feed(source, Buffer.concat([ts(7), ts(8)]));
    await drained(source);
    assert.deepEqual(a.numbers(), [7, 8], 'passed on all the same');
    await waitFor('a gap again', () => Date.now() - (h.stats().lastPacketAt ?? 0) > 400, { timeoutMs: 2000 });
    assert.deepEqual(seen, [true, false], 'no activity for a stale tail');
    feed(source, block);
    await waitFor('active again', () => seen.length === 3);
  });

  it('forgets a removed consumer; close() lets go of everything', async () => {
    const { hub: h, source } = hub();
    const a = stdin();
    h.attach('a', a.stream);
    h.remove('a');
    h.remove('a'); // idempotent
    feed(source, ts(1));
    await drained(source);
    assert.equal(a.writes.length, 0);
    h.close();
    h.close();
    const b = stdin();
    h.attach('b', b.stream);
    assert.deepEqual(h.stats().consumers, []);
  });
});
