/**
 * What-if estimates and the design comparison. Both price hypothetical sessions with the same
 * rules and rate table as recorded usage (`priceSession`), so an estimate line says how it was
 * computed exactly as a bill line does.
 *
 *   estimate(req)                    Fanout's design: a destination's channel runs only while it
 *                                    streams (and idles until reclaimed), the primary runs all
 *                                    month, the flow is ACTIVE while anything needs it
 *   fixedDesignEstimate(req)         the original plan's design (seeds/003): a channel per
 *                                    platform that exists all month, running while streaming and
 *                                    idle otherwise, the primary all month, the flow 24/7
 *   planAsWritten(table)             the plan's own table, line by line, and what it left out
 *   compareWithFixedDesign(...)      recorded usage as priced vs the same usage under the fixed
 *                                    design: the saving
 */
import { z } from 'zod';
import { CHANNEL_CLASSES, CODECS, DEFAULT_INPUT_SPEC, RESOLUTION_TIERS, BITRATE_BANDS, type ChannelClass, type EncodeProfile, type InputSpec } from './bands.ts';
import { costMicros, formatMicros } from './money.ts';
import { priceSession, type CostLine } from './pricing.ts';
import { describeSource, lookupRate, rateKeys, type RateTable } from './rates.ts';
import { DEFAULT_ATTRIBUTES, type ResourceKind, type SessionAttributes, type SessionKind, type UsageSession } from './sessions.ts';
import { partsWithin, type PricedSession } from './summary.ts';

const HOUR = 3_600_000;

export const EncodeProfileSchema = z
  .object({
    codec: z.enum(CODECS).default('AVC'),
    width: z.number().int().min(16).max(7680).nullable(),
    height: z.number().int().min(16).max(4320).nullable(),
    frameRate: z.number().min(1).max(60).nullable(),
    videoBitrate: z.number().int().min(100_000).max(50_000_000),
    audioBitrate: z.number().int().min(0).max(512_000).default(128_000),
  })
  .strict();

export const EstimateRequestSchema = z
  .object({
    /** Streaming hours per month (every destination streams this long). */
    hoursPerMonth: z.number().min(0).max(744),
    /** Hours in the month the always-on parts run; 730 is AWS's (and Infracost's) average month. */
    monthHours: z.number().min(1).max(744).default(730),
    destinations: z
      .array(
        z
          .object({
            label: z.string().min(1).max(100),
            platform: z.string().min(1).max(64).nullable().default(null),
            encode: EncodeProfileSchema,
            count: z.number().int().min(1).max(50).default(1),
          })
          .strict(),
      )
      .max(50),
    /** With the always-on primary HLS output. */
    primary: z.boolean().default(true),
    primaryEncodes: z.array(EncodeProfileSchema).min(1).max(10).optional(),
    /** A backup push input on every channel (billed as a second input while running, idle otherwise). */
    backupInput: z.boolean().default(false),
    channelClass: z.enum(CHANNEL_CLASSES).default('SINGLE_PIPELINE'),
    inputSpec: z
      .object({ codec: z.enum(CODECS), resolution: z.enum(RESOLUTION_TIERS), maximumBitrate: z.enum(BITRATE_BANDS) })
      .strict()
      .default(DEFAULT_INPUT_SPEC),
    /** Hours a destination's channel idles before it is reclaimed, per month (Fanout reclaims idle channels). */
    idleHoursPerDestination: z.number().min(0).max(744).default(0),
    /** The contribution feed's bitrate (bits/s), for MediaConnect's per-GB charge; default the input's declared maximum. */
    contributionBitrate: z.number().int().min(100_000).max(100_000_000).nullable().default(null),
    /** What viewers fetch from MediaPackage per month (GB); unknown by default. */
    viewerGbPerMonth: z.number().min(0).max(1_000_000).default(0),
  })
  .strict();
export type EstimateRequest = z.input<typeof EstimateRequestSchema>;
type Req = z.output<typeof EstimateRequestSchema>;

/** The primary rendition serverless.yml configures (1080p30, 6 Mb/s, AAC 128 kb/s). */
export const DEFAULT_PRIMARY_ENCODES: EncodeProfile[] = [{ codec: 'AVC', width: 1920, height: 1080, frameRate: 30, videoBitrate: 6_000_000, audioBitrate: 128_000 }];

