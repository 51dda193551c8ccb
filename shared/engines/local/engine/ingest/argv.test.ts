import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INGEST_EVENTS_FD, ingestArgs, SRT_PASSPHRASE_PATTERN, testSourceArgs, testSourceFfmpegArgs } from './argv.ts';

const opt = (argv: string[], flag: string): string | undefined => argv[argv.lastIndexOf(flag) + 1];

test('ingest: an AES listener, media on stdout for the hub, JSON events on fd 3, no passphrase in argv', () => {
  const a = ingestArgs({ port: 9000, bindAddress: '127.0.0.1', keyLength: 32 });
  assert.deepEqual(a, ['listen', '--bind', '127.0.0.1', '--port', '9000', '--pbkeylen', '32', '--latency', '120', '--stats-ms', '1000', '--events-fd', '3']);
  assert.equal(INGEST_EVENTS_FD, 3);
  assert.ok(!a.some((x) => /pass/i.test(x)));
});

test('test source: fanout-srt calls and runs FFmpeg (pattern + tone, H.264 with a 2 s GOP, AAC, MPEG-TS to stdout); no passphrase anywhere', () => {
  const o = { host: '127.0.0.1', port: 9000, keyLength: 16, width: 640, height: 360, fps: 30, bitrate: 2_000_000 } as const;
  const a = testSourceArgs(o);
  assert.deepEqual(a.slice(0, 8), ['call', '--host', '127.0.0.1', '--port', '9000', '--pbkeylen', '16', '--']);
  assert.equal(a[8], 'ffmpeg');
  const f = testSourceFfmpegArgs(o);
  assert.deepEqual(a.slice(9), f);
  assert.ok(f.includes('testsrc2=size=640x360:rate=30'));
  assert.ok(f.includes('sine=frequency=1000:sample_rate=48000'));
  assert.equal(opt(f, '-g'), '60');
  assert.equal(opt(f, '-b:v'), '2000000');
  assert.equal(opt(f, '-tune'), 'zerolatency');
  assert.equal(opt(f, '-f'), 'mpegts');
  assert.equal(f.at(-1), 'pipe:1');
  assert.ok(!a.some((x) => /srt:|pass/i.test(x)));
});

test("SRT passphrases: 10 to 79 characters, none that would break an encoder's srt:// URI", () => {
  for (const ok of ['0123456789', 'correct-horse_battery.staple~42', 'a'.repeat(79), 'Az09!$()*+,-./:;=@[]^_{|}~']) assert.ok(SRT_PASSPHRASE_PATTERN.test(ok), ok);
  for (const bad of ['short', 'a'.repeat(80), 'has space here', 'amp&ersand12', 'hash#tag1234', 'percent%2012', 'quest?ion123', "quo'te123456"]) assert.ok(!SRT_PASSPHRASE_PATTERN.test(bad), bad);
});
