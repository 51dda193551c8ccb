/**
 * The AWS Price List, turned into rates of our table (pure). `GetProducts` answers each product as
 * a JSON string (`PriceList[]`, format `aws_v1`): the product's attributes (`usagetype`,
 * `operation`, `regionCode`, ...) and its terms (`OnDemand` and `Reserved`, each with price
 * dimensions: `unit`, `pricePerUnit.USD`, tiers as `beginRange`/`endRange`, and the term's
 * `effectiveDate`). This module maps the on-demand price of the products Fanout is billed for to
 * our rate keys (rates.ts), source `aws-price-list`, effective from the price list's date, and
 * says which products it could not map, so a refresh that meets a product it does not know shows
 * it instead of pricing it silently wrong:
 *
 *   AWSElementalMediaLive      usage types `EML{1|2}-<region>-{IN|OUT}-<codec>-<res>[-L<n>][-<fps>]`
 *                              (ratesFromPriceListProduct in rates.ts); INACTIVE_CHANNEL (per class)
 *                              and INACTIVE_INPUT by their `operation`
 *   AWSElementalMediaConnect   the hourly price of a (transport stream) flow → mediaconnect:flow-hour;
 *                              the per-GB price of data sent to AWS services in the Region
 *                              (MediaLive) → mediaconnect:transfer-to-aws-gb
 *   AWSElementalMediaPackage   per GB ingested → mediapackage:ingest-gb; per GB originated
 *                              (packaged / delivered) → mediapackage:origination-gb
 *
 * Tiered per-GB prices take the first tier (from 0), which is where a Fanout deployment's volumes
 * sit; the tier is named in the rate's note. The MediaConnect and MediaPackage attribute values
 * are matched loosely (case-insensitive words of the usage type, operation, group and
 * description), because the stored copies of the price list hold few rows of them: check
 * `unmatched` after the first refresh (docs/cost.md, "Refreshing from the AWS Price List").
 */
import type { ChannelClass } from './bands.ts';
import { IDLE_BILLING, FLOW_BILLING } from './default-rates.ts';
import { rateKeys, ratesFromPriceListProduct, SERVICE_NAMES, type BillingRule, type PriceListProduct, type Rate } from './rates.ts';

/** The Price List service codes read, and the rates each can give. */
export const PRICE_LIST_SERVICES = ['AWSElementalMediaLive', 'AWSElementalMediaConnect', 'AWSElementalMediaPackage'] as const;
export type PriceListService = (typeof PRICE_LIST_SERVICES)[number];

/** A price dimension of an on-demand term (the members read here). */
interface Dimension {
  unit?: string;
  pricePerUnit?: Record<string, string>;
  description?: string;
  beginRange?: string;
  endRange?: string;
}

export interface PriceListMapping {
  rates: Rate[];
  /** Products read (on-demand or not). */
  products: number;
  /** Products that gave at least one rate. */
  mapped: number;
  /** Usage types of the products with an on-demand price that gave no rate (at most 50, sorted). */
  unmatched: string[];
  /** Entries of `PriceList` that were not JSON products (counted, skipped). */
  malformed: number;
}

// The stored outcome of a refresh (CostsTable `pricelist`).
/** What a refresh found per service (kept with the rates, shown by the API). */
export interface PriceListServiceSummary {
  serviceCode: PriceListService;
  products: number;
  mapped: number;
  rates: number;
  unmatched: string[];
  malformed: number;
  /** True when the service answered no product and its previous rates were kept. */
  keptPrevious: boolean;
}

export interface PriceListRecordData {
  refreshedAt: string;
  /** The Region whose products were read (the deployment's). */
  region: string;
  rates: Rate[];
  services: PriceListServiceSummary[];
}

const attr = (p: PriceListProduct, name: string): string => p.product.attributes[name] ?? '';