export interface Estimate {
  design: 'fanout' | 'fixed';
  lines: CostLine[];
  totalMicros: number;
  estimated: boolean;
  missingRates: string[];
  /** What the estimate takes for granted, in words. */
  assumptions: string[];
}

const T0 = Date.UTC(2000, 0, 1);

function synthetic(kind: ResourceKind, id: string, sessionKind: SessionKind, hours: number, attrs: Partial<SessionAttributes>, extra: Partial<UsageSession> = {}): UsageSession {
  return {
    sessionId: `estimate:${kind}:${id}:${sessionKind}`,
    resource: { kind, id, destinationId: kind === 'destination-channel' ? id : null },
    kind: sessionKind,
    startedAt: new Date(T0).toISOString(),
    endedAt: new Date(T0 + hours * HOUR).toISOString(),
    durationMs: Math.round(hours * HOUR),
    attributes: { ...DEFAULT_ATTRIBUTES, ...attrs },
    restarts: 0,
    bytesOut: null,
    cpuSeconds: null,
    flowOutputHours: null,
    endReason: 'stopped',
    endEstimated: false,
    startEventId: 'estimate',
    endEventId: 'estimate',
    provisional: false,
    ...extra,
  };
}

function collect(design: Estimate['design'], sessions: UsageSession[], table: RateTable, assumptions: string[], extra: CostLine[] = []): Estimate {
  const lines = [...sessions.flatMap((s) => priceSession(s, table).lines), ...extra].filter((l) => l.quantity > 0 || l.missingRate);
  return {
    design,
    lines,
    totalMicros: lines.reduce((s, l) => s + l.costMicros, 0),
    estimated: lines.some((l) => l.estimated),
    missingRates: [...new Set(lines.filter((l) => l.missingRate).map((l) => l.rateKey))],
    assumptions,
  };
}

function channelAttrs(r: Req, encodes: EncodeProfile[], label: string, platform: string | null): Partial<SessionAttributes> {
  return { destinationName: label, platform, channelClass: r.channelClass as ChannelClass, inputSpec: r.inputSpec as InputSpec, encodes, pushInputs: r.backupInput ? 2 : 1 };
}

function originationLine(r: Req, table: RateTable): CostLine[] {
  if (r.viewerGbPerMonth <= 0) return [];
  const rate = lookupRate(table, rateKeys.packageOriginationGb, new Date(T0).toISOString());
  if (!rate) return [];
  const micros = costMicros(r.viewerGbPerMonth, rate.price);
  return [
    {
      lineId: 'estimate:origination',
      sessionId: 'estimate:primary-channel:origination',
      service: rate.service,
      operation: rate.operation,
      serviceLine: 'MediaPackage',
      category: 'usage',
      description: 'MediaPackage origination (viewers)',
      quantity: r.viewerGbPerMonth,
      unit: 'GB',
      unitPrice: rate.price,
      currency: 'USD',
      costMicros: micros,
      rateKey: rate.key,
      rateSource: describeSource(rate),
      rateEffectiveDate: rate.effectiveDate,
      estimated: true,
      missingRate: false,
      computation: `assumed ${r.viewerGbPerMonth} GB fetched by viewers × $${rate.price}/GB = $${formatMicros(micros)}`,
      time: null,
      startMs: T0,
      endMs: T0,
      resourceId: 'primary',
      resourceName: 'primary output',
      destinationId: null,
      platform: null,
      presetId: null,
      engine: 'aws',
    },
  ];
}

/** Every destination's channel: running `hoursPerMonth` and idle `idleHours`, one session each. */
function destinationSessions(r: Req, idleHours: number): { sessions: UsageSession[]; channels: number } {
  const sessions: UsageSession[] = [];
  let channels = 0;
  for (const d of r.destinations)
    for (let i = 0; i < d.count; i++) {
      const id = `${d.label}${d.count > 1 ? `-${i + 1}` : ''}`;
      const attrs = channelAttrs(r, [d.encode as EncodeProfile], id, d.platform);
      if (r.hoursPerMonth > 0) sessions.push(synthetic('destination-channel', id, 'running', r.hoursPerMonth, attrs));
      if (idleHours > 0) sessions.push(synthetic('destination-channel', id, 'idle', idleHours, attrs));
      channels++;
    }
  return { sessions, channels };
}

const primarySession = (r: Req): UsageSession => synthetic('primary-channel', 'primary', 'running', r.monthHours, channelAttrs(r, (r.primaryEncodes as EncodeProfile[] | undefined) ?? DEFAULT_PRIMARY_ENCODES, 'primary output', null));

