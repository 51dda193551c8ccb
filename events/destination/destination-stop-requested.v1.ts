import { z } from 'zod';
import { AggregateVersionSchema, DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const DestinationStopRequestedV1 = defineEvent({
  source: SOURCES.destination,
  name: 'DestinationStopRequested',
  version: 1,
  description: 'The operator asked for the destination to stop (desired = stopped).',
  data: z.object({ destinationId: DestinationIdSchema, aggregateVersion: AggregateVersionSchema }).strict(),
});
