/**
 * The cost model's data: a rate table in which every rate says where it comes from, since when it
 * applies and whether it is only an estimate. Nothing in the pricing code knows a price; it looks
 * rates up here by key. Admins override any rate (an override is one more rate with a later
 * effective date and source `admin`), and an optional AWS Price List refresh can add rates the
 * same way (`ratesFromPriceListProduct`, price-list.ts), so a table's history stays readable. An
 * admin's rate in force always wins (`lookupRate`).
 *
 * Keys mirror the price list's own dimensions, so a refresh can fill them:
 *
 *   medialive:input:<class>:<codec>:<resolution>:<bitrate>              CHANNEL_INPUT, per hour
 *   medialive:output:<class>:<codec>:<resolution>:<bitrate>:<fps>       CHANNEL_OUTPUT, per hour
 *   medialive:idle-channel:<class>                                      INACTIVE_CHANNEL, per hour
 *   medialive:idle-push-input                                           INACTIVE_INPUT, per hour
 *   mediaconnect:flow-hour                                              per flow-hour while ACTIVE
 *   mediaconnect:source-hour                                            per extra source-hour while ACTIVE (the backup)
 *   mediaconnect:transfer-to-aws-gb                                     per GB, flow → MediaLive
 *   aws:data-transfer-out-internet-gb                                   per GB, RTMP to platforms
 *   mediapackage:ingest-gb / mediapackage:origination-gb                per GB
 *   local:machine-hour                                                  the local engine's machine
 */
import { z } from 'zod';
import type { ChannelClass, EncodeBand, InputSpec } from './bands.ts';
import { BITRATE_BANDS } from './bands.ts';

/** FOCUS `ServiceName` values (the provider's names for its services). */
export const SERVICE_NAMES = {
  medialive: 'AWS Elemental MediaLive',
  mediaconnect: 'AWS Elemental MediaConnect',
  mediapackage: 'AWS Elemental MediaPackage',
  dataTransfer: 'AWS Data Transfer',
  local: 'Fanout local engine',
} as const;
export type ServiceName = (typeof SERVICE_NAMES)[keyof typeof SERVICE_NAMES];

export const RATE_UNITS = ['Hours', 'GB', 'Core-Hours'] as const;
export type RateUnit = (typeof RATE_UNITS)[number];

/**
 * How trustworthy a figure is. Only `aws-price-list` (read from the Price List API) and `admin`
 * (someone decided it) are taken as exact; `aws-doc` is a figure quoted in AWS's own documents.
 */
