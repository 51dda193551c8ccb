import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONTRIBUTION_INPUT, type AlertUpdate } from './alerts.ts';
import { DEFAULT_ROUTE, emptyAlerting, matches, nextWakeAt, receive, tick, type AlertingState, type Notification, type RouteConfig } from './alerting.ts';

const T0 = Date.parse('2026-11-10T10:00:00Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

function dest(id: string, status: 'firing' | 'resolved', s: number, alertname = 'DestinationFailing', forMs = 0): AlertUpdate {
  return {
    status,
    labels: { alertname, severity: 'critical', category: 'destination', scope: `destination:${id}`, destinationId: id, platform: 'youtube', input: CONTRIBUTION_INPUT, stage: 'test' },
    annotations: { summary: `${id.slice(0, 4)} ${alertname}`, description: 'd', hint: 'h' },
    at: at(s),
    forMs,
    oneShot: false,
  };
}
function input(status: 'firing' | 'resolved', s: number): AlertUpdate {
  return {
    status,
    labels: { alertname: 'ContributionInputLost', severity: 'critical', category: 'input', scope: 'input:contribution', input: CONTRIBUTION_INPUT, stage: 'test' },
    annotations: { summary: 'input lost', description: '', hint: '' },
    at: at(s),
    forMs: 0,
    oneShot: false,
  };
}

/** Replays a timeline: updates at their second, ticks every second; returns what was sent and when. */
function timeline(events: [number, AlertUpdate][], untilS: number, cfg: RouteConfig = DEFAULT_ROUTE): { sent: [number, string, string[], string[]][]; state: AlertingState; raw: Notification[] } {
  let state = emptyAlerting();
  const sent: [number, string, string[], string[]][] = [];
  const raw: Notification[] = [];
  for (let s = 0; s <= untilS; s++) {
    for (const [when, u] of events) if (when === s) state = receive(state, u, cfg);
    const r = tick(state, at(s), cfg);
    state = r.state;
    for (const n of r.notifications) {
      raw.push(n);
      sent.push([s, n.reason, n.firing.map((a) => a.labels.alertname + ':' + (a.labels.destinationId ?? '').slice(0, 1)), n.resolved.map((a) => a.labels.alertname + ':' + (a.labels.destinationId ?? '').slice(0, 1))]);
    }
  }
  return { sent, state, raw };
}

const fast: RouteConfig = { ...DEFAULT_ROUTE, groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 3_600_000 };

describe('grouping and timing (group_wait 30 s, group_interval 5 min, repeat 1 h)', () => {
  test('alerts of one destination that start together go out together after group_wait', () => {
    const { sent } = timeline(
      [
        [0, dest(A, 'firing', 0)],
        [10, dest(A, 'firing', 10, 'MediaLiveChannelAlert')],
      ],
      100,
      fast,
    );
    assert.deepEqual(sent, [[30, 'initial', ['DestinationFailing:a', 'MediaLiveChannelAlert:a'], []]]);
  });

  test('different destinations are different groups, each with its own wait', () => {
    const { sent } = timeline(
      [
        [0, dest(A, 'firing', 0)],
        [20, dest(B, 'firing', 20)],
      ],
      100,
      fast,
    );
    assert.deepEqual(
      sent.map(([s, , f]) => [s, f]),
      [
        [30, ['DestinationFailing:a']],
        [50, ['DestinationFailing:b']],
      ],
    );
  });

  test('a new alert in a group already notified waits for group_interval, then goes with the rest', () => {
    const { sent } = timeline(
      [
        [0, dest(A, 'firing', 0)],
        [60, dest(A, 'firing', 60, 'MediaLiveChannelAlert')],
      ],
      400,
      fast,
    );
    assert.deepEqual(sent, [
      [30, 'initial', ['DestinationFailing:a'], []],
      [330, 'update', ['DestinationFailing:a', 'MediaLiveChannelAlert:a'], []],
    ]);
  });

  test('what stays broken is repeated after repeat_interval; an unchanged group says nothing in between', () => {
    const { sent } = timeline([[0, dest(A, 'firing', 0)]], 7300, fast);
    assert.deepEqual(
      sent.map(([s, r]) => [s, r]),
      [
        [30, 'initial'],
        [3630, 'repeat'],
        [7230, 'repeat'],
      ],
    );
  });

  test('a resolved alert gets a "resolved" message at the next flush, and the group ends', () => {
    const { sent, state } = timeline(
      [
        [0, dest(A, 'firing', 0)],
        [100, dest(A, 'resolved', 100)],
      ],
      1000,
      fast,
    );
    assert.deepEqual(sent, [
      [30, 'initial', ['DestinationFailing:a'], []],
      [330, 'resolved', [], ['DestinationFailing:a']],
    ]);
    assert.deepEqual(state.groups, {});
    assert.equal(nextWakeAt(state), null);
  });

  test('resolved before group_wait: nobody is told it fired, or that it cleared', () => {
    const { sent } = timeline(
      [
        [0, dest(A, 'firing', 0)],
        [10, dest(A, 'resolved', 10)],
      ],
      1000,
      fast,
    );
    assert.deepEqual(sent, []);
  });

  test('a grace period (for): cleared within it is never an alert; held past it fires after grace + group_wait', () => {
    assert.deepEqual(
      timeline(
        [
          [0, dest(A, 'firing', 0, 'DestinationFailing', 60_000)],
          [50, dest(A, 'resolved', 50)],
        ],
        500,
        fast,
      ).sent,
      [],
    );
    assert.deepEqual(
      timeline([[0, dest(A, 'firing', 0, 'DestinationFailing', 60_000)]], 500, fast).sent.map(([s]) => s),
      [90],
    );
  });

  test('a stale update (older than what is known) changes nothing', () => {
    let s = receive(emptyAlerting(), dest(A, 'firing', 100), fast);
    s = receive(s, dest(A, 'resolved', 50), fast);
    const r = tick(s, at(130), fast);
    assert.equal(r.notifications.length, 1);
    assert.equal(r.notifications[0]!.status, 'firing');
  });

  test('nextWakeAt says when to tick', () => {
    const s = receive(emptyAlerting(), dest(A, 'firing', 0), fast);
    assert.equal(nextWakeAt(s), at(30));
  });
});

describe('inhibition: while the input is lost, the destinations it starves are not sent separately', () => {
  test('input lost and destinations failing at once: only the input alert', () => {
    const { sent } = timeline(
      [
        [0, input('firing', 0)],
        [2, dest(A, 'firing', 2)],
        [3, dest(B, 'firing', 3)],
      ],
      200,
      fast,
    );
    assert.deepEqual(sent, [[30, 'initial', ['ContributionInputLost:'], []]]);
  });

  test('a rejected stream key is not caused by input loss and is still sent', () => {
    const { sent } = timeline(
      [
        [0, input('firing', 0)],
        [2, dest(A, 'firing', 2, 'StreamKeyRejected')],
      ],
      200,
      fast,
    );
    assert.deepEqual(sent.map(([s, , f]) => [s, f]).sort(), [
      [30, ['ContributionInputLost:']],
      [32, ['StreamKeyRejected:a']],
    ]);
  });

  test('input back and the destinations recover: "input resolved", nothing about the destinations', () => {
    const { sent } = timeline(
      [
        [0, input('firing', 0)],
        [2, dest(A, 'firing', 2)],
        [100, input('resolved', 100)],
        [110, dest(A, 'resolved', 110)],
      ],
      1000,
      fast,
    );
    assert.deepEqual(sent, [
      [30, 'initial', ['ContributionInputLost:'], []],
      [330, 'resolved', [], ['ContributionInputLost:']],
    ]);
  });

  test('input back but a destination still failing: it is sent once the inhibition ends', () => {
    const { sent } = timeline(
      [
        [0, input('firing', 0)],
        [2, dest(A, 'firing', 2)],
        [100, input('resolved', 100)],
      ],
      1000,
      fast,
    );
    assert.deepEqual(sent, [
      [30, 'initial', ['ContributionInputLost:'], []],
      [330, 'resolved', [], ['ContributionInputLost:']],
      [332, 'initial', ['DestinationFailing:a'], []],
    ]);
  });

  test('no inhibition rules: everything is sent', () => {
    const { sent } = timeline(
      [
        [0, input('firing', 0)],
        [2, dest(A, 'firing', 2)],
      ],
      100,
      { ...fast, inhibitRules: [] },
    );
    assert.equal(sent.length, 2);
  });

  test('matchers', () => {
    const l = { alertname: 'DestinationFailing', category: 'destination' };
    assert.equal(matches(l, { name: 'category', op: '=~', value: 'destination|primary' }), true);
    assert.equal(matches(l, { name: 'category', op: '=~', value: 'dest' }), false, 'anchored like Alertmanager');
    assert.equal(matches(l, { name: 'alertname', op: '!~', value: 'Stream.*' }), true);
    assert.equal(matches(l, { name: 'missing', op: '=', value: '' }), true, 'a missing label is empty');
  });
});

describe('one-shot alerts (a budget threshold)', () => {
  test('sent once after group_wait, never repeated, never resolved', () => {
    const budget: AlertUpdate = {
      status: 'firing',
      labels: { alertname: 'BudgetThresholdCrossed', severity: 'warning', category: 'budget', scope: 'budget', month: '2026-11', threshold: '80', stage: 'test' },
      annotations: { summary: '80 %', description: '', hint: '' },
      at: at(0),
      forMs: 0,
      oneShot: true,
    };
    const { sent, state } = timeline([[0, budget]], 8000, fast);
    assert.deepEqual(sent, [[30, 'initial', ['BudgetThresholdCrossed:'], []]]);
    assert.deepEqual(state.groups, {});
  });
});

describe('the state', () => {
  test('is plain JSON and survives a store round-trip mid-way', () => {
    let s = receive(emptyAlerting(), dest(A, 'firing', 0), fast);
    s = JSON.parse(JSON.stringify(tick(s, at(30), fast).state)) as AlertingState;
    s = receive(s, dest(A, 'resolved', 40), fast);
    const r = tick(s, at(330), fast);
    assert.deepEqual(
      r.notifications.map((n) => n.reason),
      ['resolved'],
    );
  });

  test('notification ids are stable per group and instant', () => {
    const s = receive(emptyAlerting(), dest(A, 'firing', 0), fast);
    assert.equal(tick(s, at(30), fast).notifications[0]!.id, tick(s, at(30), fast).notifications[0]!.id);
  });
});
