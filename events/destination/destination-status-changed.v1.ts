import { z } from 'zod';
import { AggregateVersionSchema, DestinationIdSchema, LastErrorSchema, SOURCES, defineEvent } from '../envelope.ts';
import { DesiredStateSchema, DestinationStatusSchema } from './common.ts';

export const DestinationStatusChangedV1 = defineEvent({
  source: SOURCES.destination,
  name: 'DestinationStatusChanged',
  version: 1,
  description: 'The observed status of a destination moved (see the transition table in services/destination).',
  data: z
    .object({
      destinationId: DestinationIdSchema,
      aggregateVersion: AggregateVersionSchema,
      from: DestinationStatusSchema,
      to: DestinationStatusSchema,
      desired: DesiredStateSchema,
      lastError: LastErrorSchema.nullable(),
    })
    .strict(),
});
