import { z } from 'zod';
import { SOURCES, defineEvent } from '../envelope.ts';
import { CurrencySchema, MoneySchema } from './common.ts';

export const BudgetThresholdCrossedV1 = defineEvent({
  source: SOURCES.costTracker,
  name: 'BudgetThresholdCrossed',
  version: 1,
  description: "The month's projection (or its month to date) reached a threshold of the monthly budget; published once per threshold per month.",
  data: z
    .object({
      /** `YYYY-MM` in `timeZone`. */
      month: z.string().regex(/^\d{4}-\d{2}$/),
      timeZone: z.string().min(1),
      thresholdPercent: z.number().int().min(1),
      currency: CurrencySchema,
      budget: MoneySchema,
      threshold: MoneySchema,
      basis: z.enum(['projection', 'month-to-date']),
      monthToDate: MoneySchema,
      projection: MoneySchema,
      crossedAt: z.string().datetime({ offset: true }),
      computation: z.string().min(1),
    })
    .strict(),
});
