import { z } from 'zod';
import { DestinationIdSchema, LastErrorSchema, SOURCES, defineEvent } from '../envelope.ts';

export const FlowOutputFailedV1 = defineEvent({
  source: SOURCES.flowOutput,
  name: 'FlowOutputFailed',
  version: 1,
  description: "Adding or removing the destination's flow output failed after retries; whatever was half-made was cleaned up.",
  data: z.object({ destinationId: DestinationIdSchema, operation: z.enum(['add', 'remove']), error: LastErrorSchema }).strict(),
});
