/**
 * The shapes of the local bus (the subset of aws-lambda / EventBridge / SQS types the handlers
 * see, and what the bus reports about itself), shared by its parts (event-bridge.ts, sqs.ts,
 * lambda.ts, poller.ts, scheduler.ts) and its users.
 */
import type { HandlerRef } from '../serverless-config.ts';

export interface BusEntry {
  Source: string;
  DetailType: string;
  /** JSON object, as a string (as in the SDK's PutEventsRequestEntry). */
  Detail: string;
  /** Bus name or ARN; default bus when absent. */
  EventBusName?: string;
  Resources?: string[];
  Time?: Date;
}

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

export interface EventBridgeEvent<TDetail = unknown> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}

export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: {
    ApproximateReceiveCount: string;
    SentTimestamp: string;
    SenderId: string;
    ApproximateFirstReceiveTimestamp: string;
  };
  messageAttributes: Record<string, unknown>;
  md5OfBody: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface LambdaContextLike {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  /** Real milliseconds left before the (timeScale-scaled) function timeout. */
  getRemainingTimeInMillis(): number;
}

export type SqsHandler = (event: SqsEvent, context: LambdaContextLike) => Promise<SqsBatchResponse | void>;
export type ScheduledHandler = (event: EventBridgeEvent<Record<string, never>>, context: LambdaContextLike) => Promise<unknown>;
/** What `resolveHandler` returns: an SqsHandler for SQS functions, a ScheduledHandler for scheduled ones. */
export type LambdaHandler = (event: any, context: LambdaContextLike) => unknown;

export interface FunctionRef {
  name: string;
  handler: HandlerRef;
}

export interface BusLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface LocalEventBusOptions {
  /** Loads a function's handler (the local runtime: the service's factory over its local deps, shared/runtimes/local/services/). */
  resolveHandler: (fn: FunctionRef) => Promise<LambdaHandler>;
  logger?: BusLogger;
  /** Wall-clock milliseconds for timestamps in events and records; default Date.now. */
  clock?: () => number;
  account?: string;
  /** Default: the wiring's region. */
  region?: string;
  /** Multiplies every duration from serverless.yml; default 1. */
  timeScale?: number;
  /** Concurrent pollers (batches in flight) per SQS function; default 1. */
  pollersPerFunction?: number;
  /** Run scheduled functions at their rate after start(); default true. */
  runSchedules?: boolean;
  /** How many published events `publishedEvents()` remembers; default 1000. */
  historySize?: number;
}

/**
 * What `LocalEventBus.onTrace` listeners see, `at` in `performance.now()` milliseconds:
 * - `published`: an event accepted by PutEvents (or delivered by a service), with the message it
 *   became in each target queue;
 * - `received`: a function's poller took these messages for a batch (after its filters);
 * - `completed`: the batch's handler returned (or threw, or timed out: `failed` lists what will
 *   be redelivered), `startedAt` when it was invoked.
 */
export type BusTrace =
  | { type: 'published'; at: number; eventId: string; source: string; detailType: string; detail: unknown; messages: { queue: string; messageId: string }[] }
  | { type: 'received'; at: number; function: string; queue: string; messageIds: string[] }
  | { type: 'completed'; at: number; startedAt: number; function: string; queue: string; messageIds: string[]; failed: string[] };

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  sentTimestamp: number;
  /** Logical id of the queue the message was dead-lettered from. */
  sourceQueue?: string;
}

export interface PublishedEvent {
  event: EventBridgeEvent;
  busName: string;
  /** Logical ids of the rules that matched. */
  matchedRules: string[];
}

export interface QueueStats {
  visible: number;
  inFlight: number;
  delayed?: number;
  /** Messages in this queue's dead-letter queue. */
  dlq?: number;
}
