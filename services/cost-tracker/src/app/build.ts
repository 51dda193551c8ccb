/** Builds cost-tracker's use cases from its deps (one place: every handler factory goes through it). */
import { DestinationReader } from '../../../../shared/store/destination-reader.ts';
import type { CostTrackerDeps } from '../deps.ts';
import { CostStore } from '../store/cost-store.ts';
import { CostTracker } from './cost-tracker.ts';

export const SERVICE_NAME = 'cost-tracker';
export const VERSION = '0.1.0';

const built = new WeakMap<CostTrackerDeps, CostTracker>();

/** The tracker for these deps (the same object for the same deps: handlers of one container share it). */
export function costTrackerFor(deps: CostTrackerDeps): CostTracker {
  let t = built.get(deps);
  if (!t) {
    t = new CostTracker({
      ...deps,
      store: new CostStore(deps.doc, deps.tables.costs, { publisher: deps.publisher, log: deps.log }),
      destinations: new DestinationReader(deps.doc, deps.tables.destinations, deps.tables.presets),
    });
    built.set(deps, t);
  }
  return t;
}
