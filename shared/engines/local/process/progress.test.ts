import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseProgress, ProgressParser, toSnapshot } from './progress.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/progress/${name}`, import.meta.url), 'utf8');

test('real transcript, null muxer: N/A bitrate and size, out_time in ms, ends with progress=end', () => {
  const snaps = parseProgress(fixture('ffmpeg-null-3s.txt'));
  assert.ok(snaps.length >= 5, `expected several blocks, got ${snaps.length}`);
  const first = snaps[0]!;
  assert.equal(first.frame, 1);
  assert.equal(first.bitrateKbps, null);
  assert.equal(first.totalSizeBytes, null);
  assert.equal(first.outTimeMs, 0);
  assert.equal(first.speed, 0); // "speed=   0x"
  assert.equal(first.progress, 'continue');
  const last = snaps.at(-1)!;
  assert.equal(last.progress, 'end');
  assert.equal(last.frame, 75); // 3 s at 25 fps
  assert.ok(last.outTimeMs! >= 2900 && last.outTimeMs! <= 3100, `outTimeMs ${last.outTimeMs}`);
  assert.equal(last.dupFrames, 0);
  assert.equal(last.dropFrames, 0);
  assert.equal(snaps.filter((s) => s.progress === 'end').length, 1);
  // frames only go up
  for (let i = 1; i < snaps.length; i++) assert.ok(snaps[i]!.frame! >= snaps[i - 1]!.frame!);
});

test('real transcript, flv file: bitrate with a leading space, total size in bytes', () => {
  const snaps = parseProgress(fixture('ffmpeg-flv-file-3s.txt'));
  const withRate = snaps.filter((s) => s.bitrateKbps !== null);
  assert.ok(withRate.length > 0);
  for (const s of withRate) assert.ok(s.bitrateKbps! > 100 && s.bitrateKbps! < 5000, `bitrate ${s.bitrateKbps}`);
  const last = snaps.at(-1)!;
  assert.ok(last.totalSizeBytes! > 100_000, `total ${last.totalSizeBytes}`);
  assert.equal(last.raw['stream_0_0_q'], '-1.0');
});

test('real transcript, SRT input lost: speed in scientific notation', () => {
  const snaps = parseProgress(fixture('ffmpeg-srt-input-lost.txt'));
  const speeds = snaps.map((s) => s.speed);
  assert.equal(speeds[0], null); // speed=N/A
  assert.ok(
    speeds.some((v) => v !== null && v > 1000),
    `speeds ${speeds.join(',')}`,
  ); // speed=1.88e+04x
  assert.equal(snaps.at(-1)!.progress, 'end');
});

test('every fixture parses the same whatever the chunking, CRLF included', () => {
  for (const name of ['ffmpeg-null-3s.txt', 'ffmpeg-flv-file-3s.txt', 'ffmpeg-mpegts-stats-period-0.25.txt', 'ffmpeg-srt-input-lost.txt']) {
    const text = fixture(name);
    const whole = parseProgress(text);
    for (const size of [1, 2, 3, 7, 64]) {
      const parser = new ProgressParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...parser.push(Buffer.from(text.slice(i, i + size))));
      got.push(...parser.end());
      assert.deepEqual(got, whole, `${name} in chunks of ${size}`);
    }
    assert.deepEqual(parseProgress(text.replaceAll('\n', '\r\n')), whole, `${name} with CRLF`);
  }
});

test('fields are typed; N/A, missing and negative values become null', () => {
  const cases: [Record<string, string>, Partial<ReturnType<typeof toSnapshot>>][] = [
    [{ bitrate: '1234.5kbits/s', progress: 'continue' }, { bitrateKbps: 1234.5 }],
    [{ bitrate: 'N/A', progress: 'continue' }, { bitrateKbps: null }],
    [{ speed: '1.01x', progress: 'continue' }, { speed: 1.01 }],
    [{ speed: 'N/A', progress: 'continue' }, { speed: null }],
    [{ out_time_us: '1500000', out_time_ms: '1500000', progress: 'continue' }, { outTimeMs: 1500 }],
    // Old FFmpeg prints only out_time_ms, in microseconds despite its name.
    [{ out_time_ms: '2500000', progress: 'continue' }, { outTimeMs: 2500 }],
    [{ out_time: '01:02:03.500000', progress: 'continue' }, { outTimeMs: 3_723_500 }],
    [{ out_time_us: 'N/A', out_time: '-577014:32:22.775808', progress: 'continue' }, { outTimeMs: null }],
    [{ out_time_us: '-9000', progress: 'continue' }, { outTimeMs: null }],
    [
      { total_size: 'N/A', frame: 'x', progress: 'end' },
      { totalSizeBytes: null, frame: null, progress: 'end' },
    ],
    [{ progress: 'continue' }, { frame: null, fps: null, dupFrames: null, dropFrames: null }],
  ];
  for (const [fields, expected] of cases) {
    const snap = toSnapshot(fields);
    for (const [k, v] of Object.entries(expected)) assert.equal(snap[k as keyof typeof snap], v, `${JSON.stringify(fields)} → ${k}`);
  }
});

test('incomplete blocks and garbage produce nothing; a giant line does not break what follows', () => {
  assert.deepEqual(parseProgress('frame=1\nfps=2\n'), []);
  assert.deepEqual(parseProgress('garbage without equals\n=novalue\n'), []);
  const parser = new ProgressParser();
  assert.deepEqual(parser.push('x'.repeat(100_000)), []);
  assert.deepEqual(parser.push('y'.repeat(100_000)), []);
  const snaps = parser.push('\nframe=5\nprogress=continue\n');
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]!.frame, 5);
});

test('a block without a trailing newline is still delivered by end()', () => {
  const parser = new ProgressParser();
  assert.deepEqual(parser.push('frame=9\nprogress=end'), []);
  const [snap] = parser.end();
  assert.equal(snap?.frame, 9);
  assert.equal(snap?.progress, 'end');
});
