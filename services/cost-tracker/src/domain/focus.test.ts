import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { decimal, defuseCell, FOCUS_COLUMNS, focusCsv, focusRows } from './focus.ts';
import { priceSession } from './pricing.ts';
import { HOUR, MIN, session } from './testing/fixtures.ts';

const FOCUS_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function sample() {
  return [
    session({ start: '2026-11-10T10:00:00.250Z', durationMs: 3 * MIN, attributes: { destinationName: 'Main, "EN"\nbackup' } }),
    session({ id: '44444444-4444-4444-8444-444444444444', start: '2026-11-10T10:00:00Z', durationMs: HOUR, attributes: { destinationName: '=HYPERLINK("http://x")', platform: 'custom' } }),
    // Across the UTC month boundary: one row per billing period.
    session({ kind: 'flow', id: 'arn:aws:mediaconnect:us-east-1:1:flow:x', start: '2026-11-30T23:00:00Z', durationMs: 2 * HOUR }),
  ].flatMap((s) => priceSession(s, DEFAULT_RATE_TABLE).lines);
}

describe('FOCUS rows', () => {
  test('the CSV reads back with a CSV parser: header, quoting of commas, quotes and newlines', () => {
    const lines = sample();
    const csv = focusCsv(focusRows(lines));
    const records = parse(csv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(records[0]!), [...FOCUS_COLUMNS]);
    assert.equal(records.filter((r) => r.ResourceName === 'Main, "EN"\nbackup').length, 3, 'input, output, data transfer');
    for (const r of records) {
      for (const c of ['BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart', 'ChargePeriodEnd'] as const) assert.match(r[c]!, FOCUS_DATETIME, c);
      assert.equal(r.ChargeCategory, 'Usage');
      assert.equal(r.BillingCurrency, 'USD');
      assert.ok(r.ChargePeriodStart! <= r.ChargePeriodEnd!);
      assert.ok(r.BillingPeriodStart! <= r.ChargePeriodStart! && r.ChargePeriodEnd! <= r.BillingPeriodEnd!);
      assert.ok(['true', 'false'].includes(r.x_Estimated!));
      // ListCost = ListUnitPrice × PricingQuantity (to the micro-dollar).
      assert.ok(Math.abs(Number(r.ListUnitPrice) * Number(r.PricingQuantity) - Number(r.ListCost)) <= 0.000002, `${r.ListUnitPrice} × ${r.PricingQuantity} vs ${r.ListCost}`);
      assert.equal(typeof JSON.parse(r.Tags!), 'object');
    }
    const total = records.reduce((s, r) => s + Math.round(Number(r.ListCost) * 1e6), 0);
    assert.equal(
      total,
      lines.reduce((s, l) => s + l.costMicros, 0),
    );
  });

  test('a formula in a destination name is defused, numbers are not touched', () => {
    const records = parse(focusCsv(focusRows(sample())), { columns: true }) as Record<string, string>[];
    const named = records.filter((r) => r.x_DestinationId === '44444444-4444-4444-8444-444444444444');
    assert.ok(named.length > 0);
    for (const r of named) assert.equal(r.ResourceName, `'=HYPERLINK("http://x")`);
    assert.equal(defuseCell('-1'), "'-1");
    assert.equal(defuseCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(defuseCell('YouTube'), 'YouTube');
  });

  test('a line across the UTC month boundary is one row per billing period, shares adding up', () => {
    const rows = focusRows(sample()).filter((r) => r.ServiceName === 'AWS Elemental MediaConnect');
    assert.deepEqual(
      rows.map((r) => [r.BillingPeriodStart, r.ChargePeriodStart, r.ChargePeriodEnd, r.ConsumedQuantity, r.ListCost]),
      [
        ['2026-11-01T00:00:00Z', '2026-11-30T23:00:00Z', '2026-12-01T00:00:00Z', '1', '0.160000'],
        ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', '2026-12-01T01:00:00Z', '1', '0.160000'],
      ],
    );
  });

  test('consumed is what was used, pricing what was billed (3 min used, 10 min billed)', () => {
    const row = focusRows(sample()).find((r) => r.x_ServiceLine === 'MediaLive output' && r.ResourceName.startsWith('Main'))!;
    assert.equal(row.ConsumedQuantity, '0.05');
    assert.equal(row.PricingQuantity, '0.166667');
    assert.equal(row.ListCost, '0.070200');
    assert.equal(row.ChargePeriodStart, '2026-11-10T10:00:00Z');
    assert.match(row.x_Computation, /10-minute minimum/);
    assert.match(row.x_RateSource, /unverified/);
    assert.deepEqual(JSON.parse(row.Tags), { 'fanout:destination': '11111111-1111-4111-8111-111111111111', 'fanout:engine': 'aws', 'fanout:platform': 'youtube', 'fanout:preset': 'youtube-1080p30' });
  });

  test('decimals are written without exponents', () => {
    assert.equal(decimal(1e-7, 10), '0.0000001');
    assert.equal(decimal(0.1404, 10), '0.1404');
    assert.equal(decimal(100, 6), '100');
  });
});
