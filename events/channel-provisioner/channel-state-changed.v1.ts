import { z } from 'zod';
import { DestinationIdSchema, LastErrorSchema, SOURCES, defineEvent } from '../envelope.ts';
import { ChannelStateSchema } from './common.ts';

export const ChannelStateChangedV1 = defineEvent({
  source: SOURCES.channelProvisioner,
  name: 'ChannelStateChanged',
  version: 1,
  description: "The destination's channel changed state, as reported by the engine's native 'MediaLive Channel State Change' event (or the local engine's identical one).",
  data: z
    .object({
      destinationId: DestinationIdSchema,
      channelId: z.string(),
      state: ChannelStateSchema,
      /** Set when the channel is pushing but the platform is not accepting it (retrying with backoff). */
      error: LastErrorSchema.nullable(),
      observedAt: z.string().datetime({ offset: true }),
    })
    .strict(),
});
