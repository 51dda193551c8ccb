import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LineSplitter } from '../process/lines.ts';
import { redact } from '../../../secrets/redact.ts';
import { parseSrtStats, type SrtIngestEvent, SrtIngestMonitor } from './srt-monitor.ts';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
const PASS = 'correcthorse_SECRET19';

/** Replays a recording as the supervisor would deliver it: split, redacted, 10 ms apart. */
function replay(monitor: SrtIngestMonitor, text: string, t0 = 1_000_000): SrtIngestEvent[] {
  const lines = [...new LineSplitter().push(text), ...new LineSplitter().end()];
  return lines.flatMap((l, i) => monitor.line(redact(l, [PASS]), t0 + i * 10));
}

test('srt-live-transmit listener recording: two rejected callers, then one connects and leaves', () => {
  const m = new SrtIngestMonitor([PASS]);
  const events = replay(m, fixture('slt-listener-note.stderr.txt'));
  const types = events.map((e) => e.type);
  assert.deepEqual(types, ['rejected', 'rejected', 'connected', 'disconnected']);
  const [wrong, missing, connected] = events;
  assert.ok(wrong?.type === 'rejected' && wrong.error.code === 'SRT_PASSPHRASE_REJECTED' && wrong.address === '127.0.0.1:39208');
  assert.ok(missing?.type === 'rejected' && missing.address === '127.0.0.1:46742');
  assert.ok(connected?.type === 'connected' && connected.address === '127.0.0.1:38808');
  const st = m.state();
  assert.equal(st.connected, false);
  assert.equal(st.lastRejection?.code, 'SRT_PASSPHRASE_REJECTED', 'a rejection is remembered after the session');
  assert.ok(!JSON.stringify(events).includes(PASS));
});

test('a connection accumulates the JSON stats of srt-live-transmit', () => {
  const m = new SrtIngestMonitor();
  m.line('Accepted SRT source connection', 1);
  const stats = fixture('slt-listener-stats.statsout.txt').trim().split('\n');
  for (const [i, l] of stats.entries()) assert.equal(m.statsLine(l, 2 + i)[0]?.type, 'stats');
  const st = m.state();
  assert.equal(st.connected, true);
  assert.equal(st.connectedSince, 1);
  assert.equal(st.rttMs, parseSrtStats(stats.at(-1) ?? '')?.rttMs);
  assert.equal(st.packets, stats.reduce((n, l) => n + (parseSrtStats(l)?.packets ?? 0), 0));
  assert.equal(st.packetsLost, 0);
  assert.equal(st.lossPercent, 0);
  assert.deepEqual(m.processExited(99), [{ type: 'disconnected', at: 99 }]);
  assert.equal(m.state().connected, false);
  assert.equal(m.state().packets, 0, 'counters are per connection');
  assert.deepEqual(m.processExited(100), [], 'nothing to report twice');
});

test('loss percent per interval, counters summed', () => {
  const m = new SrtIngestMonitor();
  m.line('Accepted SRT source connection', 1);
  m.statsLine(JSON.stringify({ link: { rtt: 12.5 }, recv: { packets: 90, packetsLost: 10, packetsRetransmitted: 7, mbitRate: 2.5 } }), 2);
  m.statsLine(JSON.stringify({ link: { rtt: 11 }, recv: { packets: 100, packetsLost: 0, packetsRetransmitted: 1, mbitRate: 2.4 } }), 3);
  const st = m.state();
  assert.equal(st.packets, 190);
  assert.equal(st.packetsLost, 10);
  assert.equal(st.packetsRetransmitted, 8);
  assert.equal(st.lossPercent, 0);
  assert.equal(st.rttMs, 11);
  assert.equal(st.mbitRate, 2.4);
  assert.equal(parseSrtStats('{broken'), null);
  assert.equal(parseSrtStats('Accepted SRT source connection'), null);
});

test('statistics and log lines each count only on their own stream', () => {
  const m = new SrtIngestMonitor();
  assert.deepEqual(m.statsLine('Accepted SRT source connection', 1), [], 'a log line among the stats means nothing');
  assert.equal(m.state().connected, false);
  m.line('Accepted SRT source connection', 2);
  assert.deepEqual(m.line(JSON.stringify({ recv: { packets: 5 } }), 3), [], 'JSON in the log is not a sample');
  assert.equal(m.state().packets, 0);
});

test('the rejection lines of one caller count once', () => {
  const m = new SrtIngestMonitor();
  m.line('07:25:56.420025/SRT:RcvQ:w1!W:SRT.cn: PASSING request from: 10.0.0.7:5000 to agent:1', 0);
  const a = m.line('07:25:56.420042/SRT:RcvQ:w1!W:SRT.cn: @454322058:newConnection: connection rejected due to: INTERNAL REJECTION - ERROR:BADSECRET', 1);
  const b = m.line('07:25:56.420051/SRT:RcvQ:w1!W:SRT.cn: processConnectRequest: rsp(REJECT): 1010 - Incorrect passphrase', 2);
  assert.equal(a.length + b.length, 1);
  // The same caller trying again a while later is a new rejection.
  assert.equal(m.line('processConnectRequest: rsp(REJECT): 1010 - Incorrect passphrase', 5000).length, 1);
});

test("srt-live-transmit's own messages cut by a libsrt record are put back together", () => {
  // Recorded: a libsrt record written between the pieces of "Accepted SRT source connection" (the
  // start-up flake of the e2e tests, about one connection in 60, before this was handled).
  const m = new SrtIngestMonitor([PASS]);
  const events = replay(
    m,
    [
      '15:35:19.374194/SRT:RcvQ:w1.N:SRT.cn: PASSING request from: 127.0.0.1:38600 to agent:765899135',
      '15:35:19.377612/SRT:RcvQ:w1.N:SRT.cn: listen ret: -1 - conclusion',
      'Accepted SRT source15:35:19.377870/SRT:RcvQ:w1.N:SRT.cn: Listener managed the connection request from: 127.0.0.1:38600 result:waveahand',
      ' connection',
      '',
    ].join('\n'),
  );
  assert.deepEqual(events.map((e) => e.type), ['connected']);
  assert.ok(events[0]?.type === 'connected' && events[0].address === '127.0.0.1:38600');
  // Cut in another place, with two records in between, and the disconnection too.
  const more = replay(
    m,
    ['SRT source 15:35:20.000001/SRT:RcvQ:w1.N:SRT.cn: one', '15:35:20.000002/SRT:RcvQ:w1.N:SRT.cn: two', 'disconnected', ''].join('\n'),
  );
  assert.deepEqual(more.map((e) => e.type), ['disconnected']);
  // Junk before records (never a message) neither piles up nor hides the next message.
  const n = new SrtIngestMonitor();
  for (let i = 0; i < 100; i++) n.line(`${'x'.repeat(100)}15:35:20.000003/SRT:RcvQ:w1.N:SRT.cn: junk`, i);
  assert.deepEqual(n.line('Accepted SRT source connection', 200).map((e) => e.type), ['connected']);
  assert.deepEqual(n.line('SRT source disconnected', 201).map((e) => e.type), ['disconnected'], 'the fragment was used up');
});
