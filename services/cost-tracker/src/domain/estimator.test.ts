import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { compareWithFixedDesign, estimate, EstimateRequestSchema, fixedDesignEstimate, planAsWritten } from './estimator.ts';
import { priceSession } from './pricing.ts';
import { HD1080P30, HOUR, PLAN_SCENARIO, session } from './testing/fixtures.ts';

const table = DEFAULT_RATE_TABLE;
const sumOf = (e: { lines: { serviceLine: string; resourceName: string; costMicros: number }[] }, serviceLine?: string, resource?: string) =>
  e.lines.filter((l) => (!serviceLine || l.serviceLine === serviceLine) && (!resource || l.resourceName === resource)).reduce((s, l) => s + l.costMicros, 0);

describe("the plan's own table (seeds/003)", () => {
  test('reproduces $355.80 from its rates, and lists what it left out', () => {
    const p = planAsWritten(table);
    assert.equal(p.totalMicros, 355_800_000);
    assert.match(p.rows[0]!.reproduced, /720 h × \$0\.16\/h = \$115\.200000/);
    assert.match(p.rows[2]!.reproduced, /5 × 100 h × \$0\.4212\/h .* = \$210\.600000/);
    assert.match(p.omissions[0]!, /5 channels × 100 h × \$0\.1404\/h = \$70\.200000/);
    assert.match(p.omissions[1]!, /720 h = \$404\.352000/);
  });
});

describe("Fanout's design for the plan's scenario", () => {
  const e = estimate(PLAN_SCENARIO, table);
  test('the primary is priced for 720 h, input included: 720 × ($0.1404 + $0.4212) = $404.352', () => {
    assert.equal(sumOf(e, 'MediaLive input', 'primary output') + sumOf(e, 'MediaLive output', 'primary output'), 404_352_000);
  });
  test('each destination pays its input: 4 × 100 h × $0.1404 = $56.16', () => {
    assert.equal(
      e.lines.filter((l) => l.serviceLine === 'MediaLive input' && l.destinationId !== null).reduce((s, l) => s + l.costMicros, 0),
      56_160_000,
    );
  });
  test('Twitch 1080p60 is billed in the 30–60 fps band: 100 h × $0.8424', () => assert.equal(sumOf(e, 'MediaLive output', 'Twitch'), 84_240_000));
  test('no idle charges: channels are reclaimed when they stop', () => assert.equal(e.lines.filter((l) => l.category === 'idle').length, 0));
  test('the flow is ACTIVE 720 h (the primary keeps it so): $115.20; per GB for 4 × 100 + 720 output-hours at 8 Mb/s', () => {
    assert.equal(sumOf(e, 'MediaConnect flow'), 115_200_000);
    assert.equal(sumOf(e, 'MediaConnect data transfer'), 40_320_000); // 1120 h × 3.6 GB/h = 4032 GB × $0.01
  });
  test('the total is the sum of its lines, and says it is an estimate', () => {
    assert.equal(
      e.totalMicros,
      e.lines.reduce((s, l) => s + l.costMicros, 0),
    );
    assert.equal(e.estimated, true);
    assert.deepEqual(e.missingRates, []);
  });
});

describe('the fixed design for the same scenario', () => {
  const fanout = estimate(PLAN_SCENARIO, table);
  const fixed = fixedDesignEstimate(PLAN_SCENARIO, table);
  test('four channels idle 620 h each: idle channel + idle input = 4 × 620 h × $0.02 = $49.60', () => {
    assert.equal(
      fixed.lines.filter((l) => l.category === 'idle').reduce((s, l) => s + l.costMicros, 0),
      49_600_000,
    );
  });
  test('the flow feeds five outputs 24/7: 5 × 720 h × 3.6 GB/h = 12960 GB × $0.01 = $129.60', () => {
    assert.equal(sumOf(fixed, 'MediaConnect data transfer'), 129_600_000);
  });
  test("the difference is the idle charges and the idle outputs' transfer", () => {
    assert.equal(fixed.totalMicros - fanout.totalMicros, 49_600_000 + (129_600_000 - 40_320_000));
  });
});

describe('what-if knobs', () => {
  test('a backup input doubles input charges, as redundancy', () => {
    const e = estimate({ ...PLAN_SCENARIO, backupInput: true }, table);
    assert.equal(
      e.lines.filter((l) => l.serviceLine === 'MediaLive input' && l.category === 'redundancy').reduce((s, l) => s + l.costMicros, 0),
      56_160_000 + 101_088_000,
    );
  });
  test('without the primary the flow runs only while streaming', () => {
    const e = estimate({ ...PLAN_SCENARIO, primary: false }, table);
    assert.equal(sumOf(e, 'MediaConnect flow'), 16_000_000); // 100 h × $0.16
    assert.equal(sumOf(e, 'MediaLive output', 'primary output'), 0);
  });
  test('a bad request is refused with the fields named', () => {
    const r = EstimateRequestSchema.safeParse({ hoursPerMonth: -1, destinations: [{ label: 'x', encode: { width: 1, height: 1, frameRate: 500, videoBitrate: 1 } }] });
    assert.equal(r.success, false);
    assert.ok(!r.success && r.error.issues.length >= 4);
  });
});

describe('recorded usage against the fixed design', () => {
  test('one 2-hour stream in a 24-hour day: the saving is the idle channels and the outputs that fed nothing', () => {
    const day0 = Date.parse('2026-11-10T00:00:00Z');
    const priced = [
      session({ start: '2026-11-10T18:00:00Z', durationMs: 2 * HOUR }),
      session({ kind: 'primary-channel', id: '1234567', start: '2026-11-10T00:00:00Z', durationMs: 24 * HOUR, attributes: { encodes: [HD1080P30] } }),
      session({ kind: 'flow', id: 'arn:flow', start: '2026-11-10T00:00:00Z', durationMs: 24 * HOUR, flowOutputHours: 24 + 2, attributes: { contributionBitrate: 8_000_000 } }),
    ].map((s) => ({ session: s, pricing: priceSession(s, table) }));
    const c = compareWithFixedDesign(priced, day0, day0 + 24 * HOUR, 'UTC', { channels: PLAN_SCENARIO.destinations.map((d) => ({ label: d.label, platform: d.platform ?? null, encode: d.encode as never })) }, table);
    assert.equal(c.streamingHours, 2);
    assert.equal(c.periodHours, 24);
    assert.equal(
      c.actualMicros,
      priced.reduce((s, p) => s + p.pricing.totalMicros, 0),
    );
    // The fixed design runs all four platform channels for the 2 h and idles them 22 h.
    assert.equal(
      c.fixed.lines.filter((l) => l.category === 'idle').reduce((s, l) => s + l.costMicros, 0),
      4 * 22 * 20_000,
    );
    assert.equal(c.savingMicros, c.fixedMicros - c.actualMicros);
    assert.ok(c.savingMicros > 0);
    assert.match(c.computation, /4 channels existing 24 h \(running 2 h while anything streamed\)/);
  });
});
