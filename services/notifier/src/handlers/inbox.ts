/**
 * SQS consumer of the notifier (queue NotifierQueue): what people must hear about (destination
 * status, the flow, input switches, budget thresholds), native MediaLive channel alerts, and the dead-letter
 * queue alarms' state changes. Idempotent on the event id (shared/events/consumer.ts); after each
 * batch, whatever became due at once (an alert without grace or group wait) goes out, and the next
 * wake-up is scheduled (wake.ts: on AWS an SQS delayed message at the moment the next wait ends).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { BudgetThresholdCrossedV1, DestinationDeletedV1, DestinationStatusChangedV1, FlowStateChangedV1, InputSwitchedV1 } from '../../../../events/catalogue.ts';
import { CloudWatchAlarmStateChange, MediaLiveChannelAlert } from '../../../../events/native/schemas.ts';
import { createEventConsumer, domainRoute, type NativeOrDomainEvent } from '../../../../shared/events/consumer.ts';
import type { NotifierDeps } from '../deps.ts';
import { notifierFor } from './notifier.ts';
import { afterRun } from './wake.ts';

export const SERVICE_NAME = 'notifier';

/** The dead-letter queue an alarm watches, from its name (`<deployment>-dlq-<queue>`, serverless.yml). */
export function queueOfAlarm(alarmName: string): string | null {
  const m = /-dlq-([A-Za-z0-9_-]+)$/.exec(alarmName);
  return m ? m[1]! : null;
}

/** How many messages the alarm saw (its most recent datapoint), at least 1 while in ALARM. */
function depthOf(state: { value: string; reasonData?: string | undefined }): number {
  if (state.value !== 'ALARM') return 0;
  try {
    const points = (JSON.parse(state.reasonData ?? '{}') as { recentDatapoints?: unknown }).recentDatapoints;
    const last = Array.isArray(points) ? Number(points[points.length - 1]) : NaN;
    return Number.isFinite(last) && last >= 1 ? Math.round(last) : 1;
  } catch {
    return 1;
  }
}

export function createInboxHandler(deps: NotifierDeps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const n = () => notifierFor(deps);
  const received = (_d: unknown, e: NativeOrDomainEvent) => n().receive({ source: e.source, detailType: e['detail-type'], detail: e.detail, time: e.time });
  const consumer = createEventConsumer({
    name: SERVICE_NAME,
    logger: deps.log,
    idempotency: () => ({ client: deps.dynamo, tableName: deps.tables.idempotency }),
    routes: [
      domainRoute(DestinationStatusChangedV1, received),
      domainRoute(DestinationDeletedV1, received),
      domainRoute(FlowStateChangedV1, received),
      domainRoute(InputSwitchedV1, received),
      domainRoute(BudgetThresholdCrossedV1, received),
      {
        kind: 'native',
        source: 'aws.medialive',
        detailType: 'MediaLive Channel Alert',
        parse: (e) => MediaLiveChannelAlert.parse(e) as NativeOrDomainEvent,
        handle: (e) => received(undefined, e),
      },
      {
        kind: 'native',
        source: 'aws.cloudwatch',
        detailType: 'CloudWatch Alarm State Change',
        parse: (e) => CloudWatchAlarmStateChange.parse(e) as NativeOrDomainEvent,
        handle: async (e) => {
          const d = e.detail as { alarmName: string; state: { value: string; reasonData?: string } };
          const queue = queueOfAlarm(d.alarmName);
          if (!queue || d.state.value === 'INSUFFICIENT_DATA') return;
          await n().receiveDeadLetter({ queue, depth: depthOf(d.state), at: new Date(e.time).toISOString() });
        },
      },
    ],
  });
  return async (event, context) => {
    const result = await consumer(event, context);
    // What is due now goes out now; the rest waits for the tick. A failure here is the tick's to retry.
    await n()
      .run()
      .then((r) => afterRun(deps, r))
      .catch((err: unknown) => deps.log.warn('notifier run after a batch failed; the tick retries', { error: err instanceof Error ? err.message : String(err) }));
    return result;
  };
}
