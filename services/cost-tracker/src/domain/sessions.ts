/**
 * Usage sessions: the intervals in which a billable resource is in one billable state, recorded
 * from state observations by a pure reducer whose whole state is plain JSON (a store persists it
 * as it is, so a restart resumes every open session where it was).
 *
 * Resources and the sessions they have:
 *
 *   destination-channel   running (input + output encode billed) | idle (exists, not running)
 *   primary-channel       running | idle
 *   flow                  running (= ACTIVE: flow-hours billed) | idle (= STANDBY: free)
 *   push-input            idle (a push input attached to no channel)
 *
 * A session is a maximal interval of one kind. `recovering` (MediaLive RECOVERING, or a push that
 * is failing and retrying) stays inside the running session and counts a restart when it runs
 * again; MediaLive bills a run, not its hiccups.
 *
 * Exactly once, in order: observations arrive at least once and in any order. Each resource keeps
 * the observations of the last `settleMs` in a pending list sorted by (observation time, event id)
 * and deduplicated by event id; `settle(now)` folds what is older than `now - settleMs` into the
 * settled part and emits the sessions that closed there, exactly once. A reordered observation
 * inside the window lands in its place; one older than the settled part is late and dropped
 * (counted in `stats.late`), never applied on top of a later state; a duplicate is dropped
 * (`stats.duplicates`). Two observations of the same state never open two sessions.
 *
 * After a restart, `reconcile` compares the stored view with what the engine reports now and adds
 * the missing transitions at that instant (end reason `reconciled`, `endEstimated`): a channel
 * still running resumes its session; one that stopped while nobody listened is closed.
 *
 *   observe(state, o)      → { state, outcome }           record one observation
 *   settle(state, now)     → { state, closed }            finalise what the window has passed
 *   snapshot(state, now)   → { open, closed }             provisional view for reports (no mutation)
 *   reconcile(state, …)    → { state, added }             after a restart
 */
import { DEFAULT_INPUT_SPEC, type ChannelClass, type EncodeProfile, type InputSpec } from './bands.ts';

