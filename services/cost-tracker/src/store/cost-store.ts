/**
 * cost-tracker's table (`CostsTable`, key `pk`): one record store, several kinds of record.
 *
 *   tracker              the summary: when the tick last ran, and the reducer's counters from
 *                        before the split (below); small and of fixed size
 *   track#<kind>:<id>    one resource's part of the session reducer's state (plain JSON, ADR
 *                        0013): its open session, its pending observations, its own counters;
 *                        versioned; its outbox carries the UsageSessionClosed events of the
 *                        sessions it settled (ADR 0028)
 *   session#<sessionId>  a settled (closed) usage session, written before the track that settled
 *                        it (a crash in between settles the same session again: same id, same item)
 *   budget               the admins' monthly budget and the thresholds crossed this month (outbox:
 *                        BudgetThresholdCrossed)
 *   rates                the admins' rate overrides
 *   pricelist            the last AWS Price List refresh: its mapped rates, what it read per service
 *   summaries            which day and month summaries were published (outbox: CostSummary)
 *   cpu                  local engine: the CPU ticks last read per process, and each running
 *                        destination's CPU seconds in its current session
 *
 * Schema version 2 (ADR 0017, ADR 0028). Version 1 kept the whole reducer state in the `tracker`
 * record, which passes DynamoDB's 400 KB item limit at about 1,000 destinations; the first use
 * of a store migrates such a record (`ready()`): one `track#` item per resource, then the
 * `tracker` record replaced by the summary (its outbox kept). The other records' shape did not
 * change (their step is the identity).
 *
 * Every record carries its events (RecordStore's embedded outbox, ADR 0016); the tick sweeps them.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../../../shared/errors/index.ts';
import type { BusEntry, EventPublisher } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import { RecordStore } from '../../../../shared/store/record-store.ts';
import type { RecordSchema } from '../../../../shared/store/schema-version.ts';
import type { BudgetConfig, BudgetState } from '../domain/budget.ts';
import type { PriceListRecordData } from '../domain/price-list.ts';
import type { RateOverride } from '../domain/rates.ts';
import { emptyTracker, type TrackerState, type UsageSession } from '../domain/sessions.ts';

interface Base {
  pk: string;
  version: number;
}
/** The reducer's counters (duplicates and late observations dropped, observations applied). */
export type TrackerStats = TrackerState['stats'];
/** One resource's part of the reducer's state. */
export type Track = TrackerState['tracks'][string];

/** The summary (`tracker`, schema version 2): small, of fixed size. */
export interface TrackerRecord extends Base {
  lastTickAt: string | null;
  /** The counters the single record had when it was split (version 1); the tracks count their own since. */
  stats: TrackerStats;
}
/** The `tracker` record as schema version 1 wrote it: the whole reducer state in one item. */
interface LegacyTrackerRecord extends Base {
  state: string;
  lastTickAt?: string | null;
}
export interface TrackRecord extends Base {
  /** `{ track, stats }` as JSON text (one attribute: DynamoDB keeps it as it is). */
  state: string;
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

type AnyRecord = TrackerRecord | LegacyTrackerRecord | TrackRecord | SessionRecord | BudgetRecord | RatesRecord | PriceListRecord | SummariesRecord | CpuRecord;

/** One track as read: its record (for the conditional write back), its state and counters. */
export interface LoadedTrack {
  key: string;
  record: TrackRecord | undefined;
  track: Track | undefined;
  stats: TrackerStats;
}

const SESSION_PREFIX = 'session#';
const TRACK_PREFIX = 'track#';
const zeroStats = (): TrackerStats => ({ applied: 0, duplicates: 0, late: 0 });

/** cost-tracker's stored shape (ADR 0017): version 2 split the tracker into items (ready()). */
export const COST_SCHEMA: RecordSchema = { name: 'cost-tracker', version: 2, steps: { 1: (r) => r } };

const isConflict = (err: unknown) => err instanceof AppError && err.code === 'VERSION_CONFLICT';
const isLegacy = (r: AnyRecord | undefined): r is LegacyTrackerRecord => r !== undefined && typeof (r as LegacyTrackerRecord).state === 'string';

function loaded(key: string, record: TrackRecord | undefined): LoadedTrack {
  if (!record) return { key, record, track: undefined, stats: zeroStats() };
  const v = JSON.parse(record.state) as { track: Track | null; stats: TrackerStats };
  return { key, record, track: v.track ?? undefined, stats: v.stats };
}

export class CostStore {
  private readonly records: RecordStore<AnyRecord>;
  private readonly log: Logger;
  private migrated: Promise<void> | undefined;

  constructor(doc: DynamoDBDocumentClient, tableName: string, o: { publisher: EventPublisher; log: Logger }) {
    this.records = new RecordStore<AnyRecord>(doc, tableName, 'pk', { publisher: o.publisher, log: o.log }, COST_SCHEMA);
    this.log = o.log;
  }

