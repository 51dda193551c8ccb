/**
 * The notifier's precise waits on AWS (ADR 0027): `afterRun` schedules the next wake-up on
 * NotifierWakeQueue once a run says when it next has something to do, and `createWakeHandler` is
 * the `notifierWake` function (SQS, NotifierWakeQueue): a wake that is due runs the notifier, one
 * that is early (a wait longer than SQS's 900 s) is sent on again. Without `deps.wake` (the local
 * runtime) scheduling does nothing: the local runtime's timer wakes the notifier instead.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handleWake, scheduleWake } from '../app/wake.ts';
import type { NotifierDeps } from '../deps.ts';
import { notifierFor } from './notifier.ts';

const now = (deps: NotifierDeps) => deps.now?.() ?? new Date();

/** After a run: the next wake on its way (a failure is logged; the minute tick is the backstop). */
export async function afterRun(deps: NotifierDeps, r: { nextWakeAt: Date | null }): Promise<void> {
  if (!deps.wake) return;
  try {
    await scheduleWake({ wake: deps.wake, store: notifierFor(deps).store, at: r.nextWakeAt, now: now(deps), log: deps.log });
  } catch (err) {
    deps.log.warn('notifier wake not scheduled; the minute tick covers it', { error: err instanceof Error ? err.message : String(err) });
  }
}

export function createWakeHandler(deps: NotifierDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    let ran = false;
    for (const record of event.Records) {
      try {
        if (!deps.wake) throw new Error('notifierWake needs FANOUT_NOTIFY_WAKE_QUEUE_URL (serverless.yml)');
        // One run (below) covers every due wake of the batch.
        const outcome = await handleWake({ wake: deps.wake, store: notifierFor(deps).store, body: record.body, now: now(deps), log: deps.log, run: async () => undefined });
        if (outcome === 'ran') ran = true;
      } catch (err) {
        deps.log.warn('notifier wake failed; SQS retries it', { messageId: record.messageId, error: err instanceof Error ? err.message : String(err) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    if (ran) {
      const r = await notifierFor(deps).run();
      await afterRun(deps, r);
    }
    return { batchItemFailures: failures };
  };
}
