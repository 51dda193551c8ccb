/**
 * What the API reads on AWS where the local engine reads its own processes: the contribution
 * input's health (GET /api/mediaconnect/inputs/health) and a destination's metrics
 * (GET /api/destinations/{id}/metrics), from MediaConnect and from the metrics MediaLive and
 * MediaConnect publish to CloudWatch. Read-only; used by the API function alone, which needs no
 * engine (and no MediaLive client) for it.
 *
 *   input health  = MediaConnect DescribeFlow (the flow's status: only an ACTIVE flow has a source
 *                   to ask about) + DescribeFlowSourceMetadata (connected = a program is seen;
 *                   its first message is lastError) + CloudWatch AWS/MediaConnect, dimension
 *                   FlowARN: SourceBitRate (b/s), SourcePacketLossPercent, SourceNotRecoveredPackets
 *                   (lost), SourceARQRequests (retransmissions asked for and received),
 *                   SourceRoundTripTime (ms)
 *   input sources = the same metrics per source of the two-source flow (input redundancy, issue 15:
 *                   main and backup in one GetMetricData), dimension SourceARN instead of FlowARN
 *                   (FlowARN aggregates over every source of the flow), plus SourceUptime (seconds
 *                   since the source last connected: connectedSince). `sourceFigures`, for
 *                   aws-inputs.ts' inputsHealth.
 *   destination   = CloudWatch AWS/MediaLive, dimensions ChannelId + Pipeline 0 (SINGLE_PIPELINE
 *                   channels publish on pipeline 0 only): NetworkOut (Mbps: the bitrate sent),
 *                   DroppedFrames; with OutputName `rtmp` (channel-settings.ts): OutputVideoFrameRate;
 *                   with OutputGroupName `rtmp`: ActiveOutputs (0: the push is not getting through).
 *
 * Each figure is the newest datapoint of the last `windowSeconds` at a `periodSeconds` period;
 * counts (dropped frames, lost packets, retransmits) are the sum over that newest period, not since
 * the start as locally (docs/operations.md says so). A channel with no datapoint at all is not
 * running: null. Answers are kept `cacheMs` (default 30 s) per channel, for the input and for the
 * pair of sources, so a
 * dashboard that polls does not turn into one GetMetricData per request (CloudWatch bills per
 * metric requested).
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeFlowCommand, DescribeFlowSourceMetadataCommand, type MediaConnectClient } from '@aws-sdk/client-mediaconnect';
import { LRUCache } from 'lru-cache';
import { idleInputHealth } from '../port/input-health.ts';
import type { ChannelMetrics, InputHealth, InputName } from '../port/ports.ts';

export interface AwsMetricsReaderConfig {
  flowArn: string;
  /** How far back to look for the newest datapoint (default 300 s). */
  windowSeconds?: number;
  /** The datapoints' period (default 60 s: MediaLive and MediaConnect publish every second, CloudWatch keeps 1-minute data 15 days). */
  periodSeconds?: number;
  /** How long an answer is reused (default 30 s; 0: never). */
  cacheMs?: number;
}

export interface AwsMetricsReaderDeps {
  cloudwatch: Pick<CloudWatchClient, 'send'>;
  mediaconnect: Pick<MediaConnectClient, 'send'>;
  now?: () => Date;
  log?: { warn(message: string, attributes?: Record<string, unknown>): void };
}

/** One CloudWatch metric read: query id (lowercase first, as GetMetricData asks), namespace, name, statistic, extra dimensions. */
interface MetricRead {
  id: string;
  namespace: 'AWS/MediaLive' | 'AWS/MediaConnect';
  name: string;
  stat: 'Average' | 'Sum' | 'Minimum' | 'Maximum';
  dimensions: Record<string, string>;
}

/**
 * One source's newest figures (all null for a source with no datapoint in the window: not
 * connected, or a flow that publishes nothing for it). `connectedSince` comes from SourceUptime:
 * the end of its newest period (or now) less the uptime, to within a period; null while 0.
 */
export type SourceFigures = Pick<InputHealth, 'bitrateInKbps' | 'packetLossPercent' | 'packetsLost' | 'retransmits' | 'rttMs' | 'connectedSince'>;

/** What aws-inputs.ts needs of this reader (a type, so the inputs module stays free of CloudWatch). */
export interface SourceFiguresReader {
  sourceFigures(sourceArns: Partial<Record<InputName, string>>): Promise<Record<InputName, SourceFigures>>;
}

