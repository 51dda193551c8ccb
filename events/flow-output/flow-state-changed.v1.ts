import { z } from 'zod';
import { ChannelStateSchema } from '../channel-provisioner/common.ts';
import { LastErrorSchema, SOURCES, defineEvent } from '../envelope.ts';

/** MediaConnect's flow statuses, used by both engines. */
export const FlowStateSchema = z.enum(['STANDBY', 'STARTING', 'ACTIVE', 'UPDATING', 'STOPPING', 'DELETING', 'ERROR']);

export const FlowStateChangedV1 = defineEvent({
  source: SOURCES.flowOutput,
  name: 'FlowStateChanged',
  version: 1,
  description: 'The contribution flow changed state or its source connected/disconnected.',
  data: z
    .object({
      flowArn: z.string(),
      state: FlowStateSchema,
      sourceConnected: z.boolean(),
      sourceAddress: z.string().nullable(),
      connectedSince: z.string().datetime({ offset: true }).nullable(),
      outputs: z.number().int().min(0),
      /**
       * The always-on primary output's channel (AWS: the stack's primary MediaLive channel). Null
       * where the engine has no such channel (local engine: the primary HLS follows the flow);
       * absent from events of producers older than this field.
       */
      primary: z
        .object({
          channelId: z.string().nullable(),
          state: ChannelStateSchema.nullable(),
          error: LastErrorSchema.nullable(),
        })
        .strict()
        .nullable()
        .optional(),
    })
    .strict(),
});
