/**
 * Scheduled outbox sweep (every minute on AWS; every few seconds and at start-up locally):
 * publishes any event a crash or a failed PutEvents left in a destination's outbox. On AWS, its
 * first run in a container also migrates stored records to the current schema (ADR 0017; the
 * local runtime does it at start-up), once per container.
 */
import type { DestinationDeps } from '../deps.ts';
import { destinationModule } from '../module.ts';

export function createOutboxRelayHandler(deps: DestinationDeps) {
  return async (): Promise<{ published: number }> => {
    const m = destinationModule(deps);
    await m.migrateStored();
    const published = await m.outbox.sweep();
    if (published > 0) deps.log.info('outbox relay published pending events', { published });
    return { published };
  };
}
