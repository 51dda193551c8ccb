import { z } from 'zod';
import { SOURCES, defineEvent } from '../envelope.ts';

/** One resource an orphan cleanup acted on, and what came of it. */
export const CleanedResourceSchema = z
  .object({
    kind: z.enum(['channel', 'output']),
    /** Channel id, or the output's ARN (on AWS the MediaLive input ARN, ADR 0007). */
    id: z.string().min(1),
    /** The destination its tags name, if any (that destination no longer exists). */
    destinationId: z.string().nullable(),
    outcome: z.enum(['removed', 'removing', 'failed']),
    error: z.object({ code: z.string(), message: z.string() }).strict().nullable(),
  })
  .strict();

export const OrphanResourcesCleanedUpV1 = defineEvent({
  source: SOURCES.channelProvisioner,
  name: 'OrphanResourcesCleanedUp',
  version: 1,
  description: 'An admin ran POST /api/channels/cleanup and Fanout-tagged resources that belonged to no destination were removed (or failed to be). ' + 'Published only when the cleanup found something.',
  data: z
    .object({
      /** The token id of the admin who asked (never the token). */
      requestedBy: z.string().min(1),
      resources: z.array(CleanedResourceSchema).min(1),
      removed: z.number().int().min(0),
      failed: z.number().int().min(0),
    })
    .strict(),
});
