/**
 * The local runtime's Prometheus endpoint: `GET /metrics` in the text exposition format
 * (prom-client), behind a bearer token with the read-only `metrics` role (or an admin's), since
 * Prometheus scrapes with `authorization: { credentials: ... }`.
 *
 * What it exposes, read afresh at each scrape from the parts this process runs:
 *   - per destination (labels `destination_id`, `name`, `platform`; never a stream key or an
 *     ingest URL): its status (one series, value 1, label `status`), and while its channel runs the
 *     engine's figures: bitrate, fps, frames, dropped and duplicated frames, restarts, uptime,
 *     bytes sent (the same numbers as GET /api/destinations/{id}/metrics);
 *   - the contribution input (GET /api/mediaconnect/inputs/health): connected, bitrate in, packet
 *     loss, packets lost, retransmits, RTT;
 *   - the in-process bus (shared/runtimes/local/bus.ts, read through `queueStats` and
 *     `oldestMessageAges`): messages per queue by state, dead-letter depth, age of the oldest
 *     message (the consumers' lag);
 *   - cost-tracker's month to date (its use case `gauges()`, the same figures as GET /api/cost):
 *     USD per destination row (label `destination_id`: a destination's id, or `__idle__`,
 *     `__shared__`, `__redundancy__`), the total, the budget and the fraction of it used;
 *   - HTTP request latency by method, matched route pattern and status (`observeRequest`, the
 *     apps' request middleware: shared/http/api-kit.ts), never by raw path;
 *   - the process's own figures (prom-client's default metrics: CPU, memory, event loop lag, GC).
 *
 * On AWS the same figures come from CloudWatch (MediaLive's and MediaConnect's own metrics;
 * docs/operations.md): this endpoint exists only locally.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CostGauges } from '../../../services/cost-tracker/src/app/cost-tracker.ts';
import type { ApiAuth } from '../../auth/api-auth.ts';
import type { ChannelMetrics, InputHealth } from '../../engines/port/ports.ts';
import { assertAccessDeclared, installApiBasics, requireAccess, type ApiEnv, type RequestObserver } from '../../http/api-kit.ts';
import type { Logger } from '../../logging/logger.ts';
import type { QueueStats } from './bus.ts';

/** What a destination contributes: the record's public fields (never its stream key). */
export interface MetricsDestination {
  destinationId: string;
  name: string;
  platform: string;
  status: string;
  mediaLiveChannelId: string | null;
}

export interface LocalMetricsSources {
  destinations: () => Promise<MetricsDestination[]>;
  /** The engine's live figures of a channel (absent without an engine). */
  channelMetrics?: (channelId: string) => ChannelMetrics | null;
  inputHealth?: () => Promise<InputHealth>;
  queues: () => { stats: Record<string, QueueStats>; oldestAges: Record<string, number> };
  /** cost-tracker's month to date and budget (absent when cost-tracker does not run: engine `none`). */
  cost?: () => Promise<CostGauges>;
}

const DESTINATION_LABELS = ['destination_id', 'name', 'platform'] as const;

/** The per-destination gauges: metric name, help, and how to read it from the engine's figures. */
const CHANNEL_GAUGES: readonly [name: string, help: string, read: (m: ChannelMetrics) => number | null][] = [
  ['fanout_destination_bitrate_bits_per_second', 'Bitrate the destination is being sent at.', (m) => (m.bitrateKbps === null ? null : m.bitrateKbps * 1000)],
  ['fanout_destination_fps', 'Frames per second the destination is being sent at.', (m) => m.fps],
  ['fanout_destination_frames', 'Frames sent since the channel (process) started.', (m) => m.frames],
  ['fanout_destination_dropped_frames', 'Frames dropped since the channel (process) started.', (m) => m.droppedFrames],
  ['fanout_destination_duplicated_frames', 'Frames duplicated since the channel (process) started.', (m) => m.duplicatedFrames],
  ['fanout_destination_restarts', "Restarts of the destination's channel since it was started.", (m) => m.restarts],
  ['fanout_destination_uptime_seconds', 'Seconds the channel has been sending since its last (re)start.', (m) => m.uptimeSeconds],
  ['fanout_destination_sent_bytes', 'Bytes sent to the platform since the channel (process) started.', (m) => m.bytesSent],
];

const INPUT_GAUGES: readonly [name: string, help: string, read: (h: InputHealth) => number | null][] = [
  ['fanout_ingest_connected', '1 while the contribution encoder is connected, else 0.', (h) => (h.connected ? 1 : 0)],
  ['fanout_ingest_bitrate_bits_per_second', 'Bitrate the contribution input receives.', (h) => (h.bitrateInKbps === null ? null : h.bitrateInKbps * 1000)],
  ['fanout_ingest_packet_loss_percent', 'Packets lost on the contribution link, percent (SRT).', (h) => h.packetLossPercent],
  ['fanout_ingest_packets_lost', 'Packets lost on the contribution link (SRT).', (h) => h.packetsLost],
  ['fanout_ingest_retransmits', 'Packets retransmitted on the contribution link (SRT).', (h) => h.retransmits],
  ['fanout_ingest_rtt_seconds', 'Round-trip time of the contribution link (SRT).', (h) => (h.rttMs === null ? null : h.rttMs / 1000)],
];

