import { z } from 'zod';
import { SOURCES, defineEvent } from '../envelope.ts';

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
    })
    .strict(),
});
