/** Schemas of cost-tracker's API: they validate requests and generate its part of the OpenAPI document. */
import { z } from '../../../../shared/http/zod.ts';
import { EstimateRequestSchema } from '../domain/estimator.ts';
import { RESOURCE_KINDS } from '../domain/sessions.ts';

const Money = z
  .string()
  .regex(/^-?\d+\.\d{6}$/)
  .openapi({ description: 'US dollars with six decimals (integer micro-dollars underneath)', example: '12.345600' });
const Row = z.object({ key: z.string(), label: z.string(), cost: Money, estimated: z.boolean() }).openapi('CostRow');
const Instant = z.string().datetime({ offset: true });

export const CostReportQuerySchema = z
  .object({
    month: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
      .optional()
      .openapi({ description: 'A month of the configured time zone (default: this month)' }),
  })
  .strict();

export const CostReportSchema = z
  .object({
    month: z.string(),
    timeZone: z.string(),
    asOf: Instant,
    engine: z.enum(['aws', 'local']),
    currency: z.literal('USD'),
    rateTable: z.string(),
    monthToDate: Money,
    estimated: z.boolean().openapi({ description: 'Some figure rests on an estimated rate (docs/cost.md, "Rates")' }),
    elapsedHours: z.number(),
    remainingHours: z.number(),
    projection: z.object({ total: Money, computation: z.string() }),
    byDestination: z.array(Row).openapi({ description: 'Per destination; idle (`__idle__`), redundancy (`__redundancy__`) and shared (`__shared__`: primary, flow) rows of their own' }),
    byPlatform: z.array(Row),
    byServiceLine: z.array(Row),
    byCategory: z.array(Row),
    days: z.array(z.object({ day: z.string(), cost: Money })),
    missingRates: z.array(z.string()),
    sessions: z.number().int(),
    openSessions: z.number().int(),
    fixedDesign: z
      .object({ total: Money, actual: Money, saving: Money, computation: z.string() })
      .nullable()
      .openapi({ description: "The same usage priced as the plan's fixed design (AWS engine; null when fixedDesignNotApplicable says why)" }),
    fixedDesignNotApplicable: z
      .object({ reason: z.enum(['local-engine', 'month-not-started']), detail: z.string() })
      .nullable()
      .openapi({ description: 'Why fixedDesign is null (local-engine: the machine costs the same whether processes run or not; month-not-started), or null when it is there' }),
    budget: z.object({ amount: Money, thresholdsPercent: z.array(z.number().int()), crossed: z.array(z.number().int()), usedPercent: z.number(), projectedPercent: z.number() }).nullable(),
    computation: z.string(),
  })
  .openapi('CostReport');

export const SessionsQuerySchema = z
  .object({
    from: Instant.optional().openapi({ description: 'Sessions that end at or after this instant' }),
    to: Instant.optional().openapi({ description: 'Sessions that start before this instant' }),
    destinationId: z.string().uuid().optional(),
    platform: z.string().min(1).max(64).optional(),
    resourceKind: z.enum(RESOURCE_KINDS).optional(),
    kind: z.enum(['running', 'idle']).optional(),
    includeOpen: z.enum(['true', 'false']).optional().openapi({ description: 'Open and settling sessions too (default true; they are provisional)' }),
    format: z.enum(['json', 'csv']).optional().openapi({ description: 'csv: FinOps FOCUS rows (also with `Accept: text/csv`)' }),
  })
  .strict();

const Line = z
  .object({
    serviceLine: z.string(),
    category: z.string(),
    description: z.string(),
    quantity: z.number(),
    unit: z.string(),
    unitPrice: z.number(),
    cost: Money,
    rateKey: z.string(),
    rateSource: z.string(),
    estimated: z.boolean(),
    missingRate: z.boolean(),
    computation: z.string(),
  })
  .openapi('CostLine');

export const SessionSchema = z
  .object({
    sessionId: z.string(),
    resource: z.object({ kind: z.enum(RESOURCE_KINDS), id: z.string(), destinationId: z.string().nullable() }),
    kind: z.enum(['running', 'idle']),
    startedAt: Instant,
    endedAt: Instant.nullable(),
    durationSeconds: z.number(),
    destinationName: z.string().nullable(),
    platform: z.string().nullable(),
    presetId: z.string().nullable(),
    engine: z.enum(['aws', 'local']),
    restarts: z.number().int(),
    bytesOut: z.number().nullable(),
    cpuSeconds: z.number().nullable(),
    endReason: z.string().nullable(),
    endEstimated: z.boolean(),
    provisional: z.boolean().openapi({ description: 'Open, or closed within the settle window: may still change' }),
    cost: Money,
    estimated: z.boolean(),
    lines: z.array(Line),
  })
  .openapi('UsageSession');

