import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { monthBounds, monthHours, splitByDay } from './periods.ts';
import { priceSession, type CostLine } from './pricing.ts';
import { allotLine, breakdown, dailySummaries, IDLE_ROW, localIdleLine, monthToDate, partsWithin, REDUNDANCY_ROW, SHARED_ROW, type PricedSession } from './summary.ts';
import { HD1080P30, HOUR, MIN, session } from './testing/fixtures.ts';

const table = DEFAULT_RATE_TABLE;
const lines = (...s: ReturnType<typeof session>[]): CostLine[] => s.flatMap((x) => priceSession(x, table).lines);
const lineOf = (ls: CostLine[], serviceLine: string) => ls.find((l) => l.serviceLine === serviceLine)!;
const berlin = 'Europe/Berlin';

describe('periods in a time zone', () => {
  const cases: [string, string, number][] = [
    ['November, UTC', 'UTC', 720],
    ['March in Berlin (clocks go forward on the 29th)', berlin, 743],
    ['October in Berlin (clocks go back on the 25th)', berlin, 745],
    ['February 2028 (leap year), New York', 'America/New_York', 696],
  ];
  const months: Record<string, string> = {
    'November, UTC': '2026-11',
    'March in Berlin (clocks go forward on the 29th)': '2026-03',
    'October in Berlin (clocks go back on the 25th)': '2026-10',
    'February 2028 (leap year), New York': '2028-02',
  };
  for (const [name, tz, hours] of cases) test(`${name}: ${hours} h`, () => assert.equal(monthHours(months[name]!, tz), hours));

  test('a Berlin month starts at local midnight (23:00 UTC the day before in winter)', () => {
    const b = monthBounds('2026-12', berlin);
    assert.equal(new Date(b.startMs).toISOString(), '2026-11-30T23:00:00.000Z');
    assert.equal(new Date(b.endMs).toISOString(), '2026-12-31T23:00:00.000Z');
  });

  test('the day clocks go forward has 23 hours', () => {
    const parts = splitByDay(Date.parse('2026-03-28T23:00:00Z'), Date.parse('2026-03-29T23:00:00Z'), berlin);
    // Berlin's 29 March runs from 23:00Z (CET) to 22:00Z (CEST): 23 h; the last hour is the 30th.
    assert.deepEqual(
      parts.map((p) => [p.day, (p.endMs - p.startMs) / HOUR]),
      [
        ['2026-03-29', 23],
        ['2026-03-30', 1],
      ],
    );
  });

  test('an unknown time zone is refused', () => {
    assert.throws(() => splitByDay(0, HOUR, 'Mars/Olympus'), /unknown time zone/);
  });
});

describe('a session across midnight', () => {
  test('30 min from 23:50 to 00:20 Berlin: 10 min on the first day, 20 on the second', () => {
    // 22:50Z–23:20Z; output 0.5 h × $0.4212 = $0.2106, input 0.5 h × $0.1404 = $0.0702.
    const ls = lines(session({ start: '2026-11-09T22:50:00Z', durationMs: 30 * MIN }));
    const out = allotLine(lineOf(ls, 'MediaLive output'), berlin, 'day');
    assert.deepEqual(
      out.map((p) => [p.part.day, p.costMicros]),
      [
        ['2026-11-09', 70_200],
        ['2026-11-10', 140_400],
      ],
    );
    const inp = allotLine(lineOf(ls, 'MediaLive input'), berlin, 'day');
    assert.deepEqual(
      inp.map((p) => [p.part.day, p.costMicros]),
      [
        ['2026-11-09', 23_400],
        ['2026-11-10', 46_800],
      ],
    );
    // In UTC it is one day.
    assert.deepEqual(
      allotLine(lineOf(ls, 'MediaLive output'), 'UTC', 'day').map((p) => [p.part.day, p.costMicros]),
      [['2026-11-09', 210_600]],
    );
  });

  test('3 min from 23:59 to 00:02: the minimum is billed on the day the run ends (1 min : 2 + 7 min)', () => {
    const ls = lines(session({ start: '2026-11-09T22:59:00Z', durationMs: 3 * MIN }));
    const out = allotLine(lineOf(ls, 'MediaLive output'), berlin, 'day'); // $0.0702 for 10 billed minutes
    assert.deepEqual(
      out.map((p) => [p.part.day, p.costMicros]),
      [
        ['2026-11-09', 7_020],
        ['2026-11-10', 63_180],
      ],
    );
    assert.equal(
      out.reduce((s, p) => s + p.quantity, 0),
      10 / 60,
    );
  });

  test('daily summaries add up to the sessions exactly', () => {
    const ls = lines(session({ start: '2026-11-09T22:50:00Z', durationMs: 30 * MIN }), session({ start: '2026-11-10T08:00:00Z', durationMs: 7 * MIN + 13_000 }));
    const days = dailySummaries(ls, Date.parse('2026-11-01T00:00:00Z'), Date.parse('2026-12-01T00:00:00Z'), berlin);
    assert.deepEqual(
      days.map((d) => d.day),
      ['2026-11-09', '2026-11-10'],
    );
    assert.equal(
      days.reduce((s, d) => s + d.breakdown.totalMicros, 0),
      ls.reduce((s, l) => s + l.costMicros, 0),
    );
  });
});

