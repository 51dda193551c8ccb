import { z } from 'zod';
import { DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const ChannelReclaimedV1 = defineEvent({
  source: SOURCES.channelProvisioner,
  name: 'ChannelReclaimed',
  version: 1,
  description: "A stopped destination's channel was deleted after its idle time (cost-aware reclaim, ADR 0008); flow-output removes its output next. " + 'The destination stays; its next start re-creates output and channel.',
  data: z
    .object({
      destinationId: DestinationIdSchema,
      /** The channel that was deleted. */
      channelId: z.string().min(1),
      /** How long it had been idle, in whole minutes. */
      idleMinutes: z.number().int().min(0),
    })
    .strict(),
});
