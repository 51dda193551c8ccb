/**
 * Hand-written `GetProducts` answers in the AWS Price List format (`aws_v1`: each `PriceList` entry
 * a JSON string with `product`, `serviceCode`, `terms.OnDemand` / `terms.Reserved`, `version`,
 * `publicationDate`), for eu-west-1. The figures are made up for the tests (close to the shipped
 * us-east-1 estimates, so a wrong mapping shows), not copies of AWS's files.
 */
export const FIXTURE_REGION = 'eu-west-1';
export const FIXTURE_EFFECTIVE = '2026-11-01T00:00:00Z';

interface Tier {
  usd: string;
  begin?: string;
  end?: string;
}

let skuSeq = 0;

/** One product as the Price List writes it (a JSON string). */
export function product(o: {
  serviceCode: string;
  usagetype: string;
  operation: string;
  unit: string;
  tiers?: Tier[];
  usd?: string;
  description?: string;
  family?: string;
  extra?: Record<string, string>;
  reservedOnly?: boolean;
  effectiveDate?: string;
  region?: string;
}): string {
  const sku = `SKU${String(++skuSeq).padStart(6, '0')}FIXTURE`;
  const tiers = o.tiers ?? [{ usd: o.usd ?? '0' }];
  const dims = Object.fromEntries(
    tiers.map((t, i) => {
      const rateCode = `${sku}.JRTCKXETXF.${String(i).padStart(10, '6YS6EN2CT7')}`;
      return [rateCode, { rateCode, description: o.description ?? `${o.usagetype} per ${o.unit}`, beginRange: t.begin ?? '0', endRange: t.end ?? 'Inf', unit: o.unit, pricePerUnit: { USD: t.usd }, appliesTo: [] }];
    }),
  );
  const term = { [`${sku}.JRTCKXETXF`]: { offerTermCode: 'JRTCKXETXF', sku, effectiveDate: o.effectiveDate ?? FIXTURE_EFFECTIVE, priceDimensions: dims, termAttributes: {} } };
  const reserved = { [`${sku}.4NA7Y494T4`]: { offerTermCode: '4NA7Y494T4', sku, effectiveDate: o.effectiveDate ?? FIXTURE_EFFECTIVE, priceDimensions: dims, termAttributes: { LeaseContractLength: '1yr', PurchaseOption: 'No Upfront' } } };
  return JSON.stringify({
    product: {
      productFamily: o.family ?? 'Live Video',
      attributes: {
        servicecode: o.serviceCode,
        location: 'EU (Ireland)',
        locationType: 'AWS Region',
        regionCode: o.region ?? FIXTURE_REGION,
        usagetype: o.usagetype,
        operation: o.operation,
        servicename: o.serviceCode.replace('AWSElemental', 'AWS Elemental '),
        ...o.extra,
      },
      sku,
    },
    serviceCode: o.serviceCode,
    terms: o.reservedOnly ? { Reserved: reserved } : { OnDemand: term },
    version: '20261101000000',
    publicationDate: '2026-11-01T12:00:00Z',
  });
}

const ml = 'AWSElementalMediaLive';
const mc = 'AWSElementalMediaConnect';
const mp = 'AWSElementalMediaPackage';