/** The MediaConnect source metrics behind InputHealth's figures: query id suffix, metric, statistic. */
const SOURCE_METRICS = [
  { id: 'bitrate', name: 'SourceBitRate', stat: 'Average' },
  { id: 'loss', name: 'SourcePacketLossPercent', stat: 'Average' },
  { id: 'lost', name: 'SourceNotRecoveredPackets', stat: 'Sum' },
  { id: 'arq', name: 'SourceARQRequests', stat: 'Sum' },
  { id: 'rtt', name: 'SourceRoundTripTime', stat: 'Average' },
] as const satisfies readonly Omit<MetricRead, 'namespace' | 'dimensions'>[];

/** The figures of InputHealth from the newest values of SOURCE_METRICS read under ids `${prefix}${id}`. */
function figuresOf(values: Record<string, number | undefined>, prefix = ''): Pick<InputHealth, 'bitrateInKbps' | 'packetLossPercent' | 'packetsLost' | 'retransmits' | 'rttMs'> {
  const v = (id: (typeof SOURCE_METRICS)[number]['id']) => values[`${prefix}${id}`];
  const bitrate = v('bitrate');
  const lost = v('lost');
  const arq = v('arq');
  return {
    bitrateInKbps: bitrate === undefined ? null : Math.round(bitrate / 1000),
    packetLossPercent: v('loss') ?? null,
    packetsLost: lost === undefined ? null : Math.round(lost),
    retransmits: arq === undefined ? null : Math.round(arq),
    rttMs: v('rtt') ?? null,
  };
}

/** The output and output group names Fanout's channels use (shared/engines/aws/channel-settings.ts). */
const RTMP_OUTPUT = 'rtmp';

