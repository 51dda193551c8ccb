import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type SrtIngestEvent, SrtIngestMonitor } from './monitor.ts';

/** Recorded from `fanout-srt listen` (fd 3): a caller connects, sends 2 s and leaves; then a wrong passphrase. */
const RECORDING = readFileSync(fileURLToPath(new URL('./fixtures/listener.events.jsonl', import.meta.url)), 'utf8')
  .trim()
  .split('\n');

const replay = (m: SrtIngestMonitor, lines: readonly string[], t0 = 1_000_000): SrtIngestEvent[] => lines.flatMap((l, i) => m.line(l, t0 + i * 10));

test('a recording of fanout-srt: listening, connected (address), stats, disconnected, a wrong passphrase', () => {
  const m = new SrtIngestMonitor();
  const events = replay(m, RECORDING);
  assert.deepEqual(
    events.map((e) => e.type),
    ['listening', 'connected', 'stats', 'stats', 'disconnected', 'rejected'],
  );
  const connected = events[1];
  assert.ok(connected?.type === 'connected' && /^127\.0\.0\.1:\d+$/.test(connected.address ?? ''));
  const rejected = events.at(-1);
  assert.ok(rejected?.type === 'rejected' && rejected.error.code === 'SRT_PASSPHRASE_REJECTED' && /^127\.0\.0\.1:\d+$/.test(rejected.address ?? ''));
  assert.ok(rejected.error.hint);
  const st = m.state();
  assert.equal(st.connected, false);
  assert.equal(st.packets, 0, 'counters are per connection');
  assert.equal(st.lastRejection?.code, 'SRT_PASSPHRASE_REJECTED', 'a rejection is remembered after the session');
});

test('a connection accumulates the stats; the process exiting disconnects it once', () => {
  const m = new SrtIngestMonitor();
  m.line('{"event":"connected","address":"10.0.0.5:4000"}', 1);
  m.line(JSON.stringify({ event: 'stats', rttMs: 12.5, mbitRate: 2.5, packets: 90, packetsLost: 10, packetsRetransmitted: 7 }), 2);
  m.line(JSON.stringify({ event: 'stats', rttMs: 11, mbitRate: 2.4, packets: 100, packetsLost: 0, packetsRetransmitted: 1 }), 3);
  const st = m.state();
  assert.deepEqual([st.connected, st.address, st.connectedSince], [true, '10.0.0.5:4000', 1]);
  assert.deepEqual([st.packets, st.packetsLost, st.packetsRetransmitted, st.rttMs, st.mbitRate, st.lossPercent], [190, 10, 8, 11, 2.4, 0]);
  m.line(JSON.stringify({ event: 'stats', rttMs: 11, mbitRate: 2.4, packets: 95, packetsLost: 5, packetsRetransmitted: 5 }), 4);
  assert.equal(m.state().lossPercent, 5, 'loss of the last interval');
  assert.deepEqual(m.processExited(99), [{ type: 'disconnected', at: 99 }]);
  assert.equal(m.state().connected, false);
  assert.deepEqual(m.processExited(100), [], 'nothing to report twice');
});

test('other rejections, a busy listener and anything that is not an event say nothing about the passphrase', () => {
  const m = new SrtIngestMonitor();
  assert.deepEqual(m.line('{"event":"rejected","reason":"other","code":1003,"address":null}', 1), []);
  assert.deepEqual(m.line('{"event":"busy","address":"127.0.0.1:5"}', 2), [{ type: 'busy', address: '127.0.0.1:5', at: 2 }]);
  for (const junk of ['', 'not json', '{"no":"event"}', '{broken', '[1,2]']) assert.deepEqual(m.line(junk, 3), []);
  assert.equal(m.state().lastRejection, null);
  m.line('{"event":"rejected","reason":"passphrase","code":1011,"address":null}', 4);
  assert.equal(m.state().lastRejectionAt, 4);
  m.clearRejection();
  assert.equal(m.state().lastRejection, null);
});
