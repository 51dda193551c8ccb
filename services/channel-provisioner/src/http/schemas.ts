/** Schemas of channel-provisioner's API: they validate requests and generate the OpenAPI document. */
import { z } from '../../../../shared/http/zod.ts';
import { ChannelStateSchema } from '../../../../events/channel-provisioner/common.ts';

const Reason = z.enum(['DESTINATION_MISSING', 'NOT_REFERENCED']).openapi({ description: 'DESTINATION_MISSING: its destination is not in the store; NOT_REFERENCED: the destination exists but uses another channel' });

export const OrphanSchema = z
  .object({
    kind: z.enum(['channel', 'output']),
    id: z.string().openapi({ description: 'Channel id, or the output ARN (on AWS the MEDIACONNECT MediaLive input ARN, ADR 0007)' }),
    arn: z.string().optional(),
    destinationId: z.string().nullable().openapi({ description: "The destination named by the resource's tags (not in the store)" }),
    state: z.string().nullable(),
    attachedChannelIds: z.array(z.string()).optional(),
    flowOutputArn: z.string().nullable().optional().openapi({ description: 'On AWS, the managed MediaConnect output MediaLive made for the input' }),
    reason: Reason,
  })
  .openapi('Orphan');

export const MismatchSchema = z
  .object({
    destinationId: z.string(),
    storeStatus: z.string(),
    desired: z.enum(['running', 'stopped']),
    channelId: z.string().nullable(),
    engineState: ChannelStateSchema.nullable(),
    expectedState: ChannelStateSchema,
    reason: z.enum(['CHANNEL_MISSING', 'STATE_DIFFERS', 'OUTPUT_MISSING', 'OUTPUT_NOT_RECORDED', 'NOTHING_DOWNSTREAM']).openapi({
      description:
        'CHANNEL_MISSING: the engine has no channel for it; STATE_DIFFERS: the channel is in another state than the status says; OUTPUT_MISSING: a destination being created has no output yet; OUTPUT_NOT_RECORDED: it has one it does not show (its channel is made once it does); NOTHING_DOWNSTREAM: it is being deleted and nothing is left in the engine',
    }),
  })
  .openapi('ChannelMismatch', {
    description: 'The store and the engine disagree about a destination. Normal for one event hop while a saga moves; one that outlives a reconcile is repaired by the scheduled reconcile (every minute), not by cleanup',
  });

export const ValidationReportSchema = z.object({ checkedAt: z.string(), orphans: z.array(OrphanSchema), mismatches: z.array(MismatchSchema) }).openapi('ChannelValidation');

export const CleanupRequestSchema = z
  .object({ only: z.array(z.string().min(1).max(300)).min(1).max(100).optional().openapi({ description: 'Remove only these orphans (ids from validate); default: all' }) })
  .strict()
  .openapi('CleanupRequest');

export const CleanedResourceSchema = z
  .object({
    kind: z.enum(['channel', 'output']),
    id: z.string(),
    destinationId: z.string().nullable(),
    reason: Reason,
    outcome: z.enum(['removed', 'removing', 'failed']).openapi({ description: 'removed: deleted (or deletion accepted); removing: stop requested or already going, the next cleanup or reconcile finishes; failed: see error' }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .openapi('CleanedResource');

export const CleanupResultSchema = z
  .object({
    cleanedAt: z.string(),
    resources: z.array(CleanedResourceSchema),
    removed: z.number().int(),
    removing: z.number().int(),
    failed: z.number().int(),
    mismatches: z.array(MismatchSchema),
  })
  .openapi('CleanupResult');
