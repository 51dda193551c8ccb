/**
 * The AWS Price List mapping against hand-written GetProducts answers (testing/price-list-fixtures.ts):
 * which product gives which rate key and price, the effective date taken from the price list,
 * reserved and unused rows left out, unmatched rows reported, tiers, and the refreshed rates
 * pricing a session while an admin override still wins.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RATE_TABLE } from './default-rates.ts';
import { ratesFromPriceList } from './price-list.ts';
import { applyOverrides, lookupRate, RateSchema, type RateTable } from './rates.ts';
import { FIXTURE_REGION, MEDIACONNECT_PRODUCTS, MEDIALIVE_PRODUCTS, MEDIAPACKAGE_PRODUCTS } from './testing/price-list-fixtures.ts';

const READ = '2026-12-02';
const priceOf = (rates: { key: string; price: number }[]) => Object.fromEntries(rates.map((r) => [r.key, r.price]));

describe('MediaLive products', () => {
  const m = ratesFromPriceList('AWSElementalMediaLive', MEDIALIVE_PRODUCTS, READ);
  test('running inputs and outputs, idle channel and idle input, by our keys', () => {
    assert.deepEqual(priceOf(m.rates), {
      'medialive:idle-channel:SINGLE_PIPELINE': 0.011,
      'medialive:idle-push-input': 0.012,
      'medialive:input:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS': 0.1548,
      'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS:MAX_30_FPS': 0.4644,
      // A row without a bitrate level applies to every band.
      'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS:MAX_60_FPS': 0.9288,
      'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_20_MBPS:MAX_60_FPS': 0.9288,
      'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_50_MBPS:MAX_60_FPS': 0.9288,
      'medialive:output:STANDARD:AVC:SD:MAX_10_MBPS:MAX_30_FPS': 0.39,
    });
  });
  test('every rate is sourced from the price list, dated by it, not estimated, and valid', () => {
    for (const r of m.rates) {
      assert.equal(r.source.kind, 'aws-price-list', r.key);
      assert.equal(r.effectiveDate, '2026-11-01', r.key);
      assert.equal(r.source.retrieved, READ);
      assert.match(r.source.title, /AWSElementalMediaLive .*eu-west-1/);
      assert.equal(r.estimated, false);
      assert.equal(RateSchema.safeParse(r).success, true, r.key);
    }
    assert.deepEqual([m.rates.find((r) => r.key.startsWith('medialive:input'))!.billing?.minimumMinutes, m.rates.find((r) => r.key.startsWith('medialive:idle'))!.billing?.minimumMinutes], [10, 0]);
  });
  test('reserved rows give nothing; rows with an on-demand price that map to no key are reported', () => {
    assert.equal(m.products, MEDIALIVE_PRODUCTS.length);
    assert.deepEqual(m.unmatched, ['EML1-EUW1-FEATURE-AUDIO', 'EML1-EUW1-OUT-AVC-HD-L10-30-E']);
    assert.equal(m.mapped, MEDIALIVE_PRODUCTS.length - 3);
  });
});

describe('MediaConnect and MediaPackage products', () => {
  test('the flow-hour and the transfer to AWS services; internet transfer and CDI flows are not ours', () => {
    const m = ratesFromPriceList('AWSElementalMediaConnect', MEDIACONNECT_PRODUCTS, READ);
    assert.deepEqual(priceOf(m.rates), { 'mediaconnect:flow-hour': 0.17, 'mediaconnect:transfer-to-aws-gb': 0.01 });
    assert.deepEqual(m.unmatched, ['EUW1-MediaConnect-CDI-FlowHours', 'EUW1-MediaConnect-DataTransfer-Out-Internet']);
    assert.equal(m.rates.find((r) => r.key === 'mediaconnect:flow-hour')!.billing?.minimumMinutes, 0);
  });
  test('ingest and origination; a tiered price takes the tier from 0 and says so', () => {
    const m = ratesFromPriceList('AWSElementalMediaPackage', MEDIAPACKAGE_PRODUCTS, READ);
    assert.deepEqual(priceOf(m.rates), { 'mediapackage:ingest-gb': 0.032, 'mediapackage:origination-gb': 0.055 });
    assert.match(m.rates.find((r) => r.key === 'mediapackage:origination-gb')!.source.note ?? '', /first tier, from 0 GB/);
  });
  test('entries that are not JSON products are counted and skipped', () => {
    const m = ratesFromPriceList('AWSElementalMediaPackage', ['not json', '{"x":1}', ...MEDIAPACKAGE_PRODUCTS], READ);
    assert.equal(m.malformed, 2);
    assert.equal(m.rates.length, 2);
  });
  test('two products for one key: the cheaper, whatever the order', () => {
    const a = ratesFromPriceList('AWSElementalMediaConnect', [...MEDIACONNECT_PRODUCTS, MEDIACONNECT_PRODUCTS[0]!.replace('0.1700000000', '0.1600000000')], READ);
    const b = ratesFromPriceList('AWSElementalMediaConnect', [MEDIACONNECT_PRODUCTS[0]!.replace('0.1700000000', '0.1600000000'), ...MEDIACONNECT_PRODUCTS], READ);
    assert.equal(priceOf(a.rates)['mediaconnect:flow-hour'], 0.16);
    assert.equal(priceOf(b.rates)['mediaconnect:flow-hour'], 0.16);
  });
});

describe('refreshed rates in the table', () => {
  const refreshed = [MEDIALIVE_PRODUCTS, MEDIACONNECT_PRODUCTS].flatMap((list, i) => ratesFromPriceList(i === 0 ? 'AWSElementalMediaLive' : 'AWSElementalMediaConnect', list, READ).rates);
  const table: RateTable = { ...DEFAULT_RATE_TABLE, region: FIXTURE_REGION, rates: [...DEFAULT_RATE_TABLE.rates, ...refreshed] };
  const KEY = 'medialive:output:SINGLE_PIPELINE:AVC:HD:MAX_10_MBPS:MAX_30_FPS';
  test('the shipped estimate before the price list date, the price list from it', () => {
    assert.equal(lookupRate(table, KEY, '2026-10-31T23:59:59Z')?.price, 0.4212);
    assert.equal(lookupRate(table, KEY, '2026-11-01T00:00:00Z')?.source.kind, 'aws-price-list');
    assert.equal(lookupRate(table, KEY, '2026-12-15T00:00:00Z')?.price, 0.4644);
  });
  test('an admin override wins over a refreshed rate, even an undated override against a dated refresh', () => {
    const r = applyOverrides(table, [{ key: KEY, price: 0.4, effectiveDate: null, by: 'tok-admin', setOn: '2026-11-20' }]);
    assert.ok(r.ok);
    assert.equal(lookupRate(r.table, KEY, '2026-12-15T00:00:00Z')?.price, 0.4);
    assert.equal(lookupRate(r.table, KEY, '2026-12-15T00:00:00Z')?.source.kind, 'admin');
    // A dated override applies from its date; before it, the refreshed figure.
    const later = applyOverrides(table, [{ key: KEY, price: 0.41, effectiveDate: '2026-12-10', by: 'tok-admin', setOn: '2026-11-20' }]);
    assert.ok(later.ok);
    assert.equal(lookupRate(later.table, KEY, '2026-12-09T00:00:00Z')?.price, 0.4644);
    assert.equal(lookupRate(later.table, KEY, '2026-12-10T00:00:00Z')?.price, 0.41);
  });
});
