/** Schemas of the notifier's admin API: they validate requests and generate the OpenAPI document. */
import { z } from '../../../../shared/http/zod.ts';
import { ALERT_NAMES, SEVERITIES } from '../domain/alerts.ts';

const AlertNames = z.union([z.literal('all'), z.array(z.enum(ALERT_NAMES)).max(ALERT_NAMES.length)]).openapi({ description: 'The alert types this channel gets: `all`, or a list (an empty list: none)' });
const Severity = z.enum(SEVERITIES).openapi({ description: 'The least severe alert it gets (critical < warning < info)' });
const Url = z.string().min(8).max(2000).openapi({ description: 'slack / webhook: the URL to POST to. A secret: stored encrypted, never shown again (only masked)' });

export const ChannelSchema = z
  .object({
    channelId: z.string(),
    name: z.string(),
    kind: z.enum(['slack', 'sns', 'webhook', 'log']),
    enabled: z.boolean(),
    alertNames: AlertNames,
    minSeverity: Severity,
    target: z.string().openapi({ description: 'Where it goes, masked (`https://hooks.slack.com/***abcd`), the SNS topic, or `log`' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int(),
  })
  .openapi('NotificationChannel');

export const ChannelListSchema = z.object({ channels: z.array(ChannelSchema) }).openapi('NotificationChannelList');

export const CreatedChannelSchema = z
  .object({
    channel: ChannelSchema,
    signingSecret: z.string().optional().openapi({ description: 'webhook only, shown this once: the Standard Webhooks secret (`whsec_...`) receivers verify signatures with' }),
  })
  .openapi('NotificationChannelCreated');

export const CreateChannelSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    kind: z.enum(['slack', 'sns', 'webhook', 'log']),
    url: Url.optional(),
    enabled: z.boolean().optional(),
    alertNames: AlertNames.optional(),
    minSeverity: Severity.optional(),
  })
  .strict()
  .openapi('NotificationChannelCreate');

export const UpdateChannelSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    url: Url.optional(),
    enabled: z.boolean().optional(),
    alertNames: AlertNames.optional(),
    minSeverity: Severity.optional(),
    version: z.number().int().min(1).optional().openapi({ description: 'Apply only to this version (409 VERSION_CONFLICT otherwise)' }),
  })
  .strict()
  .openapi('NotificationChannelUpdate');

export const DeliverySchema = z
  .object({
    deliveryId: z.string(),
    channelId: z.string(),
    channelName: z.string(),
    channel: z.enum(['slack', 'sns', 'webhook', 'log']),
    target: z.string(),
    outcome: z.enum(['sent', 'failed']),
    reason: z.string().nullable().openapi({ description: 'failed: `non-retryable` or `attempts-exhausted`' }),
    status: z.enum(['firing', 'resolved']),
    severity: z.enum(SEVERITIES),
    alertNames: z.array(z.string()),
    groups: z.array(z.string()),
    attempts: z.number().int(),
    httpStatus: z.number().int().nullable(),
    error: z.object({ code: z.string(), message: z.string(), hint: z.string() }).nullable(),
    test: z.boolean(),
    at: z.string(),
  })
  .openapi('NotificationDelivery');

export const DeliveryListSchema = z.object({ deliveries: z.array(DeliverySchema) }).openapi('NotificationDeliveryList');

export const DeliveryQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'How many, newest first (default 50)' }),
  channelId: z.string().uuid().optional(),
});

export const AlertsSchema = z
  .object({
    alertNames: z.array(z.enum(ALERT_NAMES)),
    severities: z.array(z.enum(SEVERITIES)),
    firing: z.array(z.object({ alertname: z.string(), scope: z.string(), severity: z.string(), since: z.string(), summary: z.string() })),
  })
  .openapi('NotificationAlerts');

export const ChannelParamsSchema = z.object({ channelId: z.string().uuid() });
