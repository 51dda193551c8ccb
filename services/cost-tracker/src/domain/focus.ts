/**
 * Cost lines as FinOps FOCUS rows, for finance tools. Column names and value rules follow the
 * FOCUS specification (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, `specification/columns/*.md`
 * and `attributes/*.md`):
 *
 *   date/times     UTC, `YYYY-MM-DDTHH:mm:ssZ`; a charge period's end is exclusive
 *   billing period the provider's: AWS bills by UTC month, so a line across a UTC month boundary
 *                  becomes one row per month, each with its share of quantity and cost
 *   ChargeCategory `Usage` (every Fanout line is consumption over time)
 *   units          FOCUS unit format: `Hours`, `GB` (10^9 bytes), `Core-Hours`
 *   ListCost       ListUnitPrice × PricingQuantity (to the micro-dollar)
 *   Tags           a serialised JSON object
 *   custom columns prefixed `x_`, PascalCase
 *
 * These are Fanout's computed list-price figures, not the provider's invoice: there is no
 * BilledCost or EffectiveCost, and `x_Estimated` says which figures rest on unverified rates.
 * CSV is written by csv-stringify (RFC 4180 quoting); text cells that a spreadsheet would run as a
 * formula (leading `=`, `+`, `-`, `@`, tab, CR) get a leading `'` (OWASP "CSV injection"), since
 * destination names are user input.
 */
import { stringify } from 'csv-stringify/sync';
import { formatMicros } from './money.ts';
import type { CostLine } from './pricing.ts';
import { allotLine } from './summary.ts';

export const FOCUS_COLUMNS = [
  'BillingPeriodStart',
  'BillingPeriodEnd',
  'ChargePeriodStart',
  'ChargePeriodEnd',
  'ServiceName',
  'ChargeCategory',
  'ChargeDescription',
  'ResourceId',
  'ResourceName',
  'ConsumedQuantity',
  'ConsumedUnit',
  'PricingQuantity',
  'PricingUnit',
  'ListUnitPrice',
  'ListCost',
  'BillingCurrency',
  'Tags',
  'x_DestinationId',
  'x_Platform',
  'x_PresetId',
  'x_Engine',
  'x_Estimated',
  'x_CostCategory',
  'x_ServiceLine',
  'x_Operation',
  'x_SessionId',
  'x_RateKey',
  'x_RateSource',
  'x_RateEffectiveDate',
  'x_Computation',
] as const;
export type FocusColumn = (typeof FOCUS_COLUMNS)[number];
export type FocusRow = Record<FocusColumn, string>;

/** Columns whose values are numbers Fanout formats (never user text). */
const NUMERIC: ReadonlySet<FocusColumn> = new Set(['ConsumedQuantity', 'PricingQuantity', 'ListUnitPrice', 'ListCost']);

/** FOCUS date/time: UTC, whole seconds. */
export function focusDateTime(msValue: number): string {
  return `${new Date(Math.floor(msValue / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** A decimal without exponent, at most `places` decimals, trailing zeros kept off. */
export function decimal(x: number, places: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  const fixed = x.toFixed(places);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

function utcMonthBounds(msValue: number): { start: number; end: number } {
  const d = new Date(msValue);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

function tags(l: CostLine): string {
  const t: Record<string, string> = { 'fanout:engine': l.engine };
  if (l.destinationId) t['fanout:destination'] = l.destinationId;
  if (l.platform) t['fanout:platform'] = l.platform;
  if (l.presetId) t['fanout:preset'] = l.presetId;
  return JSON.stringify(Object.fromEntries(Object.entries(t).sort(([a], [b]) => a.localeCompare(b))));
}

/** One FOCUS row per line and UTC month. */
export function focusRows(lines: readonly CostLine[]): FocusRow[] {
  const rows: FocusRow[] = [];
  for (const l of lines) {
    for (const share of allotLine(l, 'UTC', 'month')) {
      const bp = utcMonthBounds(share.part.startMs);
      // Consumed = used (time in this month); Pricing = billed (rounding and minimum included).
      const consumed = l.time ? (share.part.endMs - share.part.startMs) / 3_600_000 : share.quantity;
      rows.push({
        BillingPeriodStart: focusDateTime(bp.start),
        BillingPeriodEnd: focusDateTime(bp.end),
        ChargePeriodStart: focusDateTime(share.part.startMs),
        ChargePeriodEnd: focusDateTime(share.part.endMs),
        ServiceName: l.service,
        ChargeCategory: 'Usage',
        ChargeDescription: l.description,
        ResourceId: l.resourceId,
        ResourceName: l.resourceName,
        ConsumedQuantity: decimal(consumed, 6),
        ConsumedUnit: l.unit,
        PricingQuantity: decimal(share.quantity, 6),
        PricingUnit: l.unit,
        ListUnitPrice: decimal(l.unitPrice, 10),
        ListCost: formatMicros(share.costMicros),
        BillingCurrency: l.currency,
        Tags: tags(l),
        x_DestinationId: l.destinationId ?? '',
        x_Platform: l.platform ?? '',
        x_PresetId: l.presetId ?? '',
        x_Engine: l.engine,
        x_Estimated: l.estimated ? 'true' : 'false',
        x_CostCategory: l.category,
        x_ServiceLine: l.serviceLine,
        x_Operation: l.operation,
        x_SessionId: l.sessionId,
        x_RateKey: l.rateKey,
        x_RateSource: l.rateSource,
        x_RateEffectiveDate: l.rateEffectiveDate ?? '',
        x_Computation: l.computation,
      });
    }
  }
  return rows;
}

/** Defuses a text cell a spreadsheet would evaluate as a formula. */
export function defuseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** RFC 4180 CSV of FOCUS rows, header first, CRLF line ends. */
export function focusCsv(rows: readonly FocusRow[]): string {
  const safe = rows.map((r) => FOCUS_COLUMNS.map((c) => (NUMERIC.has(c) ? r[c] : defuseCell(r[c]))));
  return stringify(safe, { header: true, columns: [...FOCUS_COLUMNS], record_delimiter: 'windows' });
}
