/**
 * The monthly budget: when the month's projection (or, which implies it, the month to date)
 * reaches a threshold of the budget, one `BudgetThresholdCrossed` per threshold per month. A pure
 * function of (state, figures) → (state, crossings); the state is what a store keeps.
 *
 * Rules:
 *   - thresholds are percentages of the budget (default 80 and 100), evaluated from the lowest;
 *   - a threshold crosses once per month: a projection that dips below and rises again does not
 *     cross it again, and a changed budget does not re-arm a threshold already crossed that month;
 *   - a new month starts with nothing crossed;
 *   - early in the month a projection rests on few hours, so below `minElapsedHours` only the
 *     month to date itself can cross (it is a fact, not an extrapolation).
 */
import { z } from 'zod';
import { formatMicros } from './money.ts';

export const BudgetConfigSchema = z
  .object({
    /** The monthly budget in whole micro-dollars (admins type dollars; the API converts). */
    budgetMicros: z.number().int().positive(),
    thresholdsPercent: z.array(z.number().int().min(1).max(1000)).min(1).max(10).default([80, 100]),
    /** Hours into the month before the projection may cross a threshold. */
    minElapsedHours: z.number().min(0).max(744).default(24),
    timeZone: z.string().min(1).default('UTC'),
  })
  .strict();
export type BudgetConfig = z.output<typeof BudgetConfigSchema>;

export interface BudgetState {
  /** The month the crossings belong to (`YYYY-MM`). */
  month: string | null;
  /** Thresholds (percent) already crossed this month. */
  crossed: number[];
}

export const EMPTY_BUDGET_STATE: BudgetState = Object.freeze({ month: null, crossed: [] }) as BudgetState;

export interface BudgetFigures {
  month: string;
  monthToDateMicros: number;
  projectionMicros: number;
  elapsedHours: number;
  /** How the projection was computed (carried into the event). */
  projectionComputation: string;
  at: string;
}

/** The data of one `BudgetThresholdCrossed` event. */
export interface BudgetCrossing {
  month: string;
  timeZone: string;
  thresholdPercent: number;
  budgetMicros: number;
  thresholdMicros: number;
  basis: 'projection' | 'month-to-date';
  monthToDateMicros: number;
  projectionMicros: number;
  crossedAt: string;
  computation: string;
}

/** Evaluates the thresholds; returns the new state and the crossings to publish, lowest first. */
export function evaluateBudget(cfg: BudgetConfig, state: BudgetState, f: BudgetFigures): { state: BudgetState; crossings: BudgetCrossing[] } {
  const current: BudgetState = state.month === f.month ? state : { month: f.month, crossed: [] };
  const crossings: BudgetCrossing[] = [];
  const crossed = new Set(current.crossed);
  for (const pct of [...new Set(cfg.thresholdsPercent)].sort((a, b) => a - b)) {
    if (crossed.has(pct)) continue;
    const thresholdMicros = Math.round((cfg.budgetMicros * pct) / 100);
    const byActual = f.monthToDateMicros >= thresholdMicros;
    const byProjection = f.elapsedHours >= cfg.minElapsedHours && f.projectionMicros >= thresholdMicros;
    if (!byActual && !byProjection) continue;
    const basis = byActual ? 'month-to-date' : 'projection';
    const figure = byActual ? f.monthToDateMicros : f.projectionMicros;
    crossed.add(pct);
    crossings.push({
      month: f.month,
      timeZone: cfg.timeZone,
      thresholdPercent: pct,
      budgetMicros: cfg.budgetMicros,
      thresholdMicros,
      basis,
      monthToDateMicros: f.monthToDateMicros,
      projectionMicros: f.projectionMicros,
      crossedAt: f.at,
      computation: `${basis === 'month-to-date' ? 'month to date' : 'projection'} $${formatMicros(figure)} ≥ ${pct} % of the $${formatMicros(cfg.budgetMicros)} budget ($${formatMicros(thresholdMicros)})${basis === 'projection' ? `; ${f.projectionComputation}` : ''}`,
    });
  }
  return { state: { month: f.month, crossed: [...crossed].sort((a, b) => a - b) }, crossings };
}
