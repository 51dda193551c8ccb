/**
 * The rate table Fanout ships with: us-east-1, on-demand, USD, built from the figures collected in
 * ../shared/aws-prices.json (retrieved 2026-11-21; partial) and ../shared/AWS-FACTS.md §5. Every
 * figure carries its source; everything not read from the AWS Price List API is marked
 * `estimated`, and where no figure was found at all there is a placeholder that says so, because
 * pricing a resource at zero would hide it. Admins override any rate (`applyOverrides`); a Price
 * List refresh adds dated rates (`ratesFromPriceListProduct`).
 *
 * What is where (why each number is what it is):
 *
 *   single pipeline (Fanout's class)      third-party copy of a Price List read; its figures agree
 *                                         with the original plan's per-hour rates (SEED-NOTES)
 *   standard HD/SD output, HD input 10–20 quoted from an AWS Solutions cost example (Table 7);
 *                                         the example's channel class is inferred, not stated
 *   30–60 fps outputs, 10–20 Mb/s single  derived (no figure found): 2× the ≤30 fps rate; 0.6× the
 *   pipeline input                        standard rate (the ratio of the third-party pairs)
 *   idle channel, idle push input         placeholders: AWS says "a small usage charge", no figure
 *   MediaConnect, MediaPackage            third-party copy (flow-hour $0.16 = the plan's $115.20/720 h)
 *   internet egress                       an AWS bill line quoted on re:Post ($0.09/GB, first 10 TB)
 */
import { DEFAULT_INPUT_SPEC, type ChannelClass, type EncodeBand } from './bands.ts';
import { MEDIALIVE_RUNNING_BILLING, rateKeys, SERVICE_NAMES, type BillingRule, type Rate, type RateSource, type RateTable } from './rates.ts';

const RETRIEVED = '2026-11-21';

const AWS_SOLUTIONS_TABLE_7: RateSource = {
  kind: 'aws-doc',
  title: 'AWS Solutions "Live Streaming on AWS with Amazon S3", cost example 2, Table 7 (us-east-1; channel class not stated, Standard inferred)',
  url: 'https://docs.aws.amazon.com/solutions/latest/live-streaming-on-aws-with-amazon-s3/cost-example-2.html',
  retrieved: RETRIEVED,
};
const THIRD_PARTY_PRICE_LIST: RateSource = {
  kind: 'third-party',
  title: 'Public "Cost estimate" file stating AWS Price List API us-east-1 values read 2026-09-18 (repository not identifiable); agrees with the original plan\'s per-hour rates',
  retrieved: RETRIEVED,
  note: 'aws-prices.json thirdPartyCandidates; replace with a Price List refresh or an admin override',
};
const derived = (title: string): RateSource => ({ kind: 'derived', title, retrieved: RETRIEVED, note: 'No published figure was found; set an override once you have the real rate.' });
const placeholder = (title: string): RateSource => ({
  kind: 'placeholder',
  title,
  retrieved: RETRIEVED,
  note: 'AWS publishes that the charge exists but the stored copies hold no figure (AWS-FACTS §5.2). Override it with the rate on your bill.',
});

/** Idle time: the published rounding rule speaks of running resources only. */
export const IDLE_BILLING: BillingRule = Object.freeze({
  incrementMinutes: 1,
  minimumMinutes: 0,
  rule: 'assumption: idle time billed per started minute, no minimum (the published 10-minute minimum is for running resources)',
});
/** MediaConnect flow-hours. */
export const FLOW_BILLING: BillingRule = Object.freeze({
  incrementMinutes: 1,
  minimumMinutes: 0,
  rule: 'assumption: a flow-hour is prorated per started minute while the flow is ACTIVE (STANDBY is not an active resource)',
});
/** The local engine's machine. */
export const LOCAL_BILLING: BillingRule = Object.freeze({
  incrementMinutes: 1,
  minimumMinutes: 0,
  rule: 'Fanout: the machine is prorated per started minute',
});

const hd = (bitrate: EncodeBand['bitrate'], framerate: EncodeBand['framerate']): EncodeBand => ({ codec: 'AVC', resolution: 'HD', bitrate, framerate });
const sd = (framerate: EncodeBand['framerate']): EncodeBand => ({ codec: 'AVC', resolution: 'SD', bitrate: 'MAX_10_MBPS', framerate });

const classLabel = (cls: ChannelClass): string => (cls === 'STANDARD' ? 'standard' : 'single pipeline');

