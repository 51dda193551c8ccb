/**
 * Request and response schemas of the destination API. They validate requests at run time and
 * generate the OpenAPI 3.1 document (contracts/openapi.json): one source for both.
 * Requests are strict: unknown fields are rejected.
 */
import { z } from '../../../../shared/http/zod.ts';
import { DESTINATION_STATUSES } from '../../../../events/destination/common.ts';
import { IngestUrlSchema, PLATFORM_ID, PlatformLimitsSchema, PlatformSchema } from '../domain/platforms.ts';
import { AudioSettingsSchema, PRESET_ID, PresetSchema, VideoSettingsSchema } from '../domain/presets.ts';

export { PlatformSchema, PresetSchema };

const StreamKeySchema = z.string().min(1).max(512).regex(/^\S+$/, 'must not contain spaces').openapi({ description: 'The platform stream key. Write-only: encrypted at rest and never returned.', writeOnly: true });

const NameSchema = z.string().trim().min(1).max(100);

export const LastErrorSchema = z.object({ code: z.string(), message: z.string(), hint: z.string() }).openapi('LastError');

export const DestinationSchema = z
  .object({
    destinationId: z.string().uuid(),
    name: z.string(),
    platform: z.string(),
    rtmpUrl: z.string().openapi({ description: 'Ingest URL without the stream key' }),
    streamKeyLast4: z.string().nullable().openapi({ description: 'Last 4 characters of the stream key (null for keys shorter than 12)' }),
    preset: z.string(),
    status: z.enum(DESTINATION_STATUSES),
    desired: z.enum(['running', 'stopped']),
    mediaLiveChannelId: z.string().nullable(),
    mediaConnectOutputArn: z.string().nullable(),
    channelReclaimed: z.boolean().openapi({
      description: 'True while its channel and input/output are deleted because it stayed stopped longer than FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES; a start re-creates them (a few seconds more) and answers 202 as usual',
    }),
    lastError: LastErrorSchema.nullable(),
    version: z.number().int(),
    createdAt: z.string(),
    lastModified: z.string(),
  })
  .openapi('Destination');

export const CreateDestinationSchema = z
  .object({
    name: NameSchema,
    platform: z.string().regex(PLATFORM_ID, 'must be a platform id such as youtube'),
    rtmpUrl: IngestUrlSchema.optional().openapi({ description: "Defaults to the platform's ingest URL (RTMPS where offered)" }),
    streamKey: StreamKeySchema,
    preset: z.string().regex(PRESET_ID).optional().openapi({ description: "Defaults to the platform's default preset" }),
  })
  .strict()
  .openapi('CreateDestination');

export const UpdateDestinationSchema = z
  .object({
    name: NameSchema.optional(),
    rtmpUrl: IngestUrlSchema.optional(),
    streamKey: StreamKeySchema.optional(),
    preset: z.string().regex(PRESET_ID).optional(),
    version: z.number().int().min(1).optional().openapi({ description: 'If given, the update applies only to this version (optimistic concurrency)' }),
  })
  .strict()
  .refine((v) => v.name !== undefined || v.rtmpUrl !== undefined || v.streamKey !== undefined || v.preset !== undefined, {
    message: 'send at least one of name, rtmpUrl, streamKey, preset',
  })
  .openapi('UpdateDestination');

export const DestinationListSchema = z
  .object({
    destinations: z.array(DestinationSchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass it as `cursor` for the next page; null on the last page.' }),
  })
  .openapi('DestinationList');

/** The page size of GET /api/destinations without `limit` (ADR 0025). */
export const DEFAULT_LIST_LIMIT = 100;

/** `?limit=&cursor=`: one page in creation order; without `limit`, DEFAULT_LIST_LIMIT destinations. */
export const DestinationListQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' }, description: `Page size (1-500, default ${DEFAULT_LIST_LIMIT}).` }),
  cursor: z
    .string()
    .max(300)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a nextCursor from an earlier page')
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: 'The `nextCursor` of the previous page' }),
});

