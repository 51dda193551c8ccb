/**
 * The dashboards' pure logic, in Node: health from what leaves (never green while nothing flows),
 * the retry countdown, formatting, and how the API's field errors find their fields.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrors } from '../src/api/client.ts';
import { formatBitrate, formatDuration, maskedKey } from '../src/lib/format.ts';
import { addSample, deriveHealth, STALE_AFTER_MS, type MetricsSample } from '../src/lib/health.ts';
import { retryCountdown } from '../src/lib/retry.ts';

const T = Date.parse('2026-05-01T12:00:00Z');
const s = (dt: number, bytes: number | null, frames: number | null, kbps = 1000): MetricsSample => ({ at: T + dt, bytesSent: bytes, frames, bitrateKbps: kbps, fps: 30 });

test('health is green only while running with bytes and frames both growing between fresh samples', () => {
  const cases: [string, string, MetricsSample[], number, string][] = [
    ['flowing', 'running', [s(0, 1000, 30), s(2000, 5000, 90)], T + 2500, 'ok'],
    ['no samples yet', 'running', [], T, 'warn'],
    ['one sample only', 'running', [s(0, 1000, 30)], T + 100, 'warn'],
    ['counters still', 'running', [s(0, 5000, 90), s(2000, 5000, 90)], T + 2500, 'warn'],
    ['bytes but no frames', 'running', [s(0, 1000, 90), s(2000, 5000, 90)], T + 2500, 'warn'],
    ['frames but no bytes', 'running', [s(0, 5000, 30), s(2000, 5000, 90)], T + 2500, 'warn'],
    ['unknown counters', 'running', [s(0, null, null), s(2000, null, null)], T + 2500, 'warn'],
    ['stale samples', 'running', [s(0, 1000, 30), s(2000, 5000, 90)], T + 2000 + STALE_AFTER_MS + 1, 'warn'],
    ['bitrate reported but nothing grew', 'running', [s(0, 5000, 90, 3000), s(2000, 5000, 90, 3000)], T + 2500, 'warn'],
    ['flowing but status error', 'error', [s(0, 1000, 30), s(2000, 5000, 90)], T + 2500, 'bad'],
    ['flowing but status starting', 'starting', [s(0, 1000, 30), s(2000, 5000, 90)], T + 2500, 'warn'],
    ['idle', 'idle', [], T, 'off'],
  ];
  for (const [name, status, samples, now, want] of cases) assert.equal(deriveHealth(status, samples, now).level, want, name);
  for (const status of ['creating', 'starting', 'stopping', 'deleting', 'idle', 'error', 'something-new']) {
    assert.notEqual(deriveHealth(status, [s(0, 1, 1), s(1000, 2, 2)], T + 1000).level, 'ok', `${status} is never green`);
  }
});

test('samples keep the newest, in order, and ignore one that is not newer', () => {
  let list: MetricsSample[] = [];
  for (let i = 0; i < 70; i++) list = addSample(list, s(i * 1000, i, i), 60);
  assert.equal(list.length, 60);
  assert.equal(list[0]!.at, T + 10_000);
  const same = addSample(list, s(69_000, 999, 999), 60);
  assert.equal(same, list, 'a repeated sample changes nothing');
});

test('the retry countdown counts down to "retrying now" and says how many attempts failed', () => {
  const at = new Date(T + 12_300).toISOString();
  assert.deepEqual(retryCountdown(at, 3, T), { seconds: 13, text: 'retry in 13 s (after 3 failed attempts)' });
  assert.equal(retryCountdown(at, 1, T + 12_000)?.text, 'retry in 1 s (after 1 failed attempt)');
  assert.deepEqual(retryCountdown(at, 3, T + 13_000), { seconds: 0, text: 'retrying now (after 3 failed attempts)' });
  assert.equal(retryCountdown(null, 2, T), null);
  assert.equal(retryCountdown('not a date', 2, T), null);
});

test('formatting: bitrates, durations, the masked key (at most the last four)', () => {
  assert.equal(formatBitrate(850), '850 kb/s');
  assert.equal(formatBitrate(3210), '3.2 Mb/s');
  assert.equal(formatBitrate(null), '–');
  assert.equal(formatDuration(42), '42 s');
  assert.equal(formatDuration(185), '3 min 05 s');
  assert.equal(formatDuration(7620), '2 h 07 min');
  assert.equal(maskedKey('abcd'), '•••• abcd');
  assert.equal(maskedKey('abcdefgh'), '•••• efgh');
  assert.equal(maskedKey(null), '••••');
});

test("the API's field errors land on the nearest field the form has; the rest is said in general", () => {
  const p = {
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: '…',
    hint: '…',
    errors: [
      { path: 'rtmpUrl', message: 'must be an rtmp:// or rtmps:// URL with a host' },
      { path: 'streamKey', message: 'Too small' },
      { path: 'streamKey', message: 'must not contain spaces' },
      { path: 'video.bitrate', message: 'video bitrate must be at least 100 kbps' },
      { path: '(body)', message: 'unknown field(s): x' },
    ],
  };
  assert.deepEqual(fieldErrors(p, ['rtmpUrl', 'streamKey', 'video']), {
    rtmpUrl: 'must be an rtmp:// or rtmps:// URL with a host',
    streamKey: 'Too small; must not contain spaces',
    video: 'video bitrate must be at least 100 kbps',
    '': '(body): unknown field(s): x',
  });
  assert.equal(fieldErrors(p, ['video.bitrate'])['video.bitrate'], 'video bitrate must be at least 100 kbps');
  assert.deepEqual(fieldErrors({ status: 409, code: 'X', detail: '', hint: '' }, ['a']), {});
});
