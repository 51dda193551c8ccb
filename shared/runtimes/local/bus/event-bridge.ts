/**
 * EventBridge of the local bus: the buses and rules serverless.yml declares, PutEvents with its
 * limits (1 to 10 entries, 256 KiB, `aws.*` sources reserved for AWS services), events built as
 * EventBridge builds them (id, second-precision time, account, region), each routed through every
 * enabled matching rule of its bus (event-pattern.ts) to the rule's target queues.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { matchesPattern } from '../event-pattern.ts';
import type { RuleWiring } from '../serverless-config.ts';
import type { SqsQueues } from './sqs.ts';
import type { BusTracer } from './trace.ts';
import type { BusEntry, BusLogger, EventBridgeEvent, PublishedEvent, PutEventsResult } from './types.ts';

/** SenderId SQS reports for messages EventBridge delivered (a principal id, not a secret). */
const EVENTBRIDGE_SENDER_ID = 'AIDAIENQZJOLO23YVJ4VO';
const MAX_ENTRIES_PER_PUT = 10;
const MAX_PUT_BYTES = 256 * 1024;

export interface EventBridgeOptions {
  /** Names of the custom buses (the default bus always exists). */
  buses: string[];
  rules: RuleWiring[];
  queues: SqsQueues;
  log: BusLogger;
  clock: () => number;
  account: string;
  region: string;
  historySize: number;
  changed: () => void;
  tracer: BusTracer;
}

export class LocalEventBridge {
  private readonly buses: Set<string>;
  private readonly rules: RuleWiring[];
  private readonly history: PublishedEvent[] = [];

  constructor(private readonly o: EventBridgeOptions) {
    this.buses = new Set(['default', ...o.buses]);
    this.rules = o.rules;
    for (const rule of this.rules) {
      if (!this.buses.has(rule.busName)) throw new Error(`rule ${rule.logicalId} is on unknown bus ${rule.busName}`);
      for (const target of rule.targetQueues) o.queues.queue(target, `target of rule ${rule.logicalId}`);
    }
  }

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
    this.o.changed();
    return { FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results };
  }

  /**
   * How an AWS service itself delivers an event to the default bus (MediaLive's "Channel State
   * Change" and the like). The local media engine stands in for those services, so it delivers here;
   * applications cannot (PutEvents rejects `aws.*` sources, as on AWS).
   */
  deliverServiceEvent(entry: BusEntry & { Source: `aws.${string}` }): string {
    const result = this.putOne({ ...entry, EventBusName: 'default' }, true);
    this.o.changed();
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
      account: this.o.account,
      time: isoSeconds(entry.Time?.getTime() ?? this.o.clock()),
      region: this.o.region,
      resources: entry.Resources ?? [],
      detail,
    };
    const matched = this.rules.filter((rule) => rule.enabled && rule.busName === busName && matchesPattern(rule.eventPattern, event));
    const body = JSON.stringify(event);
    const tracing = this.o.tracer.active;
    const messages: { queue: string; messageId: string }[] = [];
    for (const rule of matched) {
      for (const target of rule.targetQueues) {
        const messageId = this.o.queues.enqueue(this.o.queues.queue(target), body, EVENTBRIDGE_SENDER_ID);
        if (tracing) messages.push({ queue: target, messageId });
      }
    }
    if (tracing) this.o.tracer.emit({ type: 'published', at: performance.now(), eventId: event.id, source: event.source, detailType: event['detail-type'], detail, messages });
    this.history.push({ event, busName, matchedRules: matched.map((r) => r.logicalId) });
    if (this.history.length > this.o.historySize) this.history.splice(0, this.history.length - this.o.historySize);
    this.o.log.info('event published', {
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
}

function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  const m = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return m ? (m[1] as string) : nameOrArn;
}

/** EventBridge event times have second precision: 2024-05-01T12:00:00Z. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
