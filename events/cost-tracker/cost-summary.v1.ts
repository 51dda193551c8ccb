import { z } from 'zod';
import { SOURCES, defineEvent } from '../envelope.ts';
import { CurrencySchema, MoneySchema, SummaryRowSchema } from './common.ts';

export const CostSummaryV1 = defineEvent({
  source: SOURCES.costTracker,
  name: 'CostSummary',
  version: 1,
  description:
    "What a day or a month cost (in the organisation's time zone), per service line, destination, platform and category, with idle and redundancy " +
    'in rows of their own; published when a period closes, and for the running month with its projection.',
  data: z
    .object({
      period: z
        .object({
          kind: z.enum(['day', 'month']),
          /** `YYYY-MM-DD` or `YYYY-MM`. */
          label: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/),
          start: z.string().datetime({ offset: true }),
          end: z.string().datetime({ offset: true }),
          timeZone: z.string().min(1),
        })
        .strict(),
      /** False while the period is still running (month to date). */
      complete: z.boolean(),
      asOf: z.string().datetime({ offset: true }),
      currency: CurrencySchema,
      total: MoneySchema,
      estimated: z.boolean(),
      rateTable: z.string().min(1),
      byServiceLine: z.array(SummaryRowSchema),
      byDestination: z.array(SummaryRowSchema),
      byPlatform: z.array(SummaryRowSchema),
      byCategory: z.array(SummaryRowSchema),
      missingRates: z.array(z.string()),
      sessions: z.number().int().min(0),
      /** Months still running: the projection to month end and how it was computed. */
      projection: z
        .object({ total: MoneySchema, computation: z.string().min(1) })
        .strict()
        .nullable(),
    })
    .strict(),
});
