import { z } from 'zod';
import { LastErrorSchema, SOURCES, defineEvent } from '../envelope.ts';
import { NotificationSubjectSchema } from './common.ts';

export const NotificationFailedV1 = defineEvent({
  source: SOURCES.notifier,
  name: 'NotificationFailed',
  version: 1,
  description: 'A notification could not be delivered to one channel: a non-retryable answer, or the retry policy ran out.',
  data: NotificationSubjectSchema.extend({
    failedAt: z.string().datetime({ offset: true }),
    httpStatus: z.number().int().min(100).max(599).nullable(),
    /** `non-retryable` (e.g. 404 from Slack: the webhook was removed) or `attempts-exhausted`. */
    outcome: z.enum(['non-retryable', 'attempts-exhausted']),
    error: LastErrorSchema,
  }).strict(),
});
