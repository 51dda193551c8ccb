import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EncodeSpec } from '../../port/ports.ts';
import { encoderArgs, hlsArgs, muxArgs } from './argv.ts';

const ENC: EncodeSpec = {
  video: { width: 1280, height: 720, frameRate: 30, bitrate: 4_500_000, profile: 'high', level: '4.1', keyframeInterval: 2 },
  audio: { bitrate: 160_000, sampleRate: 48_000, channels: 2 },
};

/** The value after `flag` in argv (the last occurrence). */
function opt(argv: string[], flag: string): string | undefined {
  const i = argv.lastIndexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

test('encoder: MPEG-TS on stdin, x264 CBR-ish with a fixed GOP, scaled and letterboxed, AAC, FLV on stdout', () => {
  const a = encoderArgs({ encode: ENC, x264Preset: 'veryfast' });
  const expected: [string, string][] = [
    ['-c:v', 'libx264'],
    ['-preset', 'veryfast'],
    ['-b:v', '4500000'],
    ['-maxrate', '4500000'],
    ['-bufsize', '9000000'],
    ['-g', '60'],
    ['-keyint_min', '60'],
    ['-sc_threshold', '0'],
    ['-r', '30'],
    ['-profile:v', 'high'],
    ['-level', '4.1'],
    ['-pix_fmt', 'yuv420p'],
    ['-c:a', 'aac'],
    ['-b:a', '160000'],
    ['-ar', '48000'],
    ['-ac', '2'],
    ['-f', 'flv'],
    ['-flvflags', 'no_duration_filesize'],
  ];
  for (const [flag, value] of expected) assert.equal(opt(a, flag), value, flag);
  assert.match(opt(a, '-vf') ?? '', /^scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:.*fps=30$/);
  assert.equal(opt(a, '-i'), 'pipe:0');
  assert.equal(a[a.indexOf('-i') - 1], 'mpegts', 'the input format is given, not probed');
  assert.equal(a.at(-1), 'pipe:1');
  assert.equal(opt(a, '-progress'), 'pipe:3');
});

test("encoder: level 'auto' is left to x264; a fractional GOP rounds", () => {
  const a = encoderArgs({ encode: { ...ENC, video: { ...ENC.video, level: 'auto', frameRate: 29.97, keyframeInterval: 2 } }, x264Preset: 'ultrafast' });
  assert.ok(!a.includes('-level'));
  assert.equal(opt(a, '-g'), '60');
  assert.equal(opt(a, '-preset'), 'ultrafast');
});

test('HLS: MPEG-TS on stdin, copy, 2 s segments, 6 in the playlist, pruned, never ended', () => {
  const a = hlsArgs({ dir: '/data/hls/primary' });
  assert.equal(opt(a, '-i'), 'pipe:0');
  assert.equal(opt(a, '-c'), 'copy');
  assert.equal(opt(a, '-hls_time'), '2');
  assert.equal(opt(a, '-hls_list_size'), '6');
  // A removed segment stays for its duration plus the playlist's (RFC 8216 §6.2.2): 2 s + 12 s.
  assert.equal(opt(a, '-hls_delete_threshold'), '7');
  assert.equal(opt(a, '-hls_flags'), 'delete_segments+independent_segments+omit_endlist+discont_start');
  assert.equal(opt(a, '-hls_segment_filename'), '/data/hls/primary/seg_%05d.ts');
  assert.equal(a.at(-1), '/data/hls/primary/index.m3u8');
});

test('mux: stream copy of the flow hub feed (stdin) to FLV on stdout, no key anywhere', () => {
  const a = muxArgs();
  assert.equal(opt(a, '-i'), 'pipe:0');
  assert.equal(opt(a, '-c'), 'copy');
  assert.equal(opt(a, '-f'), 'flv');
  assert.equal(opt(a, '-flvflags'), 'no_duration_filesize');
  assert.equal(opt(a, '-progress'), 'pipe:3');
  assert.equal(a.at(-1), 'pipe:1');
  assert.deepEqual(
    a.filter((x) => x === '-map'),
    ['-map', '-map'],
  );
  assert.ok(a.includes('0:v:0?') && a.includes('0:a:0?'));
  assert.ok(!a.some((x) => /rtmp/.test(x)));
});
