/** Scheduled every minute: CPU time (local engine), reconcile with the destinations, settle, budget (and at local start-up). */
import { randomUUID } from 'node:crypto';
import { costTrackerFor } from '../app/build.ts';
import type { CostTrackerDeps } from '../deps.ts';

export function createTickHandler(deps: CostTrackerDeps) {
  return async () => {
    const { closed, reconciled } = await costTrackerFor(deps).tick(`cost-tick-${randomUUID()}`);
    return { settled: closed.length, reconciled: reconciled.length };
  };
}
