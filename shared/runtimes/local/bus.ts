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
 * This file is the bus as its users see it; each job is a module of its own under bus/:
 * event-bridge.ts (buses, rules, PutEvents), sqs.ts (queues, visibility, redrive and DLQs),
 * poller.ts (Lambda's SQS event source), scheduler.ts (scheduled functions), lambda.ts (handlers,
 * context, timeouts), trace.ts (each hop of each event for `onTrace` listeners, off by default:
 * the bench's start-to-live breakdown), types.ts (the shapes).
 *
 * Time: every duration taken from serverless.yml (visibility timeout, queue delay, batching window,
 * function timeout, schedule rate) is multiplied by `timeScale` (default 1), so tests can run a
 * 180 s visibility timeout in 18 ms with timeScale 0.0001. `clock` only supplies the wall-clock
 * timestamps that appear in events and records (event `time`, SentTimestamp...); waiting uses the
 * monotonic clock. No network is involved. Message bodies are never logged.
 */
import { LocalEventBridge } from './bus/event-bridge.ts';
import { LambdaFunctions } from './bus/lambda.ts';
import { SqsPoller } from './bus/poller.ts';
import { Scheduler } from './bus/scheduler.ts';
import { SqsQueues } from './bus/sqs.ts';
import { BusTracer } from './bus/trace.ts';
import type { BusEntry, BusLogger, BusTrace, DeadLetter, LocalEventBusOptions, PublishedEvent, PutEventsResult, QueueStats } from './bus/types.ts';
import type { LocalWiring } from './serverless-config.ts';

export type * from './bus/types.ts';

const consoleLogger: BusLogger = {
  info: (m, a) => console.info(m, a ?? ''),
  warn: (m, a) => console.warn(m, a ?? ''),
  error: (m, a) => console.error(m, a ?? ''),
};

export class LocalEventBus {
  private readonly log: BusLogger;
  private readonly account: string;
  private readonly timeScale: number;
  private readonly queues: SqsQueues;
  private readonly events: LocalEventBridge;
  private readonly lambda: LambdaFunctions;
  private readonly scheduler: Scheduler;
  private readonly pollers: number;
  private readonly listeners = new Set<() => void>();
  private readonly tracer = new BusTracer();
  private running = false;
  private workers: Promise<void>[] = [];
  /** Batches and scheduled runs executing (stop and drain wait for them). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly wiring: LocalWiring,
    private readonly opts: LocalEventBusOptions,
  ) {
    this.log = opts.logger ?? consoleLogger;
    const clock = opts.clock ?? Date.now;
    this.account = opts.account ?? '000000000000';
    const account = this.account;
    const region = opts.region ?? wiring.region ?? 'eu-west-1';
    this.timeScale = opts.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new Error('timeScale must be > 0');
    this.pollers = opts.pollersPerFunction ?? 1;
    const scaled = (seconds: number) => seconds * 1000 * this.timeScale;
    const changed = () => this.notifyChange();
    this.queues = new SqsQueues(wiring.queues, { log: this.log, clock, account, region, scaled, changed });
    this.events = new LocalEventBridge({ buses: wiring.buses.map((b) => b.name), rules: wiring.rules, queues: this.queues, log: this.log, clock, account, region, historySize: opts.historySize ?? 1000, changed, tracer: this.tracer });
    for (const fn of wiring.sqsFunctions) this.queues.queue(fn.queue, `event source of function ${fn.name}`);
    this.lambda = new LambdaFunctions({ resolveHandler: opts.resolveHandler, service: wiring.service, stage: wiring.stage, account, region });
    this.scheduler = new Scheduler({ functions: wiring.scheduledFunctions, lambda: this.lambda, log: this.log, clock, account, region, scaled, inFlight: this.inFlight, changed });
  }

  // ---------------------------------------------------------------------------------- EventBridge

  /** EventBridge PutEvents: builds each event and routes it through every matching rule of its bus. */
  putEvents(entries: BusEntry[]): Promise<PutEventsResult> {
    return this.events.putEvents(entries);
  }

  /**
   * How an AWS service itself delivers an event to the default bus (MediaLive's "Channel State
   * Change" and the like). The local media engine stands in for those services, so it delivers here;
   * applications cannot (PutEvents rejects `aws.*` sources, as on AWS).
   */
  deliverServiceEvent(entry: BusEntry & { Source: `aws.${string}` }): string {
    return this.events.deliverServiceEvent(entry);
  }

  /** Events published so far (most recent last, bounded by historySize), with the rules they matched. */
  publishedEvents(): PublishedEvent[] {
    return this.events.publishedEvents();
  }

  // ---------------------------------------------------------------------------------- SQS

  /** SQS SendMessage to a queue by logical id. Returns the MessageId. */
  sendMessage(queueLogicalId: string, body: string): string {
    const id = this.queues.enqueue(this.queues.queue(queueLogicalId), body, this.account);
    this.notifyChange();
    return id;
  }

  queueStats(): Record<string, QueueStats> {
    return this.queues.stats();
  }

  /**
   * Seconds since the oldest message still in each queue was sent, 0 for an empty queue: the
   * consumers' lag, as SQS's ApproximateAgeOfOldestMessage (read by the `/metrics` endpoint).
   */
  oldestMessageAges(): Record<string, number> {
    return this.queues.oldestMessageAges();
  }

  /**
   * Messages in a dead-letter queue. Pass the DLQ's logical id (all its messages), or a source queue's
   * (the messages of its DLQ that came from it).
   */
  deadLetters(queueLogicalId: string): DeadLetter[] {
    return this.queues.deadLetters(queueLogicalId);
  }

  /**
   * Moves every message of a dead-letter queue back to the queue it came from (like SQS DLQ redrive),
   * as new messages with a fresh receive count. Returns how many moved.
   */
  redrive(dlqLogicalId: string): number {
    return this.queues.redrive(dlqLogicalId);
  }

  // ---------------------------------------------------------------------------------- running

  /** Starts one poller per SQS function (pollersPerFunction each) and the schedules. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const fn of this.wiring.sqsFunctions) {
      const poller = new SqsPoller({
        fn,
        queues: this.queues,
        lambda: this.lambda,
        log: this.log,
        scaled: (s) => s * 1000 * this.timeScale,
        running: () => this.running,
        inFlight: this.inFlight,
        changed: () => this.notifyChange(),
        tracer: this.tracer,
      });
      for (let i = 0; i < this.pollers; i++) this.workers.push(poller.run());
    }
    if (this.opts.runSchedules !== false) this.scheduler.start();
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
    this.scheduler.stop();
    this.queues.wakeAll();
    const workers = this.workers.splice(0);
    await Promise.allSettled(workers);
    await Promise.allSettled([...this.inFlight]);
    this.notifyChange();
    this.log.info('local event bus stopped', {});
  }

  /** Runs a scheduled function now, with the event EventBridge Scheduler would send. Resolves to its result. */
  runScheduled(name: string): Promise<unknown> {
    return this.scheduler.run(name);
  }

  /**
   * Loads every function's handler now instead of on its first message: a broken handler fails
   * the start, and no module is still loading when the process is asked to stop.
   */
  async loadHandlers(): Promise<void> {
    await Promise.all([...this.wiring.sqsFunctions, ...this.wiring.scheduledFunctions].map((fn) => this.lambda.handlerFor(fn)));
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
        } else if (!this.running && this.inFlight.size === 0 && !this.scheduler.busy) {
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

  /** Calls `listener` after every change of any queue (a message in, out, moved to a DLQ); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Calls `listener` with each hop of every event (published, received by a function, its batch
   * completed: `BusTrace`); returns the unsubscribe. Off, and free, while nobody listens (the
   * bench's start-to-live breakdown listens; bus/trace.ts).
   */
  onTrace(listener: (t: BusTrace) => void): () => void {
    return this.tracer.listen(listener);
  }

  private isIdle(): boolean {
    if (this.inFlight.size > 0 || this.scheduler.busy) return false;
    for (const fn of this.wiring.sqsFunctions) if (this.queues.queue(fn.queue).messages.length > 0) return false;
    return true;
  }

  private notifyChange(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
