/**
 * cost-tracker's use cases, over its store and the domain (src/domain, pure):
 *
 *   record(event)        an event → observations → the tracks of their resources (deduplicated,
 *                        in order), then what the settle window has passed on those tracks is
 *                        settled: each closed session stored and announced once
 *                        (UsageSessionClosed, in the track's outbox)
 *   tick()               every minute: the local engine's CPU time per destination (from /proc),
 *                        a reconcile of open sessions with the destinations' status (a stop nobody
 *                        heard is closed; a session still running resumes), settle every track,
 *                        the budget
 *   publishSummaries()   CostSummary for each finished day (the last 7) and month, once each
 *   report(), sessions() what the API shows: settled sessions + a provisional snapshot of the open
 *   estimate()           the what-if, against Fanout's design and the plan's fixed design
 *
 * The reducer's state is stored one item per resource (a track, ADR 0028): an event reads and
 * writes only its own resource's item, so no item grows with the number of destinations.
 *
 * The rate table is the shipped one (src/domain/default-rates.ts) with the local machine-hour from
 * configuration, the last AWS Price List refresh's rates (refreshRates, AWS) and the admins'
 * overrides applied (an override in force wins).
 */
import { createHash } from 'node:crypto';
import { BudgetThresholdCrossedV1 } from '../../../../events/cost-tracker/budget-threshold-crossed.v1.ts';
import { CostSummaryV1 } from '../../../../events/cost-tracker/cost-summary.v1.ts';
import { UsageSessionClosedV1 } from '../../../../events/cost-tracker/usage-session-closed.v1.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { buildEntry, type BusEntry } from '../../../../shared/events/publisher.ts';
import type { DestinationReader } from '../../../../shared/store/destination-reader.ts';
import { encodeFromPreset, PASSTHROUGH_ENCODE, type EncodeProfile } from '../domain/bands.ts';
import { BudgetConfigSchema, EMPTY_BUDGET_STATE, evaluateBudget, type BudgetConfig } from '../domain/budget.ts';
import { budgetThresholdCrossedData, costSummaryData, usageSessionClosedData } from '../domain/cost-events.ts';
import { DEFAULT_RATE_TABLE } from '../domain/default-rates.ts';
import { compareWithFixedDesign, DEFAULT_PRIMARY_ENCODES, estimate, EstimateRequestSchema, fixedDesignEstimate, type FixedDesignConfig } from '../domain/estimator.ts';
import { formatMicros } from '../domain/money.ts';
import { flowStateToObserved, channelStateToObserved, observationsFromEvent, type DestinationFacts, type ObservationContext } from '../domain/observations.ts';
import { dayBounds, dayOf, monthBounds, monthOf } from '../domain/periods.ts';
import { priceSession, type CostLine } from '../domain/pricing.ts';
import { applyOverrides, rateKeys, type Rate, type RateOverride, type RateTable } from '../domain/rates.ts';
import { DEFAULT_TRACKER_OPTIONS, observe, reconcile, resourceKey, settle, snapshot, type CurrentState, type Observation, type TrackerState, type UsageSession } from '../domain/sessions.ts';
import { breakdown, localIdleLine, monthToDate, partsWithin, type PricedSession } from '../domain/summary.ts';
import type { CostTrackerDeps } from '../deps.ts';
import type { BudgetRecord, CostStore, CpuRecord, LoadedTrack, PriceListRecord, RatesRecord, SummariesRecord } from '../store/cost-store.ts';
import { refreshPriceList } from './price-list-refresh.ts';
import { readProcessCpu, type ProcessCpu } from './proc-cpu.ts';

/** The plan's fixed design (seeds/003): four destination channels that exist all month, the primary and the flow 24/7. */
export const PLAN_FIXED_DESIGN: FixedDesignConfig = {
  channels: [
    { label: 'YouTube', platform: 'youtube', encode: { codec: 'AVC', width: 1920, height: 1080, frameRate: 30, videoBitrate: 6_000_000, audioBitrate: 128_000 } },
    { label: 'Twitch', platform: 'twitch', encode: { codec: 'AVC', width: 1920, height: 1080, frameRate: 60, videoBitrate: 6_000_000, audioBitrate: 160_000 } },
    { label: 'LinkedIn', platform: 'linkedin', encode: { codec: 'AVC', width: 1280, height: 720, frameRate: 30, videoBitrate: 2_000_000, audioBitrate: 128_000 } },
    { label: 'Custom', platform: 'custom', encode: { codec: 'AVC', width: 1280, height: 720, frameRate: 30, videoBitrate: 3_000_000, audioBitrate: 128_000 } },
  ],
  primaryEncodes: DEFAULT_PRIMARY_ENCODES,
};

