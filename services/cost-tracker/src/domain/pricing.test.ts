import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { billedMinutes, priceSession, type CostLine } from './pricing.ts';
import { applyOverrides } from './rates.ts';
import { enc, HD1080P60, HOUR, MIN, session } from './testing/fixtures.ts';

const T = '2026-11-10T12:00:00.000Z';
const table = DEFAULT_RATE_TABLE;
const byLine = (lines: CostLine[], serviceLine: string, category?: string) => lines.filter((l) => l.serviceLine === serviceLine && (!category || l.category === category));
const one = (lines: CostLine[], serviceLine: string, category?: string): CostLine => {
  const found = byLine(lines, serviceLine, category);
  assert.equal(found.length, 1, `one ${serviceLine} ${category ?? ''} line`);
  return found[0]!;
};

describe('billedMinutes: rounded up to the minute above a 10-minute minimum', () => {
  const rule = { incrementMinutes: 1, minimumMinutes: 10 };
  const cases: [string, number, number][] = [
    ['zero (started and stopped at once)', 0, 10],
    ['1 ms', 1, 10],
    ['3 min', 3 * MIN, 10],
    ['9 min 59.999 s', 10 * MIN - 1, 10],
    ['exactly 10 min', 10 * MIN, 10],
    ['10 min 1 ms', 10 * MIN + 1, 11],
    ['63 min 12 s', 63 * MIN + 12_000, 64],
    ['100 h', 100 * HOUR, 6000],
  ];
  for (const [name, ms, expected] of cases) test(name, () => assert.equal(billedMinutes(ms, rule), expected));
  test('no minimum (idle): 30.5 s bills one minute, 0 bills nothing', () => {
    assert.equal(billedMinutes(30_500, { incrementMinutes: 1, minimumMinutes: 0 }), 1);
    assert.equal(billedMinutes(0, { incrementMinutes: 1, minimumMinutes: 0 }), 0);
  });
});

describe('a destination channel running (single pipeline, 1080p30 6 Mb/s, declared input AVC HD ≤10 Mb/s)', () => {
  // input $0.1404/h, output $0.4212/h, internet out $0.09/GB (10^9 bytes).
  const cases: { name: string; durationMs: number; input: number; output: number }[] = [
    { name: '3 min → the 10-minute minimum', durationMs: 3 * MIN, input: 23_400, output: 70_200 }, // 10/60 h × 0.1404 = 0.0234
    { name: 'exactly 10 min', durationMs: 10 * MIN, input: 23_400, output: 70_200 },
    { name: '10 min 1 ms → 11 min', durationMs: 10 * MIN + 1, input: 25_740, output: 77_220 }, // 11/60 × 0.1404 = 0.02574
    { name: '63 min 12 s → 64 min', durationMs: 63 * MIN + 12_000, input: 149_760, output: 449_280 }, // 64/60 × 0.4212 = 0.44928
    { name: '2 h', durationMs: 2 * HOUR, input: 280_800, output: 842_400 },
  ];
  for (const c of cases)
    test(c.name, () => {
      const p = priceSession(session({ start: T, durationMs: c.durationMs }), table);
      assert.equal(one(p.lines, 'MediaLive input').costMicros, c.input);
      assert.equal(one(p.lines, 'MediaLive output').costMicros, c.output);
      assert.equal(one(p.lines, 'MediaLive input').operation, 'CHANNEL_INPUT');
      assert.equal(one(p.lines, 'MediaLive output').operation, 'CHANNEL_OUTPUT');
      assert.equal(
        p.totalMicros,
        p.lines.reduce((s, l) => s + l.costMicros, 0),
      );
    });

  test('bytes unknown: data transfer estimated from video + audio bitrate (3 min: 6.128 Mb/s × 180 s ÷ 8 = 0.13788 GB × $0.09)', () => {
    const dto = one(priceSession(session({ start: T, durationMs: 3 * MIN }), table).lines, 'Data transfer out');
    assert.equal(dto.quantity, 0.13788);
    assert.equal(dto.costMicros, 12_409);
    assert.equal(dto.estimated, true);
    assert.match(dto.computation, /^estimated: 6\.128 Mb\/s/);
  });

  test('bytes measured: 2.5 GB × $0.09 = $0.225', () => {
    const dto = one(priceSession(session({ start: T, durationMs: HOUR, bytesOut: 2_500_000_000 }), table).lines, 'Data transfer out');
    assert.equal(dto.costMicros, 225_000);
    assert.match(dto.computation, /^measured = 2500000000 bytes/);
  });

  test('every line says how it was computed and where its rate comes from', () => {
    const p = priceSession(session({ start: T, durationMs: 3 * MIN }), table);
    const input = one(p.lines, 'MediaLive input');
    assert.match(input.computation, /3 min → 10-minute minimum = 0\.166667 h × \$0\.1404\/h = \$0\.023400/);
    assert.match(input.rateSource, /third-party copy, unverified/);
    assert.equal(input.estimated, true);
    for (const l of p.lines) {
      assert.ok(l.computation.length > 20 && l.rateSource.length > 10, l.lineId);
      assert.equal(l.startMs, Date.parse(T));
      assert.equal(l.endMs, Date.parse(T) + 3 * MIN);
    }
  });

  test('a 1080p60 output is billed in the 30–60 fps band (derived rate $0.8424/h, estimated)', () => {
    const out = one(priceSession(session({ start: T, durationMs: HOUR, attributes: { encodes: [HD1080P60] } }), table).lines, 'MediaLive output');
    assert.equal(out.costMicros, 842_400);
    assert.equal(out.rateKey, 'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS:MAX_60_FPS');
    assert.match(out.rateSource, /^derived, unverified/);
  });

  test('a backup input is a redundancy line of its own', () => {
    const p = priceSession(session({ start: T, durationMs: HOUR, attributes: { pushInputs: 2 } }), table);
    assert.equal(one(p.lines, 'MediaLive input', 'usage').costMicros, 140_400);
    assert.equal(one(p.lines, 'MediaLive input', 'redundancy').costMicros, 140_400);
    assert.match(one(p.lines, 'MediaLive input', 'redundancy').description, /^backup input/);
  });

  test('a standard channel: the single-pipeline share as usage, the second pipeline as redundancy', () => {
    const p = priceSession(session({ start: T, durationMs: HOUR, attributes: { channelClass: 'STANDARD' } }), table);
    // input standard $0.234 = $0.1404 + $0.0936; output standard $0.702 (AWS doc) = $0.4212 + $0.2808.
    assert.equal(one(p.lines, 'MediaLive input', 'usage').costMicros, 140_400);
    assert.equal(one(p.lines, 'MediaLive input', 'redundancy').costMicros, 93_600);
    assert.equal(one(p.lines, 'MediaLive output', 'usage').costMicros, 421_200);
    assert.equal(one(p.lines, 'MediaLive output', 'redundancy').costMicros, 280_800);
    assert.match(one(p.lines, 'MediaLive output', 'redundancy').computation, /standard \$0\.702 − single pipeline \$0\.4212/);
  });

  test('a rate the table lacks gives an unpriced line, listed, never a silent omission', () => {
    const p = priceSession(session({ start: T, durationMs: HOUR, attributes: { encodes: [enc(3840, 2160, 30, 20_000_000)] } }), table);
    const out = one(p.lines, 'MediaLive output');
    assert.equal(out.missingRate, true);
    assert.equal(out.costMicros, 0);
    assert.deepEqual(p.missingRates, ['medialive:output:SINGLE_PIPELINE:AVC:UHD:MAX_20_MBPS:MAX_30_FPS']);
    assert.equal(p.estimated, true);
  });

  test('an admin override replaces the figure, is not estimated, and names who set it', () => {
    const r = applyOverrides(table, [{ key: 'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS:MAX_30_FPS', price: 0.5, effectiveDate: null, by: 'token-admin-1', setOn: '2026-11-01' }]);
    assert.ok(r.ok);
    const out = one(priceSession(session({ start: T, durationMs: HOUR }), r.table).lines, 'MediaLive output');
    assert.equal(out.costMicros, 500_000);
    assert.equal(out.estimated, false);
    assert.match(out.rateSource, /^admin override: Set by token-admin-1/);
  });
});

