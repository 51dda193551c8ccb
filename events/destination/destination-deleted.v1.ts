import { z } from 'zod';
import { AggregateVersionSchema, DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const DestinationDeletedV1 = defineEvent({
  source: SOURCES.destination,
  name: 'DestinationDeleted',
  version: 1,
  description: 'The destination and every resource made for it are gone.',
  data: z.object({ destinationId: DestinationIdSchema, aggregateVersion: AggregateVersionSchema }).strict(),
});
