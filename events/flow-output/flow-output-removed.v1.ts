import { z } from 'zod';
import { DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const FlowOutputRemovedV1 = defineEvent({
  source: SOURCES.flowOutput,
  name: 'FlowOutputRemoved',
  version: 1,
  description: "The destination's flow output is gone (RemoveFlowOutput); the last step of a destination's teardown.",
  data: z.object({ destinationId: DestinationIdSchema, flowArn: z.string(), outputArn: z.string().nullable() }).strict(),
});