describe('month boundaries', () => {
  test('23:30 Nov 30 → 00:30 Dec 1 Berlin: half in each Berlin month, all November in UTC', () => {
    const ls = lines(session({ start: '2026-11-30T22:30:00Z', durationMs: HOUR }));
    const out = lineOf(ls, 'MediaLive output'); // 1 h = $0.4212
    assert.deepEqual(
      allotLine(out, berlin, 'month').map((p) => [p.part.month, p.costMicros]),
      [
        ['2026-11', 210_600],
        ['2026-12', 210_600],
      ],
    );
    assert.deepEqual(
      allotLine(out, 'UTC', 'month').map((p) => [p.part.month, p.costMicros]),
      [['2026-11', 421_200]],
    );
    const nov = monthBounds('2026-11', berlin);
    const dec = monthBounds('2026-12', berlin);
    const sum = (s: number, e: number) => partsWithin(ls, s, e, berlin, 'month').reduce((a, p) => a + p.costMicros, 0);
    assert.equal(
      sum(nov.startMs, nov.endMs) + sum(dec.startMs, dec.endMs),
      ls.reduce((a, l) => a + l.costMicros, 0),
    );
  });
});

describe('breakdowns', () => {
  test('per destination, platform, service line and category, with idle, redundancy and shared rows apart', () => {
    const ls = lines(
      session({ start: '2026-11-10T10:00:00Z', durationMs: HOUR, attributes: { pushInputs: 2 } }),
      session({ id: '33333333-3333-4333-8333-333333333333', start: '2026-11-10T10:00:00Z', durationMs: HOUR, attributes: { destinationName: 'Twitch', platform: 'twitch', encodes: [HD1080P30] } }),
      session({ start: '2026-11-10T11:00:00Z', durationMs: HOUR, sessionKind: 'idle' }),
      session({ kind: 'flow', id: 'arn:flow', start: '2026-11-10T10:00:00Z', durationMs: HOUR }),
    );
    const b = breakdown(partsWithin(ls, 0, Date.parse('2030-01-01T00:00:00Z'), 'UTC', 'day'));
    const row = (rows: typeof b.byDestination, key: string) => rows.find((r) => r.key === key)?.costMicros;
    assert.equal(row(b.byDestination, IDLE_ROW), 20_000); // idle channel + idle input, 1 h × $0.01 each
    assert.equal(row(b.byDestination, REDUNDANCY_ROW), 140_400); // the backup input
    assert.equal(row(b.byDestination, SHARED_ROW), 160_000); // the flow hour
    assert.equal(row(b.byPlatform, 'twitch'), 140_400 + 421_200 + 248_184); // input + output + 2.7576 GB out
    assert.equal(row(b.byCategory, 'idle'), 20_000);
    assert.equal(row(b.byServiceLine, 'MediaLive input (redundancy)'), 140_400);
    assert.equal(
      b.totalMicros,
      b.byDestination.reduce((s, r) => s + r.costMicros, 0),
    );
    assert.equal(
      b.totalMicros,
      b.byServiceLine.reduce((s, r) => s + r.costMicros, 0),
    );
    assert.equal(b.sessions, 4);
  });

  test("the local engine's unallocated machine time is an idle row (machine cost − destinations' CPU)", () => {
    // 2 h of a $0.0416/h machine = $0.0832; one destination used 1800 CPU-s on 2 cores = $0.0104.
    const ls = [session({ start: '2026-11-10T10:00:00Z', durationMs: HOUR, cpuSeconds: 1800, attributes: { engine: 'local' } })].flatMap((s) => priceSession(s, table, { localCores: 2 }).lines);
    const idle = localIdleLine(ls, table, Date.parse('2026-11-10T10:00:00Z'), Date.parse('2026-11-10T12:00:00Z'), 'UTC')!;
    assert.equal(idle.costMicros, 83_200 - 10_400);
    assert.equal(idle.category, 'idle');
    assert.match(idle.computation, /2 machine-hours × \$0\.0416\/h = \$0\.083200, less \$0\.010400/);
  });
});