export const SessionListSchema = z.object({ asOf: Instant, rateTable: z.string(), currency: z.literal('USD'), total: Money, sessions: z.array(SessionSchema) }).openapi('UsageSessionList');

export { EstimateRequestSchema };

export const EstimateResultSchema = z
  .object({
    currency: z.literal('USD'),
    rateTable: z.string(),
    fanout: z.object({ total: Money, estimated: z.boolean(), missingRates: z.array(z.string()), assumptions: z.array(z.string()), lines: z.array(Line) }),
    fixedDesign: z.object({ total: Money, estimated: z.boolean(), lines: z.array(Line) }),
    saving: Money,
  })
  .openapi('CostEstimate');

export const BudgetRequestSchema = z
  .object({
    amount: z.number().positive().max(10_000_000).openapi({ description: 'Monthly budget in US dollars' }),
    thresholdsPercent: z.array(z.number().int().min(1).max(1000)).min(1).max(10).optional().openapi({ description: 'Default [80, 100]' }),
    minElapsedHours: z.number().min(0).max(744).optional().openapi({ description: 'Hours into the month before the projection may cross (default 24)' }),
  })
  .strict()
  .openapi('BudgetRequest');

export const BudgetSchema = z
  .object({
    budget: z.object({ amount: Money, thresholdsPercent: z.array(z.number().int()), minElapsedHours: z.number(), timeZone: z.string() }).nullable(),
    crossed: z.object({ month: z.string().nullable(), thresholdsPercent: z.array(z.number().int()) }),
    updatedBy: z.string().nullable(),
  })
  .openapi('Budget');

export const RatesRequestSchema = z
  .object({
    overrides: z
      .array(
        z
          .object({
            key: z.string().min(1).max(200).openapi({ description: 'A rate key of GET /api/admin/cost/rates' }),
            price: z.number().finite().min(0),
            effectiveDate: z
              .string()
              .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
              .nullable()
              .default(null),
            note: z.string().max(500).optional(),
          })
          .strict(),
      )
      .max(200),
  })
  .strict()
  .openapi('RateOverridesRequest');

const RateOut = z.object({
  key: z.string(),
  service: z.string(),
  operation: z.string(),
  description: z.string(),
  unit: z.string(),
  price: z.number(),
  effectiveDate: z.string().nullable(),
  source: z.object({ kind: z.string(), title: z.string(), url: z.string().optional(), retrieved: z.string().optional(), note: z.string().optional() }),
  estimated: z.boolean(),
});

export const PriceListStatusSchema = z
  .object({
    refreshedAt: z.string().openapi({ description: 'When the AWS Price List was last read' }),
    region: z.string().openapi({ description: "The Region whose products were read (the deployment's)" }),
    rates: z.number().int().openapi({ description: 'Rates the refresh added to the table (source `aws-price-list`)' }),
    services: z.array(
      z.object({
        serviceCode: z.string(),
        products: z.number().int(),
        mapped: z.number().int().openapi({ description: 'Products that gave a rate' }),
        rates: z.number().int(),
        unmatched: z.array(z.string()).openapi({ description: 'Usage types with an on-demand price that gave no rate (at most 50): check them after a first refresh' }),
        malformed: z.number().int(),
        keptPrevious: z.boolean().openapi({ description: "The service answered no product: the previous refresh's rates were kept" }),
      }),
    ),
  })
  .openapi('PriceListStatus');

export const RatesSchema = z
  .object({
    table: z.object({ id: z.string(), currency: z.literal('USD'), region: z.string(), rates: z.array(RateOut) }),
    overrides: z.array(z.object({ key: z.string(), price: z.number(), effectiveDate: z.string().nullable(), by: z.string(), setOn: z.string(), note: z.string().optional() })),
    priceList: PriceListStatusSchema.nullable().openapi({ description: 'The last AWS Price List refresh (null: none yet)' }),
  })
  .openapi('CostRates');
