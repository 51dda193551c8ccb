/** Scheduled every hour: CostSummary for each finished day and month, once each. */
import { randomUUID } from 'node:crypto';
import { costTrackerFor } from '../app/build.ts';
import type { CostTrackerDeps } from '../deps.ts';

export function createSummaryHandler(deps: CostTrackerDeps) {
  return async () => ({ published: await costTrackerFor(deps).publishSummaries(`cost-summary-${randomUUID()}`) });
}
