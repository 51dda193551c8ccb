/**
 * The SQS queues of the local bus, as serverless.yml declares them: messages with a delay, a
 * visibility timeout while received, receipt handles (a delete with a stale one deletes nothing),
 * redrive to the dead-letter queue once a message was received maxReceiveCount times, and DLQ
 * redrive back to the source queue. Long polling waits on a queue's change, never on a timer
 * loop. Durations from serverless.yml are scaled by the bus's timeScale; bodies are never logged.
 */
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { QueueWiring } from '../serverless-config.ts';
import type { BusLogger, DeadLetter, QueueStats, SqsRecord } from './types.ts';

export interface StoredMessage {
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

export interface QueueState {
  wiring: QueueWiring;
  arn: string;
  messages: StoredMessage[];
  waiters: Set<() => void>;
}

export interface SqsQueuesOptions {
  log: BusLogger;
  /** Wall-clock milliseconds for SentTimestamp and the like. */
  clock: () => number;
  account: string;
  region: string;
  /** Seconds from serverless.yml → real milliseconds. */
  scaled: (seconds: number) => number;
  /** Called after every change a waiter of the whole bus may care about (drain). */
  changed: () => void;
}

export class SqsQueues {
  private readonly queues = new Map<string, QueueState>();

  constructor(
    wiring: readonly QueueWiring[],
    private readonly o: SqsQueuesOptions,
  ) {
    for (const q of wiring) {
      this.queues.set(q.logicalId, { wiring: q, arn: `arn:aws:sqs:${o.region}:${o.account}:${q.queueName}`, messages: [], waiters: new Set() });
    }
    for (const q of wiring) {
      if (q.deadLetterQueue !== undefined) this.queue(q.deadLetterQueue, `dead-letter queue of ${q.logicalId}`);
    }
  }

  /** A queue by logical id; `what` says who asked, for the error when there is none. */
  queue(logicalId: string, what?: string): QueueState {
    const q = this.queues.get(logicalId);
    if (!q) throw new Error(`unknown queue ${logicalId}${what ? ` (${what})` : ''}; queues: ${[...this.queues.keys()].join(', ')}`);
    return q;
  }

  /** SendMessage: the new message's id. */
  enqueue(q: QueueState, body: string, senderId: string): string {
    const messageId = randomUUID();
    q.messages.push({
      messageId,
      body,
      md5OfBody: createHash('md5').update(body).digest('hex'),
      senderId,
      sentTimestamp: this.o.clock(),
      receiveCount: 0,
      visibleAt: performance.now() + this.o.scaled(q.wiring.delaySeconds),
    });
    wake(q);
    return messageId;
  }

  /** Seconds since the oldest message still in each queue was sent, 0 for an empty queue (SQS's ApproximateAgeOfOldestMessage). */
  oldestMessageAges(): Record<string, number> {
    const now = this.o.clock();
    const out: Record<string, number> = {};
    for (const [id, q] of this.queues) out[id] = q.messages.reduce((age, m) => Math.max(age, (now - m.sentTimestamp) / 1000), 0);
    return out;
  }

  stats(): Record<string, QueueStats> {
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
    this.o.log.info('dead-letter queue redriven', { queue: dlqLogicalId, moved, remaining: keep.length });
    this.o.changed();
    return moved;
  }

  /**
   * ReceiveMessage with long polling: waits (while `running()`) for a visible message, then up to
   * `windowMs` more for a full batch; takes up to `max`, each made invisible for the visibility
   * timeout with a new receipt handle. A message already received maxReceiveCount times moves to
   * the dead-letter queue instead, as SQS does when a receive would exceed it.
   */
  async receive(q: QueueState, max: number, windowMs: number, running: () => boolean): Promise<StoredMessage[]> {
    while (running() && countVisible(q) === 0) await waitFor(q, nextVisibleIn(q));
    if (windowMs > 0) {
      const deadline = performance.now() + windowMs;
      while (running() && countVisible(q) < max && performance.now() < deadline) {
        await waitFor(q, Math.min(deadline - performance.now(), nextVisibleIn(q)));
      }
    }
    if (!running()) return [];

    const now = performance.now();
    const batch: StoredMessage[] = [];
    const toDlq: StoredMessage[] = [];
    for (const m of q.messages) {
      if (batch.length >= max) break;
      if (m.visibleAt > now) continue;
      if (q.wiring.maxReceiveCount !== undefined && m.receiveCount >= q.wiring.maxReceiveCount) {
        toDlq.push(m);
        continue;
      }
      m.receiveCount++;
      m.firstReceiveTimestamp ??= this.o.clock();
      m.receiptHandle = randomUUID();
      m.visibleAt = now + this.o.scaled(q.wiring.visibilityTimeoutSeconds);
      batch.push(m);
    }
    if (toDlq.length > 0) this.moveToDlq(q, toDlq);
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
      this.o.log.warn('message moved to dead-letter queue', {
        queue: q.wiring.logicalId,
        deadLetterQueue: dlq.wiring.logicalId,
        messageId: m.messageId,
        receiveCount: m.receiveCount,
      });
    }
    this.o.changed();
  }

  /** DeleteMessage for each (message, receipt handle); a stale handle (received again meanwhile) deletes nothing. */
  delete(q: QueueState, handles: [StoredMessage, string][]): void {
    const doomed = new Set(handles.filter(([m, handle]) => m.receiptHandle === handle).map(([m]) => m));
    if (doomed.size > 0) q.messages = q.messages.filter((m) => !doomed.has(m));
  }

  /** The record Lambda's SQS event source hands the function for a received message. */
  record(q: QueueState, m: StoredMessage): SqsRecord {
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
      awsRegion: this.o.region,
    };
  }

  /** Wakes every long poll (so pollers see that the bus stopped). */
  wakeAll(): void {
    for (const q of this.queues.values()) wake(q);
  }
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