  /**
   * Migrates a version 1 `tracker` (the whole state in one item) once per store: each track is
   * written as its own item (new only: one already there was migrated by an earlier, interrupted
   * run or another container, and may have changed since), then the `tracker` record is replaced
   * by the summary, conditional on its version, its outbox kept. Idempotent; a crash in between
   * runs it again. Every track read or write waits for it.
   */
  ready(): Promise<void> {
    this.migrated ??= this.migrateLegacyTracker().catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  private async migrateLegacyTracker(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const legacy = await this.records.get('tracker');
      if (!isLegacy(legacy)) return;
      const state = JSON.parse(legacy.state) as TrackerState;
      let written = 0;
      for (const [key, track] of Object.entries(state.tracks)) {
        try {
          await this.records.put({ pk: TRACK_PREFIX + key, version: 1, state: JSON.stringify({ track, stats: zeroStats() }) });
          written++;
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
      }
      try {
        await this.records.put({ pk: 'tracker', version: legacy.version + 1, lastTickAt: legacy.lastTickAt ?? null, stats: state.stats ?? zeroStats() } satisfies TrackerRecord);
        this.log.info('cost tracker state split into one item per resource (schema version 2)', { tracks: Object.keys(state.tracks).length, written });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  /** The summary record (undefined before the first tick). */
  async summary(): Promise<TrackerRecord | undefined> {
    await this.ready();
    return (await this.records.get('tracker')) as TrackerRecord | undefined;
  }

  /** Records when the tick ran (VERSION_CONFLICT when another tick got there first). */
  async putSummary(previous: TrackerRecord | undefined, lastTickAt: string): Promise<void> {
    await this.records.put({ pk: 'tracker', version: (previous?.version ?? 0) + 1, lastTickAt, stats: previous?.stats ?? zeroStats() } satisfies TrackerRecord);
  }

  /** One resource's track (`resourceKey` of its ResourceRef), read consistently. */
  async track(key: string): Promise<LoadedTrack> {
    await this.ready();
    return loaded(key, (await this.records.get(TRACK_PREFIX + key)) as TrackRecord | undefined);
  }

  /**
   * Writes one track with its events (VERSION_CONFLICT when another writer got there first):
   * new, replacing `previous`, or, for a track the reducer forgot (`track` undefined), removing it.
   */
  async putTrack(previous: LoadedTrack, next: { track: Track; stats: TrackerStats } | undefined, events: BusEntry[]): Promise<void> {
    const pk = TRACK_PREFIX + previous.key;
    if (next === undefined) {
      if (previous.record) await this.records.remove(previous.record, events);
      else if (events.length > 0) {
        // Seen and forgotten in one settle, with sessions to announce: a tombstone carries them.
        const placeholder: TrackRecord = { pk, version: 1, state: JSON.stringify({ track: null, stats: zeroStats() }) };
        await this.records.put(placeholder);
        await this.records.remove(placeholder, events);
      }
      return;
    }
    await this.records.put({ pk, version: (previous.record?.version ?? 0) + 1, state: JSON.stringify(next) }, events);
  }

  /** Stores a settled session; one already stored (a retried settle) is left as it is. */
  async putSession(session: UsageSession): Promise<void> {
    try {
      await this.records.put({ pk: SESSION_PREFIX + session.sessionId, version: 1, session });
    } catch (err) {
      if (isConflict(err)) return;
      throw err;
    }
  }

  /**
   * Every settled session and every track, from one scan (the table holds cost-tracker's records
   * only): what a report prices. `state` is the reducer's whole state, assembled from the tracks.
   */
  async everything(): Promise<{ sessions: UsageSession[]; tracks: LoadedTrack[]; state: TrackerState }> {
    await this.ready();
    const all = await this.records.list();
    const sessions: UsageSession[] = [];
    const tracks: LoadedTrack[] = [];
    const state = emptyTracker();
    for (const r of all) {
      if (r.pk.startsWith(SESSION_PREFIX)) sessions.push((r as SessionRecord).session);
      else if (r.pk.startsWith(TRACK_PREFIX)) {
        const t = loaded(r.pk.slice(TRACK_PREFIX.length), r as TrackRecord);
        tracks.push(t);
        if (t.track) state.tracks[t.key] = t.track;
        for (const k of ['applied', 'duplicates', 'late'] as const) state.stats[k] += t.stats[k];
      } else if (r.pk === 'tracker' && !isLegacy(r)) for (const k of ['applied', 'duplicates', 'late'] as const) state.stats[k] += (r as TrackerRecord).stats?.[k] ?? 0;
    }
    return { sessions, tracks, state };
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
