import { z } from 'zod';
import { DestinationIdSchema, LastErrorSchema, SOURCES, defineEvent } from '../envelope.ts';

export const ChannelFailedV1 = defineEvent({
  source: SOURCES.channelProvisioner,
  name: 'ChannelFailed',
  version: 1,
  description: 'A channel operation failed after retries; what the failed step made was cleaned up.',
  data: z
    .object({
      destinationId: DestinationIdSchema,
      operation: z.enum(['create', 'start', 'stop', 'update', 'delete']),
      error: LastErrorSchema,
    })
    .strict(),
});