const flowSession = (r: Req, hours: number, outputHours: number): UsageSession =>
  synthetic('flow', 'flow', 'running', hours, { inputSpec: r.inputSpec as InputSpec, contributionBitrate: r.contributionBitrate, pushInputs: 0 }, { flowOutputHours: outputHours });

/** Fanout's design, priced. Throws a ZodError for a request that does not validate. */
export function estimate(request: EstimateRequest, table: RateTable): Estimate {
  const r = EstimateRequestSchema.parse(request);
  const { sessions, channels } = destinationSessions(r, r.idleHoursPerDestination);
  const assumptions: string[] = [`${r.hoursPerMonth} streaming h/month for every destination, as one run each (the 10-minute minimum applies once)`, `a ${r.monthHours} h month for what runs all month`];
  // Each destination's managed flow output sends while its channel exists (running or idle).
  let outputHours = channels * (r.hoursPerMonth + r.idleHoursPerDestination);
  const flowHours = r.primary ? r.monthHours : Math.min(r.monthHours, r.hoursPerMonth + r.idleHoursPerDestination);
  if (r.primary) {
    sessions.push(primarySession(r));
    outputHours += r.monthHours;
    assumptions.push('the primary HLS channel runs all month (always on) and keeps the flow ACTIVE');
  } else assumptions.push('no primary output: the flow is ACTIVE only while a destination streams or idles');
  assumptions.push(r.idleHoursPerDestination > 0 ? `each destination channel idles ${r.idleHoursPerDestination} h/month before it is reclaimed` : 'destination channels are reclaimed as soon as they stop (no idle hours)');
  if (flowHours > 0) sessions.push(flowSession(r, flowHours, Math.min(outputHours, flowHours * (channels + (r.primary ? 1 : 0)))));
  if (r.backupInput) assumptions.push('every channel has a backup push input (a second input billed while running)');
  return collect('fanout', sessions, table, assumptions, originationLine(r, table));
}

/**
 * The fixed design of the original plan: the same destinations, each a channel that exists all
 * month (running `hoursPerMonth`, idle the rest), the primary all month, the flow 24/7.
 */
export function fixedDesignEstimate(request: EstimateRequest, table: RateTable): Estimate {
  const r = EstimateRequestSchema.parse(request);
  const idle = Math.max(0, r.monthHours - r.hoursPerMonth);
  const { sessions, channels } = destinationSessions(r, idle);
  if (r.primary) sessions.push(primarySession(r));
  const outputs = channels + (r.primary ? 1 : 0);
  sessions.push(flowSession(r, r.monthHours, outputs * r.monthHours));
  return collect(
    'fixed',
    sessions,
    table,
    [
      `${channels} destination channels exist all month: running ${r.hoursPerMonth} h, idle ${idle} h (idle channel + idle push input charges)`,
      `the primary channel runs all ${r.monthHours} h; the flow is ACTIVE 24/7 with ${outputs} outputs`,
    ],
    originationLine(r, table),
  );
}

// ---- the plan's own table ---------------------------------------------------------------------

export interface PlanTableRow {
  component: string;
  /** The plan's figure, micros. */
  planMicros: number;
  /** How the plan's figure decomposes (where it can be reproduced). */
  reproduced: string;
}

/** The cost table of seeds/003 ("Corrected Cost Analysis", 100 h/month), reproduced from its rates. */
export function planAsWritten(table: RateTable): { rows: PlanTableRow[]; totalMicros: number; omissions: string[] } {
  const at = new Date(T0).toISOString();
  const flow = lookupRate(table, rateKeys.flowHour, at);
  const out = lookupRate(table, rateKeys.output('SINGLE_PIPELINE', { codec: 'AVC', resolution: 'HD', bitrate: 'MAX_10_MBPS', framerate: 'MAX_30_FPS' }), at);
  const inp = lookupRate(table, rateKeys.input('SINGLE_PIPELINE', DEFAULT_INPUT_SPEC), at);
  const rows: PlanTableRow[] = [
    { component: 'MediaConnect Flow (24/7)', planMicros: 115_200_000, reproduced: `720 h × $${flow?.price ?? '?'}/h = $${formatMicros(costMicros(720, flow?.price ?? 0))}` },
    { component: 'Data Transfer (100 h)', planMicros: 30_000_000, reproduced: 'not derivable: no volume or rate given' },
    { component: '5 MediaLive channels (single pipeline, 100 h each)', planMicros: 210_600_000, reproduced: `5 × 100 h × $${out?.price ?? '?'}/h (HD ≤30 fps output) = $${formatMicros(costMicros(500, out?.price ?? 0))}` },
  ];
  return {
    rows,
    totalMicros: rows.reduce((s, r) => s + r.planMicros, 0),
    omissions: [
      `no input charges: 5 channels × 100 h × $${inp?.price ?? '?'}/h = $${formatMicros(costMicros(500, inp?.price ?? 0))}`,
      `the always-on primary priced at 100 h, not 720 h: its input + output for 720 h = $${formatMicros(costMicros(720, (inp?.price ?? 0) + (out?.price ?? 0)))}`,
      'no idle charges for the four destination channels (and their push inputs) in the 620 h they exist without running',
      'a 1080p60 output (Twitch) priced at the ≤30 fps rate',
    ],
  };
}

