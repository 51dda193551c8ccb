/**
 * Cost summaries: priced lines allotted to the days and months of a time zone, grouped the ways
 * finance asks (per service line, per destination, per platform, per category), with idle and
 * redundancy in rows of their own, plus month to date and a projection to month end. Every total
 * is a sum of whole micro-dollars, so the days of a month add up to the month exactly.
 *
 * Allotting a line to days: time in each day counts in proportion; the part of a run that is
 * billed but not used (rounding up, the 10-minute minimum) counts on the day the run ends.
 *
 * Projection (`monthToDate`): month to date, plus what is switched on now continuing at its
 * current hourly rate to month end (the primary, the flow, idle channels), plus streaming at the
 * month's average so far (destination channels' running cost ÷ elapsed hours × remaining hours).
 * The computation string shows each term.
 */
import { costMicros, formatMicros, splitMicros } from './money.ts';
import { monthBounds, splitByDay, splitByMonth, type PeriodPart } from './periods.ts';
import type { CostLine, SessionPricing } from './pricing.ts';
import { describeSource, lookupRate, rateKeys, SERVICE_NAMES, type RateTable } from './rates.ts';
import type { UsageSession } from './sessions.ts';

/** A line's share of one period. */
export interface LinePart {
  line: CostLine;
  part: PeriodPart;
  costMicros: number;
  quantity: number;
}

/**
 * Splits a line over calendar periods (`day` or `month` of `tz`). The shares' costs add up to the
 * line's cost exactly.
 */
export function allotLine(line: CostLine, tz: string, by: 'day' | 'month'): LinePart[] {
  const split = by === 'day' ? splitByDay : splitByMonth;
  let parts = split(line.startMs, line.endMs, tz);
  if (parts.length === 0) parts = split(line.startMs, line.startMs + 1, tz).map((p) => ({ ...p, endMs: p.startMs }));
  const weights = parts.map((p) => p.endMs - p.startMs);
  const extra = line.time ? Math.max(0, line.time.billedMs - line.time.actualMs) : 0;
  weights[weights.length - 1]! += extra;
  if (weights.every((w) => w <= 0)) weights[weights.length - 1] = 1;
  const costs = splitMicros(line.costMicros, weights);
  const sum = weights.reduce((a, b) => a + b, 0);
  return parts.map((part, i) => ({ line, part, costMicros: costs[i]!, quantity: (line.quantity * weights[i]!) / sum }));
}

export interface SummaryRow {
  key: string;
  label: string;
  costMicros: number;
  /** Any contributing line is estimated. */
  estimated: boolean;
  lines: number;
}

export interface CostBreakdown {
  totalMicros: number;
  estimated: boolean;
  byServiceLine: SummaryRow[];
  /** Destinations' usage; `__idle__`, `__redundancy__` and `__shared__` (primary, flow) rows apart. */
  byDestination: SummaryRow[];
  byPlatform: SummaryRow[];
  byCategory: SummaryRow[];
  missingRates: string[];
  sessions: number;
}

export const IDLE_ROW = '__idle__';
export const REDUNDANCY_ROW = '__redundancy__';
export const SHARED_ROW = '__shared__';

const SPECIAL_LABELS: Record<string, string> = {
  [IDLE_ROW]: 'idle resources (exist, not running)',
  [REDUNDANCY_ROW]: 'redundancy (backup inputs, second pipelines)',
  [SHARED_ROW]: 'shared (primary output, contribution flow)',
};

function group(parts: readonly LinePart[], keyOf: (l: CostLine) => { key: string; label: string }): SummaryRow[] {
  const rows = new Map<string, SummaryRow>();
  for (const p of parts) {
    const { key, label } = keyOf(p.line);
    const row = rows.get(key) ?? { key, label, costMicros: 0, estimated: false, lines: 0 };
    row.costMicros += p.costMicros;
    row.estimated ||= p.line.estimated;
    row.lines += 1;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.costMicros - a.costMicros || a.key.localeCompare(b.key));
}

