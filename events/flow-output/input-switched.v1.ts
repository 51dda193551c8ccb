import { z } from 'zod';
import { SOURCES, defineEvent } from '../envelope.ts';

const InputEnd = z.enum(['main', 'backup', 'slate']);

export const InputSwitchedV1 = defineEvent({
  source: SOURCES.flowOutput,
  name: 'InputSwitched',
  version: 1,
  description: 'What feeds the outputs changed: the main or the backup input became active, the slate went on air (to "slate"), or the slate\'s time ran out and the outputs stop (reason "slate-timeout").',
  data: z
    .object({
      flowArn: z.string(),
      from: InputEnd.nullable(),
      to: InputEnd,
      /** input-loss (automatic), recovered (back after a loss), manual (an operator), slate-timeout (outputs stop). */
      reason: z.enum(['input-loss', 'recovered', 'manual', 'slate-timeout']),
      switchedAt: z.string().datetime({ offset: true }),
      mode: z.enum(['automatic', 'manual']),
      /** With the slate on air: when the outputs stop unless an input returns; else null. */
      slateStopsAt: z.string().datetime({ offset: true }).nullable(),
    })
    .strict(),
});
