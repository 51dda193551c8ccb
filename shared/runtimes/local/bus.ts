/**
 * In-process stand-in for EventBridge + SQS + the Lambda SQS event source mapping, wired from
 * serverless.yml (see serverless-config.ts), so the local runtime routes events exactly as AWS does:
 *
 *   putEvents → every enabled rule of that bus whose pattern matches → each target queue
 *   → one poller per SQS function: batches of up to batchSize (waiting up to maximumBatchingWindow)
 *   → handler({ Records }) with real SQSRecord-shaped records
 *   → success: delete (except reported batchItemFailures); throw / timeout: delete nothing
 *   → undeleted messages reappear after the visibility timeout; a message received more than
 *     maxReceiveCount times moves to the dead-letter queue; redrive() moves it back.
 *
 * Scheduled functions run every `rate` (and on demand with `runScheduled`).
 *
 * Time: every duration taken from serverless.yml (visibility timeout, queue delay, batching window,
 * function timeout, schedule rate) is multiplied by `timeScale` (default 1), so tests can run a
 * 180 s visibility timeout in 18 ms with timeScale 0.0001. `clock` only supplies the wall-clock
 * timestamps that appear in events and records (event `time`, SentTimestamp...); waiting uses the
 * monotonic clock. No network is involved. Message bodies are never logged.
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { bundledHandlers } from './bundled-handlers.ts';
import { matchesPattern } from './event-pattern.ts';
import {
  repoRoot,
  type HandlerRef,
  type LocalWiring,
  type QueueWiring,
  type RuleWiring,
  type ScheduledFunctionWiring,
  type SqsFunctionWiring,
} from './serverless-config.ts';

// ------------------------------------------------------------------------------------------------
// Public shapes (the subset of aws-lambda / EventBridge / SQS types the handlers see)

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
  /** Loads a function's handler. `importHandlerFromRepo()` imports `handler.file` from the repository. */
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

/**
 * Resolver that imports `handler.file` (relative to `root`, default the repository) and returns its
 * export; in a bundle (`build.ts`) the module compiled into it.
 */
export function importHandlerFromRepo(root: string = repoRoot): (fn: FunctionRef) => Promise<LambdaHandler> {
  return async (fn) => {
    const bundled = bundledHandlers.get(fn.handler.file);
    const mod = bundled ? await bundled() : ((await import(pathToFileURL(join(root, fn.handler.file)).href)) as Record<string, unknown>);
    const handler = mod[fn.handler.exportName];
    if (typeof handler !== 'function') {
      throw new Error(`${fn.handler.file} does not export a function named "${fn.handler.exportName}" (function ${fn.name})`);
    }
    return handler as LambdaHandler;
  };
}

// ------------------------------------------------------------------------------------------------
// Internals

/** SenderId SQS reports for messages EventBridge delivered (a principal id, not a secret). */
const EVENTBRIDGE_SENDER_ID = 'AIDAIENQZJOLO23YVJ4VO';
const MAX_ENTRIES_PER_PUT = 10;
const MAX_PUT_BYTES = 256 * 1024;

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  senderId: string;
  sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** performance.now() at which the message is (again) receivable. */
  visibleAt: number;
  /** Set while received; a delete must present the latest one. */
  receiptHandle?: string;
  sourceQueue?: string;
}

interface QueueState {
  wiring: QueueWiring;
  arn: string;
  messages: StoredMessage[];
  waiters: Set<() => void>;
}

class TimeoutError extends Error {
  constructor(fn: string, ms: number) {
    super(`function ${fn} timed out after ${Math.round(ms)} ms`);
    this.name = 'TimeoutError';
  }
}

const consoleLogger: BusLogger = {
  info: (m, a) => console.info(m, a ?? ''),
  warn: (m, a) => console.warn(m, a ?? ''),
  error: (m, a) => console.error(m, a ?? ''),
};

export class LocalEventBus {
  private readonly queues = new Map<string, QueueState>();
  private readonly buses: Set<string>;
  private readonly rules: RuleWiring[];
  private readonly log: BusLogger;
  private readonly clock: () => number;
  private readonly account: string;
  private readonly region: string;
  private readonly timeScale: number;
  private readonly pollers: number;
  private readonly handlers = new Map<string, Promise<LambdaHandler>>();
  private readonly listeners = new Set<() => void>();
  private readonly history: PublishedEvent[] = [];
  private readonly historySize: number;
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly scheduleTimers: NodeJS.Timeout[] = [];
  private readonly scheduledRunning = new Set<string>();