function special(l: CostLine): { key: string; label: string } | null {
  if (l.category === 'idle') return { key: IDLE_ROW, label: SPECIAL_LABELS[IDLE_ROW]! };
  if (l.category === 'redundancy') return { key: REDUNDANCY_ROW, label: SPECIAL_LABELS[REDUNDANCY_ROW]! };
  if (l.destinationId === null) return { key: SHARED_ROW, label: SPECIAL_LABELS[SHARED_ROW]! };
  return null;
}

/** Groups line shares into a breakdown. */
export function breakdown(parts: readonly LinePart[]): CostBreakdown {
  return {
    totalMicros: parts.reduce((s, p) => s + p.costMicros, 0),
    estimated: parts.some((p) => p.line.estimated),
    byServiceLine: group(parts, (l) => (l.category === 'usage' ? { key: l.serviceLine, label: l.serviceLine } : { key: `${l.serviceLine} (${l.category})`, label: `${l.serviceLine} (${l.category})` })),
    byDestination: group(parts, (l) => special(l) ?? { key: l.destinationId!, label: l.resourceName }),
    byPlatform: group(parts, (l) => special(l) ?? { key: l.platform ?? 'unknown', label: l.platform ?? 'unknown platform' }),
    byCategory: group(parts, (l) => ({ key: l.category, label: l.category })),
    missingRates: [...new Set(parts.filter((p) => p.line.missingRate).map((p) => p.line.rateKey))].sort(),
    sessions: new Set(parts.map((p) => p.line.sessionId)).size,
  };
}

/** The shares of `lines` that fall in [startMs, endMs), by day or month of `tz`. */
export function partsWithin(lines: readonly CostLine[], startMs: number, endMs: number, tz: string, by: 'day' | 'month'): LinePart[] {
  return lines.flatMap((l) => allotLine(l, tz, by)).filter((p) => p.part.startMs >= startMs && p.part.startMs < endMs);
}

/** One breakdown per local day, in order, for the days in [startMs, endMs) that have costs. */
export function dailySummaries(lines: readonly CostLine[], startMs: number, endMs: number, tz: string): { day: string; breakdown: CostBreakdown }[] {
  const byDay = new Map<string, LinePart[]>();
  for (const p of partsWithin(lines, startMs, endMs, tz, 'day')) byDay.set(p.part.day, [...(byDay.get(p.part.day) ?? []), p]);
  return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, parts]) => ({ day, breakdown: breakdown(parts) }));
}

/**
 * The local engine's unallocated machine time in [startMs, endMs) as an idle line: the machine's
 * cost for the period minus what the destinations' CPU time already carries (OpenCost keeps the
 * same remainder as its `__idle__`).
 */
export function localIdleLine(lines: readonly CostLine[], table: RateTable, startMs: number, endMs: number, tz: string): CostLine | null {
  const rate = lookupRate(table, rateKeys.localMachineHour, new Date(startMs).toISOString());
  if (!rate || endMs <= startMs) return null;
  const hours = (endMs - startMs) / 3_600_000;
  const machine = costMicros(hours, rate.price);
  const allocated = partsWithin(
    lines.filter((l) => l.serviceLine === 'Local engine'),
    startMs,
    endMs,
    tz,
    'day',
  ).reduce((s, p) => s + p.costMicros, 0);
  const idle = Math.max(0, machine - allocated);
  return {
    lineId: `local-idle@${new Date(startMs).toISOString()}`,
    sessionId: `local-machine@${new Date(startMs).toISOString()}`,
    service: SERVICE_NAMES.local,
    operation: 'MACHINE_IDLE',
    serviceLine: 'Local engine',
    category: 'idle',
    description: 'machine time no destination used (flow hub, primary HLS, idle)',
    quantity: hours,
    unit: 'Hours',
    unitPrice: rate.price,
    currency: 'USD',
    costMicros: idle,
    rateKey: rate.key,
    rateSource: describeSource(rate),
    rateEffectiveDate: rate.effectiveDate,
    estimated: rate.estimated,
    missingRate: false,
    computation: `${+hours.toFixed(6)} machine-hours × $${rate.price}/h = $${formatMicros(machine)}, less $${formatMicros(allocated)} of destinations' CPU time = $${formatMicros(idle)}`,
    time: null,
    startMs,
    endMs,
    resourceId: 'local-machine',
    resourceName: 'local engine machine',
    destinationId: null,
    platform: null,
    presetId: null,
    engine: 'local',
  };
}

