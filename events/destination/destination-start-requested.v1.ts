import { z } from 'zod';
import { AggregateVersionSchema, DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const DestinationStartRequestedV1 = defineEvent({
  source: SOURCES.destination,
  name: 'DestinationStartRequested',
  version: 1,
  description: 'The operator asked for the destination to go live (desired = running).',
  data: z.object({ destinationId: DestinationIdSchema, aggregateVersion: AggregateVersionSchema }).strict(),
});