export class AwsMetricsReader {
  private readonly cache: LRUCache<string, { value: unknown }> | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly cfg: AwsMetricsReaderConfig,
    private readonly d: AwsMetricsReaderDeps,
  ) {
    const ttl = cfg.cacheMs ?? 30_000;
    this.cache = ttl > 0 ? new LRUCache({ max: 1_000, ttl }) : undefined;
    this.now = d.now ?? (() => new Date());
  }

  /** The contribution input's health, as GET /api/mediaconnect/inputs/health shows it. */
  inputHealth(): Promise<InputHealth> {
    return this.cached('input', () => this.readInputHealth());
  }

  /**
   * Each source's figures (main and backup of the two-source flow), by the sources' ARNs
   * (DescribeFlow's Sources[].SourceArn): one GetMetricData for both, cached like the rest. A
   * source not given, or with no datapoint, has every figure null.
   */
  sourceFigures(sourceArns: Partial<Record<InputName, string>>): Promise<Record<InputName, SourceFigures>> {
    return this.cached(`sources:${sourceArns.main ?? ''}|${sourceArns.backup ?? ''}`, () => this.readSourceFigures(sourceArns));
  }

  /** A destination channel's figures from MediaLive's CloudWatch metrics; null when it has published none lately (not running). */
  channelMetrics(channelId: string): Promise<ChannelMetrics | null> {
    return this.cached(`channel:${channelId}`, () => this.readChannelMetrics(channelId));
  }

  private async cached<T>(key: string, read: () => Promise<T>): Promise<T> {
    const hit = this.cache?.get(key);
    if (hit) return hit.value as T;
    const value = await read();
    this.cache?.set(key, { value });
    return value;
  }

  private async readInputHealth(): Promise<InputHealth> {
    const health: InputHealth = idleInputHealth(this.now());
    const flow = await this.d.mediaconnect.send(new DescribeFlowCommand({ FlowArn: this.cfg.flowArn }));
    if (flow.Flow?.Status !== 'ACTIVE') return health;
    const flowDim = { FlowARN: this.cfg.flowArn };
    const [meta, figures] = await Promise.all([
      this.d.mediaconnect.send(new DescribeFlowSourceMetadataCommand({ FlowArn: this.cfg.flowArn })).catch((err: unknown) => {
        this.d.log?.warn('flow source metadata unavailable', { error: err instanceof Error ? err.name : String(err) });
        return null;
      }),
      this.newest(SOURCE_METRICS.map((m) => ({ ...m, namespace: 'AWS/MediaConnect', dimensions: flowDim }))),
    ]);
    if (meta) {
      health.connected = (meta.TransportMediaInfo?.Programs?.length ?? 0) > 0;
      // While media arrives, a message naming one source (the idle backup, a lost main the flow failed over from) is that input's (inputsHealth).
      const problem = (meta.Messages ?? []).find((m) => !health.connected || !m.ResourceName);
      if (problem) health.lastError = { code: (problem.Code ?? 'SOURCE_PROBLEM').slice(0, 64), message: (problem.Message ?? '').slice(0, 500), hint: 'Check the contribution encoder (SRT caller, passphrase, allowed CIDR).' };
    }
    return { ...health, ...figuresOf(figures.values) };
  }

  private async readSourceFigures(sourceArns: Partial<Record<InputName, string>>): Promise<Record<InputName, SourceFigures>> {
    const inputs = (['main', 'backup'] as const).filter((i) => sourceArns[i]);
    const none: SourceFigures = { bitrateInKbps: null, packetLossPercent: null, packetsLost: null, retransmits: null, rttMs: null, connectedSince: null };
    const out: Record<InputName, SourceFigures> = { main: { ...none }, backup: { ...none } };
    if (inputs.length === 0) return out;
    const { values, at } = await this.newest(
      inputs.flatMap((input) => {
        const dimensions = { SourceARN: sourceArns[input]! };
        return [
          ...SOURCE_METRICS.map((m): MetricRead => ({ id: `${input}_${m.id}`, namespace: 'AWS/MediaConnect', name: m.name, stat: m.stat, dimensions })),
          { id: `${input}_uptime`, namespace: 'AWS/MediaConnect', name: 'SourceUptime', stat: 'Maximum', dimensions },
        ];
      }),
    );
    const now = this.now().getTime();
    const period = (this.cfg.periodSeconds ?? 60) * 1000;
    for (const input of inputs) {
      const uptime = values[`${input}_uptime`];
      const periodStart = at[`${input}_uptime`];
      // The uptime's maximum is the one at the end of its period (it only grows while connected).
      const since = uptime !== undefined && uptime > 0 && periodStart ? new Date(Math.min(now, periodStart.getTime() + period) - Math.round(uptime) * 1000) : null;
      out[input] = { ...figuresOf(values, `${input}_`), connectedSince: since ? since.toISOString() : null };
    }
    return out;
  }

  private async readChannelMetrics(channelId: string): Promise<ChannelMetrics | null> {
    const channel = { ChannelId: channelId, Pipeline: '0' };
    const { values, newestAt } = await this.newest([
      { id: 'networkout', namespace: 'AWS/MediaLive', name: 'NetworkOut', stat: 'Average', dimensions: channel },
      { id: 'dropped', namespace: 'AWS/MediaLive', name: 'DroppedFrames', stat: 'Sum', dimensions: channel },
      { id: 'fps', namespace: 'AWS/MediaLive', name: 'OutputVideoFrameRate', stat: 'Average', dimensions: { ...channel, OutputName: RTMP_OUTPUT } },
      { id: 'active', namespace: 'AWS/MediaLive', name: 'ActiveOutputs', stat: 'Minimum', dimensions: { ...channel, OutputGroupName: RTMP_OUTPUT } },
    ]);
    if (newestAt === null) return null;
    return {
      // NetworkOut is in megabits per second; nothing leaves while the RTMP output is not active.
      bitrateKbps: values.networkout === undefined ? null : values.active === 0 ? 0 : Math.round(values.networkout * 1000),
      fps: values.fps ?? null,
      frames: null,
      droppedFrames: values.dropped === undefined ? null : Math.round(values.dropped),
      duplicatedFrames: null,
      speed: null,
      uptimeSeconds: null,
      restarts: null,
      bytesSent: null,
      attempt: null,
      nextRetryAt: null,
      updatedAt: newestAt.toISOString(),
    };
  }

  /** The newest datapoint of each metric in the window (one GetMetricData call, paged), its timestamp, and the newest timestamp among them. */
  private async newest(reads: MetricRead[]): Promise<{ values: Record<string, number | undefined>; at: Record<string, Date | undefined>; newestAt: Date | null }> {
    const end = this.now();
    const period = this.cfg.periodSeconds ?? 60;
    const start = new Date(end.getTime() - (this.cfg.windowSeconds ?? 300) * 1000);
    const queries: MetricDataQuery[] = reads.map((r) => ({
      Id: r.id,
      MetricStat: {
        Metric: { Namespace: r.namespace, MetricName: r.name, Dimensions: Object.entries(r.dimensions).map(([Name, Value]) => ({ Name, Value })) },
        Period: period,
        Stat: r.stat,
      },
      ReturnData: true,
    }));
    const values: Record<string, number | undefined> = {};
    const stamps: Record<string, Date | undefined> = {};
    let newestAt: Date | null = null;
    let NextToken: string | undefined;
    do {
      const out = await this.d.cloudwatch.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampDescending', ...(NextToken ? { NextToken } : {}) }));
      for (const r of out.MetricDataResults ?? []) {
        const at = r.Timestamps?.[0];
        if (!r.Id || values[r.Id] !== undefined || at === undefined || r.Values?.[0] === undefined) continue;
        values[r.Id] = r.Values[0];
        stamps[r.Id] = new Date(at);
        if (!newestAt || at > newestAt) newestAt = new Date(at);
      }
      NextToken = out.NextToken;
    } while (NextToken && reads.some((r) => values[r.id] === undefined));
    return { values, at: stamps, newestAt };
  }
}