export interface PricedSession {
  session: UsageSession;
  pricing: SessionPricing;
}

export interface MonthToDate {
  month: string;
  timeZone: string;
  startMs: number;
  endMs: number;
  asOfMs: number;
  elapsedHours: number;
  remainingHours: number;
  actual: CostBreakdown;
  days: { day: string; totalMicros: number }[];
  projection: {
    totalMicros: number;
    /** What is switched on now, per hour (primary, flow, idle channels). */
    alwaysOnHourlyMicros: number;
    /** Streaming so far per elapsed hour. */
    streamingHourlyMicros: number;
    computation: string;
  };
}

/** The hourly rate an open session runs at now: its time lines' prices, plus its per-GB lines' average per hour. */
function hourlyMicros(p: PricedSession): number {
  const hours = p.session.durationMs / 3_600_000;
  return p.pricing.lines.reduce((sum, l) => {
    if (l.unit === 'Hours') return sum + costMicros(1, l.unitPrice);
    if (l.unit === 'GB' && hours > 0) return sum + Math.round(l.costMicros / hours);
    return sum;
  }, 0);
}

/**
 * Month to date for `month` of `tz` as of `asOf`, and the projection to month end. `priced` holds
 * every session touching the month: closed ones and the open ones of a snapshot at `asOf`.
 */
export function monthToDate(priced: readonly PricedSession[], month: string, tz: string, asOf: string, extraLines: readonly CostLine[] = []): MonthToDate {
  const { startMs, endMs } = monthBounds(month, tz);
  const asOfMs = Math.min(Math.max(Date.parse(asOf), startMs), endMs);
  const lines = [...priced.flatMap((p) => p.pricing.lines), ...extraLines];
  const parts = partsWithin(lines, startMs, asOfMs + 1, tz, 'day');
  const actual = breakdown(parts);
  const days = new Map<string, number>();
  for (const p of parts) days.set(p.part.day, (days.get(p.part.day) ?? 0) + p.costMicros);
  const elapsedHours = (asOfMs - startMs) / 3_600_000;
  const remainingHours = (endMs - asOfMs) / 3_600_000;
  const openAlwaysOn = priced.filter((p) => p.session.endedAt === null && !(p.session.resource.kind === 'destination-channel' && p.session.kind === 'running'));
  const alwaysOnHourly = openAlwaysOn.reduce((s, p) => s + hourlyMicros(p), 0);
  const streaming = new Set(priced.filter((p) => p.session.resource.kind === 'destination-channel' && p.session.kind === 'running').map((p) => p.session.sessionId));
  const streamingMtd = parts.filter((p) => streaming.has(p.line.sessionId)).reduce((s, p) => s + p.costMicros, 0);
  const streamingHourly = elapsedHours > 0 ? Math.round(streamingMtd / elapsedHours) : 0;
  const alwaysOnRest = Math.round(alwaysOnHourly * remainingHours);
  const streamingRest = Math.round(streamingHourly * remainingHours);
  const total = actual.totalMicros + alwaysOnRest + streamingRest;
  const h = (x: number): string => String(+x.toFixed(3));
  const what = [...new Set(openAlwaysOn.map((p) => `${p.session.resource.kind} ${p.session.kind}`))].join(', ') || 'nothing';
  return {
    month,
    timeZone: tz,
    startMs,
    endMs,
    asOfMs,
    elapsedHours,
    remainingHours,
    actual,
    days: [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, totalMicros]) => ({ day, totalMicros })),
    projection: {
      totalMicros: total,
      alwaysOnHourlyMicros: alwaysOnHourly,
      streamingHourlyMicros: streamingHourly,
      computation:
        `month to date $${formatMicros(actual.totalMicros)} over ${h(elapsedHours)} h` +
        ` + switched on now (${what}) $${formatMicros(alwaysOnHourly)}/h × ${h(remainingHours)} h remaining = $${formatMicros(alwaysOnRest)}` +
        ` + streaming so far $${formatMicros(streamingMtd)} ÷ ${h(elapsedHours)} h = $${formatMicros(streamingHourly)}/h × ${h(remainingHours)} h = $${formatMicros(streamingRest)}` +
        ` → projection $${formatMicros(total)}`,
    },
  };
}