  constructor(
    private readonly wiring: LocalWiring,
    private readonly opts: LocalEventBusOptions,
  ) {
    this.log = opts.logger ?? consoleLogger;
    this.clock = opts.clock ?? Date.now;
    this.account = opts.account ?? '000000000000';
    this.region = opts.region ?? wiring.region ?? 'eu-west-1';
    this.timeScale = opts.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new Error('timeScale must be > 0');
    this.pollers = opts.pollersPerFunction ?? 1;
    this.historySize = opts.historySize ?? 1000;
    this.buses = new Set(['default', ...wiring.buses.map((b) => b.name)]);
    for (const q of wiring.queues) {
      this.queues.set(q.logicalId, { wiring: q, arn: `arn:aws:sqs:${this.region}:${this.account}:${q.queueName}`, messages: [], waiters: new Set() });
    }
    for (const q of wiring.queues) {
      if (q.deadLetterQueue !== undefined) this.queue(q.deadLetterQueue, `dead-letter queue of ${q.logicalId}`);
    }
    this.rules = wiring.rules;
    for (const rule of this.rules) {
      if (!this.buses.has(rule.busName)) throw new Error(`rule ${rule.logicalId} is on unknown bus ${rule.busName}`);
      for (const target of rule.targetQueues) this.queue(target, `target of rule ${rule.logicalId}`);
    }
    for (const fn of wiring.sqsFunctions) this.queue(fn.queue, `event source of function ${fn.name}`);
  }

  // ---------------------------------------------------------------------------------- EventBridge

