import { z } from 'zod';
import { SOURCES, defineEvent } from '../envelope.ts';
import { NotificationSubjectSchema } from './common.ts';

export const NotificationSentV1 = defineEvent({
  source: SOURCES.notifier,
  name: 'NotificationSent',
  version: 1,
  description: 'An alert notification was delivered to one channel (Slack, SNS, a webhook or the log).',
  data: NotificationSubjectSchema.extend({
    deliveredAt: z.string().datetime({ offset: true }),
    /** The receiver's HTTP status (null for SNS and the log). */
    httpStatus: z.number().int().min(100).max(599).nullable(),
  }).strict(),
});