export class LocalMetrics {
  readonly registry = new Registry();
  private readonly status: Gauge;
  private readonly channel: Gauge[];
  private readonly input: Gauge[];
  private readonly queueMessages: Gauge;
  private readonly queueDlq: Gauge;
  private readonly queueAge: Gauge;
  private readonly costTotal: Gauge;
  private readonly costByDestination: Gauge;
  private readonly budget: Gauge;
  private readonly budgetUsed: Gauge;
  private readonly requests: Histogram;

  constructor(private readonly sources: LocalMetricsSources) {
    const gauge = (name: string, help: string, labelNames: readonly string[] = []) => new Gauge({ name, help, labelNames, registers: [this.registry] });
    this.status = gauge('fanout_destination_status', "The destination's status (the series with its current status is 1).", [...DESTINATION_LABELS, 'status']);
    this.channel = CHANNEL_GAUGES.map(([name, help]) => gauge(name, help, DESTINATION_LABELS));
    this.input = INPUT_GAUGES.map(([name, help]) => gauge(name, help));
    this.queueMessages = gauge('fanout_queue_messages', 'Messages in a queue of the in-process bus, by state (visible, in_flight, delayed).', ['queue', 'state']);
    this.queueDlq = gauge('fanout_queue_dead_letter_messages', 'Messages of a queue in its dead-letter queue.', ['queue']);
    this.queueAge = gauge('fanout_queue_oldest_message_age_seconds', "Age of the oldest message in a queue (the consumers' lag; 0 when empty).", ['queue']);
    this.costTotal = gauge('fanout_cost_month_to_date_usd', "This month's cost to date, USD (GET /api/cost monthToDate).", ['month']);
    this.costByDestination = gauge('fanout_cost_destination_month_to_date_usd', "This month's cost to date per destination row, USD (GET /api/cost byDestination; __idle__, __shared__, __redundancy__ rows apart).", [
      'month',
      'destination_id',
      'name',
    ]);
    this.budget = gauge('fanout_cost_budget_usd', 'The monthly budget, USD (absent without a budget).');
    this.budgetUsed = gauge('fanout_cost_budget_used_ratio', 'Month to date over the monthly budget (0.5: half used; above 1: over budget; absent without a budget).');
    this.requests = new Histogram({
      name: 'fanout_http_request_duration_seconds',
      help: 'HTTP API requests by method, matched route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** For the apps' request middleware (shared/http/api-kit.ts `installApiBasics({ observe })`). */
  readonly observeRequest: RequestObserver = (r) => this.requests.observe({ method: r.method, route: r.route, status: String(r.status) }, r.seconds);

  /** The exposition, read afresh: series of destinations that went away disappear with them. */
  async render(): Promise<string> {
    const [destinations, health, cost] = await Promise.all([this.sources.destinations(), this.sources.inputHealth?.().catch(() => null) ?? Promise.resolve(null), this.sources.cost?.() ?? Promise.resolve(null)]);
    this.status.reset();
    for (const g of this.channel) g.reset();
    for (const d of destinations) {
      const labels = { destination_id: d.destinationId, name: d.name, platform: d.platform };
      this.status.set({ ...labels, status: d.status }, 1);
      const m = d.mediaLiveChannelId ? this.sources.channelMetrics?.(d.mediaLiveChannelId) : null;
      if (!m) continue;
      CHANNEL_GAUGES.forEach(([, , read], i) => {
        const v = read(m);
        if (v !== null) this.channel[i]!.set(labels, v);
      });
    }
    for (const g of this.input) g.reset();
    if (health) {
      INPUT_GAUGES.forEach(([, , read], i) => {
        const v = read(health);
        if (v !== null) this.input[i]!.set(v);
      });
    }
    for (const g of [this.costTotal, this.costByDestination, this.budget, this.budgetUsed]) g.reset();
    if (cost) {
      this.costTotal.set({ month: cost.month }, cost.totalUsd);
      for (const r of cost.byDestination) this.costByDestination.set({ month: cost.month, destination_id: r.key, name: r.label }, r.usd);
      if (cost.budgetUsd !== null) this.budget.set(cost.budgetUsd);
      if (cost.budgetUsed !== null) this.budgetUsed.set(cost.budgetUsed);
    }
    const { stats, oldestAges } = this.sources.queues();
    this.queueMessages.reset();
    this.queueDlq.reset();
    this.queueAge.reset();
    for (const [queue, s] of Object.entries(stats)) {
      this.queueMessages.set({ queue, state: 'visible' }, s.visible);
      this.queueMessages.set({ queue, state: 'in_flight' }, s.inFlight);
      this.queueMessages.set({ queue, state: 'delayed' }, s.delayed ?? 0);
      if (s.dlq !== undefined) this.queueDlq.set({ queue }, s.dlq);
      this.queueAge.set({ queue }, oldestAges[queue] ?? 0);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The app that answers `GET /metrics` (dispatched by the local runtime before the API apps): the
 * same basics as every API app (problem documents, request ids, the one ApiAuth), access
 * declared on the route like any other (`metrics`: metrics and admin tokens; ADR 0012).
 */
export function createMetricsApp(metrics: LocalMetrics, o: { auth: ApiAuth; logger: Logger }): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>();
  installApiBasics(app, { logger: o.logger, auth: o.auth, observe: metrics.observeRequest });
  app.get('/metrics', requireAccess('metrics'), async (c) => c.body(await metrics.render(), 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }));
  assertAccessDeclared(app);
  return app;
}
