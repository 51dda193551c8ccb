import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyTracker, observe, reconcile, settle, snapshot, type Observation, type ObservedState, type ResourceRef, type TrackerState, type UsageSession } from './sessions.ts';

const D = '22222222-2222-4222-8222-222222222222';
const CH: ResourceRef = { kind: 'destination-channel', id: D, destinationId: D };
const t = (hhmm: string, day = '10'): string => `2026-11-${day}T${hhmm}:00.000Z`;
const obs = (id: string, at: string, state: ObservedState | undefined, extra: Partial<Observation> = {}): Observation => ({
  eventId: id,
  observedAt: at,
  resource: CH,
  ...(state ? { state } : {}),
  ...extra,
});

function feed(state: TrackerState, list: Observation[]): TrackerState {
  return list.reduce((s, o) => observe(s, o).state, state);
}
/** Settles far enough after the last event that everything is final. */
function settleAll(state: TrackerState, now = t('23:00')): { state: TrackerState; closed: UsageSession[] } {
  return settle(state, now);
}
const brief = (s: UsageSession) => [s.kind, s.startedAt.slice(11, 16), s.endedAt?.slice(11, 16) ?? null, s.endReason];

const STREAM: Observation[] = [obs('e1', t('10:00'), 'idle'), obs('e2', t('10:05'), 'running'), obs('e3', t('11:05'), 'idle'), obs('e4', t('12:00'), 'absent', { reason: 'reclaimed' })];
const EXPECTED = [
  ['idle', '10:00', '10:05', 'started'],
  ['running', '10:05', '11:05', 'stopped'],
  ['idle', '11:05', '12:00', 'reclaimed'],
];

