/**
 * Lambda's SQS event source mapping, locally: one poller per SQS function (pollersPerFunction
 * each) receives batches of up to batchSize, waiting up to maximumBatchingWindow for a full one;
 * Lambda event filtering deletes records no filter matches without an invocation; the handler gets
 * real SQSRecord-shaped records under the function's (scaled) timeout. Success deletes the batch
 * except the reported batchItemFailures (parsed as Lambda does: an unknown or empty identifier
 * fails the whole batch); a throw or a timeout deletes nothing, so the messages reappear after the
 * visibility timeout (and reach the DLQ after maxReceiveCount receives: sqs.ts).
 */
import { performance } from 'node:perf_hooks';
import { matchesPattern } from '../event-pattern.ts';
import type { SqsFunctionWiring } from '../serverless-config.ts';
import { TimeoutError, withTimeout, type LambdaFunctions } from './lambda.ts';
import type { QueueState, SqsQueues, StoredMessage } from './sqs.ts';
import type { BusTracer } from './trace.ts';
import type { BusLogger, SqsEvent, SqsRecord } from './types.ts';

export interface SqsPollerOptions {
  fn: SqsFunctionWiring;
  queues: SqsQueues;
  lambda: LambdaFunctions;
  log: BusLogger;
  scaled: (seconds: number) => number;
  /** False once the bus stops: the poller finishes its batch and returns. */
  running: () => boolean;
  /** Batches in flight (the bus's drain and stop wait for them). */
  inFlight: Set<Promise<void>>;
  changed: () => void;
  tracer: BusTracer;
}

export class SqsPoller {
  constructor(private readonly o: SqsPollerOptions) {}

  /** Polls until the bus stops. */
  async run(): Promise<void> {
    const q = this.o.queues.queue(this.o.fn.queue);
    while (this.o.running()) {
      const batch = await this.receive(q);
      if (batch.length === 0) continue;
      if (this.o.tracer.active) this.o.tracer.emit({ type: 'received', at: performance.now(), function: this.o.fn.name, queue: q.wiring.logicalId, messageIds: batch.map((m) => m.messageId) });
      const run = this.invokeBatch(q, batch);
      this.o.inFlight.add(run);
      try {
        await run;
      } finally {
        this.o.inFlight.delete(run);
        this.o.changed();
      }
    }
  }

  /** ReceiveMessage with long polling and the event source's batching window, then its filters. */
  private async receive(q: QueueState): Promise<StoredMessage[]> {
    const fn = this.o.fn;
    const batch = await this.o.queues.receive(q, fn.batchSize, this.o.scaled(fn.maximumBatchingWindowSeconds), this.o.running);
    if (fn.filterPatterns && batch.length > 0) {
      // Lambda event filtering: records that match no filter are deleted without an invocation.
      const kept = batch.filter((m) => fn.filterPatterns!.some((p) => matchesPattern(p, filterView(m))));
      const dropped = batch.filter((m) => !kept.includes(m));
      if (dropped.length > 0) {
        this.o.queues.delete(
          q,
          dropped.map((m) => [m, m.receiptHandle!]),
        );
        this.o.changed();
      }
      return kept;
    }
    return batch;
  }

  private async invokeBatch(q: QueueState, batch: StoredMessage[]): Promise<void> {
    const fn = this.o.fn;
    const records = batch.map((m) => this.o.queues.record(q, m));
    const handles = batch.map((m): [StoredMessage, string] => [m, m.receiptHandle!]);
    const timeoutMs = this.o.scaled(fn.timeoutSeconds);
    const started = performance.now();
    let failed: Set<string>;
    try {
      const handler = await this.o.lambda.handlerFor(fn);
      const result = await withTimeout(
        Promise.resolve().then(() => handler({ Records: records } satisfies SqsEvent, this.o.lambda.context(fn, started + timeoutMs))),
        timeoutMs,
        fn.name,
      );
      failed = fn.reportBatchItemFailures ? this.batchFailures(result, records) : new Set();
    } catch (err) {
      const error = err as Error;
      this.o.log.error(err instanceof TimeoutError ? 'batch timed out; it will be retried' : 'batch failed; it will be retried', {
        function: fn.name,
        queue: q.wiring.logicalId,
        messages: batch.length,
        error: error?.message ?? String(err),
        errorName: error?.name,
      });
      failed = new Set(records.map((r) => r.messageId));
    }
    this.o.queues.delete(
      q,
      handles.filter(([m]) => !failed.has(m.messageId)),
    );
    if (this.o.tracer.active) {
      this.o.tracer.emit({ type: 'completed', at: performance.now(), startedAt: started, function: fn.name, queue: q.wiring.logicalId, messageIds: records.map((r) => r.messageId), failed: [...failed] });
    }
    const attrs = { function: fn.name, queue: q.wiring.logicalId, messages: batch.length, failed: failed.size, ms: Math.round(performance.now() - started) };
    if (failed.size > 0 && failed.size < batch.length) this.o.log.warn('batch partially failed; failed messages will be retried', attrs);
    else if (failed.size === 0) this.o.log.info('batch processed', attrs);
  }

  /** Parses a ReportBatchItemFailures response the way Lambda does. */
  private batchFailures(result: unknown, records: SqsRecord[]): Set<string> {
    const fn = this.o.fn;
    if (result === undefined || result === null) return new Set();
    const all = new Set(records.map((r) => r.messageId));
    const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    if (!Array.isArray(failures)) {
      this.o.log.error('invalid batch response: batchItemFailures is not a list; the whole batch fails', { function: fn.name });
      return all;
    }
    const out = new Set<string>();
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || !all.has(id)) {
        // Lambda: a null, empty or unknown itemIdentifier fails the whole batch.
        this.o.log.error('invalid batch response: unknown itemIdentifier; the whole batch fails', { function: fn.name, itemIdentifier: String(id) });
        return all;
      }
      out.add(id);
    }
    return out;
  }
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