/** The on-demand term and its first-tier dimension (lowest beginRange), or undefined without a USD price. */
function onDemand(p: PriceListProduct): { effectiveDate: string | null; dim: Dimension; usd: number; tiered: boolean } | undefined {
  const term = Object.values(p.terms?.OnDemand ?? {})[0] as { effectiveDate?: string; priceDimensions?: Record<string, Dimension> } | undefined;
  const dims = Object.values(term?.priceDimensions ?? {});
  if (!term || dims.length === 0) return undefined;
  const first = [...dims].sort((a, b) => Number(a.beginRange ?? 0) - Number(b.beginRange ?? 0))[0]!;
  const usd = Number(first.pricePerUnit?.USD);
  if (first.pricePerUnit?.USD === undefined || !Number.isFinite(usd) || usd < 0) return undefined;
  return { effectiveDate: term.effectiveDate ? term.effectiveDate.slice(0, 10) : null, dim: first, usd, tiered: dims.length > 1 };
}

const isHourly = (unit: string | undefined) => /^(hrs?|hours?)$/i.test(unit ?? '');
const isGb = (unit: string | undefined) => /^gb$/i.test(unit ?? '');

/** The words a loose match reads: usage type, operation, group, transfer type and the price's description. */
function words(p: PriceListProduct, dim: Dimension): string {
  return [attr(p, 'usagetype'), attr(p, 'operation'), attr(p, 'group'), attr(p, 'groupDescription'), attr(p, 'transferType'), attr(p, 'productFamily'), dim.description ?? ''].join(' ');
}

function rate(
  p: PriceListProduct,
  o: { key: string; service: Rate['service']; operation: string; description: string; unit: Rate['unit']; billing?: BillingRule },
  od: NonNullable<ReturnType<typeof onDemand>>,
  serviceCode: string,
  retrieved: string,
): Rate {
  const tier = od.tiered ? ` (first tier, from ${od.dim.beginRange ?? '0'} ${od.dim.unit ?? ''})` : '';
  const note = `${od.dim.description ?? ''}${tier}`.trim().slice(0, 300);
  return {
    key: o.key,
    service: o.service,
    operation: o.operation,
    description: o.description,
    unit: o.unit,
    price: od.usd,
    effectiveDate: od.effectiveDate,
    source: { kind: 'aws-price-list', title: `AWS Price List ${serviceCode} ${attr(p, 'usagetype') || attr(p, 'operation')} (${attr(p, 'regionCode') || 'region not stated'})`, retrieved, ...(note ? { note } : {}) },
    estimated: false,
    ...(o.billing ? { billing: o.billing } : {}),
  };
}

