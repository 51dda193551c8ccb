import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { applyOverrides, lookupRate, ratesFromPriceListProduct, RateTableSchema, type PriceListProduct, type RateTable } from './rates.ts';

const KEY = 'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS:MAX_30_FPS';

describe('the shipped rate table', () => {
  test('validates, and every rate has a source; only AWS-document figures are taken as not estimated', () => {
    const t = RateTableSchema.parse(DEFAULT_RATE_TABLE);
    for (const r of t.rates) {
      assert.ok(r.source.title.length > 10, r.key);
      assert.equal(r.estimated, !['aws-doc', 'aws-price-list', 'admin'].includes(r.source.kind), r.key);
    }
    assert.deepEqual(
      t.rates.filter((r) => !r.estimated).map((r) => [r.key, r.price]),
      [
        ['medialive:input:STANDARD:AVC:HD:MAX_20_MBPS', 0.294],
        ['medialive:output:STANDARD:AVC:HD:MAX_10_MBPS:MAX_30_FPS', 0.702],
        ['medialive:output:STANDARD:AVC:SD:MAX_10_MBPS:MAX_30_FPS', 0.354],
      ],
    );
  });

  test('keys are unique in the shipped table', () => {
    const keys = DEFAULT_RATE_TABLE.rates.map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length);
  });

  test('running MediaLive rates carry the 10-minute-minimum rule', () => {
    const running = DEFAULT_RATE_TABLE.rates.filter((x) => x.operation === 'CHANNEL_INPUT' || x.operation === 'CHANNEL_OUTPUT');
    assert.deepEqual([...new Set(running.map((r) => r.operation))].sort(), ['CHANNEL_INPUT', 'CHANNEL_OUTPUT'], 'the table has running input and output rates');
    for (const r of running) assert.deepEqual([r.billing?.incrementMinutes, r.billing?.minimumMinutes], [1, 10], r.key);
  });
});

describe('effective dates and overrides', () => {
  const table: RateTable = {
    ...DEFAULT_RATE_TABLE,
    rates: [...DEFAULT_RATE_TABLE.rates, { ...DEFAULT_RATE_TABLE.rates.find((r) => r.key === KEY)!, price: 0.5, effectiveDate: '2026-12-01', source: { kind: 'aws-price-list', title: 'refresh' }, estimated: false }],
  };
  const cases: [string, string, number][] = [
    ['before the new rate', '2026-11-30T23:59:59Z', 0.4212],
    ['from its effective day (UTC)', '2026-12-01T00:00:00Z', 0.5],
    ['after it', '2027-03-01T00:00:00Z', 0.5],
  ];
  for (const [name, at, price] of cases) test(name, () => assert.equal(lookupRate(table, KEY, at)?.price, price));

  test('an override wins over an equally dated rate and keeps the original in the table', () => {
    const r = applyOverrides(DEFAULT_RATE_TABLE, [{ key: KEY, price: 0.45, effectiveDate: null, by: 'tok-admin', note: 'from our October bill', setOn: '2026-11-20' }]);
    assert.ok(r.ok);
    assert.equal(lookupRate(r.table, KEY, '2026-11-21T00:00:00Z')?.price, 0.45);
    assert.equal(r.table.rates.filter((x) => x.key === KEY).length, 2);
    assert.equal(DEFAULT_RATE_TABLE.rates.filter((x) => x.key === KEY).length, 1, 'the shipped table is untouched');
  });

  test('bad overrides are refused all at once and change nothing', () => {
    const r = applyOverrides(DEFAULT_RATE_TABLE, [
      { key: 'medialive:output:TYPO', price: 1, effectiveDate: null, by: 'a', setOn: '2026-11-20' },
      { key: KEY, price: -1, effectiveDate: null, by: 'a', setOn: '2026-11-20' },
      { key: KEY, price: 1, effectiveDate: '1 Dec', by: 'a', setOn: '2026-11-20' },
    ]);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.problems.length, 3);
      assert.match(r.problems[0]!, /^overrides\[0\]\.key: no rate "medialive:output:TYPO"/);
      assert.match(r.problems[1]!, /^overrides\[1\]\.price/);
      assert.match(r.problems[2]!, /^overrides\[2\]\.effectiveDate: must be YYYY-MM-DD/);
    }
  });
});

describe('AWS Price List products', () => {
  const product = (usagetype: string, usd: string): PriceListProduct => ({
    product: { attributes: { usagetype } },
    terms: { OnDemand: { X: { effectiveDate: '2024-10-01T00:00:00Z', priceDimensions: { Y: { unit: 'Hrs', pricePerUnit: { USD: usd }, description: `$${usd}/hour` } } } } },
  });
  test('an on-demand single-pipeline input row becomes a dated, non-estimated rate', () => {
    const [r] = ratesFromPriceListProduct(product('EML1-USE1-IN-AVC-HD-L10', '0.1404'), '2026-12-01');
    assert.equal(r!.key, 'medialive:input:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS');
    assert.equal(r!.price, 0.1404);
    assert.equal(r!.effectiveDate, '2024-10-01');
    assert.equal(r!.estimated, false);
    assert.equal(r!.source.kind, 'aws-price-list');
  });
  test('reserved rows give nothing', () => assert.deepEqual(ratesFromPriceListProduct(product('EML1-EUW3-IN-AVC-UHD-L10-R', '0.233'), '2026-12-01'), []));
  test('an output row without a bitrate level applies to every bitrate band', () => {
    const rs = ratesFromPriceListProduct(product('EML2-USE1-OUT-AVC-HD-60-S', '1.4'), '2026-12-01');
    assert.deepEqual(
      rs.map((r) => r.key),
      ['MAX_10_MBPS', 'MAX_20_MBPS', 'MAX_50_MBPS'].map((b) => `medialive:output:STANDARD:AVC:HD:${b}:MAX_60_FPS`),
    );
  });
  test('an output row with a level gives one rate', () => {
    assert.deepEqual(
      ratesFromPriceListProduct(product('EML1-USW2-OUT-AVC-HD-L10-30-S', '0.4212'), 'x').map((r) => r.key),
      [KEY],
    );
  });
});
