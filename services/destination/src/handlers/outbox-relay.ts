/**
 * Scheduled outbox sweep (every minute on AWS; every few seconds and at start-up locally):
 * publishes any event a crash or a failed PutEvents left in a destination's outbox. On AWS, its
 * first run in a container also migrates stored records to the current schema (ADR 0017; the
 * local runtime does it at start-up), once per container.
 */
import { createLogger } from '../../../../shared/logging/logger.ts';
import { destinationModule, SERVICE_NAME } from '../wiring.ts';

export const handler = async (): Promise<{ published: number }> => {
  await destinationModule().migrateStored();
  const published = await destinationModule().outbox.sweep();
  if (published > 0) createLogger(SERVICE_NAME).info('outbox relay published pending events', { published });
  return { published };
};