/** MediaLive: running inputs and outputs, an output row without a level, idle charges, and rows Fanout does not use. */
export const MEDIALIVE_PRODUCTS: string[] = [
  product({ serviceCode: ml, usagetype: 'EML1-EUW1-IN-AVC-HD-L10', operation: 'CHANNEL_INPUT', unit: 'Hrs', usd: '0.1548000000', description: '$0.1548 per hour for HD AVC input up to 10 Mbps, single pipeline' }),
  product({ serviceCode: ml, usagetype: 'EML1-EUW1-OUT-AVC-HD-L10-30', operation: 'CHANNEL_OUTPUT', unit: 'Hrs', usd: '0.4644000000', extra: { videoQuality: 'Standard' } }),
  product({ serviceCode: ml, usagetype: 'EML1-EUW1-OUT-AVC-HD-60', operation: 'CHANNEL_OUTPUT', unit: 'Hrs', usd: '0.9288000000' }),
  product({ serviceCode: ml, usagetype: 'EML2-EUW1-OUT-AVC-SD-L10-30', operation: 'CHANNEL_OUTPUT', unit: 'Hrs', usd: '0.3900000000' }),
  product({ serviceCode: ml, usagetype: 'EML1-EUW1-OUT-AVC-HD-L10-30-E', operation: 'CHANNEL_OUTPUT', unit: 'Hrs', usd: '0.6000000000', extra: { videoQuality: 'Enhanced' } }),
  product({ serviceCode: ml, usagetype: 'EML1-EUW1-IN-AVC-HD-L10-R', operation: 'CHANNEL_INPUT', unit: 'Hrs', usd: '0.0900000000', reservedOnly: true }),
  product({ serviceCode: ml, usagetype: 'EML1-EUW1-InactiveChannel', operation: 'INACTIVE_CHANNEL', unit: 'Hrs', usd: '0.0110000000', extra: { pipeline: 'Single' } }),
  product({ serviceCode: ml, usagetype: 'EUW1-InactiveInput', operation: 'INACTIVE_INPUT', unit: 'Hrs', usd: '0.0120000000' }),
  product({ serviceCode: ml, usagetype: 'EML1-EUW1-FEATURE-AUDIO', operation: 'CHANNEL_FEATURE', unit: 'Hrs', usd: '0.0500000000' }),
];

/** MediaConnect: the flow-hour, transfer to AWS services, internet transfer (tiered), a CDI flow. */
export const MEDIACONNECT_PRODUCTS: string[] = [
  product({ serviceCode: mc, family: 'Media Transport', usagetype: 'EUW1-MediaConnect-FlowHours', operation: 'Flow', unit: 'Hrs', usd: '0.1700000000', description: '$0.17 per flow-hour' }),
  product({
    serviceCode: mc,
    family: 'Data Transfer',
    usagetype: 'EUW1-MediaConnect-DataTransfer-AWS',
    operation: 'DataTransfer',
    unit: 'GB',
    usd: '0.0100000000',
    description: '$0.01 per GB transferred to AWS services in the same region',
    extra: { transferType: 'AWS Services' },
  }),
  product({
    serviceCode: mc,
    family: 'Data Transfer',
    usagetype: 'EUW1-MediaConnect-DataTransfer-Out-Internet',
    operation: 'DataTransfer',
    unit: 'GB',
    tiers: [
      { usd: '0.0900000000', begin: '0', end: '10240' },
      { usd: '0.0850000000', begin: '10240', end: 'Inf' },
    ],
    description: 'Data transfer out to the internet',
    extra: { transferType: 'Internet' },
  }),
  product({ serviceCode: mc, family: 'Media Transport', usagetype: 'EUW1-MediaConnect-CDI-FlowHours', operation: 'Flow', unit: 'Hrs', usd: '0.9000000000', description: 'CDI flow-hour' }),
];

/** MediaPackage: ingest and origination (tiered). */
export const MEDIAPACKAGE_PRODUCTS: string[] = [
  product({ serviceCode: mp, family: 'Video Packaging', usagetype: 'EUW1-MediaPackage-Ingest-Bytes', operation: 'Ingest', unit: 'GB', usd: '0.0320000000', description: '$0.032 per GB ingested' }),
  product({
    serviceCode: mp,
    family: 'Video Packaging',
    usagetype: 'EUW1-MediaPackage-Origination-Bytes',
    operation: 'Origination',
    unit: 'GB',
    tiers: [
      { usd: '0.0500000000', begin: '500', end: 'Inf' },
      { usd: '0.0550000000', begin: '0', end: '500' },
    ],
    description: 'Packaging and origination per GB',
  }),
];

export const PRODUCTS_BY_SERVICE: Record<string, string[]> = { [ml]: MEDIALIVE_PRODUCTS, [mc]: MEDIACONNECT_PRODUCTS, [mp]: MEDIAPACKAGE_PRODUCTS };