export const IdParamSchema = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' } }),
});
export const PresetIdParamSchema = z.object({
  id: z
    .string()
    .regex(PRESET_ID)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
export const PlatformIdParamSchema = z.object({
  id: z
    .string()
    .regex(PLATFORM_ID)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const PresetInputSchema = z
  .object({
    presetId: z.string().regex(PRESET_ID, 'lowercase letters, digits and dashes').optional(),
    name: NameSchema,
    platform: z.string().regex(/^(generic|[a-z][a-z0-9-]{1,31})$/),
    description: z.string().max(500).default(''),
    isDefault: z.boolean().default(false),
    passthrough: z.boolean().default(false),
    video: VideoSettingsSchema.optional(),
    audio: AudioSettingsSchema.optional(),
    version: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.passthrough) {
      if (p.video || p.audio) ctx.addIssue({ code: 'custom', path: ['video'], message: 'a passthrough preset has no video or audio settings' });
    } else {
      if (!p.video) ctx.addIssue({ code: 'custom', path: ['video'], message: 'video settings are required (resolution, frameRate, bitrate)' });
      if (!p.audio) ctx.addIssue({ code: 'custom', path: ['audio'], message: 'audio settings are required (bitrate)' });
    }
  })
  .openapi('PresetInput');

export const PlatformInputSchema = z
  .object({
    platformId: z.string().regex(PLATFORM_ID, 'lowercase letters, digits and dashes, starting with a letter').optional(),
    name: NameSchema,
    rtmpUrl: IngestUrlSchema.nullable().default(null),
    rtmpsUrl: IngestUrlSchema.nullable().default(null),
    limits: PlatformLimitsSchema,
    version: z.number().int().min(1).optional(),
  })
  .strict()
  .openapi('PlatformInput');

export const PresetListSchema = z.object({ presets: z.array(PresetSchema) }).openapi('PresetList');
export const PlatformListSchema = z.object({ platforms: z.array(PlatformSchema) }).openapi('PlatformList');

export const MetricsSchema = z
  .object({
    destinationId: z.string().uuid(),
    status: z.enum(DESTINATION_STATUSES),
    metrics: z
      .object({
        bitrateKbps: z.number().nullable(),
        fps: z.number().nullable(),
        frames: z.number().nullable(),
        droppedFrames: z.number().nullable(),
        duplicatedFrames: z.number().nullable(),
        speed: z.number().nullable(),
        uptimeSeconds: z.number().nullable(),
        restarts: z.number().nullable(),
        bytesSent: z.number().nullable(),
        attempt: z.number().nullable(),
        nextRetryAt: z.string().nullable(),
        updatedAt: z.string(),
      })
      .nullable()
      .openapi({ description: 'Null until the engine reports (the channel has not run yet)' }),
  })
  .openapi('DestinationMetrics');

export const FlowStatusSchema = z
  .object({
    state: z.string().openapi({ description: 'MediaConnect flow status, or UNKNOWN before flow-output has reported' }),
    flowArn: z.string().nullable(),
    sourceConnected: z.boolean().nullable(),
    sourceAddress: z.string().nullable(),
    connectedSince: z.string().nullable(),
    outputs: z.number().int().nullable(),
    primary: z
      .object({
        channelId: z.string().nullable().openapi({ description: 'The primary MediaLive channel (AWS)' }),
        state: z.string().nullable().openapi({ description: 'MediaLive channel state; null when it could not be read (see error)' }),
        error: z.object({ code: z.string(), message: z.string(), hint: z.string() }).nullable(),
      })
      .nullable()
      .openapi({
        description:
          "The always-on primary output's channel, which flow-output starts whenever the primary output is on and the flow is ACTIVE. Null where the primary HLS simply follows the flow (local engine) or before flow-output has reported.",
      }),
    updatedAt: z.string().nullable(),
  })
  .openapi('FlowStatus');

export const HealthSchema = z.object({ status: z.enum(['ok', 'degraded']), version: z.string(), runtime: z.string(), checks: z.record(z.string(), z.string()) }).openapi('Health');

export const TokenInputSchema = z
  .object({ name: NameSchema, role: z.enum(['admin', 'operator', 'metrics']) })
  .strict()
  .openapi('TokenInput');
export const TokenSchema = z.object({ tokenId: z.string(), name: z.string(), role: z.enum(['admin', 'operator', 'metrics']), createdAt: z.string() }).openapi('Token');
export const SessionSchema = z
  .object({
    tokenId: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'operator', 'metrics']).openapi({ description: 'metrics: good only for GET /metrics (the dashboards refuse it)' }),
  })
  .openapi('Session');
export const NewTokenSchema = TokenSchema.extend({
  token: z.string().openapi({ description: 'The bearer token. Shown only in this response; store it now.' }),
}).openapi('NewToken');

export { ProblemSchema } from '../../../../shared/http/api-kit.ts';

export const IdempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional()
    .openapi({ description: 'Repeat a request safely: the same key and body return the first result for 24 hours' }),
});
/** `?platform=<id>`; an empty value (`?platform=`, as a form with nothing chosen sends it) means all platforms. */
export const PresetQuerySchema = z.object({
  platform: z
    .union([z.literal(''), z.string().regex(PLATFORM_ID)])
    .optional()
    .openapi({ description: 'A platform id: its presets first, then the generic ones. Empty or absent: every preset.' }),
});
export const TokenIdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
export const TokenListSchema = z.object({ tokens: z.array(TokenSchema) }).openapi('TokenList');

