/** Value schemas shared by the notifier's events. */
import { z } from 'zod';

export const NotificationChannelKindSchema = z.enum(['slack', 'sns', 'webhook', 'log']);

/** What a delivery was about: one Alertmanager-style group notification (or several merged). */
export const NotificationSubjectSchema = z
  .object({
    /** The delivery's id (the webhook's `webhook-id`; stable across retries). */
    deliveryId: z.string().min(1).max(200),
    channel: NotificationChannelKindSchema,
    /** The admin's name for the channel (e.g. "ops Slack"). */
    channelName: z.string().min(1).max(100),
    /** Where it went, masked: never a webhook URL (they are secrets), never a token. */
    target: z.string().min(1).max(200),
    /** The alert groups in the message (a burst merges several). */
    groups: z.array(z.string().min(1)).min(1),
    alertNames: z.array(z.string().min(1)).min(1),
    status: z.enum(['firing', 'resolved']),
    severity: z.enum(['critical', 'warning', 'info']),
    attempts: z.number().int().min(1),
    firstAttemptAt: z.string().datetime({ offset: true }),
  })
  .strict();
