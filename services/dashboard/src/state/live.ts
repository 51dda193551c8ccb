/**
 * The live state of the streaming dashboard: destinations, their metrics, the flow and the input,
 * kept current by the event stream alone (no polling loop). At every `ready` of the stream (first
 * connect, reconnect) and at `reset` the lists are read once; events then move the state on.
 * Each destination has signals of its own, so an event re-renders one card, not the page.
 *
 * Ordering: a status event carries the destination's `aggregateVersion`; state older than what
 * the page holds is ignored, so a list read that races an event cannot roll a card back, and a
 * deleted destination stays gone.
 */
import { batch, signal, type Signal } from '@preact/signals';
import { ApiError, problemOf } from '../api/client.ts';
import type { ChannelMetrics, Destination, DestinationMetrics, FlowStatus, InputHealth, InputSwitch, LastError, Problem } from '../api/types.ts';
import { addSample, type MetricsSample } from '../lib/health.ts';
import { LiveStream, type StreamEvent, type StreamState } from '../lib/sse.ts';
import { api, apiUrl, token } from './session.ts';

export interface DestinationEntry {
  id: string;
  dest: Signal<Destination>;
  metrics: Signal<ChannelMetrics | null>;
  samples: Signal<MetricsSample[]>;
  /** The command in flight ('start', 'stop', 'remove', 'save'), if any: its buttons are disabled. */
  pending: Signal<string | null>;
  /** The API's answer to this card's last failed command. */
  problem: Signal<Problem | null>;
}

export const destinationIds = signal<string[]>([]);
export const entries = new Map<string, DestinationEntry>();
/** True once the first list has been read. */
export const loaded = signal(false);
export const loadProblem = signal<Problem | null>(null);
export const flow = signal<FlowStatus | null>(null);
export const input = signal<InputHealth | null>(null);
export const connection = signal<StreamState>({ kind: 'connecting', attempt: 0 });
/** The clock the page shows durations and countdowns with (ticks each second; no API call). */
export const now = signal(Date.now());
/** A change arrived (for the bench and tests: the time of the last applied event). */
export const lastEventAt = signal(0);

const deleted = new Set<string>();

function order(): void {
  destinationIds.value = [...entries.values()].sort((a, b) => a.dest.peek().createdAt.localeCompare(b.dest.peek().createdAt) || a.id.localeCompare(b.id)).map((e) => e.id);
}

/** Puts a destination record in the state unless the page holds a newer version. */
export function upsert(d: Destination): void {
  if (deleted.has(d.destinationId)) return;
  const e = entries.get(d.destinationId);
  if (!e) {
    entries.set(d.destinationId, {
      id: d.destinationId,
      dest: signal(d),
      metrics: signal(null),
      samples: signal([]),
      pending: signal(null),
      problem: signal(null),
    });
    order();
    return;
  }
  if (d.version >= e.dest.peek().version) e.dest.value = d;
}

function remove(id: string): void {
  deleted.add(id);
  if (entries.delete(id)) order();
}

function applyMetrics(id: string, m: ChannelMetrics | null): void {
  const e = entries.get(id);
  if (!e || !m) return;
  batch(() => {
    e.metrics.value = m;
    e.samples.value = addSample(e.samples.peek(), { at: Date.parse(m.updatedAt), bytesSent: m.bytesSent, frames: m.frames, bitrateKbps: m.bitrateKbps, fps: m.fps });
  });
}

async function refreshDestination(id: string): Promise<void> {
  try {
    upsert(await api.get<Destination>(`/api/destinations/${id}`));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) remove(id);
  }
}

async function refreshMetrics(id: string): Promise<void> {
  try {
    const m = await api.get<DestinationMetrics>(`/api/destinations/${id}/metrics`);
    applyMetrics(id, m.metrics);
  } catch {
    /* metrics are a nicety; the next event brings them */
  }
}

/** Reads the inputs' health now (after a switch or a settings change: no wait for the stream's next input.health). */
export async function refreshInput(): Promise<void> {
  try {
    input.value = await api.get<InputHealth>('/api/mediaconnect/inputs/health');
  } catch {
    /* the stream's next input.health brings it */
  }
}

