/**
 * The AWS runtime's supply of what the destination API reads from the media services, which only
 * the local runtime supplied before (issue 12 item 8): the contribution input's health
 * (GET /api/mediaconnect/inputs/health) and each destination's metrics
 * (GET /api/destinations/{id}/metrics), both from `AwsMetricsReader` (shared/engines/aws/:
 * MediaConnect DescribeFlow and DescribeFlowSourceMetadata, CloudWatch GetMetricData over
 * MediaLive's and MediaConnect's metrics). Built once per Lambda container, on first use, with only
 * the two clients it needs (no MediaLive client, no engine). The api function's IAM role allows
 * exactly these calls (serverless.yml ApiRole: FlowHealthRead, MediaMetricsRead).
 *
 * Input redundancy (issue 15, ADR 0024): `inputs` is the AWS engine's InputRedundancy over
 * MediaConnect (AwsInputRedundancy: DescribeFlow, DescribeFlowSourceMetadata,
 * ListTagsForResource, UpdateFlow, TagResource on the flow; ApiRole FlowHealthRead and
 * FlowInputSwitch), with the reader's per-source CloudWatch figures in its health (GetMetricData
 * by SourceARN; ApiRole MediaMetricsRead). Built without a sink: the API records its switches on the flow and
 * flow-output's reconcile reports them as InputSwitched (aws-inputs.ts "Who reports").
 *
 * The destination service's Lambda entry (./destination.ts) puts `awsDestinationReaders()` in
 * the API's live deps.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { MediaConnectClient } from '@aws-sdk/client-mediaconnect';
import { config, type Config } from '../../config/index.ts';
import { AwsInputRedundancy, AwsMetricsReader } from '../../engines/aws/readers.ts';
import type { ChannelMetrics, InputHealth, InputRedundancy } from '../../engines/port/ports.ts';
import { createLogger } from '../../logging/logger.ts';

export interface DestinationReaders {
  metrics: (d: { mediaLiveChannelId: string | null }) => Promise<ChannelMetrics | null>;
  inputHealth: () => Promise<InputHealth>;
  /** Main and backup input: MediaConnect source failover on the flow. */
  inputs: InputRedundancy;
}

let cached: DestinationReaders | undefined;

/** The readers from configuration (FANOUT_MEDIACONNECT_FLOW_ARN, AWS_REGION); `deps` replaces the clients (tests). */
export function createDestinationReaders(cfg: Config, deps?: ConstructorParameters<typeof AwsMetricsReader>[1]): DestinationReaders {
  if (!cfg.mediaConnectFlowArn) throw new Error('The aws runtime needs FANOUT_MEDIACONNECT_FLOW_ARN (serverless.yml sets it from the stack).');
  const log = createLogger('destination');
  const clients = deps ?? {
    cloudwatch: new CloudWatchClient({ region: cfg.awsRegion, maxAttempts: 3 }),
    mediaconnect: new MediaConnectClient({ region: cfg.awsRegion, maxAttempts: 3 }),
    log: { warn: (m: string, a?: Record<string, unknown>) => log.warn(m, a ?? {}) },
  };
  const reader = new AwsMetricsReader({ flowArn: cfg.mediaConnectFlowArn }, clients);
  // The same reader gives each input's figures (one cache for the container): CloudWatch by source ARN.
  const inputs = new AwsInputRedundancy({ flowArn: cfg.mediaConnectFlowArn }, { mediaconnect: clients.mediaconnect, metrics: reader, ...(clients.log ? { log: clients.log } : {}) });
  return {
    metrics: async (d) => (d.mediaLiveChannelId ? reader.channelMetrics(d.mediaLiveChannelId) : null),
    inputHealth: () => reader.inputHealth(),
    inputs,
  };
}

/**
 * The container's readers, built on first use of any: a function deployed without the flow ARN
 * fails only these routes (with the reason in the log), never the whole API.
 */
export function awsDestinationReaders(): DestinationReaders {
  const readers = () => (cached ??= createDestinationReaders(config()));
  return {
    metrics: (d) => readers().metrics(d),
    inputHealth: () => readers().inputHealth(),
    inputs: {
      inputsHealth: () => readers().inputs.inputsHealth(),
      switchInput: (to) => readers().inputs.switchInput(to),
      testBackupInput: () => readers().inputs.testBackupInput(),
      setFailover: (s) => readers().inputs.setFailover(s),
    },
  };
}

/** Forgets the container's readers (tests). */
export function resetDestinationReaders(): void {
  cached = undefined;
}