/** The rates one product of `service` gives (none: not one Fanout is billed for, or not understood). */
export function ratesFromProduct(service: PriceListService, p: PriceListProduct, retrieved: string): Rate[] {
  const od = onDemand(p);
  if (!od) return [];
  const w = words(p, od.dim);
  if (/\breserv/i.test(w) || /-R$/.test(attr(p, 'usagetype'))) return [];
  switch (service) {
    case 'AWSElementalMediaLive': {
      const operation = attr(p, 'operation');
      if (operation.startsWith('INACTIVE_CHANNEL') && isHourly(od.dim.unit)) {
        // The class is in the usage type's tier (EML1 single pipeline, EML2 standard) or the `pipeline` attribute.
        const pipeline = attr(p, 'pipeline') || attr(p, 'Pipeline');
        const cls: ChannelClass | undefined = /^EML2-/.test(attr(p, 'usagetype')) || /standard/i.test(pipeline) ? 'STANDARD' : /^EML1-/.test(attr(p, 'usagetype')) || /single/i.test(pipeline) ? 'SINGLE_PIPELINE' : undefined;
        const classes: ChannelClass[] = cls ? [cls] : ['SINGLE_PIPELINE', 'STANDARD'];
        return classes.map((c) =>
          rate(p, { key: rateKeys.idleChannel(c), service: SERVICE_NAMES.medialive, operation: 'INACTIVE_CHANNEL', description: `MediaLive idle channel, ${c}`, unit: 'Hours', billing: IDLE_BILLING }, od, service, retrieved),
        );
      }
      if (operation.startsWith('INACTIVE_INPUT') && isHourly(od.dim.unit))
        return [rate(p, { key: rateKeys.idlePushInput, service: SERVICE_NAMES.medialive, operation: 'INACTIVE_INPUT', description: 'MediaLive idle push input', unit: 'Hours', billing: IDLE_BILLING }, od, service, retrieved)];
      const running = ratesFromPriceListProduct(p, retrieved);
      // Same figures, named like the other refreshed rates (region in the title).
      return running.map((r) => ({ ...r, source: { ...r.source, title: `${r.source.title} (${attr(p, 'regionCode') || 'region not stated'})` } }));
    }
    case 'AWSElementalMediaConnect': {
      // Not what Fanout runs: CDI / JPEG XS flows and their outputs, NDI, bridges, gateways, routers.
      if (/\b(cdi|jpeg|jpegxs|xs|ndi|bridge|gateway|router)\b/i.test(w.replace(/[-_]/g, ' '))) return [];
      if (isHourly(od.dim.unit) && /flow/i.test(w) && !/output|bandwidth/i.test(w))
        return [rate(p, { key: rateKeys.flowHour, service: SERVICE_NAMES.mediaconnect, operation: 'FLOW_HOUR', description: 'MediaConnect flow-hour while ACTIVE', unit: 'Hours', billing: FLOW_BILLING }, od, service, retrieved)];
      if (isGb(od.dim.unit) && /(to|within|in)[- ]?(the )?(aws|region)|aws services?|same region|intra[- ]?region|regional|medialive/i.test(w) && !/internet/i.test(w))
        return [rate(p, { key: rateKeys.flowTransferGb, service: SERVICE_NAMES.mediaconnect, operation: 'DATA_TRANSFER', description: 'MediaConnect data transfer to AWS services (MediaLive), per GB', unit: 'GB' }, od, service, retrieved)];
      return [];
    }
    case 'AWSElementalMediaPackage': {
      if (!isGb(od.dim.unit)) return [];
      if (/ingest/i.test(w)) return [rate(p, { key: rateKeys.packageIngestGb, service: SERVICE_NAMES.mediapackage, operation: 'INGEST', description: 'MediaPackage ingest, per GB', unit: 'GB' }, od, service, retrieved)];
      if (/origin|packag|deliver|egress/i.test(w))
        return [rate(p, { key: rateKeys.packageOriginationGb, service: SERVICE_NAMES.mediapackage, operation: 'ORIGINATION', description: 'MediaPackage origination, per GB', unit: 'GB' }, od, service, retrieved)];
      return [];
    }
  }
}

/**
 * The rates a `GetProducts` answer (all its pages' `PriceList` strings) gives for `service`. When
 * two products give the same key (two tiers of one price, two spellings of one product), the
 * cheaper one is kept and the choice is named in its note, so the outcome does not depend on page
 * order.
 */
export function ratesFromPriceList(service: PriceListService, priceList: readonly string[], retrieved: string): PriceListMapping {
  const byKey = new Map<string, Rate>();
  const unmatched = new Set<string>();
  let mapped = 0;
  let malformed = 0;
  for (const text of priceList) {
    let p: PriceListProduct;
    try {
      p = JSON.parse(text) as PriceListProduct;
      if (!p || typeof p !== 'object' || !p.product?.attributes) throw new Error('not a product');
    } catch {
      malformed++;
      continue;
    }
    const got = ratesFromProduct(service, p, retrieved);
    if (got.length === 0) {
      if (onDemand(p)) unmatched.add(attr(p, 'usagetype') || attr(p, 'operation') || '(no usage type)');
      continue;
    }
    mapped++;
    for (const r of got) {
      const had = byKey.get(r.key);
      if (!had || r.price < had.price || (r.price === had.price && r.source.title < had.source.title))
        byKey.set(r.key, had ? { ...r, source: { ...r.source, note: `${r.source.note ?? ''} (the lowest of several products for this key)`.trim().slice(0, 500) } } : r);
    }
  }
  return { rates: [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key)), products: priceList.length, mapped, unmatched: [...unmatched].sort().slice(0, 50), malformed };
}

/** The `GetProducts` filters for one service in one Region (products of that Region only). */
export function priceListFilters(region: string): { Type: 'TERM_MATCH'; Field: string; Value: string }[] {
  return [{ Type: 'TERM_MATCH', Field: 'regionCode', Value: region }];
}
