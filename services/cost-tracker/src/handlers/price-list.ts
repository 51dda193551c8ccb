/**
 * Scheduled once a day (serverless.yml `costTrackerPriceList`): the rate table refreshed from the
 * AWS Price List (app/price-list-refresh.ts). Where there is no Price List client (the local
 * runtime) it does nothing and says so; on AWS a failed read fails the invocation (the Lambda's
 * Errors metric) and leaves the stored rates as they were.
 */
import { costTrackerFor } from '../app/build.ts';
import type { CostTrackerDeps } from '../deps.ts';

export function createPriceListHandler(deps: CostTrackerDeps) {
  return async (): Promise<{ refreshed: boolean; rates?: number; unmatched?: number; reason?: string }> => {
    if (!deps.priceList) return { refreshed: false, reason: 'no Price List client in this runtime' };
    const r = await costTrackerFor(deps).refreshRates();
    return { refreshed: true, rates: r.rates.length, unmatched: r.services.reduce((n, x) => n + x.unmatched.length, 0) };
  };
}