describe('idle charges', () => {
  test('a destination channel idle 90 min: idle channel + idle push input, $0.01/h each (placeholders)', () => {
    const p = priceSession(session({ start: T, durationMs: 90 * MIN, sessionKind: 'idle' }), table);
    assert.equal(p.lines.length, 2);
    assert.equal(one(p.lines, 'MediaLive idle channel').costMicros, 15_000);
    assert.equal(one(p.lines, 'MediaLive idle input').costMicros, 15_000);
    assert.equal(one(p.lines, 'MediaLive idle channel').operation, 'INACTIVE_CHANNEL');
    assert.equal(one(p.lines, 'MediaLive idle input').operation, 'INACTIVE_INPUT');
    assert.ok(p.lines.every((l) => l.category === 'idle' && l.estimated));
    assert.match(one(p.lines, 'MediaLive idle channel').rateSource, /^placeholder/);
  });

  test('idle has no 10-minute minimum: 30.5 s bills one minute (1/60 h × $0.01 = $0.000167)', () => {
    const p = priceSession(session({ start: T, durationMs: 30_500, sessionKind: 'idle' }), table);
    assert.equal(one(p.lines, 'MediaLive idle channel').costMicros, 167);
  });

  test('an idle channel with a backup input: two idle input lines', () => {
    const p = priceSession(session({ start: T, durationMs: HOUR, sessionKind: 'idle', attributes: { pushInputs: 2 } }), table);
    assert.equal(byLine(p.lines, 'MediaLive idle input').length, 2);
    assert.equal(p.totalMicros, 30_000);
  });

  test('an unattached push input: the idle input charge only', () => {
    const p = priceSession(session({ kind: 'push-input', id: 'input-9', start: T, durationMs: 2 * HOUR, sessionKind: 'idle' }), table);
    assert.deepEqual(
      p.lines.map((l) => [l.serviceLine, l.costMicros]),
      [['MediaLive idle input', 20_000]],
    );
  });
});