describe('month to date and the projection', () => {
  test('always-on parts continue at their rate, streaming at its average so far', () => {
    const asOf = '2026-11-11T00:00:00.000Z'; // 240 h into a 720 h month, 480 h left
    const priced: PricedSession[] = [
      // The primary, open since the 1st: $0.1404 + $0.4212 + 2.7576 GB × $0.03 = $0.644328/h.
      session({ kind: 'primary-channel', id: '1234567', start: '2026-11-01T00:00:00Z', durationMs: 240 * HOUR, open: true, attributes: { encodes: [HD1080P30] } }),
      // The flow, ACTIVE since the 1st, no outputs counted: $0.16/h.
      session({ kind: 'flow', id: 'arn:flow', start: '2026-11-01T00:00:00Z', durationMs: 240 * HOUR, open: true }),
      // One destination streamed 10 h: $1.404 + $4.212 + 275.76 GB × $0.09 = $8.09784.
      session({ start: '2026-11-05T10:00:00Z', durationMs: 10 * HOUR }),
    ].map((s) => ({ session: s, pricing: priceSession(s, table) }));
    const m = monthToDate(priced, '2026-11', 'UTC', asOf);
    assert.equal(m.elapsedHours, 240);
    assert.equal(m.remainingHours, 480);
    const mtd = 240 * (140_400 + 421_200) + 19_854_720 + 240 * 160_000 + 8_097_840;
    assert.equal(m.actual.totalMicros, mtd);
    assert.equal(m.projection.alwaysOnHourlyMicros, 644_328 + 160_000);
    assert.equal(m.projection.streamingHourlyMicros, 33_741); // $8.09784 ÷ 240 h
    assert.equal(m.projection.totalMicros, mtd + 480 * 804_328 + 480 * 33_741);
    assert.match(m.projection.computation, /switched on now \(primary-channel running, flow running\)/);
    assert.deepEqual(m.days.map((d) => d.day).slice(0, 2), ['2026-11-01', '2026-11-02']);
    assert.equal(
      m.days.reduce((s, d) => s + d.totalMicros, 0),
      mtd,
    );
  });

  test('a session from last month counts only its part in this month', () => {
    // 23:00 Oct 31 → 01:00 Nov 1 UTC: 2 h of output = $0.8424, one hour in November.
    const s = session({ start: '2026-10-31T23:00:00Z', durationMs: 2 * HOUR });
    const m = monthToDate([{ session: s, pricing: priceSession(s, table) }], '2026-11', 'UTC', '2026-11-02T00:00:00Z');
    assert.equal(m.actual.byServiceLine.find((r) => r.key === 'MediaLive output')!.costMicros, 421_200);
  });
});
