import { z } from 'zod';
import { AggregateVersionSchema, DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const DestinationDeleteRequestedV1 = defineEvent({
  source: SOURCES.destination,
  name: 'DestinationDeleteRequested',
  version: 1,
  description: 'Remove the destination: stop and delete its channel, remove its flow output, then confirm.',
  data: z
    .object({
      destinationId: DestinationIdSchema,
      aggregateVersion: AggregateVersionSchema,
      mediaLiveChannelId: z.string().nullable(),
      mediaConnectOutputArn: z.string().nullable(),
    })
    .strict(),
});
