import { z } from 'zod';
import { DestinationIdSchema, SOURCES, defineEvent } from '../envelope.ts';

export const FlowOutputAddedV1 = defineEvent({
  source: SOURCES.flowOutput,
  name: 'FlowOutputAdded',
  version: 1,
  description: "A dedicated output for the destination now exists on the contribution flow (MediaConnect AddFlowOutputs, or the local engine's equivalent).",
  data: z.object({ destinationId: DestinationIdSchema, flowArn: z.string(), outputArn: z.string() }).strict(),
});