describe('usage sessions from observations', () => {
  test('idle → running → idle → reclaimed gives three sessions with their end reasons', () => {
    const { closed } = settleAll(feed(emptyTracker(), STREAM));
    assert.deepEqual(closed.map(brief), EXPECTED);
    assert.equal(closed[1]!.durationMs, 3_600_000);
    assert.equal(closed[1]!.sessionId, `destination-channel:${D}@2026-11-10T10:05:00.000Z`);
    assert.equal(closed[1]!.provisional, false);
  });

  const orders: [string, number[]][] = [
    ['in order', [0, 1, 2, 3]],
    ['reversed', [3, 2, 1, 0]],
    ['shuffled', [2, 0, 3, 1]],
    ['every event twice', [0, 0, 1, 2, 1, 3, 2, 3]],
    ['duplicates and reordering', [3, 1, 1, 0, 3, 2, 0]],
  ];
  for (const [name, order] of orders)
    test(`${name}: the same sessions, counted once`, () => {
      const s = feed(
        emptyTracker(),
        order.map((i) => STREAM[i]!),
      );
      const { closed } = settleAll(s);
      assert.deepEqual(closed.map(brief), EXPECTED);
      assert.equal(s.stats.duplicates, order.length - 4);
      assert.equal(s.stats.applied, 4);
    });

  test('two different events reporting the same state open one session, not two', () => {
    const s = feed(emptyTracker(), [obs('native', t('10:05'), 'running'), obs('domain', t('10:06'), 'running'), obs('stop', t('11:05'), 'idle')]);
    const running = settleAll(s).closed.filter((x) => x.kind === 'running');
    assert.deepEqual(running.map(brief), [['running', '10:05', '11:05', 'stopped']]);
  });

  test('settling twice emits each closed session once', () => {
    const first = settle(feed(emptyTracker(), STREAM), t('12:20'));
    assert.equal(first.closed.length, 3);
    assert.deepEqual(settle(first.state, t('12:30')).closed, []);
    assert.deepEqual(settle(first.state, t('23:59')).closed, []);
  });

  test('nothing is final inside the settle window: a reordered stop still lands in its place', () => {
    // A stop reported at 11:45 by one event; the engine's own stop at 11:40 arrives after it.
    let s = feed(emptyTracker(), [obs('e2', t('10:05'), 'running'), obs('e4', t('11:45'), 'idle')]);
    const early = settle(s, t('11:50')); // the window reaches back to 11:35: the stop is not final
    assert.deepEqual(early.closed, []);
    s = observe(early.state, obs('e3', t('11:40'), 'idle')).state;
    const { closed } = settle(s, t('12:10'));
    assert.deepEqual(closed.map(brief), [['running', '10:05', '11:40', 'stopped']]);
  });

  test('an observation older than the settled part is late: dropped, counted, never applied over a later state', () => {
    const settled = settle(feed(emptyTracker(), [obs('e2', t('10:05'), 'running'), obs('e3', t('11:05'), 'idle')]), t('12:00')).state;
    const late = observe(settled, obs('stale', t('10:30'), 'running'));
    assert.equal(late.outcome, 'late');
    assert.equal(late.state.stats.late, 1);
    assert.deepEqual(settle(late.state, t('23:00')).closed, []);
    assert.deepEqual(snapshot(late.state, t('13:00')).open.map(brief), [['idle', '11:05', null, null]]);
  });

  test('after an outage, a backlog older than the window but newer than anything folded still lands in order', () => {
    // Settled at 10:30: the 10:05 start is final. The tracker is then down until 13:00.
    let s = settle(feed(emptyTracker(), [obs('e2', t('10:05'), 'running')]), t('10:30')).state;
    s = settle(s, t('13:00')).state; // ticks before the backlog is read
    const stop = observe(s, obs('e3', t('11:05'), 'idle'));
    assert.equal(stop.outcome, 'applied');
    assert.deepEqual(settle(stop.state, t('13:01')).closed.map(brief), [['running', '10:05', '11:05', 'stopped']]);
  });

  test('a redelivery of a settled event is a duplicate, not late', () => {
    const settled = settle(feed(emptyTracker(), [obs('e2', t('10:05'), 'running'), obs('e3', t('11:05'), 'idle')]), t('12:00')).state;
    assert.equal(observe(settled, obs('e2', t('10:05'), 'running')).outcome, 'duplicate');
  });

  test('RECOVERING stays inside the run and counts restarts', () => {
    const s = feed(emptyTracker(), [obs('a', t('10:00'), 'running'), obs('b', t('10:10'), 'recovering'), obs('c', t('10:11'), 'running'), obs('d', t('10:20'), 'recovering'), obs('e', t('10:21'), 'running'), obs('f', t('11:00'), 'idle')]);
    const [run] = settleAll(s).closed;
    assert.deepEqual(brief(run!), ['running', '10:00', '11:00', 'stopped']);
    assert.equal(run!.restarts, 2);
  });

  test('bytes out: a counter that restarts with its process keeps what it had counted', () => {
    const s = feed(emptyTracker(), [
      obs('a', t('10:00'), 'running', { counters: { bytesOut: 100 } }),
      obs('b', t('10:10'), undefined, { counters: { bytesOut: 300 } }),
      obs('c', t('10:20'), 'recovering', { counters: { bytesOut: 50 } }), // process restarted
      obs('d', t('10:30'), 'running', { counters: { bytesOut: 80 } }),
      obs('e', t('10:40'), 'idle'),
    ]);
    const [run] = settleAll(s).closed;
    assert.equal(run!.bytesOut, 300 + 80);
    assert.equal(run!.restarts, 1);
  });

  test('attributes set before a session start are carried into it; later ones update it', () => {
    const s = feed(emptyTracker(), [
      obs('created', t('09:00'), undefined, { attributes: { platform: 'youtube', presetId: 'youtube-1080p30', destinationName: 'Main' } }),
      obs('a', t('10:00'), 'running'),
      obs('renamed', t('10:30'), undefined, { attributes: { destinationName: 'Main (EN)' } }),
      obs('b', t('11:00'), 'idle'),
    ]);
    const [run] = settleAll(s).closed;
    assert.equal(run!.attributes.platform, 'youtube');
    assert.equal(run!.attributes.destinationName, 'Main (EN)');
  });

  test("a flow's output-hours integrate the outputs over time (1 output for 1 h, then 3 for 30 min)", () => {
    const flow: ResourceRef = { kind: 'flow', id: 'arn:aws:mediaconnect:flow', destinationId: null };
    const s = feed(emptyTracker(), [
      { eventId: 'f1', observedAt: t('10:00'), resource: flow, state: 'running', attributes: { flowOutputs: 1 } },
      { eventId: 'f2', observedAt: t('11:00'), resource: flow, attributes: { flowOutputs: 3 } },
      { eventId: 'f3', observedAt: t('11:30'), resource: flow, state: 'idle' },
    ]);
    const [active] = settleAll(s).closed;
    assert.equal(active!.kind, 'running');
    assert.equal(active!.flowOutputHours, 1 + 1.5);
  });

  test('the snapshot shows open sessions up to now without finalising anything', () => {
    const s = feed(emptyTracker(), [obs('a', t('10:00'), 'running')]);
    const snap = snapshot(s, t('10:45'));
    assert.equal(snap.open.length, 1);
    assert.equal(snap.open[0]!.durationMs, 45 * 60_000);
    assert.equal(snap.open[0]!.provisional, true);
    assert.equal(snap.open[0]!.endedAt, null);
    assert.deepEqual(s, feed(emptyTracker(), [obs('a', t('10:00'), 'running')]), 'the state is unchanged');
  });
});