describe('the flow', () => {
  test('STANDBY is free: one zero line that says so', () => {
    const p = priceSession(session({ kind: 'flow', id: 'arn:flow', start: T, durationMs: 5 * HOUR, sessionKind: 'idle' }), table);
    assert.equal(p.lines.length, 1);
    assert.equal(p.lines[0]!.costMicros, 0);
    assert.equal(p.lines[0]!.quantity, 5);
    assert.match(p.lines[0]!.rateSource, /standby mode is not an active resource/);
    assert.equal(p.totalMicros, 0);
  });

  test('ACTIVE 2 h with 3 output-hours at 8 Mb/s: flow-hours + per-GB to MediaLive', () => {
    const p = priceSession(session({ kind: 'flow', id: 'arn:flow', start: T, durationMs: 2 * HOUR, flowOutputHours: 3, attributes: { contributionBitrate: 8_000_000 } }), table);
    assert.equal(one(p.lines, 'MediaConnect flow').costMicros, 320_000); // 2 h × $0.16
    const gb = one(p.lines, 'MediaConnect data transfer');
    assert.equal(gb.quantity, 10.8); // 8e6 b/s × 3 h × 3600 s ÷ 8 = 10.8e9 bytes
    assert.equal(gb.costMicros, 108_000); // × $0.01/GB
    assert.equal(gb.estimated, true);
  });

  test('ACTIVE 2 h with the backup source: flow-hours + one source-hour line at the estimated rate; STANDBY bills neither', () => {
    const p = priceSession(session({ kind: 'flow', id: 'arn:flow', start: T, durationMs: 2 * HOUR, flowOutputHours: 0, attributes: { flowSources: 2 } }), table);
    const lines = p.lines.filter((l) => l.serviceLine === 'MediaConnect flow');
    assert.deepEqual(
      lines.map((l) => [l.description, l.costMicros, l.estimated]),
      [
        ['flow ACTIVE', 320_000, true], // 2 h × $0.16
        ['backup source (second SRT listener) while the flow is ACTIVE', 180_000, true], // 2 h × $0.09 (estimated)
      ],
    );
    assert.equal(lines[1]!.rateKey, 'mediaconnect:source-hour');
    assert.equal(p.totalMicros, 500_000);
    const standby = priceSession(session({ kind: 'flow', id: 'arn:flow', start: T, durationMs: 2 * HOUR, sessionKind: 'idle', attributes: { flowSources: 2 } }), table);
    assert.equal(standby.totalMicros, 0);
  });

  test('ACTIVE with no outputs: flow-hours only', () => {
    const p = priceSession(session({ kind: 'flow', id: 'arn:flow', start: T, durationMs: HOUR, flowOutputHours: 0 }), table);
    assert.deepEqual(
      p.lines.map((l) => l.serviceLine),
      ['MediaConnect flow'],
    );
  });
});

describe('the primary channel', () => {
  test('running 1 h: input + rendition + MediaPackage ingest (6.128 Mb/s × 3600 s ÷ 8 = 2.7576 GB × $0.03)', () => {
    const p = priceSession(session({ kind: 'primary-channel', id: '1234567', start: T, durationMs: HOUR, attributes: { encodes: [enc(1920, 1080, 30, 6_000_000)] } }), table);
    assert.equal(one(p.lines, 'MediaLive input').costMicros, 140_400);
    assert.equal(one(p.lines, 'MediaLive output').costMicros, 421_200);
    assert.equal(one(p.lines, 'MediaPackage').costMicros, 82_728);
    assert.equal(byLine(p.lines, 'Data transfer out').length, 0);
    assert.ok(p.lines.every((l) => l.destinationId === null));
  });
});

describe('the local engine', () => {
  test("a destination's CPU time at the machine's per-core-hour price (1800 CPU-s on 2 cores at $0.0416/h)", () => {
    const p = priceSession(session({ start: T, durationMs: HOUR, cpuSeconds: 1800, attributes: { engine: 'local' } }), table, { localCores: 2 });
    const l = one(p.lines, 'Local engine');
    assert.equal(l.quantity, 0.5);
    assert.equal(l.unit, 'Core-Hours');
    assert.equal(l.unitPrice, 0.0208);
    assert.equal(l.costMicros, 10_400);
    assert.equal(p.lines.length, 1, 'no MediaLive lines on the local engine');
  });

  test('CPU time not measured: a zero line that says so', () => {
    const p = priceSession(session({ start: T, durationMs: HOUR, attributes: { engine: 'local' } }), table, { localCores: 2 });
    assert.equal(p.totalMicros, 0);
    assert.match(one(p.lines, 'Local engine').computation, /not measured/);
  });

  test('idle channels, the flow and the primary cost nothing per session locally (the machine is shared)', () => {
    for (const s of [session({ start: T, durationMs: HOUR, sessionKind: 'idle', attributes: { engine: 'local' } }), session({ kind: 'flow', id: 'local-flow', start: T, durationMs: HOUR, attributes: { engine: 'local' } })])
      assert.deepEqual(priceSession(s, table, { localCores: 2 }).lines, []);
  });
});
