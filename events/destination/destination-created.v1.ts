import { z } from 'zod';
import { AggregateVersionSchema, DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';
import { DesiredStateSchema, DestinationStatusSchema } from './common.ts';

export const DestinationCreatedV1 = defineEvent({
  source: SOURCES.destination,
  name: 'DestinationCreated',
  version: 1,
  description: 'A destination was added; its flow output and channel are to be created on demand.',
  data: z
    .object({
      destinationId: DestinationIdSchema,
      aggregateVersion: AggregateVersionSchema,
      name: z.string(),
      platform: z.string(),
      preset: z.string(),
      /** Ingest URL without credentials; the stream key is never in an event. */
      rtmpUrl: z.string(),
      status: DestinationStatusSchema,
      desired: DesiredStateSchema,
    })
    .strict(),
});
