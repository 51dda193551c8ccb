import { z } from 'zod';
import { DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const ChannelDeletedV1 = defineEvent({
  source: SOURCES.channelProvisioner,
  name: 'ChannelDeleted',
  version: 1,
  description: "The destination's channel and its input are deleted (or never existed); flow-output removes the output next.",
  data: z.object({ destinationId: DestinationIdSchema, channelId: z.string().nullable() }).strict(),
});