/** Every destination, following the list's pages (500 a page, the most the API gives; ADR 0025). */
async function allDestinations(): Promise<{ destinations: Destination[] }> {
  const destinations: Destination[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const p: { destinations: Destination[]; nextCursor?: string | null } = await api.get(`/api/destinations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    destinations.push(...p.destinations);
    cursor = p.nextCursor ?? null;
    if (!cursor) break;
  }
  return { destinations };
}

/** Reads the lists once (at the stream's `ready` and at `reset`). */
export async function loadSnapshot(): Promise<void> {
  const [list, f, i] = await Promise.allSettled([allDestinations(), api.get<FlowStatus>('/api/mediaconnect/flow/status'), api.get<InputHealth>('/api/mediaconnect/inputs/health')]);
  batch(() => {
    if (list.status === 'fulfilled') {
      const seen = new Set(list.value.destinations.map((d) => d.destinationId));
      for (const d of list.value.destinations) upsert(d);
      // Gone while we were away (and no event said so, e.g. after a reset).
      for (const id of [...entries.keys()]) if (!seen.has(id)) remove(id);
      loadProblem.value = null;
      loaded.value = true;
    } else {
      loadProblem.value = list.reason instanceof ApiError ? list.reason.problem : { status: 0, code: 'OFFLINE', detail: String(list.reason), hint: '' };
    }
    if (f.status === 'fulfilled') flow.value = f.value;
    if (i.status === 'fulfilled') input.value = i.value;
  });
  for (const [id, e] of entries) if (['running', 'error'].includes(e.dest.peek().status)) void refreshMetrics(id);
}

interface StatusEvent {
  destinationId: string;
  aggregateVersion: number;
  to: Destination['status'];
  desired: Destination['desired'];
  lastError?: LastError | null;
}

/** Applies one event of the stream to the state. Exported for tests of the app's logic. */
export function applyEvent(e: StreamEvent): void {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(e.data) as Record<string, unknown>;
  } catch {
    return;
  }
  const id = typeof data.destinationId === 'string' ? data.destinationId : '';
  switch (e.event) {
    case 'ready':
      void loadSnapshot();
      return;
    case 'reset':
      deleted.clear();
      void loadSnapshot();
      return;
    case 'destination.created': {
      const d = data as unknown as Destination & { aggregateVersion: number };
      const at = new Date().toISOString();
      // Shown at once from the event; the full record (key's last 4, times) follows.
      upsert({
        destinationId: id,
        name: d.name,
        platform: d.platform,
        preset: d.preset,
        rtmpUrl: d.rtmpUrl,
        status: d.status,
        desired: d.desired,
        streamKeyLast4: null,
        mediaLiveChannelId: null,
        mediaConnectOutputArn: null,
        channelReclaimed: false,
        lastError: null,
        version: d.aggregateVersion,
        createdAt: at,
        lastModified: at,
      });
      void refreshDestination(id);
      break;
    }
    case 'destination.updated': {
      const cur = entries.get(id)?.dest.peek();
      const v = data.aggregateVersion as number;
      if (cur && v >= cur.version) upsert({ ...cur, status: data.status as Destination['status'], desired: data.desired as Destination['desired'], version: v });
      void refreshDestination(id);
      break;
    }
    case 'destination.status': {
      const s = data as unknown as StatusEvent;
      const cur = entries.get(id)?.dest.peek();
      if (!cur) {
        void refreshDestination(id);
        break;
      }
      if (s.aggregateVersion >= cur.version) upsert({ ...cur, status: s.to, desired: s.desired, lastError: s.lastError ?? null, version: s.aggregateVersion });
      if (s.to === 'running' || s.to === 'error') void refreshMetrics(id);
      break;
    }
    case 'destination.deleted':
      remove(id);
      break;
    case 'destination.metrics':
      applyMetrics(id, data as unknown as ChannelMetrics);
      break;
    case 'flow.status':
      flow.value = { ...(flow.peek() ?? { flowArn: null, primary: null }), ...(data as unknown as FlowStatus) };
      break;
    case 'input.health':
      input.value = data as unknown as InputHealth;
      break;
    case 'input.switched': {
      // Shown at once; the next input.health (every 2 s) brings both inputs' figures.
      const cur = input.peek();
      const sw = data as unknown as InputSwitch & { switchedAt: string; slateStopsAt: string | null };
      if (cur?.inputs) {
        const lastSwitch: InputSwitch = { from: sw.from, to: sw.to, at: sw.switchedAt, reason: sw.reason };
        input.value = { ...cur, active: sw.to, lastSwitch, slate: sw.to === 'slate' && sw.slateStopsAt ? { since: sw.switchedAt, stopsAt: sw.slateStopsAt } : sw.to === 'slate' ? (cur.slate ?? null) : null };
      }
      break;
    }
    default:
      return;
  }
  lastEventAt.value = Date.now();
}

let stream: LiveStream | null = null;
let ticker: ReturnType<typeof setInterval> | null = null;

/** Opens the event stream (once per sign-in) and starts the page clock. */
export function startLive(): void {
  if (stream) return;
  stream = new LiveStream({ url: apiUrl('/api/events'), token: () => token.value, onEvent: applyEvent, onState: (s) => (connection.value = s) });
  stream.start();
  ticker = setInterval(() => (now.value = Date.now()), 1000);
  window.addEventListener('online', reconnect);
}

function reconnect(): void {
  stream?.reconnectNow();
}

export function stopLive(): void {
  stream?.stop();
  stream = null;
  if (ticker) clearInterval(ticker);
  ticker = null;
  window.removeEventListener('online', reconnect);
  batch(() => {
    entries.clear();
    deleted.clear();
    destinationIds.value = [];
    loaded.value = false;
    flow.value = null;
    input.value = null;
  });
}

// ---- commands ---------------------------------------------------------------------------------

/** Runs a card's command: its buttons are disabled meanwhile, the API's refusal shown on the card. */
export async function command(id: string, what: 'start' | 'stop' | 'remove'): Promise<void> {
  const e = entries.get(id);
  if (!e || e.pending.peek()) return;
  e.pending.value = what;
  e.problem.value = null;
  try {
    const d = what === 'remove' ? await api.del<Destination>(`/api/destinations/${id}`) : await api.post<Destination>(`/api/destinations/${id}/${what}`);
    if (d) upsert(d);
  } catch (err) {
    e.problem.value = problemOf(err);
  } finally {
    e.pending.value = null;
  }
}

/** Start all stopped destinations, or stop all running ones (each on its own; one refusal does not stop the rest). */
export async function commandAll(what: 'start' | 'stop'): Promise<void> {
  const ids = destinationIds.peek().filter((id) => {
    const d = entries.get(id)?.dest.peek();
    if (!d || d.status === 'deleting' || d.status === 'creating') return false;
    return what === 'start' ? d.desired === 'stopped' : d.desired === 'running';
  });
  await Promise.all(ids.map((id) => command(id, what)));
}
