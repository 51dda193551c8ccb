/**
 * Pricing rules: a usage session and a rate table in, cost lines out. Each line is one billed
 * quantity at one rate and says how it was computed (`computation`), where its rate comes from
 * and whether it is an estimate. The rules (AWS-FACTS §5, MediaLive/MediaConnect pricing pages):
 *
 *   destination channel running   per input (a backup input is a `redundancy` line) and per output
 *                                 encode, by class and bands, per run rounded up to the minute
 *                                 with a 10-minute minimum; bytes to the platform as internet
 *                                 data transfer out (measured, else estimated from the bitrates)
 *   primary channel running       inputs and renditions as above; MediaPackage ingest per GB
 *   channel idle                  the idle-channel charge, plus the idle push-input charge per input
 *   flow ACTIVE                   flow-hours; per GB from the flow to MediaLive (every managed
 *                                 output, even to a stopped channel, AWS-FACTS §3.3)
 *   flow STANDBY                  a zero line: "not an active resource"
 *   push input idle               the idle push-input charge
 *   local engine                  a destination's CPU time × the machine's per-core-hour price
 *                                 (the unallocated rest of the machine is an idle row of the
 *                                 summary, see summary.ts)
 *
 * A standard-class (two-pipeline) channel is shown as its single-pipeline price (`usage`) plus
 * the difference (`redundancy`) when the table has both rates. A rate the table lacks gives a
 * zero line marked `missingRate`, never a silent omission.
 */
import { bandLabel, encodeBand, encodeLabel, type ChannelClass, type InputSpec } from './bands.ts';
import { costMicros, formatMicros } from './money.ts';
import { describeSource, lookupRate, rateKeys, SERVICE_NAMES, type Rate, type RateTable, type RateUnit, type ServiceName } from './rates.ts';
import type { UsageSession } from './sessions.ts';

export const COST_CATEGORIES = ['usage', 'idle', 'redundancy'] as const;
export type CostCategory = (typeof COST_CATEGORIES)[number];

/** The grouping finance reads in a summary (one per kind of charge). */
export const SERVICE_LINES = ['MediaLive input', 'MediaLive output', 'MediaLive idle channel', 'MediaLive idle input', 'MediaConnect flow', 'MediaConnect data transfer', 'Data transfer out', 'MediaPackage', 'Local engine'] as const;
export type ServiceLine = (typeof SERVICE_LINES)[number];

export interface CostLine {
  /** `<sessionId>#<n>`. */
  lineId: string;
  sessionId: string;
  service: ServiceName;
  /** The provider's billing operation (MediaLive's CHANNEL_INPUT, INACTIVE_CHANNEL, ...). */
  operation: string;
  serviceLine: ServiceLine;
  category: CostCategory;
  description: string;
  quantity: number;
  unit: RateUnit;
  unitPrice: number;
  currency: 'USD';
  costMicros: number;
  rateKey: string;
  rateSource: string;
  rateEffectiveDate: string | null;
  estimated: boolean;
  /** The table had no rate for `rateKey`: the line is not priced. */
  missingRate: boolean;
  /** How the figure was computed, in words and numbers. */
  computation: string;
  /** The charge period: the session's interval (open sessions: up to the pricing instant). */
  startMs: number;
  endMs: number;
  /** Time-based lines: the time used and the time billed (rounding and minimum included). */
  time: { actualMs: number; billedMs: number } | null;
  resourceId: string;
  resourceName: string;
  destinationId: string | null;
  platform: string | null;
  presetId: string | null;
  engine: 'aws' | 'local';
}

export interface SessionPricing {
  sessionId: string;
  lines: CostLine[];
  totalMicros: number;
  currency: 'USD';
  /** True when any line is estimated (or unpriced). */
  estimated: boolean;
  /** Rate keys the table lacked. */
  missingRates: string[];
}

export interface PricingOptions {
  /** Cores of the local engine's machine (its machine-hour is split per core-hour). */
  localCores?: number;
}

const MIN = 60_000;
const HOUR = 3_600_000;

