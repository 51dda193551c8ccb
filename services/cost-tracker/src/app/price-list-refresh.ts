/**
 * The AWS Price List refresh (AWS runtime; optional): `GetProducts` for MediaLive, MediaConnect and
 * MediaPackage in the deployment's Region, every page, mapped to our rate keys by
 * domain/price-list.ts, and stored as one record (`pricelist` in CostsTable) that the rate table
 * adds to the shipped figures. Admin overrides still win (rates.ts `lookupRate`). Run by the
 * `costTrackerPriceList` function once a day and on demand by `POST /api/admin/cost/rates/refresh`
 * (beside the other admin rate routes).
 *
 * A refresh that cannot read the price list (no client in this runtime, a denied or failed call)
 * is `PRICE_LIST_UNAVAILABLE` and leaves the stored rates as they were; a service that answers no
 * product leaves its previous rates in place rather than erasing them.
 */
import { GetProductsCommand, type PricingClient } from '@aws-sdk/client-pricing';
import { AppError } from '../../../../shared/errors/index.ts';
import { PRICE_LIST_SERVICES, priceListFilters, ratesFromPriceList, type PriceListRecordData, type PriceListService, type PriceListServiceSummary } from '../domain/price-list.ts';
import type { Rate } from '../domain/rates.ts';

/** Pages read per service at most (100 products each): MediaLive has a few hundred per Region. */
const MAX_PAGES = 40;
/** The stored rates' JSON at most (a DynamoDB item holds 400 KB). */
const MAX_STORED_BYTES = 300_000;

/** Every `PriceList` string of one service's products in `region`, all pages. */
export async function readPriceList(client: Pick<PricingClient, 'send'>, serviceCode: PriceListService, region: string): Promise<string[]> {
  const out: string[] = [];
  let next: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.send(new GetProductsCommand({ ServiceCode: serviceCode, Filters: priceListFilters(region), FormatVersion: 'aws_v1', MaxResults: 100, ...(next ? { NextToken: next } : {}) }));
    for (const item of res.PriceList ?? []) out.push(typeof item === 'string' ? item : JSON.stringify(item));
    next = res.NextToken;
    if (!next) return out;
  }
  throw new Error(`${serviceCode}: more than ${MAX_PAGES} pages of products`);
}

/**
 * Reads the three services and answers the record to store: per service its mapped rates, or the
 * previous ones when it answered no product. Throws PRICE_LIST_UNAVAILABLE when a call fails.
 */
export async function refreshPriceList(o: {
  client: Pick<PricingClient, 'send'>;
  region: string;
  now: Date;
  previous: PriceListRecordData | undefined;
  /** Keys the shipped table prices: kept first when the record would be too large. */
  knownKeys: ReadonlySet<string>;
}): Promise<PriceListRecordData> {
  const retrieved = o.now.toISOString().slice(0, 10);
  const rates: Rate[] = [];
  const services: PriceListServiceSummary[] = [];
  for (const serviceCode of PRICE_LIST_SERVICES) {
    let list: string[];
    try {
      list = await readPriceList(o.client, serviceCode, o.region);
    } catch (err) {
      // The SDK's error name and message (no credentials in either), for the operator.
      const name = err instanceof Error ? err.name : 'Error';
      const message = err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
      throw new AppError('PRICE_LIST_UNAVAILABLE', `The AWS Price List could not be read for ${serviceCode}: ${name}: ${message}`, { serviceCode, reason: name });
    }
    const m = ratesFromPriceList(serviceCode, list, retrieved);
    const prev = o.previous?.rates.filter((r) => serviceOfKey(r.key) === serviceCode) ?? [];
    const keptPrevious = m.rates.length === 0 && prev.length > 0;
    rates.push(...(keptPrevious ? prev : m.rates));
    services.push({ serviceCode, products: m.products, mapped: m.mapped, rates: m.rates.length, unmatched: m.unmatched, malformed: m.malformed, keptPrevious });
  }
  let kept = rates;
  if (JSON.stringify(kept).length > MAX_STORED_BYTES) kept = rates.filter((r) => o.knownKeys.has(r.key));
  if (JSON.stringify(kept).length > MAX_STORED_BYTES) kept = kept.map((r) => ({ ...r, source: { ...r.source, note: undefined } as Rate['source'] })).map((r) => JSON.parse(JSON.stringify(r)) as Rate);
  return { refreshedAt: o.now.toISOString(), region: o.region, rates: kept, services };
}

/** The price-list service a rate key belongs to. */
function serviceOfKey(key: string): PriceListService | undefined {
  if (key.startsWith('medialive:')) return 'AWSElementalMediaLive';
  if (key.startsWith('mediaconnect:')) return 'AWSElementalMediaConnect';
  if (key.startsWith('mediapackage:')) return 'AWSElementalMediaPackage';
  return undefined;
}