/** A running MediaLive rate (input or output); estimated unless the source is AWS's or an admin's. */
function running(key: string, operation: 'CHANNEL_INPUT' | 'CHANNEL_OUTPUT', description: string, price: number, source: RateSource): Rate {
  return {
    key,
    service: SERVICE_NAMES.medialive,
    operation,
    description,
    unit: 'Hours',
    price,
    effectiveDate: null,
    source,
    estimated: source.kind !== 'aws-price-list' && source.kind !== 'aws-doc' && source.kind !== 'admin',
    billing: MEDIALIVE_RUNNING_BILLING,
  };
}
const output = (cls: ChannelClass, b: EncodeBand, price: number, source: RateSource): Rate =>
  running(rateKeys.output(cls, b), 'CHANNEL_OUTPUT', `MediaLive output encode ${b.codec} ${b.resolution} ${b.bitrate} ${b.framerate}, ${classLabel(cls)}`, price, source);
const input = (cls: ChannelClass, maximumBitrate: 'MAX_10_MBPS' | 'MAX_20_MBPS', price: number, source: RateSource): Rate => {
  const spec = { ...DEFAULT_INPUT_SPEC, maximumBitrate };
  return running(rateKeys.input(cls, spec), 'CHANNEL_INPUT', `MediaLive input ${spec.codec} ${spec.resolution} ${maximumBitrate}, ${classLabel(cls)}`, price, source);
};

const SP: ChannelClass = 'SINGLE_PIPELINE';
const STD: ChannelClass = 'STANDARD';