export const RESOURCE_KINDS = ['destination-channel', 'primary-channel', 'flow', 'push-input'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface ResourceRef {
  kind: ResourceKind;
  /** Channel id, flow ARN, input id; for a destination's channel the destination id works too. */
  id: string;
  destinationId: string | null;
}

export type ObservedState = 'running' | 'recovering' | 'idle' | 'absent';
export type SessionKind = 'running' | 'idle';

/**
 * Why a session ended: `stopped` (running → idle), `started` (an idle session ended because the
 * resource started), `deleted`, `reclaimed` (Fanout's idle-channel reclaim), `failed`,
 * `reconciled` (found changed after a restart; the real end lies between the last observation
 * and the reconcile).
 */
export const END_REASONS = ['stopped', 'started', 'deleted', 'reclaimed', 'failed', 'reconciled'] as const;
export type EndReason = (typeof END_REASONS)[number];

/** What a session is billed by; set from DestinationCreated/Updated, FlowStateChanged, config. */
export interface SessionAttributes {
  engine: 'aws' | 'local';
  destinationName: string | null;
  platform: string | null;
  presetId: string | null;
  channelClass: ChannelClass;
  inputSpec: InputSpec;
  /** The output encodes (a destination: one; the primary: its renditions). */
  encodes: EncodeProfile[];
  /** Push inputs attached (1; 2 with a backup input). */
  pushInputs: number;
  /** A flow's outputs (each a managed output to a MediaLive input, billed per GB). */
  flowOutputs: number;
  /** A flow's contribution bitrate in bits/s, when known (estimates transfer GB when unmeasured). */
  contributionBitrate: number | null;
  /** A flow's sources (absent = 1; 2 with the backup SRT listener, each billed while the flow is ACTIVE). */
  flowSources?: number;
}

export const DEFAULT_ATTRIBUTES: SessionAttributes = Object.freeze({
  engine: 'aws',
  destinationName: null,
  platform: null,
  presetId: null,
  channelClass: 'SINGLE_PIPELINE',
  inputSpec: DEFAULT_INPUT_SPEC,
  encodes: [],
  pushInputs: 1,
  flowOutputs: 0,
  contributionBitrate: null,
}) as SessionAttributes;

/** One observation of one resource. */
export interface Observation {
  /** The event id it came from (deduplication key). */
  eventId: string;
  /** When the state was observed (ISO 8601 with offset); the order key. */
  observedAt: string;
  resource: ResourceRef;
  /** The state seen; absent for an observation that only carries attributes or counters. */
  state?: ObservedState;
  /** Why the state changed, when the event says (deleted, reclaimed, failed). */
  reason?: EndReason;
  attributes?: Partial<SessionAttributes>;
  /** Cumulative counters of the running process (they restart from zero when it restarts). */
  counters?: { bytesOut?: number; cpuSeconds?: number };
}

/** A usage session: closed (final), or open / closed provisionally in a snapshot. */
export interface UsageSession {
  /** `<kind>:<resource id>@<start ISO>`: stable, so a store can upsert it. */
  sessionId: string;
  resource: ResourceRef;
  kind: SessionKind;
  startedAt: string;
  /** Null while open. */
  endedAt: string | null;
  durationMs: number;
  attributes: SessionAttributes;
  restarts: number;
  /** Bytes sent, when a counter was observed (destination: to the platform; flow: to MediaLive). */
  bytesOut: number | null;
  /** CPU seconds the resource's processes used (local engine), when observed. */
  cpuSeconds: number | null;
  /** A flow's output-hours (outputs × time), for per-output transfer. */
  flowOutputHours: number | null;
  endReason: EndReason | null;
  /** The end is an upper bound (found after a restart). */
  endEstimated: boolean;
  startEventId: string;
  endEventId: string | null;
  /** Open, or closed but not yet settled: may still change. */
  provisional: boolean;
}

interface Counter {
  accumulated: number;
  last: number;
}

interface OpenSession {
  sessionId: string;
  kind: SessionKind;
  startMs: number;
  startEventId: string;
  lastState: ObservedState;
  restarts: number;
  attributes: SessionAttributes;
  bytesOut: Counter | null;
  cpuSeconds: Counter | null;
  /** outputs × ms, integrated up to `outputsSinceMs`. */
  outputMs: number;
  outputsSinceMs: number;
}

/** An observation as kept: the time as epoch ms (offsets differ between producers). */
interface Point {
  id: string;
  at: number;
  state?: ObservedState;
  reason?: EndReason;
  attributes?: Partial<SessionAttributes>;
  counters?: { bytesOut?: number; cpuSeconds?: number };
}

interface Track {
  resource: ResourceRef;
  /** Latest attributes (carried into the open and the next session). */
  attributes: SessionAttributes;
  /** Everything at or before this instant is folded; later observations wait in `pending`. */
  settledAt: number | null;
  /** Ids of the last observations folded (a redelivery of one is a duplicate, not "late"). */
  foldedIds: string[];
  /** The last state folded, and when it was observed. */
  lastState: ObservedState;
  lastAt: number | null;
  open: OpenSession | null;
  pending: Point[];
}

export interface TrackerState {
  version: 1;
  tracks: Record<string, Track>;
  stats: { applied: number; duplicates: number; late: number };
}

export interface TrackerOptions {
  /** How long observations may arrive out of order (ms). Default 15 minutes: above SQS redelivery. */
  settleMs: number;
  /** How long an ended resource is remembered so a late duplicate cannot reopen it (ms). Default 14 days. */
  retainMs: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = Object.freeze({ settleMs: 15 * 60_000, retainMs: 14 * 24 * 3_600_000 });

/** How many folded event ids each resource remembers to tell a redelivery from a late event. */
const FOLDED_IDS_KEPT = 64;

export function emptyTracker(): TrackerState {
  return { version: 1, tracks: {}, stats: { applied: 0, duplicates: 0, late: 0 } };
}

export function resourceKey(r: ResourceRef): string {
  return `${r.kind}:${r.id}`;
}

function ms(iso: string): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new RangeError(`not an ISO 8601 instant: ${JSON.stringify(iso)}`);
  return t;
}

const iso = (t: number): string => new Date(t).toISOString();

function classOf(s: ObservedState): SessionKind | null {
  if (s === 'running' || s === 'recovering') return 'running';
  if (s === 'idle') return 'idle';
  return null;
}

function defaultReason(from: SessionKind, to: ObservedState): EndReason {
  if (to === 'absent') return 'deleted';
  return from === 'running' ? 'stopped' : 'started';
}

function comparePoints(a: Point, b: Point): number {
  return a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function cloneTrack(t: Track): Track {
  return structuredClone(t);
}

function newTrack(resource: ResourceRef): Track {
  return {
    resource: { ...resource },
    attributes: { ...DEFAULT_ATTRIBUTES, pushInputs: resource.kind === 'flow' ? 0 : 1 },
    settledAt: null,
    foldedIds: [],
    lastState: 'absent',
    lastAt: null,
    open: null,
    pending: [],
  };
}

export type ObserveOutcome = 'applied' | 'duplicate' | 'late';

/** Records one observation (pure: returns the new state). */
export function observe(state: TrackerState, o: Observation): { state: TrackerState; outcome: ObserveOutcome } {
  const key = resourceKey(o.resource);
  const at = ms(o.observedAt);
  const existing = state.tracks[key];
  const track = existing ? cloneTrack(existing) : newTrack(o.resource);
  if (o.resource.destinationId && !track.resource.destinationId) track.resource.destinationId = o.resource.destinationId;
  const bump = (k: keyof TrackerState['stats']): TrackerState => ({ ...state, stats: { ...state.stats, [k]: state.stats[k] + 1 } });
  if (track.settledAt !== null && at <= track.settledAt) {
    const dup = track.foldedIds.includes(o.eventId);
    return dup ? { state: bump('duplicates'), outcome: 'duplicate' } : { state: bump('late'), outcome: 'late' };
  }
  if (track.pending.some((p) => p.id === o.eventId)) return { state: bump('duplicates'), outcome: 'duplicate' };
  const point: Point = { id: o.eventId, at };
  if (o.state !== undefined) point.state = o.state;
  if (o.reason !== undefined) point.reason = o.reason;
  if (o.attributes !== undefined) point.attributes = structuredClone(o.attributes);
  if (o.counters !== undefined) point.counters = { ...o.counters };
  track.pending.push(point);
  track.pending.sort(comparePoints);
  const next = bump('applied');
  return { state: { ...next, tracks: { ...state.tracks, [key]: track } }, outcome: 'applied' };
}

function updateCounter(c: Counter | null, v: number): Counter {
  if (c === null) return { accumulated: 0, last: v };
  // A counter that went down restarted with its process: what it had counted is kept.
  if (v < c.last) return { accumulated: c.accumulated + c.last, last: v };
  return { accumulated: c.accumulated, last: v };
}

function openSession(track: Track, kind: SessionKind, p: Point): OpenSession {
  const s: OpenSession = {
    sessionId: `${track.resource.kind}:${track.resource.id}@${iso(p.at)}`,
    kind,
    startMs: p.at,
    startEventId: p.id,
    lastState: p.state ?? (kind === 'running' ? 'running' : 'idle'),
    restarts: 0,
    attributes: structuredClone(track.attributes),
    bytesOut: null,
    cpuSeconds: null,
    outputMs: 0,
    outputsSinceMs: p.at,
  };
  if (kind === 'running' && p.counters?.bytesOut !== undefined) s.bytesOut = updateCounter(null, p.counters.bytesOut);
  if (kind === 'running' && p.counters?.cpuSeconds !== undefined) s.cpuSeconds = updateCounter(null, p.counters.cpuSeconds);
  return s;
}

function toSession(track: Track, o: OpenSession, endMs: number | null, nowMs: number, end: { reason: EndReason; eventId: string } | null, provisional: boolean): UsageSession {
  const until = endMs ?? nowMs;
  const outputMs = o.outputMs + o.attributes.flowOutputs * Math.max(0, until - o.outputsSinceMs);
  const total = (c: Counter | null): number | null => (c === null ? null : c.accumulated + c.last);
  return {
    sessionId: o.sessionId,
    resource: { ...track.resource },
    kind: o.kind,
    startedAt: iso(o.startMs),
    endedAt: endMs === null ? null : iso(endMs),
    durationMs: Math.max(0, until - o.startMs),
    attributes: structuredClone(o.attributes),
    restarts: o.restarts,
    bytesOut: total(o.bytesOut),
    cpuSeconds: total(o.cpuSeconds),
    flowOutputHours: track.resource.kind === 'flow' ? outputMs / 3_600_000 : null,
    endReason: end?.reason ?? null,
    endEstimated: end?.reason === 'reconciled',
    startEventId: o.startEventId,
    endEventId: end?.eventId ?? null,
    provisional,
  };
}

/** Folds one point into the track; a session it closes is pushed to `closed`. */
function fold(track: Track, p: Point, closed: UsageSession[], provisional: boolean): void {
  const o = track.open;
  track.lastAt = p.at;
  if (p.attributes) {
    if (o && p.attributes.flowOutputs !== undefined && p.attributes.flowOutputs !== o.attributes.flowOutputs) {
      o.outputMs += o.attributes.flowOutputs * Math.max(0, p.at - o.outputsSinceMs);
      o.outputsSinceMs = p.at;
    }
    track.attributes = { ...track.attributes, ...structuredClone(p.attributes) };
    if (o) o.attributes = { ...o.attributes, ...structuredClone(p.attributes) };
  }
  if (o && o.kind === 'running' && p.counters) {
    if (p.counters.bytesOut !== undefined) o.bytesOut = updateCounter(o.bytesOut, p.counters.bytesOut);
    if (p.counters.cpuSeconds !== undefined) o.cpuSeconds = updateCounter(o.cpuSeconds, p.counters.cpuSeconds);
  }
  if (p.state === undefined) return;
  const kind = classOf(p.state);
  track.lastState = p.state;
  if (o && o.kind === kind) {
    if (o.lastState === 'recovering' && p.state === 'running') o.restarts += 1;
    o.lastState = p.state;
    return;
  }
  if (o) {
    closed.push(toSession(track, o, p.at, p.at, { reason: p.reason ?? defaultReason(o.kind, p.state), eventId: p.id }, provisional));
    track.open = null;
  }
  if (kind) track.open = openSession(track, kind, p);
}

/**
 * Folds every pending observation older than `now - settleMs` and returns the sessions that closed
 * there (final: emit `UsageSessionClosed` for each, once). Ended resources past `retainMs` are
 * forgotten.
 */
export function settle(state: TrackerState, now: string, opts: TrackerOptions = DEFAULT_TRACKER_OPTIONS): { state: TrackerState; closed: UsageSession[] } {
  const nowMs = ms(now);
  const watermark = nowMs - opts.settleMs;
  const closed: UsageSession[] = [];
  const tracks: Record<string, Track> = {};
  for (const [key, t0] of Object.entries(state.tracks)) {
    const due = t0.pending.filter((p) => p.at <= watermark);
    const forgettable = t0.open === null && t0.pending.length === 0 && t0.lastState === 'absent';
    if (due.length === 0 && !forgettable) {
      tracks[key] = t0;
      continue;
    }
    const t = cloneTrack(t0);
    for (const p of due) fold(t, p, closed, false);
    t.pending = t.pending.filter((p) => p.at > watermark);
    t.foldedIds = [...t.foldedIds, ...due.map((p) => p.id)].slice(-FOLDED_IDS_KEPT);
    // Final up to the last observation folded, not up to the watermark: after an outage the
    // backlog (older than the window, but newer than anything folded) still lands in order.
    if (due.length > 0) t.settledAt = Math.max(t.settledAt ?? -Infinity, due[due.length - 1]!.at);
    const forgotten = t.open === null && t.pending.length === 0 && t.lastState === 'absent' && (t.lastAt ?? -Infinity) < nowMs - opts.retainMs;
    if (!forgotten) tracks[key] = t;
  }
  return { state: { ...state, tracks }, closed };
}

/**
 * The provisional view at `now`: every pending observation folded (nothing is finalised), the
 * sessions that closed in the window, and the sessions open at `now` (duration up to `now`).
 */
export function snapshot(state: TrackerState, now: string): { open: UsageSession[]; closed: UsageSession[] } {
  const nowMs = ms(now);
  const open: UsageSession[] = [];
  const closed: UsageSession[] = [];
  for (const t0 of Object.values(state.tracks)) {
    const t = cloneTrack(t0);
    for (const p of t.pending) if (p.at <= nowMs) fold(t, p, closed, true);
    if (t.open && t.open.startMs <= nowMs) open.push(toSession(t, t.open, null, nowMs, null, true));
  }
  return { open, closed };
}

/** The state a resource is in once everything pending is applied ('absent' for an unknown one). */
export function latestState(state: TrackerState, resource: ResourceRef): ObservedState {
  const t = state.tracks[resourceKey(resource)];
  if (!t) return 'absent';
  for (let i = t.pending.length - 1; i >= 0; i--) {
    const s = t.pending[i]!.state;
    if (s !== undefined) return s;
  }
  return t.lastState;
}

export interface CurrentState {
  resource: ResourceRef;
  state: ObservedState;
  attributes?: Partial<SessionAttributes>;
}

/**
 * After a restart: for each resource the engine reports, adds an observation at `now` when the
 * stored view disagrees (a stop nobody heard is closed now, `endEstimated`); with `complete`, a
 * tracked resource the engine no longer reports is taken as gone. Agreeing resources resume.
 */
export function reconcile(state: TrackerState, current: readonly CurrentState[], now: string, opts: { complete: boolean } = { complete: false }): { state: TrackerState; added: Observation[] } {
  const added: Observation[] = [];
  const seen = new Set<string>();
  for (const c of current) {
    const key = resourceKey(c.resource);
    seen.add(key);
    const known = latestState(state, c.resource);
    if (classOf(known) === classOf(c.state) && c.attributes === undefined) continue;
    const o: Observation = { eventId: `reconcile:${key}:${now}`, observedAt: now, resource: c.resource };
    if (classOf(known) !== classOf(c.state)) {
      o.state = c.state;
      o.reason = 'reconciled';
    }
    if (c.attributes) o.attributes = c.attributes;
    added.push(o);
  }
  if (opts.complete)
    for (const [key, t] of Object.entries(state.tracks))
      if (!seen.has(key) && latestState(state, t.resource) !== 'absent') added.push({ eventId: `reconcile:${key}:${now}`, observedAt: now, resource: t.resource, state: 'absent', reason: 'reconciled' });
  let next = state;
  for (const o of added) next = observe(next, o).state;
  return { state: next, added };
}
