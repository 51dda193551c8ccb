import { z } from 'zod';
import { SOURCES, defineEvent } from '../envelope.ts';
import { CostLineSchema, CurrencySchema, MoneySchema } from './common.ts';

const EncodeSchema = z
  .object({
    codec: z.enum(['MPEG2', 'AVC', 'HEVC']),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    frameRate: z.number().nullable(),
    videoBitrate: z.number().int(),
    resolution: z.enum(['SD', 'HD', 'UHD']),
    bitrateBand: z.enum(['MAX_10_MBPS', 'MAX_20_MBPS', 'MAX_50_MBPS']),
    framerateBand: z.enum(['MAX_30_FPS', 'MAX_60_FPS']),
  })
  .strict();

export const UsageSessionClosedV1 = defineEvent({
  source: SOURCES.costTracker,
  name: 'UsageSessionClosed',
  version: 1,
  description: 'A usage session ended and was settled (published once): an interval in which a destination channel, the primary channel or the flow ran, ' + 'or a channel or push input existed idle, with its priced breakdown.',
  data: z
    .object({
      /** Stable: `<resource kind>:<resource id>@<start>`. */
      sessionId: z.string().min(1),
      resource: z
        .object({
          kind: z.enum(['destination-channel', 'primary-channel', 'flow', 'push-input']),
          id: z.string().min(1),
        })
        .strict(),
      kind: z.enum(['running', 'idle']),
      engine: z.enum(['aws', 'local']),
      destinationId: z.string().nullable(),
      platform: z.string().nullable(),
      presetId: z.string().nullable(),
      channelClass: z.enum(['SINGLE_PIPELINE', 'STANDARD']),
      encodes: z.array(EncodeSchema),
      pushInputs: z.number().int().min(0),
      startedAt: z.string().datetime({ offset: true }),
      endedAt: z.string().datetime({ offset: true }),
      durationSeconds: z.number().min(0),
      restarts: z.number().int().min(0),
      /** Bytes sent where measured (destination: to the platform; flow: to MediaLive). */
      bytesOut: z.number().int().min(0).nullable(),
      endReason: z.enum(['stopped', 'started', 'deleted', 'reclaimed', 'failed', 'reconciled']),
      /** The end is an upper bound (found changed after a restart). */
      endEstimated: z.boolean(),
      breakdown: z
        .object({
          currency: CurrencySchema,
          total: MoneySchema,
          estimated: z.boolean(),
          rateTable: z.string().min(1),
          missingRates: z.array(z.string()),
          lines: z.array(CostLineSchema),
        })
        .strict(),
    })
    .strict(),
});