function fmtDuration(msValue: number): string {
  const totalS = Math.round(msValue / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return [h ? `${h} h` : '', m ? `${m} min` : '', s || (!h && !m) ? `${s} s` : ''].filter(Boolean).join(' ');
}

const num = (x: number, places = 6): string => String(+x.toFixed(places));
const usd = (micros: number): string => `$${formatMicros(micros)}`;

/** The billed minutes of one run under a rule (round up to the increment, then the minimum). */
export function billedMinutes(actualMs: number, rule: { incrementMinutes: number; minimumMinutes: number }): number {
  const inc = rule.incrementMinutes;
  const rounded = Math.ceil(actualMs / (inc * MIN) - 1e-9) * inc;
  return Math.max(rule.minimumMinutes, Math.max(0, rounded));
}

interface Ctx {
  session: UsageSession;
  table: RateTable;
  at: string;
  startMs: number;
  endMs: number;
  lines: CostLine[];
  missing: Set<string>;
}

function base(ctx: Ctx): Pick<CostLine, 'sessionId' | 'currency' | 'startMs' | 'endMs' | 'resourceId' | 'resourceName' | 'destinationId' | 'platform' | 'presetId' | 'engine'> {
  const s = ctx.session;
  return {
    sessionId: s.sessionId,
    currency: 'USD',
    startMs: ctx.startMs,
    endMs: ctx.endMs,
    resourceId: s.resource.id,
    resourceName: s.attributes.destinationName ?? (s.resource.kind === 'primary-channel' ? 'primary output' : s.resource.kind === 'flow' ? 'contribution flow' : s.resource.id),
    destinationId: s.resource.destinationId,
    platform: s.attributes.platform,
    presetId: s.attributes.presetId,
    engine: s.attributes.engine,
  };
}

function push(ctx: Ctx, line: Omit<CostLine, 'lineId' | keyof ReturnType<typeof base>>): void {
  ctx.lines.push({ lineId: `${ctx.session.sessionId}#${ctx.lines.length + 1}`, ...base(ctx), ...line });
}

function missingLine(ctx: Ctx, key: string, serviceLine: ServiceLine, category: CostCategory, description: string, unit: RateUnit, quantity: number, time: CostLine['time']): void {
  ctx.missing.add(key);
  push(ctx, {
    service: key.startsWith('mediaconnect')
      ? SERVICE_NAMES.mediaconnect
      : key.startsWith('mediapackage')
        ? SERVICE_NAMES.mediapackage
        : key.startsWith('aws:')
          ? SERVICE_NAMES.dataTransfer
          : key.startsWith('local')
            ? SERVICE_NAMES.local
            : SERVICE_NAMES.medialive,
    operation: 'UNPRICED',
    serviceLine,
    category,
    description,
    quantity,
    unit,
    unitPrice: 0,
    costMicros: 0,
    rateKey: key,
    rateSource: `missing: no rate ${key} in table ${ctx.table.id}`,
    rateEffectiveDate: null,
    estimated: true,
    missingRate: true,
    computation: `not priced: the rate table has no ${key}; add it or set an override`,
    time,
  });
}

/** The members of a line that come from its rate. */
function fromRate(rate: Rate): Pick<CostLine, 'service' | 'operation' | 'rateKey' | 'rateSource' | 'rateEffectiveDate'> {
  return { service: rate.service, operation: rate.operation, rateKey: rate.key, rateSource: describeSource(rate), rateEffectiveDate: rate.effectiveDate };
}

/** A time-based line at one rate (price override for the redundancy split). */
function timeLine(ctx: Ctx, rate: Rate, serviceLine: ServiceLine, category: CostCategory, description: string, opts: { price?: number; priceNote?: string } = {}): void {
  const actualMs = ctx.endMs - ctx.startMs;
  const rule = rate.billing ?? { incrementMinutes: 1, minimumMinutes: 0, rule: 'per started minute' };
  const minutes = billedMinutes(actualMs, rule);
  const hours = minutes / 60;
  const price = opts.price ?? rate.price;
  const micros = costMicros(hours, price);
  const rounding = minutes * MIN === actualMs ? `${minutes} min` : minutes === rule.minimumMinutes && Math.ceil(actualMs / MIN) < rule.minimumMinutes ? `${rule.minimumMinutes}-minute minimum` : `rounded up to ${minutes} min`;
  push(ctx, {
    ...fromRate(rate),
    serviceLine,
    category,
    description,
    quantity: hours,
    unit: 'Hours',
    unitPrice: price,
    costMicros: micros,
    estimated: rate.estimated,
    missingRate: false,
    computation: `${fmtDuration(actualMs)} → ${rounding} = ${num(hours)} h × $${num(price, 10)}/h${opts.priceNote ? ` (${opts.priceNote})` : ''} = ${usd(micros)}; rule: ${rule.rule}`,
    time: { actualMs, billedMs: minutes * MIN },
  });
}

/**
 * A MediaLive running charge, split into single-pipeline `usage` + `redundancy` for a standard
 * channel when both rates exist.
 */
function medialiveTime(ctx: Ctx, cls: ChannelClass, key: (c: ChannelClass) => string, serviceLine: ServiceLine, category: CostCategory, description: string): void {
  const rate = lookupRate(ctx.table, key(cls), ctx.at);
  if (!rate) {
    const actualMs = ctx.endMs - ctx.startMs;
    missingLine(ctx, key(cls), serviceLine, category, description, 'Hours', 0, { actualMs, billedMs: 0 });
    return;
  }
  const single = cls === 'STANDARD' ? lookupRate(ctx.table, key('SINGLE_PIPELINE'), ctx.at) : undefined;
  if (!single || category !== 'usage' || single.price > rate.price) {
    timeLine(ctx, rate, serviceLine, category, description);
    return;
  }
  timeLine(ctx, single, serviceLine, 'usage', `${description} (single-pipeline share)`);
  const diff = +(rate.price - single.price).toFixed(10);
  timeLine(ctx, { ...rate, estimated: rate.estimated || single.estimated }, serviceLine, 'redundancy', `${description} (second pipeline)`, {
    price: diff,
    priceNote: `standard $${num(rate.price, 10)} − single pipeline $${num(single.price, 10)}`,
  });
}

function gbLine(ctx: Ctx, key: string, serviceLine: ServiceLine, category: CostCategory, description: string, bytes: { value: number; how: string; estimated: boolean }): void {
  const rate = lookupRate(ctx.table, key, ctx.at);
  const gb = bytes.value / ctx.table.bytesPerGb;
  if (!rate) {
    missingLine(ctx, key, serviceLine, category, description, 'GB', gb, null);
    return;
  }
  const micros = costMicros(gb, rate.price);
  push(ctx, {
    ...fromRate(rate),
    serviceLine,
    category,
    description,
    quantity: gb,
    unit: 'GB',
    unitPrice: rate.price,
    costMicros: micros,
    estimated: rate.estimated || bytes.estimated,
    missingRate: false,
    computation: `${bytes.how} = ${bytes.value} bytes ÷ ${ctx.table.bytesPerGb} = ${num(gb)} GB × $${num(rate.price, 10)}/GB = ${usd(micros)}`,
    time: null,
  });
}

function bitrateBytes(bitsPerSecond: number, durationMs: number, what: string): { value: number; how: string; estimated: boolean } {
  const value = Math.round((bitsPerSecond * (durationMs / 1000)) / 8);
  return { value, how: `estimated: ${num(bitsPerSecond / 1e6, 3)} Mb/s (${what}) × ${num(durationMs / 1000, 3)} s ÷ 8`, estimated: true };
}

function inputLines(ctx: Ctx, cls: ChannelClass, spec: InputSpec, pushInputs: number): void {
  for (let i = 0; i < Math.max(1, pushInputs); i++) {
    const backup = i > 0;
    medialiveTime(ctx, cls, (c) => rateKeys.input(c, spec), 'MediaLive input', backup ? 'redundancy' : 'usage', `${backup ? 'backup ' : ''}input ${spec.codec} ${spec.resolution} ${spec.maximumBitrate} (declared InputSpecification)`);
  }
}

function outputLines(ctx: Ctx, cls: ChannelClass): void {
  const a = ctx.session.attributes;
  for (const e of a.encodes) {
    const band = encodeBand(e, a.inputSpec);
    medialiveTime(ctx, cls, (c) => rateKeys.output(c, band), 'MediaLive output', 'usage', `output encode ${encodeLabel(e)} (${bandLabel(band)})`);
  }
}

function idleLines(ctx: Ctx, cls: ChannelClass, channel: boolean, pushInputs: number): void {
  const add = (key: string, serviceLine: ServiceLine, description: string): void => {
    const rate = lookupRate(ctx.table, key, ctx.at);
    if (!rate) {
      missingLine(ctx, key, serviceLine, 'idle', description, 'Hours', 0, { actualMs: ctx.endMs - ctx.startMs, billedMs: 0 });
      return;
    }
    timeLine(ctx, rate, serviceLine, 'idle', description);
  };
  if (channel) add(rateKeys.idleChannel(cls), 'MediaLive idle channel', 'idle channel (exists, not running)');
  for (let i = 0; i < pushInputs; i++) add(rateKeys.idlePushInput, 'MediaLive idle input', 'idle push input (its channel is not running)');
}

function maxBitrateOf(spec: InputSpec): number {
  return { MAX_10_MBPS: 10e6, MAX_20_MBPS: 20e6, MAX_50_MBPS: 50e6 }[spec.maximumBitrate];
}

function priceAws(ctx: Ctx): void {
  const s = ctx.session;
  const a = s.attributes;
  const durationMs = ctx.endMs - ctx.startMs;
  const kind = s.resource.kind;
  if ((kind === 'destination-channel' || kind === 'primary-channel') && s.kind === 'running') {
    inputLines(ctx, a.channelClass, a.inputSpec, a.pushInputs);
    outputLines(ctx, a.channelClass);
    const encodeBits = a.encodes.reduce((sum, e) => sum + e.videoBitrate + e.audioBitrate, 0);
    const bytes = s.bytesOut !== null ? { value: s.bytesOut, how: 'measured', estimated: false } : bitrateBytes(encodeBits, durationMs, "the encodes' video + audio");
    if (kind === 'destination-channel') gbLine(ctx, rateKeys.internetOutGb, 'Data transfer out', 'usage', 'RTMP push to the platform (internet data transfer out)', bytes);
    else gbLine(ctx, rateKeys.packageIngestGb, 'MediaPackage', 'usage', 'MediaPackage ingest of the primary renditions', bytes);
    return;
  }
  if ((kind === 'destination-channel' || kind === 'primary-channel') && s.kind === 'idle') {
    idleLines(ctx, a.channelClass, true, a.pushInputs);
    return;
  }
  if (kind === 'push-input') {
    idleLines(ctx, a.channelClass, false, 1);
    return;
  }
  // The flow.
  const rate = lookupRate(ctx.table, rateKeys.flowHour, ctx.at);
  if (s.kind === 'idle') {
    push(ctx, {
      service: SERVICE_NAMES.mediaconnect,
      operation: 'FLOW_STANDBY',
      serviceLine: 'MediaConnect flow',
      category: 'idle',
      description: 'flow in STANDBY',
      quantity: durationMs / HOUR,
      unit: 'Hours',
      unitPrice: 0,
      costMicros: 0,
      rateKey: rateKeys.flowHour,
      rateSource: 'MediaConnect pricing: "a flow that is in standby mode is not an active resource and does not incur active resource charges"',
      rateEffectiveDate: null,
      estimated: false,
      missingRate: false,
      computation: `${fmtDuration(durationMs)} in STANDBY × $0/h = $0.000000 (standby is free)`,
      time: { actualMs: durationMs, billedMs: durationMs },
    });
    return;
  }
  if (!rate) missingLine(ctx, rateKeys.flowHour, 'MediaConnect flow', 'usage', 'flow ACTIVE', 'Hours', 0, { actualMs: durationMs, billedMs: 0 });
  else timeLine(ctx, rate, 'MediaConnect flow', 'usage', 'flow ACTIVE');
  // Each source past the first (the backup SRT listener) is billed while the flow is ACTIVE, whether it receives or not.
  for (let i = 1; i < (a.flowSources ?? 1); i++) {
    const source = lookupRate(ctx.table, rateKeys.flowSourceHour, ctx.at);
    if (!source) missingLine(ctx, rateKeys.flowSourceHour, 'MediaConnect flow', 'usage', 'backup source while the flow is ACTIVE', 'Hours', 0, { actualMs: durationMs, billedMs: 0 });
    else timeLine(ctx, source, 'MediaConnect flow', 'usage', 'backup source (second SRT listener) while the flow is ACTIVE');
  }
  const outputHours = s.flowOutputHours ?? 0;
  if (s.bytesOut !== null) {
    gbLine(ctx, rateKeys.flowTransferGb, 'MediaConnect data transfer', 'usage', 'flow → MediaLive inputs (managed outputs)', { value: s.bytesOut, how: 'measured', estimated: false });
  } else if (outputHours > 0) {
    const bitrate = a.contributionBitrate ?? maxBitrateOf(a.inputSpec);
    const what = a.contributionBitrate !== null ? 'the contribution' : `upper bound: the inputs' declared ${a.inputSpec.maximumBitrate}`;
    const value = Math.round((bitrate * outputHours * 3600) / 8);
    gbLine(ctx, rateKeys.flowTransferGb, 'MediaConnect data transfer', 'usage', 'flow → MediaLive inputs (managed outputs)', {
      value,
      how: `estimated: ${num(bitrate / 1e6, 3)} Mb/s (${what}) × ${num(outputHours)} output-hours × 3600 s ÷ 8`,
      estimated: true,
    });
  }
}

function priceLocal(ctx: Ctx, cores: number): void {
  const s = ctx.session;
  if (s.resource.kind !== 'destination-channel' || s.kind !== 'running') return;
  const rate = lookupRate(ctx.table, rateKeys.localMachineHour, ctx.at);
  const coreHours = (s.cpuSeconds ?? 0) / 3600;
  if (!rate) {
    missingLine(ctx, rateKeys.localMachineHour, 'Local engine', 'usage', "CPU time of the destination's processes", 'Core-Hours', coreHours, null);
    return;
  }
  const perCoreHour = rate.price / cores;
  const micros = costMicros(coreHours, perCoreHour);
  push(ctx, {
    ...fromRate(rate),
    operation: 'CPU_TIME',
    serviceLine: 'Local engine',
    category: 'usage',
    description: "CPU time of the destination's processes (its share of the machine)",
    quantity: coreHours,
    unit: 'Core-Hours',
    unitPrice: perCoreHour,
    costMicros: micros,
    estimated: rate.estimated || s.cpuSeconds === null,
    missingRate: false,
    computation: s.cpuSeconds === null ? 'CPU time not measured: $0' : `${num(s.cpuSeconds, 3)} CPU-s measured = ${num(coreHours)} core-hours × ($${num(rate.price, 10)}/machine-hour ÷ ${cores} cores) = ${usd(micros)}`,
    time: null,
  });
}

/**
 * Prices one session. An open session is priced up to `at` (its `durationMs` already runs to the
 * snapshot instant); rates are those in force at the session's start.
 */
export function priceSession(session: UsageSession, table: RateTable, opts: PricingOptions = {}): SessionPricing {
  const startMs = Date.parse(session.startedAt);
  const ctx: Ctx = { session, table, at: session.startedAt, startMs, endMs: startMs + session.durationMs, lines: [], missing: new Set() };
  if (session.attributes.engine === 'local') priceLocal(ctx, Math.max(1, opts.localCores ?? 1));
  else priceAws(ctx);
  const totalMicros = ctx.lines.reduce((sum, l) => sum + l.costMicros, 0);
  return {
    sessionId: session.sessionId,
    lines: ctx.lines,
    totalMicros,
    currency: 'USD',
    estimated: ctx.lines.some((l) => l.estimated),
    missingRates: [...ctx.missing],
  };
}