export const SOURCE_KINDS = ['aws-price-list', 'aws-doc', 'third-party', 'derived', 'placeholder', 'admin'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

export const RateSourceSchema = z
  .object({
    kind: z.enum(SOURCE_KINDS),
    /** What the figure is, in words a finance reader can check ("AWS Solutions cost example 2, Table 7"). */
    title: z.string().min(1).max(300),
    url: z.string().max(500).optional(),
    /** When the figure was read (YYYY-MM-DD). */
    retrieved: IsoDate.optional(),
    note: z.string().max(500).optional(),
  })
  .strict();
export type RateSource = z.output<typeof RateSourceSchema>;

/** The rounding rule of a time-based rate. */
export const BillingRuleSchema = z
  .object({
    /** Running time is rounded up to a whole number of these minutes (1 = "rounded up to the nearest minute"). */
    incrementMinutes: z.number().int().min(1).max(60),
    /** Each run bills at least this many minutes (MediaLive on-demand: 10). */
    minimumMinutes: z.number().int().min(0).max(1440),
    /** Where the rule comes from, or that it is an assumption. */
    rule: z.string().min(1).max(300),
  })
  .strict();
export type BillingRule = z.output<typeof BillingRuleSchema>;

export const RateSchema = z
  .object({
    key: z.string().regex(/^[a-z-]+:[a-zA-Z0-9:_-]+$/),
    service: z.enum(Object.values(SERVICE_NAMES) as [ServiceName, ...ServiceName[]]),
    /** The provider's billing operation (MediaLive: CHANNEL_INPUT, CHANNEL_OUTPUT, INACTIVE_CHANNEL, INACTIVE_INPUT). */
    operation: z.string().min(1).max(64),
    description: z.string().min(1).max(300),
    unit: z.enum(RATE_UNITS),
    /** Price per unit, in the table's currency. */
    price: z.number().finite().min(0),
    /** From this day on (UTC) the rate applies; null = since always. */
    effectiveDate: IsoDate.nullable(),
    source: RateSourceSchema,
    /** True unless the figure was read from the Price List API or set by an admin. */
    estimated: z.boolean(),
    billing: BillingRuleSchema.optional(),
  })
  .strict();
export type Rate = z.output<typeof RateSchema>;

export const RateTableSchema = z
  .object({
    id: z.string().min(1).max(100),
    currency: z.literal('USD'),
    region: z.string().min(1).max(32),
    /** Bytes in the "GB" the per-GB rates are quoted for (FOCUS's GB is 10^9). */
    bytesPerGb: z.number().int().positive(),
    rates: z.array(RateSchema),
  })
  .strict();
export type RateTable = z.output<typeof RateTableSchema>;

/** Rate keys, built from the dimensions the pricing rules know. */
export const rateKeys = {
  input: (cls: ChannelClass, spec: InputSpec) => `medialive:input:${cls}:${spec.codec}:${spec.resolution}:${spec.maximumBitrate}`,
  output: (cls: ChannelClass, b: EncodeBand) => `medialive:output:${cls}:${b.codec}:${b.resolution}:${b.bitrate}:${b.framerate}`,
  idleChannel: (cls: ChannelClass) => `medialive:idle-channel:${cls}`,
  idlePushInput: 'medialive:idle-push-input',
  flowHour: 'mediaconnect:flow-hour',
  flowSourceHour: 'mediaconnect:source-hour',
  flowTransferGb: 'mediaconnect:transfer-to-aws-gb',
  internetOutGb: 'aws:data-transfer-out-internet-gb',
  packageIngestGb: 'mediapackage:ingest-gb',
  packageOriginationGb: 'mediapackage:origination-gb',
  localMachineHour: 'local:machine-hour',
} as const;

/** The UTC day of an ISO instant. */
function utcDay(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/**
 * The rate for `key` in force at `at`: of the rates with that key whose effective date is on or
 * before that day, an admin's if there is one (an override wins over the shipped figure and over
 * a Price List refresh, whatever their dates), else the one with the latest date; among equal
 * dates the one listed last (so an override added later wins). Undefined when the table has none.
 */
export function lookupRate(table: RateTable, key: string, at: string): Rate | undefined {
  const day = utcDay(at);
  let best: Rate | undefined;
  for (const r of table.rates) {
    if (r.key !== key) continue;
    if (r.effectiveDate !== null && r.effectiveDate > day) continue;
    if (best && (best.source.kind === 'admin') !== (r.source.kind === 'admin')) {
      if (r.source.kind === 'admin') best = r;
      continue;
    }
    if (!best || (r.effectiveDate ?? '') >= (best.effectiveDate ?? '')) best = r;
  }
  return best;
}

export const RateOverrideSchema = z
  .object({
    key: z.string().min(1).max(200),
    price: z.number().finite().min(0),
    /** From when the override applies (YYYY-MM-DD, UTC); null = since always. */
    effectiveDate: IsoDate.nullable(),
    /** Who set it (a token id, never a token). */
    by: z.string().min(1).max(200),
    /** Why, or where the figure comes from. */
    note: z.string().max(500).optional(),
    /** When it was set (YYYY-MM-DD). */
    setOn: IsoDate,
  })
  .strict();
export type RateOverride = z.output<typeof RateOverrideSchema>;

export type OverrideResult = { ok: true; table: RateTable } | { ok: false; problems: string[] };

/**
 * A table with admin overrides applied. Each override becomes a rate of its own (source `admin`,
 * not estimated) that copies the service, unit and billing rule of the key it overrides, so the
 * original figure and its source stay in the table for the record. An override of a key the
 * table does not know is refused: a typo must not silently price nothing. All problems are
 * reported at once and the table is left unchanged.
 */
export function applyOverrides(table: RateTable, overrides: readonly unknown[]): OverrideResult {
  const problems: string[] = [];
  const added: Rate[] = [];
  overrides.forEach((raw, i) => {
    const parsed = RateOverrideSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`overrides[${i}].${issue.path.join('.') || '(root)'}: ${issue.message}`);
      return;
    }
    const o = parsed.data;
    const base = [...table.rates].reverse().find((r) => r.key === o.key);
    if (!base) {
      problems.push(`overrides[${i}].key: no rate ${JSON.stringify(o.key)} in table ${table.id}`);
      return;
    }
    added.push({
      ...base,
      price: o.price,
      effectiveDate: o.effectiveDate,
      estimated: false,
      source: { kind: 'admin', title: `Set by ${o.by}`, retrieved: o.setOn, ...(o.note ? { note: o.note } : {}) },
    });
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, table: { ...table, rates: [...table.rates, ...added] } };
}

/** A rate's source as one line ("AWS doc: AWS Solutions … (retrieved 2026-11-21)"). */
export function describeSource(r: Rate): string {
  const kind = {
    'aws-price-list': 'AWS Price List',
    'aws-doc': 'AWS documentation',
    'third-party': 'third-party copy, unverified',
    derived: 'derived, unverified',
    placeholder: 'placeholder, no published figure found',
    admin: 'admin override',
  }[r.source.kind];
  const when = r.source.retrieved ? `, read ${r.source.retrieved}` : '';
  return `${kind}: ${r.source.title}${when}${r.source.url ? ` <${r.source.url}>` : ''}`;
}

// ---- AWS Price List ---------------------------------------------------------------------------

/**
 * One product of a Price List `GetProducts` answer (each `PriceList` entry is this, as a JSON
 * string), reduced to the members used here.
 */
export interface PriceListProduct {
  product: { attributes: Record<string, string | undefined> };
  terms?: {
    OnDemand?: Record<
      string,
      {
        effectiveDate?: string;
        priceDimensions?: Record<string, { unit?: string; pricePerUnit?: Record<string, string>; description?: string }>;
      }
    >;
  };
}

/**
 * MediaLive usage types as the user guide's "Usage type format" gives them:
 * `{Tier}-{Region}-{Direction}-{Codec}-{Resolution}-{Level/Framerate}-{Quality}-{Reservation}`,
 * e.g. `EML1-EUW3-IN-AVC-UHD-L10-R` (EML1 = single pipeline, EML2 = standard; inputs carry a
 * bitrate level, outputs a frame rate; `-R` = reserved). Outputs are parsed with or without a
 * level. Verify against real rows on the first refresh: only input rows were seen so far.
 */
const USAGE_TYPE = /^EML([12])-[A-Z0-9]+-(IN|OUT)-(AVC|HEVC|MPEG2)-(SD|HD|UHD)(?:-L(10|20|50))?(?:-(30|60))?(?:-([SEP]))?(-R)?$/;

/**
 * The rates one MediaLive price-list product gives (on-demand only; reserved rows give none). An
 * output row without a bitrate level applies to every bitrate band, so it yields one rate per band.
 */
export function ratesFromPriceListProduct(p: PriceListProduct, retrieved: string): Rate[] {
  const usageType = p.product.attributes.usagetype ?? p.product.attributes.usageType ?? '';
  const m = USAGE_TYPE.exec(usageType);
  if (!m || m[8]) return [];
  if (m[7] !== undefined && m[7] !== 'S') return []; // enhanced/premium video quality: not what Fanout configures
  const cls: ChannelClass = m[1] === '1' ? 'SINGLE_PIPELINE' : 'STANDARD';
  const codec = m[3] as InputSpec['codec'];
  const resolution = m[4] as InputSpec['resolution'];
  const level = m[5] ? (`MAX_${m[5]}_MBPS` as InputSpec['maximumBitrate']) : undefined;
  const term = Object.values(p.terms?.OnDemand ?? {})[0];
  const dim = Object.values(term?.priceDimensions ?? {})[0];
  const usd = dim?.pricePerUnit?.USD;
  if (!term || !dim || usd === undefined || !Number.isFinite(Number(usd))) return [];
  const common = {
    service: SERVICE_NAMES.medialive,
    unit: 'Hours' as const,
    price: Number(usd),
    effectiveDate: term.effectiveDate ? term.effectiveDate.slice(0, 10) : null,
    estimated: false,
    source: { kind: 'aws-price-list' as const, title: `AWS Price List AWSElementalMediaLive ${usageType}`, retrieved, ...(dim.description ? { note: dim.description.slice(0, 500) } : {}) },
    billing: MEDIALIVE_RUNNING_BILLING,
  };
  if (m[2] === 'IN') {
    if (!level) return [];
    const spec: InputSpec = { codec, resolution, maximumBitrate: level };
    return [{ ...common, key: rateKeys.input(cls, spec), operation: 'CHANNEL_INPUT', description: `MediaLive input ${codec} ${resolution} ${level}, ${cls}` }];
  }
  const framerate = m[6] === '60' ? 'MAX_60_FPS' : m[6] === '30' ? 'MAX_30_FPS' : undefined;
  if (!framerate) return [];
  const bands = level ? [level] : [...BITRATE_BANDS];
  return bands.map((bitrate) => ({
    ...common,
    key: rateKeys.output(cls, { codec, resolution, bitrate, framerate }),
    operation: 'CHANNEL_OUTPUT',
    description: `MediaLive output ${codec} ${resolution} ${bitrate} ${framerate}, ${cls}`,
  }));
}

/** MediaLive's on-demand rule for running inputs and outputs. */
export const MEDIALIVE_RUNNING_BILLING: BillingRule = Object.freeze({
  incrementMinutes: 1,
  minimumMinutes: 10,
  rule: 'MediaLive on-demand: "the duration of each running resource will be rounded up to the nearest minute, above a 10-minute minimum" (aws.amazon.com/medialive/pricing)',
});