  /** EventBridge PutEvents: builds each event and routes it through every matching rule of its bus. */
  async putEvents(entries: BusEntry[]): Promise<PutEventsResult> {
    if (entries.length === 0 || entries.length > MAX_ENTRIES_PER_PUT) {
      throw Object.assign(new Error(`PutEvents takes 1 to ${MAX_ENTRIES_PER_PUT} entries, got ${entries.length}`), { name: 'ValidationException' });
    }
    const size = entries.reduce((sum, e) => sum + Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? ''), 0);
    if (size > MAX_PUT_BYTES) {
      throw Object.assign(new Error(`PutEvents request is ${size} bytes; the limit is ${MAX_PUT_BYTES}`), { name: 'ValidationException' });
    }
    const results: PutEventsResult['Entries'] = entries.map((entry) => this.putOne(entry));
    this.notifyChange();
    return { FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results };
  }

  /**
   * How an AWS service itself delivers an event to the default bus (MediaLive's "Channel State
   * Change" and the like). The local media engine stands in for those services, so it delivers here;
   * applications cannot (PutEvents rejects `aws.*` sources, as on AWS).
   */
  deliverServiceEvent(entry: BusEntry & { Source: `aws.${string}` }): string {
    const result = this.putOne({ ...entry, EventBusName: 'default' }, true);
    this.notifyChange();
    if (result.ErrorCode) throw new Error(`service event rejected: ${result.ErrorCode} ${result.ErrorMessage ?? ''}`);
    return result.EventId!;
  }

  private putOne(entry: BusEntry, fromAwsService = false): PutEventsResult['Entries'][number] {
    if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required' };
    }
    if (entry.Source.startsWith('aws.') && !fromAwsService) {
      return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: `source ${entry.Source} is reserved for AWS services` };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object' };
    }
    const busName = busNameOf(entry.EventBusName);
    if (!this.buses.has(busName)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `event bus ${busName} does not exist` };
    }
    const event: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.account,
      time: isoSeconds(entry.Time?.getTime() ?? this.clock()),
      region: this.region,
      resources: entry.Resources ?? [],
      detail,
    };
    const matched = this.rules.filter((rule) => rule.enabled && rule.busName === busName && matchesPattern(rule.eventPattern, event));
    const body = JSON.stringify(event);
    for (const rule of matched) {
      for (const target of rule.targetQueues) this.enqueue(this.queue(target), body, EVENTBRIDGE_SENDER_ID);
    }
    this.history.push({ event, busName, matchedRules: matched.map((r) => r.logicalId) });
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
    this.log.info('event published', {
      eventId: event.id,
      bus: busName,
      source: event.source,
      detailType: event['detail-type'],
      matchedRules: matched.map((r) => r.logicalId),
    });
    return { EventId: event.id };
  }

  /** Events published so far (most recent last, bounded by historySize), with the rules they matched. */
  publishedEvents(): PublishedEvent[] {
    return this.history.map((h) => structuredClone(h));
  }

  // ---------------------------------------------------------------------------------- SQS

  /** SQS SendMessage to a queue by logical id. Returns the MessageId. */
  sendMessage(queueLogicalId: string, body: string): string {
    const id = this.enqueue(this.queue(queueLogicalId), body, this.account);
    this.notifyChange();
    return id;
  }

  queueStats(): Record<string, QueueStats> {
    const now = performance.now();
    const out: Record<string, QueueStats> = {};
    for (const [id, q] of this.queues) {
      const stats: QueueStats = { visible: 0, inFlight: 0 };
      let delayed = 0;
      for (const m of q.messages) {
        if (m.visibleAt <= now) stats.visible++;
        else if (m.receiptHandle !== undefined) stats.inFlight++;
        else delayed++;
      }
      if (delayed > 0) stats.delayed = delayed;
      if (q.wiring.deadLetterQueue !== undefined) {
        stats.dlq = this.queue(q.wiring.deadLetterQueue).messages.filter((m) => m.sourceQueue === id).length;
      }
      out[id] = stats;
    }
    return out;
  }

  /**
   * Seconds since the oldest message still in each queue was sent, 0 for an empty queue: the
   * consumers' lag, as SQS's ApproximateAgeOfOldestMessage (read by the `/metrics` endpoint).
   */
  oldestMessageAges(): Record<string, number> {
    const now = this.clock();
    const out: Record<string, number> = {};
    for (const [id, q] of this.queues) out[id] = q.messages.reduce((age, m) => Math.max(age, (now - m.sentTimestamp) / 1000), 0);
    return out;
  }

  /**
   * Messages in a dead-letter queue. Pass the DLQ's logical id (all its messages), or a source queue's
   * (the messages of its DLQ that came from it).
   */
  deadLetters(queueLogicalId: string): DeadLetter[] {
    const q = this.queue(queueLogicalId);
    const dlq = q.wiring.deadLetterQueue !== undefined ? this.queue(q.wiring.deadLetterQueue) : q;
    const fromSource = dlq === q ? undefined : queueLogicalId;
    return dlq.messages
      .filter((m) => fromSource === undefined || m.sourceQueue === fromSource)
      .map((m) => {
        const letter: DeadLetter = { messageId: m.messageId, body: m.body, receiveCount: m.receiveCount, sentTimestamp: m.sentTimestamp };
        if (m.sourceQueue !== undefined) letter.sourceQueue = m.sourceQueue;
        return letter;
      });
  }

  /**
   * Moves every message of a dead-letter queue back to the queue it came from (like SQS DLQ redrive),
   * as new messages with a fresh receive count. Returns how many moved.
   */
  redrive(dlqLogicalId: string): number {
    const dlq = this.queue(dlqLogicalId);
    const sources = [...this.queues.values()].filter((q) => q.wiring.deadLetterQueue === dlqLogicalId);
    let moved = 0;
    const keep: StoredMessage[] = [];
    for (const m of dlq.messages) {
      const target = m.sourceQueue !== undefined ? this.queues.get(m.sourceQueue) : sources.length === 1 ? sources[0] : undefined;
      if (!target) {
        keep.push(m);
        continue;
      }
      this.enqueue(target, m.body, m.senderId);
      moved++;
    }
    dlq.messages = keep;
    this.log.info('dead-letter queue redriven', { queue: dlqLogicalId, moved, remaining: keep.length });
    this.notifyChange();
    return moved;
  }

  private queue(logicalId: string, what?: string): QueueState {
    const q = this.queues.get(logicalId);
    if (!q) throw new Error(`unknown queue ${logicalId}${what ? ` (${what})` : ''}; queues: ${[...this.queues.keys()].join(', ')}`);
    return q;
  }

  private enqueue(q: QueueState, body: string, senderId: string): string {
    const messageId = randomUUID();
    q.messages.push({
      messageId,
      body,
      md5OfBody: createHash('md5').update(body).digest('hex'),
      senderId,
      sentTimestamp: this.clock(),
      receiveCount: 0,
      visibleAt: performance.now() + this.scaled(q.wiring.delaySeconds),
    });
    wake(q);
    return messageId;
  }

  // ---------------------------------------------------------------------------------- pollers

  /** Starts one poller per SQS function (pollersPerFunction each) and the schedules. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const fn of this.wiring.sqsFunctions) {
      for (let i = 0; i < this.pollers; i++) this.workers.push(this.poll(fn, this.queue(fn.queue)));
    }
    if (this.opts.runSchedules !== false) {
      for (const fn of this.wiring.scheduledFunctions) {
        const timer = setInterval(() => {
          if (this.scheduledRunning.has(fn.name)) {
            this.log.warn('scheduled run skipped: the previous one is still running', { function: fn.name });
            return;
          }
          this.runScheduled(fn.name).catch(() => undefined); // runScheduled logs its failures
        }, this.scaled(fn.rateSeconds));
        this.scheduleTimers.push(timer);
      }
    }
    this.log.info('local event bus started', {
      sqsFunctions: this.wiring.sqsFunctions.map((f) => f.name),
      scheduledFunctions: this.opts.runSchedules === false ? [] : this.wiring.scheduledFunctions.map((f) => f.name),
    });
  }

  /** Stops the pollers and schedules and waits for in-flight batches and scheduled runs. */
  async stop(): Promise<void> {
    if (!this.running) {
      await Promise.allSettled([...this.inFlight]);
      return;
    }
    this.running = false;
    for (const timer of this.scheduleTimers.splice(0)) clearInterval(timer);
    for (const q of this.queues.values()) wake(q);
    const workers = this.workers.splice(0);
    await Promise.allSettled(workers);
    await Promise.allSettled([...this.inFlight]);
    this.notifyChange();
    this.log.info('local event bus stopped', {});
  }

  /**
   * Resolves once every queue that a function consumes is empty (nothing visible, in flight or
   * waiting for redelivery) and no batch or scheduled run is executing. Dead-letter queues and
   * queues nobody consumes are not waited for. Rejects after `timeoutMs` (default 30 s) with the
   * queue stats, or at once if the pollers are not running while messages wait.
   */
  drain(timeoutMs = 30_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = () => {
        if (this.isIdle()) {
          cleanup();
          resolve();
        } else if (!this.running && this.inFlight.size === 0 && this.scheduledRunning.size === 0) {
          cleanup();
          reject(new Error(`drain(): the bus is not started and messages are waiting: ${JSON.stringify(this.queueStats())}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`drain() timed out after ${timeoutMs} ms: ${JSON.stringify(this.queueStats())}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  private isIdle(): boolean {
    if (this.inFlight.size > 0 || this.scheduledRunning.size > 0) return false;
    for (const fn of this.wiring.sqsFunctions) if (this.queue(fn.queue).messages.length > 0) return false;
    return true;
  }

  private notifyChange(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async poll(fn: SqsFunctionWiring, q: QueueState): Promise<void> {
    while (this.running) {
      const batch = await this.receive(fn, q);
      if (batch.length === 0) continue;
      const run = this.invokeBatch(fn, q, batch);
      this.inFlight.add(run);
      try {
        await run;
      } finally {
        this.inFlight.delete(run);
        this.notifyChange();
      }
    }
  }

  /** ReceiveMessage with long polling and the event source's batching window. */
  private async receive(fn: SqsFunctionWiring, q: QueueState): Promise<StoredMessage[]> {
    while (this.running && countVisible(q) === 0) await waitFor(q, nextVisibleIn(q));
    const windowMs = this.scaled(fn.maximumBatchingWindowSeconds);
    if (windowMs > 0) {
      const deadline = performance.now() + windowMs;
      while (this.running && countVisible(q) < fn.batchSize && performance.now() < deadline) {
        await waitFor(q, Math.min(deadline - performance.now(), nextVisibleIn(q)));
      }
    }
    if (!this.running) return [];

    const now = performance.now();
    const batch: StoredMessage[] = [];
    const toDlq: StoredMessage[] = [];
    for (const m of q.messages) {
      if (batch.length >= fn.batchSize) break;
      if (m.visibleAt > now) continue;
      if (q.wiring.maxReceiveCount !== undefined && m.receiveCount >= q.wiring.maxReceiveCount) {
        toDlq.push(m); // SQS moves it when a receive would exceed maxReceiveCount
        continue;
      }
      m.receiveCount++;
      m.firstReceiveTimestamp ??= this.clock();
      m.receiptHandle = randomUUID();
      m.visibleAt = now + this.scaled(q.wiring.visibilityTimeoutSeconds);
      batch.push(m);
    }
    if (toDlq.length > 0) this.moveToDlq(q, toDlq);

    if (fn.filterPatterns && batch.length > 0) {
      // Lambda event filtering: records that match no filter are deleted without an invocation.
      const kept = batch.filter((m) => fn.filterPatterns!.some((p) => matchesPattern(p, filterView(m))));
      const dropped = batch.filter((m) => !kept.includes(m));
      if (dropped.length > 0) {
        this.deleteMessages(q, dropped.map((m) => [m, m.receiptHandle!]));
        this.notifyChange();
      }
      return kept;
    }
    return batch;
  }

  private moveToDlq(q: QueueState, messages: StoredMessage[]): void {
    const dlq = this.queue(q.wiring.deadLetterQueue!);
    q.messages = q.messages.filter((m) => !messages.includes(m));
    for (const m of messages) {
      m.receiptHandle = undefined;
      m.visibleAt = performance.now();
      m.sourceQueue = q.wiring.logicalId;
      dlq.messages.push(m);
      this.log.warn('message moved to dead-letter queue', {
        queue: q.wiring.logicalId,
        deadLetterQueue: dlq.wiring.logicalId,
        messageId: m.messageId,
        receiveCount: m.receiveCount,
      });
    }
    this.notifyChange();
  }

  private deleteMessages(q: QueueState, handles: [StoredMessage, string][]): void {
    // A delete with a stale receipt handle (the message was received again meanwhile) deletes nothing.
    const doomed = new Set(handles.filter(([m, handle]) => m.receiptHandle === handle).map(([m]) => m));
    if (doomed.size > 0) q.messages = q.messages.filter((m) => !doomed.has(m));
  }

  private async invokeBatch(fn: SqsFunctionWiring, q: QueueState, batch: StoredMessage[]): Promise<void> {
    const records = batch.map((m) => this.record(q, m));
    const handles = batch.map((m): [StoredMessage, string] => [m, m.receiptHandle!]);
    const timeoutMs = this.scaled(fn.timeoutSeconds);
    const started = performance.now();
    let failed: Set<string>;
    try {
      const handler = await this.handlerFor(fn);
      const result = await withTimeout(
        Promise.resolve().then(() => handler({ Records: records } satisfies SqsEvent, this.context(fn, started + timeoutMs))),
        timeoutMs,
        fn.name,
      );
      failed = fn.reportBatchItemFailures ? this.batchFailures(fn, result, records) : new Set();
    } catch (err) {
      const error = err as Error;
      this.log.error(err instanceof TimeoutError ? 'batch timed out; it will be retried' : 'batch failed; it will be retried', {
        function: fn.name,
        queue: q.wiring.logicalId,
        messages: batch.length,
        error: error?.message ?? String(err),
        errorName: error?.name,
      });
      failed = new Set(records.map((r) => r.messageId));
    }
    this.deleteMessages(q, handles.filter(([m]) => !failed.has(m.messageId)));
    const attrs = { function: fn.name, queue: q.wiring.logicalId, messages: batch.length, failed: failed.size, ms: Math.round(performance.now() - started) };
    if (failed.size > 0 && failed.size < batch.length) this.log.warn('batch partially failed; failed messages will be retried', attrs);
    else if (failed.size === 0) this.log.info('batch processed', attrs);
  }

  /** Parses a ReportBatchItemFailures response the way Lambda does. */
  private batchFailures(fn: SqsFunctionWiring, result: unknown, records: SqsRecord[]): Set<string> {
    if (result === undefined || result === null) return new Set();
    const all = new Set(records.map((r) => r.messageId));
    const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    if (!Array.isArray(failures)) {
      this.log.error('invalid batch response: batchItemFailures is not a list; the whole batch fails', { function: fn.name });
      return all;
    }
    const out = new Set<string>();
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || !all.has(id)) {
        // Lambda: a null, empty or unknown itemIdentifier fails the whole batch.
        this.log.error('invalid batch response: unknown itemIdentifier; the whole batch fails', { function: fn.name, itemIdentifier: String(id) });
        return all;
      }
      out.add(id);
    }
    return out;
  }

  private record(q: QueueState, m: StoredMessage): SqsRecord {
    return {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle!,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentTimestamp),
        SenderId: m.senderId,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
      },
      messageAttributes: {},
      md5OfBody: m.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: this.region,
    };
  }

  // ---------------------------------------------------------------------------------- schedules

  /** Runs a scheduled function now, with the event EventBridge Scheduler would send. Resolves to its result. */
  async runScheduled(name: string): Promise<unknown> {
    const fn = this.wiring.scheduledFunctions.find((f) => f.name === name);
    if (!fn) throw new Error(`no scheduled function ${name}; scheduled: ${this.wiring.scheduledFunctions.map((f) => f.name).join(', ')}`);
    const event =
      fn.input !== undefined
        ? structuredClone(fn.input)
        : {
            version: '0',
            id: randomUUID(),
            'detail-type': 'Scheduled Event',
            source: 'aws.events',
            account: this.account,
            time: isoSeconds(this.clock()),
            region: this.region,
            resources: [`arn:aws:events:${this.region}:${this.account}:rule/${this.functionName(fn)}-schedule`],
            detail: {},
          };
    const timeoutMs = this.scaled(fn.timeoutSeconds);
    const started = performance.now();
    this.scheduledRunning.add(fn.name);
    const run = (async () => {
      try {
        const handler = await this.handlerFor(fn);
        return await withTimeout(Promise.resolve().then(() => handler(event, this.context(fn, started + timeoutMs))), timeoutMs, fn.name);
      } catch (err) {
        this.log.error('scheduled run failed', { function: fn.name, error: (err as Error)?.message ?? String(err) });
        throw err;
      }
    })();
    // Tracked like a batch, so stop() and drain() wait for it.
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(tracked);
    void tracked.then(() => {
      this.inFlight.delete(tracked);
      this.scheduledRunning.delete(fn.name);
      this.notifyChange();
    });
    return run;
  }

  // ---------------------------------------------------------------------------------- helpers

  /**
   * Loads every function's handler now instead of on its first message: a broken handler fails
   * the start, and no module is still loading when the process is asked to stop.
   */
  async loadHandlers(): Promise<void> {
    await Promise.all([...this.wiring.sqsFunctions, ...this.wiring.scheduledFunctions].map((fn) => this.handlerFor(fn)));
  }

  private handlerFor(fn: SqsFunctionWiring | ScheduledFunctionWiring): Promise<LambdaHandler> {
    let handler = this.handlers.get(fn.name);
    if (!handler) {
      handler = Promise.resolve().then(() => this.opts.resolveHandler({ name: fn.name, handler: fn.handler }));
      this.handlers.set(fn.name, handler);
      // A handler that failed to load is retried on the next batch (e.g. after fixing the file).
      handler.catch(() => this.handlers.delete(fn.name));
    }
    return handler;
  }

  private functionName(fn: { name: string }): string {
    return `${this.wiring.service}-${this.wiring.stage}-${fn.name}`;
  }

  private context(fn: { name: string }, deadline: number): LambdaContextLike {
    const functionName = this.functionName(fn);
    return {
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.region}:${this.account}:function:${functionName}`,
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: `local/${fn.name}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - performance.now())),
    };
  }

  private scaled(seconds: number): number {
    return seconds * 1000 * this.timeScale;
  }
}

