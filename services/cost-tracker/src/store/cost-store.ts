/**
 * cost-tracker's table (`CostsTable`, key `pk`): one record store, several kinds of record.
 *
 *   tracker              the session reducer's whole state (plain JSON, ADR 0013), versioned; its
 *                        outbox carries the UsageSessionClosed events of the sessions it settled
 *   session#<sessionId>  a settled (closed) usage session, written before the tracker that settled it
 *                        (a crash in between settles the same session again: same id, same item)
 *   budget               the admins' monthly budget and the thresholds crossed this month (outbox:
 *                        BudgetThresholdCrossed)
 *   rates                the admins' rate overrides
 *   pricelist            the last AWS Price List refresh: its mapped rates, what it read per service
 *   summaries            which day and month summaries were published (outbox: CostSummary)
 *   cpu                  local engine: the CPU ticks last read per process, and each running
 *                        destination's CPU seconds in its current session
 *
 * Every record carries its events (RecordStore's embedded outbox, ADR 0016); the tick sweeps them.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../../../shared/errors/index.ts';
import type { BusEntry, EventPublisher } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import { RecordStore } from '../../../../shared/store/record-store.ts';
import type { BudgetConfig, BudgetState } from '../domain/budget.ts';
import type { PriceListRecordData } from '../domain/price-list.ts';
import type { RateOverride } from '../domain/rates.ts';
import { emptyTracker, type TrackerState, type UsageSession } from '../domain/sessions.ts';

interface Base {
  pk: string;
  version: number;
}
export interface TrackerRecord extends Base {
  /** The reducer's state as JSON text (one attribute: DynamoDB keeps it as it is). */
  state: string;
  lastTickAt: string | null;
}
export interface SessionRecord extends Base {
  session: UsageSession;
}
export interface BudgetRecord extends Base {
  config: BudgetConfig | null;
  state: BudgetState;
  updatedBy: string | null;
}
export interface RatesRecord extends Base {
  overrides: RateOverride[];
}
/** The last AWS Price List refresh: its mapped rates and what it read per service. */
export interface PriceListRecord extends Base, PriceListRecordData {}
export interface SummariesRecord extends Base {
  /** `day:YYYY-MM-DD` and `month:YYYY-MM` labels already published (the newest 400). */
  published: string[];
}
export interface CpuRecord extends Base {
  /** Per pid (or `in-process:<name>` for work measured inside Fanout's process): its start (pid reuse, a new run) and its CPU seconds last read. */
  pids: Record<string, { start: string; seconds: number }>;
  /** Per destination: the running session its CPU seconds belong to. */
  destinations: Record<string, { sessionId: string; seconds: number }>;
}

type AnyRecord = TrackerRecord | SessionRecord | BudgetRecord | RatesRecord | PriceListRecord | SummariesRecord | CpuRecord;

const SESSION_PREFIX = 'session#';

export class CostStore {
  private readonly records: RecordStore<AnyRecord>;

  constructor(doc: DynamoDBDocumentClient, tableName: string, o: { publisher: EventPublisher; log: Logger }) {
    this.records = new RecordStore<AnyRecord>(doc, tableName, 'pk', { publisher: o.publisher, log: o.log });
  }

  async tracker(): Promise<{ record: TrackerRecord | undefined; state: TrackerState }> {
    const record = (await this.records.get('tracker')) as TrackerRecord | undefined;
    return { record, state: record ? (JSON.parse(record.state) as TrackerState) : emptyTracker() };
  }

  /** Replaces the tracker (VERSION_CONFLICT when another writer got there first) with its events. */
  async putTracker(previous: TrackerRecord | undefined, state: TrackerState, lastTickAt: string | null, events: BusEntry[]): Promise<void> {
    const next: TrackerRecord = { pk: 'tracker', version: (previous?.version ?? 0) + 1, state: JSON.stringify(state), lastTickAt };
    await this.records.put(next, events);
  }

  /** Stores a settled session; one already stored (a retried settle) is left as it is. */
  async putSession(session: UsageSession): Promise<void> {
    try {
      await this.records.put({ pk: SESSION_PREFIX + session.sessionId, version: 1, session });
    } catch (err) {
      if (err instanceof AppError && err.code === 'VERSION_CONFLICT') return;
      throw err;
    }
  }

  /** Every settled session (a scan: the table holds cost-tracker's records only). */
  async sessions(): Promise<UsageSession[]> {
    const all = await this.records.list();
    return all.filter((r): r is SessionRecord => r.pk.startsWith(SESSION_PREFIX)).map((r) => r.session);
  }

  async get<T extends AnyRecord>(pk: 'budget' | 'rates' | 'pricelist' | 'summaries' | 'cpu'): Promise<T | undefined> {
    return (await this.records.get(pk)) as T | undefined;
  }

  /** Writes a singleton record: `next.version` must be the stored version + 1 (1 for a new one). */
  async put(next: BudgetRecord | RatesRecord | PriceListRecord | SummariesRecord | CpuRecord, events: BusEntry[] = []): Promise<void> {
    await this.records.put(next, events);
  }

  sweepOutbox(): Promise<number> {
    return this.records.sweepOutbox();
  }
}