describe('across a restart', () => {
  const stored = (): TrackerState => JSON.parse(JSON.stringify(settle(feed(emptyTracker(), [obs('a', t('10:00'), 'idle'), obs('b', t('10:05'), 'running')]), t('10:30')).state)) as TrackerState;

  test('the state is plain JSON: a store round-trip changes nothing', () => {
    const s = settle(feed(emptyTracker(), [obs('a', t('10:00'), 'idle'), obs('b', t('10:05'), 'running')]), t('10:30')).state;
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });

  test('still running after the restart: the session resumes (nothing added, one session in the end)', () => {
    const r = reconcile(stored(), [{ resource: CH, state: 'running' }], t('10:40'));
    assert.deepEqual(r.added, []);
    const s = observe(r.state, obs('c', t('11:05'), 'idle')).state;
    // (the idle session before it was emitted by the settle before the restart)
    assert.deepEqual(settleAll(s).closed.map(brief), [['running', '10:05', '11:05', 'stopped']]);
  });

  test('stopped while nobody listened: closed at the reconcile, end marked estimated', () => {
    const r = reconcile(stored(), [{ resource: CH, state: 'idle' }], t('10:40'));
    assert.equal(r.added.length, 1);
    const run = settleAll(r.state).closed.find((x) => x.kind === 'running')!;
    assert.deepEqual(brief(run), ['running', '10:05', '10:40', 'reconciled']);
    assert.equal(run.endEstimated, true);
  });

  test('the real stop redelivered after the reconcile, inside the window, wins over the estimate', () => {
    const r = reconcile(stored(), [{ resource: CH, state: 'idle' }], t('10:40'));
    const s = observe(r.state, obs('real-stop', t('10:35'), 'idle')).state;
    const run = settleAll(s).closed.find((x) => x.kind === 'running')!;
    assert.deepEqual(brief(run), ['running', '10:05', '10:35', 'stopped']);
    assert.equal(run.endEstimated, false);
  });

  test('with the complete list, a resource the engine no longer has is taken as gone', () => {
    const r = reconcile(stored(), [], t('10:40'), { complete: true });
    assert.deepEqual(settleAll(r.state).closed.map(brief).slice(-1), [['running', '10:05', '10:40', 'reconciled']]);
  });

  test('an ended resource is remembered, then forgotten after the retention', () => {
    const ended = settle(feed(emptyTracker(), STREAM), t('13:00')).state;
    assert.ok(ended.tracks[`destination-channel:${D}`]);
    assert.equal(observe(ended, obs('old-dup', t('10:05'), 'running')).outcome, 'late');
    const later = settle(ended, '2026-11-30T00:00:00.000Z').state;
    assert.equal(later.tracks[`destination-channel:${D}`], undefined);
  });
});