// ---- recorded usage vs the fixed design --------------------------------------------------------

export interface FixedDesignConfig {
  /** The fixed design's destination channels (the plan: YouTube, Twitch, LinkedIn, custom). */
  channels: { label: string; platform: string | null; encode: EncodeProfile }[];
  primaryEncodes?: EncodeProfile[];
  channelClass?: ChannelClass;
  backupInput?: boolean;
}

export interface DesignComparison {
  startMs: number;
  endMs: number;
  periodHours: number;
  /** Hours in which at least one destination streamed (the fixed design's channels run then). */
  streamingHours: number;
  actualMicros: number;
  fixedMicros: number;
  savingMicros: number;
  fixed: Estimate;
  computation: string;
}

/** Union length of intervals, in ms. */
function unionMs(intervals: [number, number][]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let cur: [number, number] | null = null;
  for (const [a, b] of sorted) {
    if (!cur || a > cur[1]) {
      if (cur) total += cur[1] - cur[0];
      cur = [a, b];
    } else cur[1] = Math.max(cur[1], b);
  }
  if (cur) total += cur[1] - cur[0];
  return total;
}

/**
 * Prices what was recorded in [startMs, endMs) as it was, and as the fixed design would have:
 * its channels running whenever anything streamed (the union of the recorded destination runs)
 * and idle otherwise, the primary and the flow all the time.
 */
export function compareWithFixedDesign(priced: readonly PricedSession[], startMs: number, endMs: number, tz: string, fixedCfg: FixedDesignConfig, table: RateTable): DesignComparison {
  const lines = priced.flatMap((p) => p.pricing.lines);
  const actualMicros = partsWithin(lines, startMs, endMs, tz, 'day').reduce((s, p) => s + p.costMicros, 0);
  const runs = priced
    .filter((p) => p.session.resource.kind === 'destination-channel' && p.session.kind === 'running')
    .map((p): [number, number] => {
      const a = Date.parse(p.session.startedAt);
      return [Math.max(a, startMs), Math.min(a + p.session.durationMs, endMs)];
    });
  const streamingHours = unionMs(runs) / HOUR;
  const periodHours = (endMs - startMs) / HOUR;
  const fixed = fixedDesignEstimate(
    {
      hoursPerMonth: streamingHours,
      monthHours: periodHours,
      destinations: fixedCfg.channels.map((c) => ({ label: c.label, platform: c.platform, encode: c.encode, count: 1 })),
      primary: true,
      ...(fixedCfg.primaryEncodes ? { primaryEncodes: fixedCfg.primaryEncodes } : {}),
      channelClass: fixedCfg.channelClass ?? 'SINGLE_PIPELINE',
      backupInput: fixedCfg.backupInput ?? false,
    },
    table,
  );
  const saving = fixed.totalMicros - actualMicros;
  return {
    startMs,
    endMs,
    periodHours,
    streamingHours,
    actualMicros,
    fixedMicros: fixed.totalMicros,
    savingMicros: saving,
    fixed,
    computation: `fixed design: ${fixedCfg.channels.length} channels existing ${+periodHours.toFixed(3)} h (running ${+streamingHours.toFixed(3)} h while anything streamed) + primary + flow 24/7 = $${formatMicros(fixed.totalMicros)}; recorded usage priced = $${formatMicros(actualMicros)}; saving = $${formatMicros(saving)}`,
  };
}
