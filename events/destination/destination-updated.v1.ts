import { z } from 'zod';
import { AggregateVersionSchema, DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';
import { DesiredStateSchema, DestinationStatusSchema } from './common.ts';

export const DestinationUpdatedV1 = defineEvent({
  source: SOURCES.destination,
  name: 'DestinationUpdated',
  version: 1,
  description: 'Name, ingest URL, stream key or preset changed; the channel must be updated (stop, update, start on AWS).',
  data: z
    .object({
      destinationId: DestinationIdSchema,
      aggregateVersion: AggregateVersionSchema,
      changed: z.array(z.enum(['name', 'rtmpUrl', 'streamKey', 'preset'])).min(1),
      status: DestinationStatusSchema,
      desired: DesiredStateSchema,
    })
    .strict(),
});
