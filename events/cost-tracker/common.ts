/** Value schemas shared by the cost-tracker's events. */
import { z } from 'zod';

/** Money as a decimal string with six places (`"0.449280"`): exact for finance tools, no float. */
export const MoneySchema = z.string().regex(/^-?\d+\.\d{6}$/, 'a decimal with six places');

export const CurrencySchema = z.literal('USD');

export const CostCategorySchema = z.enum(['usage', 'idle', 'redundancy']);

/** One priced line: one quantity at one rate, and how it was computed. */
export const CostLineSchema = z
  .object({
    /** FOCUS ServiceName, e.g. "AWS Elemental MediaLive". */
    service: z.string().min(1),
    /** The provider's billing operation (MediaLive: CHANNEL_INPUT, CHANNEL_OUTPUT, INACTIVE_CHANNEL, INACTIVE_INPUT). */
    operation: z.string().min(1),
    serviceLine: z.string().min(1),
    category: CostCategorySchema,
    description: z.string().min(1),
    quantity: z.number().min(0),
    /** FOCUS unit: Hours, GB (10^9 bytes), Core-Hours. */
    unit: z.enum(['Hours', 'GB', 'Core-Hours']),
    unitPrice: z.number().min(0),
    cost: MoneySchema,
    currency: CurrencySchema,
    rateKey: z.string().min(1),
    /** Where the rate comes from, in words (and a URL where there is one). */
    rateSource: z.string().min(1),
    rateEffectiveDate: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .nullable(),
    /** The rate (or the quantity) is not verified. */
    estimated: z.boolean(),
    /** The table had no rate: this line is not priced. */
    missingRate: z.boolean(),
    computation: z.string().min(1),
  })
  .strict();

/** A summary row: a group's total. */
export const SummaryRowSchema = z
  .object({
    key: z.string().min(1),
    label: z.string().min(1),
    cost: MoneySchema,
    estimated: z.boolean(),
  })
  .strict();
