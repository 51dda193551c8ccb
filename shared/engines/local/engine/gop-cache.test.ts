/**
 * The GOP cache on a real MPEG-TS that FFmpeg encodes: every keyframe found on the video PID, and
 * the snapshot (PAT+PMT, then the GOP since the latest keyframe) decoded by FFmpeg from its first frame.
 *
 * @media FFmpeg, ffprobe (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GopCache, TS_PACKET } from './gop-cache.ts';

/**
 * A real MPEG-TS from FFmpeg's muxer: 3 s, 1 s GOP, H.264 + AAC, cut into chunks of 100 packets
 * (the size of the flow hub's reads, give or take), so keyframes fall inside chunks.
 */
let dir: string;
let chunks: Buffer[];

function toChunks(ts: Buffer, size = 100 * TS_PACKET): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < ts.length; i += size) out.push(ts.subarray(i, Math.min(ts.length, i + size)));
  return out;
}

function packet(pid: number, o: { pusi?: boolean; rai?: boolean; payload?: number[] } = {}): Buffer {
  const p = Buffer.alloc(TS_PACKET, 0xff);
  p[0] = 0x47;
  p[1] = (o.pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  let at = 4;
  if (o.rai) {
    p[3] = 0x30; // adaptation field + payload
    p[4] = 1;
    p[5] = 0x40;
    at = 6;
  } else {
    p[3] = 0x10;
  }
  Buffer.from(o.payload ?? []).copy(p, at);
  return p;
}

/** PAT with program 1 → PMT PID 0x1000; PMT with one H.264 stream on PID 0x100. CRCs are not checked. */
const PAT = packet(0, { pusi: true, payload: [0, 0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xf0, 0x00, 0, 0, 0, 0] });
const PMT = packet(0x1000, { pusi: true, payload: [0, 0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0, 0x1b, 0xe1, 0x00, 0xf0, 0, 0, 0, 0, 0] });
/** A PES start whose payload begins with an H.264 SPS, without the random-access flag. */
const SPS_START = packet(0x100, { pusi: true, payload: [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0, 0, 0, 1, 0x67, 0x42] });
const CONTINUATION = packet(0x100, { payload: [1, 2, 3] });

describe('GopCache', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-gop-'));
    const file = join(dir, 'in.ts');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine',
      '-t',
      '3',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-f',
      'mpegts',
      '-y',
      file,
    ]);
    chunks = toChunks(readFileSync(file));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds every keyframe of a real FFmpeg MPEG-TS, on the video PID only', () => {
    const cache = new GopCache();
    for (const d of chunks) cache.push(d);
    assert.equal(cache.videoPid, 0x100);
    assert.equal(cache.keyframes, 3, 'one per second over 3 s');
  });

  it('snapshots PAT+PMT then the GOP since the latest keyframe, and FFmpeg decodes it from its first frame', () => {
    const cache = new GopCache();
    const most = Math.floor(chunks.length * 0.8);
    for (const d of chunks.slice(0, most)) cache.push(d);
    const snap = cache.snapshot();
    assert.ok(snap.length > 2);
    assert.equal(snap[0]?.length, 2 * TS_PACKET, 'one buffer with the PAT and the PMT');
    assert.equal(snap.at(-1), chunks[most - 1], 'ends with the latest chunk');
    assert.ok(
      snap.every((b) => b.length % TS_PACKET === 0 && b[0] === 0x47),
      'whole packets',
    );
    const file = join(dir, 'snap.ts');
    writeFileSync(file, Buffer.concat(snap));
    const out = execFileSync('ffprobe', ['-v', 'quiet', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame,width', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    const frames = out.trim().split('\n');
    assert.ok(frames.length >= 1);
    assert.equal(frames[0], '1,320', 'the first decoded frame is a keyframe (key_frame=1, width 320)');
  });

  it('is empty until a keyframe has been seen, and when the stream is not TS', () => {
    const cache = new GopCache();
    assert.deepEqual(cache.snapshot(), []);
    cache.push(Buffer.concat([PAT, PMT]));
    cache.push(CONTINUATION);
    assert.deepEqual(cache.snapshot(), []);
    cache.push(Buffer.from('not a transport stream at all, definitely not 188 bytes aligned'.repeat(4)));
    assert.deepEqual(cache.snapshot(), []);
  });

  it('recognises an SPS at a PES start when the encoder does not set random_access_indicator', () => {
    const cache = new GopCache();
    cache.push(Buffer.concat([PAT, PMT]));
    assert.equal(cache.videoPid, 0x100);
    cache.push(SPS_START);
    cache.push(CONTINUATION);
    assert.equal(cache.keyframes, 1);
    const snap = cache.snapshot();
    assert.equal(snap.length, 3);
    assert.equal(snap[1], SPS_START);
  });

  it('starts the GOP at the keyframe packet when a chunk holds the end of the previous GOP too', () => {
    const cache = new GopCache();
    cache.push(Buffer.concat([PAT, PMT]));
    cache.push(Buffer.concat([CONTINUATION, CONTINUATION, SPS_START, CONTINUATION]));
    cache.push(CONTINUATION);
    const snap = cache.snapshot();
    assert.equal(snap.length, 3);
    assert.deepEqual(snap[1], Buffer.concat([SPS_START, CONTINUATION]), 'from the keyframe on');
    assert.equal(snap[2], CONTINUATION);
  });

  it('drops a GOP that outgrows maxBytes until the next keyframe, and on reset()', () => {
    const cache = new GopCache({ maxBytes: 3 * TS_PACKET });
    cache.push(Buffer.concat([PAT, PMT]));
    cache.push(SPS_START);
    cache.push(CONTINUATION);
    cache.push(CONTINUATION);
    cache.push(CONTINUATION);
    assert.deepEqual(cache.snapshot(), []);
    cache.push(SPS_START);
    assert.equal(cache.snapshot().length, 2);
    cache.reset();
    assert.deepEqual(cache.snapshot(), []);
  });
});
