/**
 * cost-tracker's figures on Lambda as CloudWatch embedded metric format (EMF) log lines, through
 * Powertools Metrics: the same figures the local runtime's GET /metrics serves as `fanout_cost_*`
 * gauges (CostTracker.gauges(), i.e. GET /api/cost), written by the costTrackerTick function once a
 * minute. Namespace `Fanout`, dimensions `service` (cost-tracker) and `deployment`:
 *
 *   CostMonthToDate              USD, this month so far (fanout_cost_month_to_date_usd)
 *   CostBudget                   USD, the monthly budget (fanout_cost_budget_usd; absent without one)
 *   CostBudgetUsedRatio          the fraction of it used (fanout_cost_budget_used_ratio; absent without one)
 *
 * and, one EMF line per destination row with one more dimension `destination` (the row's key: a
 * destination id, or `__idle__`, `__shared__`, `__redundancy__`):
 *
 *   CostDestinationMonthToDate   USD (fanout_cost_destination_month_to_date_usd)
 *
 * The month and a row's name are metadata, not dimensions: a dimension per month would start a new
 * metric (billed monthly) every month, and a name can change. CloudWatch has no currency unit: the
 * unit is `None` and the metric name says it is dollars (docs/cost.md, "Metrics").
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CostGauges } from '../../../services/cost-tracker/src/app/cost-tracker.ts';
import { METRICS_NAMESPACE } from './api-metrics.ts';

export const COST_METRIC_NAMES = {
  monthToDate: 'CostMonthToDate',
  destinationMonthToDate: 'CostDestinationMonthToDate',
  budget: 'CostBudget',
  budgetUsedRatio: 'CostBudgetUsedRatio',
} as const;

export const COST_METRICS_SERVICE = 'cost-tracker';

const round6 = (v: number) => Math.round(v * 1_000_000) / 1_000_000;

/** Writes the figures as EMF lines (stdout, which CloudWatch Logs turns into metrics): one for the totals, one per destination row. */
export function publishCostMetrics(g: CostGauges, o: { deployment?: string | undefined; metrics?: Metrics } = {}): void {
  const metrics = o.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: COST_METRICS_SERVICE, ...(o.deployment ? { defaultDimensions: { deployment: o.deployment } } : {}) });
  for (const row of g.byDestination) {
    const single = metrics.singleMetric();
    single.addDimension('destination', row.key);
    single.addMetadata('month', g.month);
    single.addMetadata('destinationName', row.label);
    single.addMetric(COST_METRIC_NAMES.destinationMonthToDate, MetricUnit.NoUnit, round6(row.usd));
  }
  metrics.addMetric(COST_METRIC_NAMES.monthToDate, MetricUnit.NoUnit, round6(g.totalUsd));
  if (g.budgetUsd !== null) metrics.addMetric(COST_METRIC_NAMES.budget, MetricUnit.NoUnit, round6(g.budgetUsd));
  if (g.budgetUsed !== null) metrics.addMetric(COST_METRIC_NAMES.budgetUsedRatio, MetricUnit.NoUnit, g.budgetUsed);
  metrics.addMetadata('month', g.month);
  metrics.publishStoredMetrics();
}
