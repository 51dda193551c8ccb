/**
 * The cost-tracker's published events, built from domain results: `UsageSessionClosed` (a settled
 * session with its priced breakdown), `CostSummary` (a day or a month), `BudgetThresholdCrossed`.
 * Only the `data` member: the envelope (id, occurredAt, correlationId) is the publisher's. The
 * tests validate every builder's output against the event schemas in events/cost-tracker/.
 */
import type { EventData } from '../../../../events/envelope.ts';
import type { BudgetThresholdCrossedV1 } from '../../../../events/cost-tracker/budget-threshold-crossed.v1.ts';
import type { CostSummaryV1 } from '../../../../events/cost-tracker/cost-summary.v1.ts';
import type { UsageSessionClosedV1 } from '../../../../events/cost-tracker/usage-session-closed.v1.ts';
import { encodeBand } from './bands.ts';
import type { BudgetCrossing } from './budget.ts';
import { formatMicros } from './money.ts';
import type { CostLine, SessionPricing } from './pricing.ts';
import type { RateTable } from './rates.ts';
import type { UsageSession } from './sessions.ts';
import type { CostBreakdown, SummaryRow } from './summary.ts';

function lineData(l: CostLine) {
  return {
    service: l.service,
    operation: l.operation,
    serviceLine: l.serviceLine,
    category: l.category,
    description: l.description,
    quantity: l.quantity,
    unit: l.unit,
    unitPrice: l.unitPrice,
    cost: formatMicros(l.costMicros),
    currency: l.currency,
    rateKey: l.rateKey,
    rateSource: l.rateSource,
    rateEffectiveDate: l.rateEffectiveDate,
    estimated: l.estimated,
    missingRate: l.missingRate,
    computation: l.computation,
  };
}

/** `UsageSessionClosed` v1 data for a closed (settled) session. */
export function usageSessionClosedData(s: UsageSession, p: SessionPricing, table: RateTable): EventData<typeof UsageSessionClosedV1> {
  if (s.endedAt === null || s.endReason === null) throw new Error(`session ${s.sessionId} is still open`);
  const a = s.attributes;
  return {
    sessionId: s.sessionId,
    resource: { kind: s.resource.kind, id: s.resource.id },
    kind: s.kind,
    engine: a.engine,
    destinationId: s.resource.destinationId,
    platform: a.platform,
    presetId: a.presetId,
    channelClass: a.channelClass,
    encodes: a.encodes.map((e) => {
      const b = encodeBand(e, a.inputSpec);
      return { codec: e.codec, width: e.width, height: e.height, frameRate: e.frameRate, videoBitrate: e.videoBitrate, resolution: b.resolution, bitrateBand: b.bitrate, framerateBand: b.framerate };
    }),
    pushInputs: a.pushInputs,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    durationSeconds: s.durationMs / 1000,
    restarts: s.restarts,
    bytesOut: s.bytesOut === null ? null : Math.round(s.bytesOut),
    endReason: s.endReason,
    endEstimated: s.endEstimated,
    breakdown: {
      currency: 'USD',
      total: formatMicros(p.totalMicros),
      estimated: p.estimated,
      rateTable: table.id,
      missingRates: p.missingRates,
      lines: p.lines.map(lineData),
    },
  };
}

const rows = (r: SummaryRow[]) => r.map((x) => ({ key: x.key, label: x.label, cost: formatMicros(x.costMicros), estimated: x.estimated }));

/** `CostSummary` v1 data for a day or a month. */
export function costSummaryData(args: {
  kind: 'day' | 'month';
  label: string;
  startMs: number;
  endMs: number;
  timeZone: string;
  asOf: string;
  breakdown: CostBreakdown;
  table: RateTable;
  projection: { totalMicros: number; computation: string } | null;
}): EventData<typeof CostSummaryV1> {
  const b = args.breakdown;
  return {
    period: { kind: args.kind, label: args.label, start: new Date(args.startMs).toISOString(), end: new Date(args.endMs).toISOString(), timeZone: args.timeZone },
    complete: Date.parse(args.asOf) >= args.endMs,
    asOf: args.asOf,
    currency: 'USD',
    total: formatMicros(b.totalMicros),
    estimated: b.estimated,
    rateTable: args.table.id,
    byServiceLine: rows(b.byServiceLine),
    byDestination: rows(b.byDestination),
    byPlatform: rows(b.byPlatform),
    byCategory: rows(b.byCategory),
    missingRates: b.missingRates,
    sessions: b.sessions,
    projection: args.projection ? { total: formatMicros(args.projection.totalMicros), computation: args.projection.computation } : null,
  };
}

/** `BudgetThresholdCrossed` v1 data. */
export function budgetThresholdCrossedData(c: BudgetCrossing): EventData<typeof BudgetThresholdCrossedV1> {
  return {
    month: c.month,
    timeZone: c.timeZone,
    thresholdPercent: c.thresholdPercent,
    currency: 'USD',
    budget: formatMicros(c.budgetMicros),
    threshold: formatMicros(c.thresholdMicros),
    basis: c.basis,
    monthToDate: formatMicros(c.monthToDateMicros),
    projection: formatMicros(c.projectionMicros),
    crossedAt: c.crossedAt,
    computation: c.computation,
  };
}
