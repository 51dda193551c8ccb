/**
 * One way to consume domain events from an SQS queue, for every service:
 * - each SQS record carries an EventBridge event; it is routed by source, detail-type and the
 *   envelope's `version` to a handler that declared that version (unknown events are logged and
 *   acknowledged; events that fail their schema are reported as failures so they end up in the DLQ
 *   for inspection instead of being dropped);
 * - each event is processed at most once per consumer: Powertools idempotency keyed on the
 *   envelope's event id, persisted in DynamoDB (a redelivery, or a second publication by the
 *   outbox sweep, changes nothing);
 * - the batch reports partial failures, so SQS redelivers only what failed.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventDefinition, EventDetail } from '../../events/envelope.ts';
import type { Logger } from '../logging/logger.ts';

export interface NativeOrDomainEvent {
  id: string;
  source: string;
  'detail-type': string;
  time: string;
  resources?: string[];
  detail: unknown;
}

export interface DomainRoute<E extends EventDefinition = EventDefinition> {
  kind: 'domain';
  event: E;
  handle(detail: EventDetail<E>, event: NativeOrDomainEvent): Promise<void>;
}

/** Native AWS events (no Fanout envelope): keyed on the EventBridge event id. */
export interface NativeRoute {
  kind: 'native';
  source: string;
  detailType: string;
  parse(event: unknown): NativeOrDomainEvent;
  handle(event: NativeOrDomainEvent): Promise<void>;
}

export type Route = DomainRoute | NativeRoute;

export interface ConsumerOptions {
  /** Names this consumer in idempotency keys (each consumer processes each event once). */
  name: string;
  routes: Route[];
  logger: Logger;
  idempotency: () => { client: import('@aws-sdk/client-dynamodb').DynamoDBClient; tableName: string };
  /** How long an event id is remembered. */
  rememberSeconds?: number;
}

/** Times an event is processed in a row when it loses an optimistic-concurrency race (VERSION_CONFLICT). */
const CONFLICT_ATTEMPTS = 4;

class PoisonEventError extends Error {
  override name = 'PoisonEventError';
}

export function domainRoute<E extends EventDefinition>(event: E, handle: DomainRoute<E>['handle']): DomainRoute {
  return { kind: 'domain', event, handle } as unknown as DomainRoute;
}

/** Builds the SQS handler (Lambda signature; the local bus calls it the same way). */
export function createEventConsumer(opts: ConsumerOptions): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  let idempotent: ((e: { key: string; event: NativeOrDomainEvent }) => Promise<unknown>) | undefined;
  let idempotentClient: unknown;
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds: opts.rememberSeconds ?? 3 * 24 * 3600 });

  const dispatch = async ({ event }: { key: string; event: NativeOrDomainEvent }): Promise<null> => {
    for (const r of opts.routes) {
      if (r.kind === 'domain' && r.event.source === event.source && r.event.name === event['detail-type']) {
        const version = (event.detail as { version?: unknown })?.version;
        if (version !== r.event.version) continue;
        const parsed = r.event.detail.safeParse(event.detail);
        if (!parsed.success) throw new PoisonEventError(`${event['detail-type']} v${String(version)} fails its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        await r.handle(parsed.data as never, event);
        return null;
      }
      if (r.kind === 'native' && r.source === event.source && r.detailType === event['detail-type']) {
        await r.handle(r.parse(event));
        return null;
      }
    }
    opts.logger.warn('no handler for event; acknowledged without action', { source: event.source, detailType: event['detail-type'] });
    return null;
  };

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let event: NativeOrDomainEvent;
    try {
      event = JSON.parse(record.body) as NativeOrDomainEvent;
    } catch {
      throw new PoisonEventError('message body is not JSON');
    }
    const envelopeId = (event.detail as { id?: unknown })?.id;
    const key = `${event.source}|${event['detail-type']}|${typeof envelopeId === 'string' ? envelopeId : event.id}`;
    const { client, tableName } = opts.idempotency();
    // Rebuilt when the infrastructure changes (the local runtime restarting in one process).
    if (!idempotent || idempotentClient !== client) {
      idempotentClient = client;
      idempotent = makeIdempotent(dispatch, {
        persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client }),
        config,
        keyPrefix: `fanout.${opts.name}`,
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await idempotent({ key, event });
        return;
      } catch (err) {
        // A lost optimistic-concurrency race is routine: the handler re-reads what it changes, so it
        // runs again at once (a few times, jittered) rather than waiting out the queue's visibility
        // timeout, minutes on AWS. Anything else, or a race lost every time, is left to the redelivery.
        const routine = (err as { code?: string })?.code === 'VERSION_CONFLICT';
        if (routine && attempt < CONFLICT_ATTEMPTS) {
          opts.logger.debug('lost a concurrent update; processing the event again', { consumer: opts.name, detailType: event['detail-type'], eventKey: key, attempt });
          await new Promise((r) => setTimeout(r, Math.random() * 40 * attempt));
          continue;
        }
        opts.logger[routine ? 'warn' : 'error']('event processing failed; it will be retried', {
          consumer: opts.name,
          source: event.source,
          detailType: event['detail-type'],
          eventKey: key,
          attempts: attempt,
          error: err instanceof Error ? { name: err.name, message: err.message } : String(err),
        });
        throw err;
      }
    }
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    config.registerLambdaContext(context);
    const processor = new BatchProcessor(EventType.SQS);
    // In order: one destination's events in a batch (e.g. CREATING then IDLE) must apply in sequence.
    return processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
  };
}