/** The shipped table (frozen; overrides produce a new one). */
export const DEFAULT_RATE_TABLE: RateTable = Object.freeze({
  id: 'fanout-default-us-east-1-2026-11-21',
  currency: 'USD',
  region: 'us-east-1',
  // FOCUS's GB is 10^9 bytes. AWS may count data transfer in 2^30-byte GB (7.4 % more per GB);
  // an admin who reconciles against the bill can change it.
  bytesPerGb: 1_000_000_000,
  rates: [
    // ---- single pipeline (what Fanout creates) --------------------------------------------------
    input(SP, 'MAX_10_MBPS', 0.1404, THIRD_PARTY_PRICE_LIST),
    input(SP, 'MAX_20_MBPS', 0.1764, derived('0.6 × the standard HD 10–20 Mb/s input ($0.294/h), the single-pipeline/standard ratio of the third-party pairs')),
    output(SP, hd('MAX_10_MBPS', 'MAX_30_FPS'), 0.4212, THIRD_PARTY_PRICE_LIST),
    output(SP, hd('MAX_10_MBPS', 'MAX_60_FPS'), 0.8424, derived('2 × the single-pipeline HD ≤10 Mb/s ≤30 fps output ($0.4212/h)')),
    output(SP, sd('MAX_30_FPS'), 0.2124, THIRD_PARTY_PRICE_LIST),
    output(SP, sd('MAX_60_FPS'), 0.4248, derived('2 × the single-pipeline SD ≤30 fps output ($0.2124/h)')),
    // ---- standard (two pipelines) ---------------------------------------------------------------
    input(STD, 'MAX_10_MBPS', 0.234, THIRD_PARTY_PRICE_LIST),
    input(STD, 'MAX_20_MBPS', 0.294, AWS_SOLUTIONS_TABLE_7),
    output(STD, hd('MAX_10_MBPS', 'MAX_30_FPS'), 0.702, AWS_SOLUTIONS_TABLE_7),
    output(STD, hd('MAX_10_MBPS', 'MAX_60_FPS'), 1.404, derived('2 × the standard HD ≤10 Mb/s ≤30 fps output ($0.702/h)')),
    output(STD, sd('MAX_30_FPS'), 0.354, AWS_SOLUTIONS_TABLE_7),
    output(STD, sd('MAX_60_FPS'), 0.708, derived('2 × the standard SD ≤30 fps output ($0.354/h)')),
    // ---- idle resources ----------------------------------------------------------------------------
    ...([SP, STD] as const).map(
      (cls): Rate => ({
        key: rateKeys.idleChannel(cls),
        service: SERVICE_NAMES.medialive,
        operation: 'INACTIVE_CHANNEL',
        description: `MediaLive idle channel (exists, not running), ${classLabel(cls)}`,
        unit: 'Hours',
        price: 0.01,
        effectiveDate: null,
        source: placeholder('"Stopped channels are considered idle resources and generate a small usage charge until they are deleted" (aws.amazon.com/medialive/pricing)'),
        estimated: true,
        billing: IDLE_BILLING,
      }),
    ),
    {
      key: rateKeys.idlePushInput,
      service: SERVICE_NAMES.medialive,
      operation: 'INACTIVE_INPUT',
      description: 'MediaLive idle push input (not attached to a running channel)',
      unit: 'Hours',
      price: 0.01,
      effectiveDate: null,
      source: placeholder('"an idle push input charge for each push input that isn\'t attached to a channel, and for each push input attached to a channel that isn\'t running" (MediaLive UG "Pricing")'),
      estimated: true,
      billing: IDLE_BILLING,
    },
    // ---- MediaConnect ------------------------------------------------------------------------------
    {
      key: rateKeys.flowHour,
      service: SERVICE_NAMES.mediaconnect,
      operation: 'FLOW_ACTIVE',
      description: 'MediaConnect flow-hour (ACTIVE; a STANDBY flow is not an active resource)',
      unit: 'Hours',
      price: 0.16,
      effectiveDate: null,
      source: THIRD_PARTY_PRICE_LIST,
      estimated: true,
      billing: FLOW_BILLING,
    },
    // The backup SRT listener (issue 15). The stored copies hold no AWS figure for a failover
    // source; the third-party copy's "running ≤20 Mb/s input per hour" ($0.09) is read as the
    // charge of one more source. Estimated until a Price List refresh or an override says otherwise.
    {
      key: rateKeys.flowSourceHour,
      service: SERVICE_NAMES.mediaconnect,
      operation: 'FLOW_SOURCE_ACTIVE',
      description: 'MediaConnect second (backup) source of an ACTIVE flow, ≤20 Mb/s',
      unit: 'Hours',
      price: 0.09,
      effectiveDate: null,
      source: {
        ...THIRD_PARTY_PRICE_LIST,
        note: 'aws-prices.json thirdPartyCandidates running20mbpsInputPerHour, read as one more flow source; whether AWS bills a failover source separately from the flow-hour is not confirmed (AWS-FACTS §5)',
      },
      estimated: true,
      billing: FLOW_BILLING,
    },
    {
      key: rateKeys.flowTransferGb,
      service: SERVICE_NAMES.mediaconnect,
      operation: 'DATA_TRANSFER_TO_AWS',
      description: 'MediaConnect data transfer from the flow to MediaLive (same region)',
      unit: 'GB',
      price: 0.01,
      effectiveDate: null,
      source: THIRD_PARTY_PRICE_LIST,
      estimated: true,
    },
    // ---- data transfer out (RTMP to the platforms) ---------------------------------------------
    {
      key: rateKeys.internetOutGb,
      service: SERVICE_NAMES.dataTransfer,
      operation: 'DATA_TRANSFER_OUT_INTERNET',
      description: 'Data transfer out to the internet (MediaLive RTMP push to a platform), first 10 TB/month tier',
      unit: 'GB',
      price: 0.09,
      effectiveDate: null,
      source: {
        kind: 'third-party',
        title: 'AWS bill line quoted on re:Post: "$0.090 per GB - first 10 TB / month data transfer out beyond the global free tier" (region not stated)',
        url: 'https://repost.aws/questions/QUAT1NfOeZSAK5z8KXXO9jgA/do-amazon-aws-ec-2-free-tier-have-a-bandwidth-limit',
        retrieved: RETRIEVED,
        note: 'The 100 GB/month free tier and the lower tiers above 10 TB are not modelled.',
      },
      estimated: true,
    },
    // ---- MediaPackage (the primary HLS) ----------------------------------------------------------
    {
      key: rateKeys.packageIngestGb,
      service: SERVICE_NAMES.mediapackage,
      operation: 'INGEST',
      description: "MediaPackage ingest (the primary channel's renditions)",
      unit: 'GB',
      price: 0.03,
      effectiveDate: null,
      source: THIRD_PARTY_PRICE_LIST,
      estimated: true,
    },
    {
      key: rateKeys.packageOriginationGb,
      service: SERVICE_NAMES.mediapackage,
      operation: 'ORIGINATION',
      description: 'MediaPackage origination/packaging (what viewers or the CDN fetch)',
      unit: 'GB',
      price: 0.05,
      effectiveDate: null,
      source: THIRD_PARTY_PRICE_LIST,
      estimated: true,
    },
    // ---- local engine ----------------------------------------------------------------------------
    {
      key: rateKeys.localMachineHour,
      service: SERVICE_NAMES.local,
      operation: 'MACHINE_HOUR',
      description: 'The machine the local engine runs on, per hour (split by the CPU time each destination used)',
      unit: 'Hours',
      price: 0.0416,
      effectiveDate: null,
      source: placeholder('A yardstick only: an EC2 t3.medium on-demand hour in us-east-1 (unverified); set what your machine costs'),
      estimated: true,
      billing: LOCAL_BILLING,
    },
  ],
}) as RateTable;
