/**
 * The notifier's scheduled tick (serverless.yml `notifierTick`, every minute): group waits and
 * intervals that ended, repeats of what stays broken, retries and rate-limit waits that are over.
 * On AWS the waits themselves are precise through the wake queue (wake.ts, ADR 0027): this tick
 * is the backstop. The local runtime also runs it when `nextWakeAt` says, for second-precise waits.
 */
import type { NotifierDeps } from '../deps.ts';
import { notifierFor } from './notifier.ts';
import { afterRun } from './wake.ts';

export function createTickHandler(deps: NotifierDeps): () => Promise<{ nextWakeAt: string | null; sent: number; failed: number }> {
  return async () => {
    const r = await notifierFor(deps).run();
    await afterRun(deps, r);
    return { nextWakeAt: r.nextWakeAt?.toISOString() ?? null, sent: r.sent, failed: r.failed };
  };
}