const InputHealthFields = {
  connected: z.boolean(),
  sourceAddress: z.string().nullable(),
  connectedSince: z.string().nullable(),
  bitrateInKbps: z.number().nullable(),
  packetLossPercent: z.number().nullable(),
  packetsLost: z.number().nullable(),
  retransmits: z.number().nullable(),
  rttMs: z.number().nullable(),
  lastError: LastErrorSchema.nullable(),
  updatedAt: z.string(),
};

/** Failover settings (PUT /api/mediaconnect/inputs/failover; port: FailoverSettings). */
export const FailoverSettingsSchema = z
  .object({
    mode: z.enum(['automatic', 'manual']).openapi({ description: 'automatic: the engine switches on input loss; manual: only POST /api/mediaconnect/inputs/switch does' }),
    inputLossThresholdMs: z.number().int().min(100).max(60_000).openapi({ description: 'How long the active input may deliver no media before it is taken for lost (default 1000)' }),
    errorClearTimeMs: z.number().int().min(1000).max(3_600_000).nullable().openapi({ description: 'Switch back to the main once it has been clean this long (default 10000); null: non-revertive' }),
    slateTimeoutMs: z.number().int().min(1000).max(86_400_000).openapi({ description: 'With no input delivering, how long outputs carry the slate before they stop (default 300000)' }),
  })
  .strict()
  .openapi('FailoverSettings');

const InputEnd = z.enum(['main', 'backup', 'slate']);
export const InputSwitchSchema = z
  .object({
    from: InputEnd.nullable(),
    to: InputEnd,
    at: z.string(),
    reason: z.enum(['input-loss', 'recovered', 'manual', 'slate-timeout']),
  })
  .openapi('InputSwitch');

export const InputSwitchRequestSchema = z
  .object({ to: z.enum(['main', 'backup']) })
  .strict()
  .openapi('InputSwitchRequest');

/**
 * The contribution input's health. The top-level fields are the active input's (the main's where
 * the engine has no backup input), as before issue 15; the members after them are present where
 * the engine implements input redundancy (additive: older readers ignore them).
 */
export const InputHealthSchema = z
  .object({
    ...InputHealthFields,
    active: InputEnd.nullable().optional().openapi({ description: 'What feeds the outputs now; null before any input connected' }),
    mode: z.enum(['automatic', 'manual']).optional(),
    settings: FailoverSettingsSchema.optional(),
    lastSwitch: InputSwitchSchema.nullable().optional(),
    inputs: z
      .object({
        main: z.object({ ...InputHealthFields, configured: z.literal(true) }),
        backup: z.object({ ...InputHealthFields, configured: z.boolean() }),
      })
      .optional(),
    slate: z.object({ since: z.string(), stopsAt: z.string() }).nullable().optional(),
  })
  .openapi('InputHealth');

export const BackupTestResultSchema = z
  .object({
    connected: z.boolean(),
    decodable: z.boolean(),
    video: z.object({ codec: z.string(), width: z.number(), height: z.number(), frameRate: z.number().nullable() }).nullable(),
    audio: z.object({ codec: z.string(), sampleRate: z.number().nullable(), channels: z.number().nullable() }).nullable(),
    problems: z.array(z.string()),
  })
  .openapi('BackupTestResult');

export const EngineProcessListSchema = z
  .object({
    processes: z.array(
      z.object({
        name: z.string(),
        role: z.enum(['ingest', 'hls', 'encoder', 'pusher']),
        channelIds: z.array(z.string()),
        pid: z.number().nullable(),
        state: z.string(),
        restarts: z.number(),
        attempt: z.number(),
        lastError: LastErrorSchema.nullable(),
        command: z.array(z.string()).openapi({ description: 'argv with stream keys and passphrases replaced by ***' }),
        cpu: z.object({ start: z.string(), seconds: z.number() }).optional().openapi({ description: 'CPU seconds measured inside Fanout for a process without a pid of its own (an in-process RTMP publisher), since the run named by start' }),
      }),
    ),
  })
  .openapi('EngineProcessList');
