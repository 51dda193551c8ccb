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
 *   destination   = CloudWatch AWS/MediaLive, dimensions ChannelId + Pipeline 0 (SINGLE_PIPELINE
 *                   channels publish on pipeline 0 only): NetworkOut (Mbps: the bitrate sent),
 *                   DroppedFrames; with OutputName `rtmp` (channel-settings.ts): OutputVideoFrameRate;
 *                   with OutputGroupName `rtmp`: ActiveOutputs (0: the push is not getting through).
 *
 * Each figure is the newest datapoint of the last `windowSeconds` at a `periodSeconds` period;
 * counts (dropped frames, lost packets, retransmits) are the sum over that newest period, not since
 * the start as locally (docs/operations.md says so). A channel with no datapoint at all is not
 * running: null. Answers are kept `cacheMs` (default 30 s) per channel and for the input, so a
 * dashboard that polls does not turn into one GetMetricData per request (CloudWatch bills per
 * metric requested).
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeFlowCommand, DescribeFlowSourceMetadataCommand, type MediaConnectClient } from '@aws-sdk/client-mediaconnect';
import { LRUCache } from 'lru-cache';
import { idleInputHealth } from '../port/input-health.ts';
import type { ChannelMetrics, InputHealth } from '../port/ports.ts';

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
  stat: 'Average' | 'Sum' | 'Minimum';
  dimensions: Record<string, string>;
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
      this.newest([
        { id: 'bitrate', namespace: 'AWS/MediaConnect', name: 'SourceBitRate', stat: 'Average', dimensions: flowDim },
        { id: 'loss', namespace: 'AWS/MediaConnect', name: 'SourcePacketLossPercent', stat: 'Average', dimensions: flowDim },
        { id: 'lost', namespace: 'AWS/MediaConnect', name: 'SourceNotRecoveredPackets', stat: 'Sum', dimensions: flowDim },
        { id: 'arq', namespace: 'AWS/MediaConnect', name: 'SourceARQRequests', stat: 'Sum', dimensions: flowDim },
        { id: 'rtt', namespace: 'AWS/MediaConnect', name: 'SourceRoundTripTime', stat: 'Average', dimensions: flowDim },
      ]),
    ]);
    if (meta) {
      health.connected = (meta.TransportMediaInfo?.Programs?.length ?? 0) > 0;
      // While media arrives, a message naming one source (the idle backup, a lost main the flow failed over from) is that input's (inputsHealth).
      const problem = (meta.Messages ?? []).find((m) => !health.connected || !m.ResourceName);
      if (problem) health.lastError = { code: (problem.Code ?? 'SOURCE_PROBLEM').slice(0, 64), message: (problem.Message ?? '').slice(0, 500), hint: 'Check the contribution encoder (SRT caller, passphrase, allowed CIDR).' };
    }
    const v = figures.values;
    if (v.bitrate !== undefined) health.bitrateInKbps = Math.round(v.bitrate / 1000);
    if (v.loss !== undefined) health.packetLossPercent = v.loss;
    if (v.lost !== undefined) health.packetsLost = Math.round(v.lost);
    if (v.arq !== undefined) health.retransmits = Math.round(v.arq);
    if (v.rtt !== undefined) health.rttMs = v.rtt;
    return health;
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

  /** The newest datapoint of each metric in the window (one GetMetricData call), and the newest timestamp among them. */
  private async newest(reads: MetricRead[]): Promise<{ values: Record<string, number | undefined>; newestAt: Date | null }> {
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
    let newestAt: Date | null = null;
    let NextToken: string | undefined;
    do {
      const out = await this.d.cloudwatch.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampDescending', ...(NextToken ? { NextToken } : {}) }));
      for (const r of out.MetricDataResults ?? []) {
        const at = r.Timestamps?.[0];
        if (!r.Id || values[r.Id] !== undefined || at === undefined || r.Values?.[0] === undefined) continue;
        values[r.Id] = r.Values[0];
        if (!newestAt || at > newestAt) newestAt = new Date(at);
      }
      NextToken = out.NextToken;
    } while (NextToken && reads.some((r) => values[r.id] === undefined));
    return { values, newestAt };
  }
}