/** What `CostTracker.gauges()` answers: the cost gauges of GET /metrics (local) and of the EMF metrics (AWS). */
export interface CostGauges {
  month: string;
  totalUsd: number;
  byDestination: { key: string; label: string; usd: number }[];
  budgetUsd: number | null;
  /** Month to date over the budget (a fraction: 0.5 is half; above 1 over budget); null without a budget. */
  budgetUsed: number | null;
}

export interface CostTrackerAppDeps extends CostTrackerDeps {
  store: CostStore;
  destinations: DestinationReader;
  /** Reads a process's CPU time (default: /proc/<pid>/stat). */
  readCpu?: (pid: number) => ProcessCpu | null;
}

/** An event as the consumer hands it over (EventBridge envelope fields the native events need). */
export interface IncomingEvent {
  id: string;
  source: string;
  detailType: string;
  time: string;
  resources: string[];
  detail: unknown;
}

export interface SessionFilter {
  from?: string;
  to?: string;
  destinationId?: string;
  platform?: string;
  resourceKind?: string;
  kind?: 'running' | 'idle';
  includeOpen?: boolean;
}

const MAX_ATTEMPTS = 5;

/** Why GET /api/cost has no fixed-design comparison (`fixedDesign: null`), or null when it has one. */
export interface FixedDesignNotApplicable {
  reason: 'local-engine' | 'month-not-started';
  detail: string;
}

/**
 * The comparison with the plan's fixed design (always-on channels) prices the same usage as
 * channels that exist all month. On the local engine it does not apply: the machine is billed by
 * the hour whether the destinations' processes run or not (machine-hour × hours, split by CPU
 * time, the rest the idle row), so the same hours with every process running all the time cost
 * the same money; what stopping idle destinations saves locally is CPU time, not dollars.
 */
export function fixedDesignNotApplicable(engine: 'aws' | 'local', monthStarted: boolean): FixedDesignNotApplicable | null {
  if (engine === 'local')
    return {
      reason: 'local-engine',
      detail: "The local engine bills the machine by the hour whether the destinations' processes run or not, so running every destination all the time (the fixed design) would cost the same; the comparison applies to the AWS engine only.",
    };
  if (!monthStarted) return { reason: 'month-not-started', detail: 'The month has not started yet: there is no usage to price both ways.' };
  return null;
}

