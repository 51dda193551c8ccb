/**
 * Scheduled outbox sweep (every minute on AWS; every few seconds and at start-up locally):
 * publishes any event a crash or a failed PutEvents left in a destination's outbox.
 */
import { createLogger } from '../../../../shared/logging/logger.ts';
import { destinationModule, SERVICE_NAME } from '../wiring.ts';

export const handler = async (): Promise<{ published: number }> => {
  const published = await destinationModule().outbox.sweep();
  if (published > 0) createLogger(SERVICE_NAME).info('outbox relay published pending events', { published });
  return { published };
};