function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  const m = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return m ? (m[1] as string) : nameOrArn;
}

/** EventBridge event times have second precision: 2024-05-01T12:00:00Z. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function countVisible(q: QueueState): number {
  const now = performance.now();
  let n = 0;
  for (const m of q.messages) if (m.visibleAt <= now) n++;
  return n;
}

/** Milliseconds until the next invisible message becomes visible (Infinity when none). */
function nextVisibleIn(q: QueueState): number {
  const now = performance.now();
  let next = Infinity;
  for (const m of q.messages) if (m.visibleAt > now && m.visibleAt < next) next = m.visibleAt;
  return next - now;
}

/** Waits until the queue changes or `ms` pass (no timer when ms is Infinity). */
function waitFor(q: QueueState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      q.waiters.delete(done);
      resolve();
    };
    q.waiters.add(done);
    if (Number.isFinite(ms)) timer = setTimeout(done, Math.max(1, Math.ceil(ms)));
  });
}

function wake(q: QueueState): void {
  for (const waiter of [...q.waiters]) waiter();
}

function withTimeout<T>(promise: Promise<T>, ms: number, fn: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(fn, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What Lambda event filters see of an SQS record: the body parsed when it is JSON. */
function filterView(m: StoredMessage): Record<string, unknown> {
  let body: unknown = m.body;
  try {
    body = JSON.parse(m.body);
  } catch {
    // plain-text bodies are matched as strings
  }
  return { body, attributes: { SenderId: m.senderId }, messageAttributes: {} };
}