/** A stable UUID (RFC 9562 version 8) from a name: a re-settled session is announced with the same event id. */
export function stableUuid(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const isConflict = (err: unknown) => err instanceof AppError && err.code === 'VERSION_CONFLICT';

/** How many tracks the tick writes at once (each is its own item: ADR 0028). */
const TRACK_WRITES = 8;

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

/** Runs `fn` over `items`, at most `limit` at once; the first failure is thrown once all settled. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/** How long a destination's facts (name, platform, preset) are reused before they are read again. */
const FACTS_TTL_MS = 60_000;

export class CostTracker {
  /** Facts read from the destination store, per destination (dropped on its DestinationUpdated/Deleted). */
  private readonly facts = new Map<string, { at: number; facts: DestinationFacts | undefined }>();

  constructor(private readonly d: CostTrackerAppDeps) {}

  private now(): Date {
    return this.d.now?.() ?? new Date();
  }

  private get trackerOptions() {
    return { ...DEFAULT_TRACKER_OPTIONS, settleMs: this.d.settleMs };
  }

  private get pricingOptions() {
    return { localCores: this.d.local.cores };
  }

  // ---- rates -------------------------------------------------------------------------------------

  /** The shipped table with the configured local machine-hour (it replaces the shipped figure). */
  baseTable(): RateTable {
    const shipped = DEFAULT_RATE_TABLE.rates.find((r) => r.key === rateKeys.localMachineHour);
    const local: Rate = {
      ...(shipped ?? { key: rateKeys.localMachineHour, service: 'Fanout local engine' as Rate['service'], operation: 'MACHINE_HOUR', description: 'The machine the local engine runs on, per hour', unit: 'Hours' as const }),
      price: this.d.local.machineHourUsd,
      effectiveDate: null,
      source: { kind: 'admin', title: "FANOUT_COST_LOCAL_MACHINE_HOUR_USD (this deployment's configuration)" },
      estimated: false,
    } as Rate;
    return { ...DEFAULT_RATE_TABLE, rates: [...DEFAULT_RATE_TABLE.rates.filter((r) => r.key !== rateKeys.localMachineHour), local] };
  }

  /** The shipped table with the last AWS Price List refresh's rates added (dated rates of their own; price-list-refresh.ts). */
  async pricedTable(): Promise<{ table: RateTable; priceList: PriceListRecord | undefined }> {
    const base = this.baseTable();
    const priceList = await this.d.store.get<PriceListRecord>('pricelist');
    if (!priceList || priceList.rates.length === 0) return { table: base, priceList };
    return { table: { ...base, rates: [...base.rates, ...priceList.rates] }, priceList };
  }

  async rates(): Promise<{ table: RateTable; overrides: RateOverride[]; record: RatesRecord | undefined; priceList: PriceListRecord | undefined }> {
    const [record, { table: base, priceList }] = await Promise.all([this.d.store.get<RatesRecord>('rates'), this.pricedTable()]);
    const overrides = record?.overrides ?? [];
    const applied = applyOverrides(base, overrides);
    // Stored overrides were valid when set; a key a newer table dropped is reported, not fatal.
    if (!applied.ok) {
      this.d.log.warn('stored rate overrides no longer apply; priced without them', { problems: applied.problems });
      return { table: base, overrides, record, priceList };
    }
    return { table: applied.table, overrides, record, priceList };
  }

  /**
   * Reads the AWS Price List (MediaLive, MediaConnect, MediaPackage in the deployment's Region) and
   * stores the rates it maps to, replacing the previous refresh's; admin overrides still win.
   * PRICE_LIST_UNAVAILABLE (nothing changes) without a Pricing client or when a call fails.
   */
  async refreshRates(): Promise<PriceListRecord> {
    const pl = this.d.priceList;
    if (!pl) throw new AppError('PRICE_LIST_UNAVAILABLE', 'This runtime has no access to the AWS Price List (it is read on the AWS runtime only); set rates as overrides instead.', { reason: 'no-price-list-client' });
    const knownKeys = new Set(this.baseTable().rates.map((r) => r.key));
    for (let attempt = 0; ; attempt++) {
      const current = await this.d.store.get<PriceListRecord>('pricelist');
      const data = await refreshPriceList({ client: pl.client, region: pl.region, now: this.now(), previous: current, knownKeys });
      const next: PriceListRecord = { pk: 'pricelist', version: (current?.version ?? 0) + 1, ...data };
      try {
        await this.d.store.put(next);
        this.d.log.info('rates refreshed from the AWS Price List', {
          region: data.region,
          rates: data.rates.length,
          services: data.services.map((x) => ({ serviceCode: x.serviceCode, products: x.products, mapped: x.mapped, unmatched: x.unmatched.length, keptPrevious: x.keptPrevious })),
        });
        return next;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /** Replaces the admins' overrides (all at once: PUT). Refused, changing nothing, when one names an unknown key. */
  async setRates(input: { key: string; price: number; effectiveDate: string | null; note?: string }[], by: string): Promise<{ table: RateTable; overrides: RateOverride[] }> {
    const setOn = this.now().toISOString().slice(0, 10);
    const overrides: RateOverride[] = input.map((o) => ({ key: o.key, price: o.price, effectiveDate: o.effectiveDate, by, setOn, ...(o.note ? { note: o.note } : {}) }));
    const applied = applyOverrides((await this.pricedTable()).table, overrides);
    if (!applied.ok) throw new AppError('VALIDATION_FAILED', 'A rate override does not apply.', { errors: applied.problems.map((message) => ({ path: 'overrides', message })) });
    for (let attempt = 0; ; attempt++) {
      const current = await this.d.store.get<RatesRecord>('rates');
      try {
        await this.d.store.put({ pk: 'rates', version: (current?.version ?? 0) + 1, overrides });
        return { table: applied.table, overrides };
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  // ---- budget ------------------------------------------------------------------------------------

  async budget(): Promise<BudgetRecord | undefined> {
    return this.d.store.get<BudgetRecord>('budget');
  }

  async setBudget(input: { amount: number; thresholdsPercent?: number[]; minElapsedHours?: number }, by: string): Promise<BudgetRecord> {
    const config: BudgetConfig = BudgetConfigSchema.parse({
      budgetMicros: Math.round(input.amount * 1_000_000),
      ...(input.thresholdsPercent ? { thresholdsPercent: input.thresholdsPercent } : {}),
      ...(input.minElapsedHours !== undefined ? { minElapsedHours: input.minElapsedHours } : {}),
      timeZone: this.d.timeZone,
    });
    for (let attempt = 0; ; attempt++) {
      const current = await this.budget();
      // A changed budget does not re-arm a threshold already crossed this month (budget.ts).
      const next: BudgetRecord = { pk: 'budget', version: (current?.version ?? 0) + 1, config, state: current?.state ?? EMPTY_BUDGET_STATE, updatedBy: by };
      try {
        await this.d.store.put(next);
        return next;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  // ---- recording ---------------------------------------------------------------------------------

  private async destinationFacts(destinationId: string): Promise<DestinationFacts | undefined> {
    const dest = await this.d.destinations.get(destinationId);
    if (!dest) return undefined;
    const preset = await this.d.destinations.preset(dest.preset);
    let encode: EncodeProfile = PASSTHROUGH_ENCODE;
    try {
      if (preset && preset.type !== 'passthrough' && preset.video)
        encode = encodeFromPreset({ video: { codec: 'h264', resolution: preset.video.resolution, frameRate: preset.video.frameRate, bitrate: preset.video.bitrate }, audio: preset.audio });
    } catch (err) {
      this.d.log.warn('preset not understood for billing; priced as passthrough', { presetId: dest.preset, error: String(err) });
    }
    return { name: dest.name, platform: dest.platform, presetId: dest.preset, encode };
  }

  private async context(destinationIds: string[]): Promise<ObservationContext> {
    const facts = new Map<string, DestinationFacts>();
    const nowMs = Date.now();
    for (const id of new Set(destinationIds)) {
      let cached = this.facts.get(id);
      if (!cached || nowMs - cached.at > FACTS_TTL_MS) {
        cached = { at: nowMs, facts: await this.destinationFacts(id) };
        this.facts.set(id, cached);
        if (this.facts.size > 1000) this.facts.delete(this.facts.keys().next().value!);
      }
      if (cached.facts) facts.set(id, cached.facts);
    }
    return { engine: this.d.engine, destination: (id) => facts.get(id), primaryEncodes: DEFAULT_PRIMARY_ENCODES };
  }

  /** The observations one event gives: the domain events through the domain, the native ones here. */
  async observationsOf(e: IncomingEvent): Promise<Observation[]> {
    const observedAt = (e.detail as { fanout_observed_at?: unknown } | null)?.fanout_observed_at;
    const at = typeof observedAt === 'string' ? observedAt : new Date(e.time).toISOString();
    if (e.source === 'aws.medialive' && e.detailType === 'MediaLive Channel State Change') {
      const detail = e.detail as { channel_arn: string; state: Parameters<typeof channelStateToObserved>[0] };
      const channelId = detail.channel_arn.split(':channel:')[1];
      if (!this.d.primaryChannelId || channelId !== this.d.primaryChannelId) return [];
      return [
        {
          eventId: `native-${e.id}`,
          observedAt: at,
          resource: { kind: 'primary-channel', id: channelId, destinationId: null },
          state: channelStateToObserved(detail.state, false),
          attributes: { engine: this.d.engine, destinationName: 'primary output', encodes: DEFAULT_PRIMARY_ENCODES },
        },
      ];
    }
    if (e.source === 'aws.mediaconnect' && e.detailType === 'MediaConnect Flow Status Change') {
      const mapped = flowStateToObserved((e.detail as { currentStatus: string }).currentStatus);
      const flowArn = e.resources[0];
      if (!mapped || !flowArn) return [];
      return [{ eventId: `native-${e.id}`, observedAt: at, resource: { kind: 'flow', id: flowArn, destinationId: null }, ...mapped }];
    }
    const destinationId = ((e.detail as { data?: { destinationId?: unknown } } | null)?.data?.destinationId ?? null) as string | null;
    // A change of name or preset is read afresh; a deleted destination has no facts to keep.
    if (typeof destinationId === 'string' && (e.detailType === 'DestinationUpdated' || e.detailType === 'DestinationDeleted' || e.detailType === 'DestinationCreated')) this.facts.delete(destinationId);
    const ctx = await this.context(typeof destinationId === 'string' ? [destinationId] : []);
    return observationsFromEvent({ source: e.source, detailType: e.detailType, detail: e.detail }, ctx);
  }

  /** Records an event's observations (duplicates and reordering are the reducer's business), then settles their tracks. */
  async record(e: IncomingEvent, correlationId: string): Promise<void> {
    const observations = await this.observationsOf(e);
    if (observations.length === 0) return;
    const byTrack = groupBy(observations, (o) => resourceKey(o.resource));
    const rates = this.ratesOnce();
    // Each track is its own item: a redelivery after a crash between two of them finds the
    // first one's observation already there (a duplicate) and applies the rest.
    for (const [key, obs] of byTrack) await this.commitTrack(correlationId, key, (state) => obs.reduce((s, o) => observe(s, o).state, state), rates);
  }

  /** The rate table, read at most once per call site (only when a session closes). */
  private ratesOnce(): () => Promise<RateTable> {
    let table: Promise<RateTable> | undefined;
    return () => (table ??= this.rates().then((r) => r.table));
  }

  /**
   * Applies `change` to one stored track (the reducer's state restricted to it), settles what the
   * window has passed, stores each closed session and writes the track with their
   * UsageSessionClosed events (its outbox); a track the reducer forgot is removed. Nothing is
   * written when nothing changed. A lost race runs again on the track the winner wrote.
   * `known` is the track as just read (the tick's scan), used for the first attempt.
   */
  private async commitTrack(correlationId: string, key: string, change: (s: TrackerState) => TrackerState, rates: () => Promise<RateTable>, known?: LoadedTrack): Promise<UsageSession[]> {
    for (let attempt = 0; ; attempt++) {
      const current = attempt === 0 && known ? known : await this.d.store.track(key);
      const before: TrackerState = { version: 1, tracks: current.track ? { [key]: current.track } : {}, stats: current.stats };
      const nowIso = this.now().toISOString();
      const settled = settle(change(before), nowIso, this.trackerOptions);
      const after = settled.state.tracks[key];
      const next = after ? { track: after, stats: settled.state.stats } : undefined;
      if (settled.closed.length === 0 && JSON.stringify(next) === JSON.stringify(current.track ? { track: current.track, stats: current.stats } : undefined)) return [];
      const table = settled.closed.length > 0 ? await rates() : DEFAULT_RATE_TABLE;
      for (const s of settled.closed) await this.d.store.putSession(s);
      const events: BusEntry[] = settled.closed.map((s) =>
        buildEntry(UsageSessionClosedV1, usageSessionClosedData(s, priceSession(s, table, this.pricingOptions), table), { correlationId, id: stableUuid(`UsageSessionClosed:${s.sessionId}`) }),
      );
      try {
        await this.d.store.putTrack(current, next, events);
        if (settled.closed.length > 0) this.d.log.info('usage sessions settled', { sessions: settled.closed.map((s) => ({ sessionId: s.sessionId, durationMs: s.durationMs, endReason: s.endReason })) });
        return settled.closed;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  // ---- the tick ----------------------------------------------------------------------------------

  /**
   * What the destinations' status says each destination's channel is doing now (reconcile input).
   * A destination that changed within the settle window is left out: the events of that change may
   * still be on their way, and they, not the reconcile, say when it happened.
   */
  private async destinationStates(state: TrackerState, nowMs: number): Promise<CurrentState[]> {
    const dests = await this.d.destinations.list();
    const byId = new Map(dests.map((d) => [d.destinationId, d]));
    const out: CurrentState[] = [];
    for (const d of dests) {
      const changedAt = Date.parse(d.lastModified ?? '');
      if (!Number.isFinite(changedAt) || changedAt > nowMs - this.d.settleMs) continue;
      const resource = { kind: 'destination-channel' as const, id: d.destinationId, destinationId: d.destinationId };
      if (d.channelReclaimed) out.push({ resource, state: 'absent' });
      else if (d.status === 'running' || d.status === 'stopping') out.push({ resource, state: 'running' });
      else if (d.status === 'idle' || d.status === 'starting') out.push({ resource, state: 'idle' });
      // creating, deleting, error: the channel's state is not told by the status; its events are.
    }
    // A tracked destination that no longer exists has no channel.
    for (const t of Object.values(state.tracks)) if (t.resource.kind === 'destination-channel' && !byId.has(t.resource.id)) out.push({ resource: t.resource, state: 'absent' });
    return out;
  }

  /** Local engine: per running destination, the CPU seconds its processes used in its current session. */
  private async cpuObservations(state: TrackerState, nowIso: string): Promise<Observation[]> {
    if (!this.d.processes) return [];
    // OS processes (CPU time from /proc) and work measured inside Fanout's process (the RTMP publishers).
    const procs = this.d.processes().filter((p) => (p.pid !== null || p.cpu !== undefined) && p.channelIds.length > 0);
    const dests = await this.d.destinations.list();
    const destOfChannel = new Map(dests.filter((d) => d.mediaLiveChannelId).map((d) => [d.mediaLiveChannelId!, d.destinationId]));
    const open = new Map(
      snapshot(state, nowIso)
        .open.filter((s) => s.resource.kind === 'destination-channel' && s.kind === 'running')
        .map((s) => [s.resource.id, s.sessionId]),
    );
    const read = this.d.readCpu ?? readProcessCpu;
    for (let attempt = 0; ; attempt++) {
      const current = await this.d.store.get<CpuRecord>('cpu');
      const pids: CpuRecord['pids'] = {};
      const destinations: CpuRecord['destinations'] = {};
      for (const [id, v] of Object.entries(current?.destinations ?? {})) if (open.get(id) === v.sessionId) destinations[id] = { ...v };
      for (const p of procs) {
        const key = p.pid !== null ? String(p.pid) : `in-process:${p.name ?? `${p.role}:${p.channelIds.join(',')}`}`;
        const cpu = p.pid !== null ? read(p.pid) : p.cpu!;
        if (!cpu) continue;
        pids[key] = { start: cpu.start, seconds: cpu.seconds };
        const before = current?.pids[key];
        // A process first seen now counts from its start: its whole CPU time so far is new.
        const delta = before && before.start === cpu.start ? Math.max(0, cpu.seconds - before.seconds) : cpu.seconds;
        const users = p.channelIds.map((c) => destOfChannel.get(c)).filter((id): id is string => id !== undefined && open.has(id));
        if (users.length === 0 || delta === 0) continue;
        // A shared encoder (one per preset) is split evenly between the destinations it feeds.
        for (const id of users) {
          const entry = destinations[id] ?? { sessionId: open.get(id)!, seconds: 0 };
          entry.seconds += delta / users.length;
          destinations[id] = entry;
        }
      }
      try {
        await this.d.store.put({ pk: 'cpu', version: (current?.version ?? 0) + 1, pids, destinations });
        return Object.entries(destinations).map(([id, v]) => ({
          eventId: `cpu:${id}:${nowIso}`,
          observedAt: nowIso,
          resource: { kind: 'destination-channel' as const, id, destinationId: id },
          counters: { cpuSeconds: v.seconds },
        }));
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * The scheduled minute: outboxes, CPU time, reconcile, settle, budget. One scan reads every
   * track; each track that changed is written on its own (TRACK_WRITES at a time).
   */
  async tick(correlationId: string): Promise<{ closed: UsageSession[]; reconciled: Observation[] }> {
    await this.d.store.sweepOutbox();
    const nowIso = this.now().toISOString();
    const { tracks, state } = await this.d.store.everything();
    const cpu = await this.cpuObservations(state, nowIso);
    const current = await this.destinationStates(state, Date.parse(nowIso));
    const cpuOf = groupBy(cpu, (o) => resourceKey(o.resource));
    const currentOf = groupBy(current, (c) => resourceKey(c.resource));
    const known = new Map(tracks.map((t) => [t.key, t]));
    const keys = [...new Set([...known.keys(), ...cpuOf.keys(), ...currentOf.keys()])];
    const reconciledOf = new Map<string, Observation[]>();
    const rates = this.ratesOnce();
    const closed: UsageSession[] = [];
    await eachLimited(keys, TRACK_WRITES, async (key) => {
      const change = (s: TrackerState): TrackerState => {
        const next = (cpuOf.get(key) ?? []).reduce((acc, o) => observe(acc, o).state, s);
        const r = reconcile(next, currentOf.get(key) ?? [], nowIso);
        reconciledOf.set(key, r.added);
        return r.state;
      };
      closed.push(...(await this.commitTrack(correlationId, key, change, rates, known.get(key) ?? { key, record: undefined, track: undefined, stats: { applied: 0, duplicates: 0, late: 0 } })));
    });
    const reconciled = [...reconciledOf.values()].flat();
    if (reconciled.length > 0) this.d.log.info("usage sessions reconciled with the destinations' status", { resources: reconciled.map((o) => ({ id: o.resource.id, state: o.state ?? null })) });
    await this.markTick(nowIso);
    await this.evaluateBudget(correlationId);
    return { closed, reconciled };
  }

  /** The summary's `lastTickAt` (a later tick that got there first wins). */
  private async markTick(nowIso: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const summary = await this.d.store.summary();
      if (summary?.lastTickAt && summary.lastTickAt >= nowIso) return;
      try {
        await this.d.store.putSummary(summary, nowIso);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  private async evaluateBudget(correlationId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const record = await this.budget();
      if (!record?.config) return;
      const mtd = await this.monthToDate();
      const { state, crossings } = evaluateBudget(record.config, record.state, {
        month: mtd.month,
        monthToDateMicros: mtd.actual.totalMicros,
        projectionMicros: mtd.projection.totalMicros,
        elapsedHours: mtd.elapsedHours,
        projectionComputation: mtd.projection.computation,
        at: this.now().toISOString(),
      });
      if (crossings.length === 0 && state.month === record.state.month) return;
      const events = crossings.map((c) => buildEntry(BudgetThresholdCrossedV1, budgetThresholdCrossedData(c), { correlationId, id: stableUuid(`BudgetThresholdCrossed:${c.month}:${c.thresholdPercent}`) }));
      try {
        await this.d.store.put({ ...record, version: record.version + 1, state }, events);
        for (const c of crossings) this.d.log.info('budget threshold crossed', { month: c.month, thresholdPercent: c.thresholdPercent, basis: c.basis });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  // ---- reading -----------------------------------------------------------------------------------

  /** Settled sessions and the snapshot's (closed in the window, and open up to now), priced. */
  async priced(table?: RateTable): Promise<{ priced: PricedSession[]; table: RateTable; asOf: string }> {
    const t = table ?? (await this.rates()).table;
    const asOf = this.now().toISOString();
    const { sessions: stored, state } = await this.d.store.everything();
    const snap = snapshot(state, asOf);
    const seen = new Set(stored.map((s) => s.sessionId));
    const all = [...stored, ...snap.closed.filter((s) => !seen.has(s.sessionId)), ...snap.open];
    return { priced: all.map((session) => ({ session, pricing: priceSession(session, t, this.pricingOptions) })), table: t, asOf };
  }

  private localIdle(lines: CostLine[], table: RateTable, startMs: number, endMs: number): CostLine[] {
    if (this.d.engine !== 'local') return [];
    const line = localIdleLine(lines, table, startMs, endMs, this.d.timeZone);
    return line ? [line] : [];
  }

  async monthToDate(month?: string) {
    const { priced, table, asOf } = await this.priced();
    const m = month ?? monthOf(Date.parse(asOf), this.d.timeZone);
    const { startMs } = monthBounds(m, this.d.timeZone);
    const lines = priced.flatMap((p) => p.pricing.lines);
    return monthToDate(priced, m, this.d.timeZone, asOf, this.localIdle(lines, table, startMs, Math.min(Date.parse(asOf), monthBounds(m, this.d.timeZone).endMs)));
  }

  /**
   * The figures the local runtime's GET /metrics exposes as gauges: this month's cost to date
   * (USD, in total and per destination row, the idle, shared and redundancy rows included, as in
   * GET /api/cost `byDestination`) and the fraction of the budget it used (null without a budget).
   */
  async gauges(): Promise<CostGauges> {
    const [mtd, budget] = await Promise.all([this.monthToDate(), this.budget()]);
    const usd = (micros: number) => micros / 1_000_000;
    const config = budget?.config;
    return {
      month: mtd.month,
      totalUsd: usd(mtd.actual.totalMicros),
      byDestination: mtd.actual.byDestination.map((r) => ({ key: r.key, label: r.label, usd: usd(r.costMicros) })),
      budgetUsd: config ? usd(config.budgetMicros) : null,
      budgetUsed: config && config.budgetMicros > 0 ? mtd.actual.totalMicros / config.budgetMicros : null,
    };
  }

  /** GET /api/cost: month to date, projection, breakdowns, the fixed design's price, the budget. */
  async report(month?: string) {
    const { priced, table, asOf } = await this.priced();
    const tz = this.d.timeZone;
    const m = month ?? monthOf(Date.parse(asOf), tz);
    const bounds = monthBounds(m, tz);
    const until = Math.min(Date.parse(asOf), bounds.endMs);
    const lines = priced.flatMap((p) => p.pricing.lines);
    const mtd = monthToDate(priced, m, tz, asOf, this.localIdle(lines, table, bounds.startMs, until));
    const notApplicable = fixedDesignNotApplicable(this.d.engine, until > bounds.startMs);
    const comparison = notApplicable ? null : compareWithFixedDesign(priced, bounds.startMs, until, tz, PLAN_FIXED_DESIGN, table);
    const budget = await this.budget();
    const row = (r: { key: string; label: string; costMicros: number; estimated: boolean }) => ({ key: r.key, label: r.label, cost: formatMicros(r.costMicros), estimated: r.estimated });
    return {
      month: m,
      timeZone: tz,
      asOf,
      engine: this.d.engine,
      currency: 'USD' as const,
      rateTable: table.id,
      monthToDate: formatMicros(mtd.actual.totalMicros),
      estimated: mtd.actual.estimated,
      elapsedHours: mtd.elapsedHours,
      remainingHours: mtd.remainingHours,
      projection: { total: formatMicros(mtd.projection.totalMicros), computation: mtd.projection.computation },
      byDestination: mtd.actual.byDestination.map(row),
      byPlatform: mtd.actual.byPlatform.map(row),
      byServiceLine: mtd.actual.byServiceLine.map(row),
      byCategory: mtd.actual.byCategory.map(row),
      days: mtd.days.map((d) => ({ day: d.day, cost: formatMicros(d.totalMicros) })),
      missingRates: mtd.actual.missingRates,
      sessions: mtd.actual.sessions,
      openSessions: priced.filter((p) => p.session.endedAt === null).length,
      fixedDesign: comparison ? { total: formatMicros(comparison.fixedMicros), actual: formatMicros(comparison.actualMicros), saving: formatMicros(comparison.savingMicros), computation: comparison.computation } : null,
      fixedDesignNotApplicable: notApplicable,
      budget: budget?.config
        ? {
            amount: formatMicros(budget.config.budgetMicros),
            thresholdsPercent: budget.config.thresholdsPercent,
            crossed: budget.state.month === m ? budget.state.crossed : [],
            usedPercent: Math.round((mtd.actual.totalMicros / budget.config.budgetMicros) * 1000) / 10,
            projectedPercent: Math.round((mtd.projection.totalMicros / budget.config.budgetMicros) * 1000) / 10,
          }
        : null,
      computation:
        "Each session is priced line by line (GET /api/cost/sessions shows every line's computation); lines are allotted to the days of the time zone; " +
        (this.d.engine === 'local' ? "on the local engine the machine-hour is split by the CPU time each destination's processes used, the rest is the idle row. " : '') +
        mtd.projection.computation,
    };
  }

  /** GET /api/cost/sessions: sessions (settled and, unless excluded, open or settling) overlapping [from, to). */
  async sessions(f: SessionFilter) {
    const { priced, table, asOf } = await this.priced();
    const from = f.from ? Date.parse(f.from) : -Infinity;
    const to = f.to ? Date.parse(f.to) : Infinity;
    const chosen = priced.filter((p) => {
      const s = p.session;
      const start = Date.parse(s.startedAt);
      const end = start + s.durationMs;
      if (end < from || start >= to) return false;
      if (f.destinationId && s.resource.destinationId !== f.destinationId) return false;
      if (f.platform && s.attributes.platform !== f.platform) return false;
      if (f.resourceKind && s.resource.kind !== f.resourceKind) return false;
      if (f.kind && s.kind !== f.kind) return false;
      if (f.includeOpen === false && s.provisional) return false;
      return true;
    });
    chosen.sort((a, b) => a.session.startedAt.localeCompare(b.session.startedAt) || a.session.sessionId.localeCompare(b.session.sessionId));
    return { asOf, table, chosen };
  }

  estimate(body: unknown) {
    const req = EstimateRequestSchema.parse(body);
    return this.rates().then(({ table }) => {
      const fanout = estimate(req, table);
      const fixed = fixedDesignEstimate(req, table);
      return { fanout, fixed, savingMicros: fixed.totalMicros - fanout.totalMicros, table };
    });
  }

  // ---- summaries ---------------------------------------------------------------------------------

  /** CostSummary for every finished day of the last 7 and the last finished month not yet published. */
  async publishSummaries(correlationId: string): Promise<string[]> {
    const { priced, table, asOf } = await this.priced();
    const tz = this.d.timeZone;
    const nowMs = Date.parse(asOf);
    const lines = priced.flatMap((p) => p.pricing.lines);
    const wanted: { label: string; kind: 'day' | 'month'; startMs: number; endMs: number }[] = [];
    for (let i = 7; i >= 1; i--) {
      const day = dayOf(nowMs - i * 86_400_000, tz);
      const b = dayBounds(day, tz);
      if (b.endMs <= nowMs) wanted.push({ label: `day:${day}`, kind: 'day', ...b });
    }
    const thisMonth = monthBounds(monthOf(nowMs, tz), tz);
    const lastMonth = monthOf(thisMonth.startMs - 1, tz);
    wanted.push({ label: `month:${lastMonth}`, kind: 'month', ...monthBounds(lastMonth, tz) });
    for (let attempt = 0; ; attempt++) {
      const record = await this.d.store.get<SummariesRecord>('summaries');
      const done = new Set(record?.published ?? []);
      // Nothing before the first record of usage: a new installation does not publish empty weeks.
      const firstMs = Math.min(...priced.map((p) => Date.parse(p.session.startedAt)), nowMs);
      const todo = wanted.filter((w) => !done.has(w.label) && w.endMs > firstMs);
      if (todo.length === 0) return [];
      const events = todo.map((w) => {
        const all = [...lines, ...this.localIdle(lines, table, w.startMs, w.endMs)];
        const parts = partsWithin(all, w.startMs, w.endMs, tz, w.kind);
        return buildEntry(CostSummaryV1, costSummaryData({ kind: w.kind, label: w.label.split(':')[1]!, startMs: w.startMs, endMs: w.endMs, timeZone: tz, asOf, breakdown: breakdown(parts), table, projection: null }), {
          correlationId,
          id: stableUuid(`CostSummary:${w.label}:${tz}`),
        });
      });
      const published = [...(record?.published ?? []), ...todo.map((w) => w.label)].slice(-400);
      try {
        await this.d.store.put({ pk: 'summaries', version: (record?.version ?? 0) + 1, published }, events);
        return todo.map((w) => w.label);
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }
}
