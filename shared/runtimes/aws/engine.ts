/**
 * The AWS media engine (shared/engines/aws) from the stack's settings, for the entries whose
 * service drives it (flow-output, channel-provisioner). The engine checks the values themselves
 * (flow ARN vs output ARN, the flow's Region vs AWS_REGION, role ARN).
 */
import type { Config } from '../../config/index.ts';
// The production entry only: test support (fake, request capture, model validator) stays out of Lambda bundles.
import { AwsMediaEngine, createAwsClients, type AwsEngineDeps } from '../../engines/aws/index.ts';
import { createLogger } from '../../logging/logger.ts';
import type { RequiredSetting } from './base.ts';

/** Settings the AWS engine cannot run without (serverless.yml sets all of them from the stack). */
export const ENGINE_SETTINGS = [
  ['deployment', 'FANOUT_DEPLOYMENT'],
  ['mediaConnectFlowArn', 'FANOUT_MEDIACONNECT_FLOW_ARN'],
  ['mediaLiveRoleArn', 'FANOUT_MEDIALIVE_ROLE_ARN'],
] as const satisfies readonly RequiredSetting[];

/** The engine (construction only); `requireSettings(cfg, ENGINE_SETTINGS)` first. */
export function createAwsEngine(cfg: Config, engineDeps?: AwsEngineDeps, sink?: AwsEngineDeps['sink']): AwsMediaEngine {
  return new AwsMediaEngine(
    {
      flowArn: cfg.mediaConnectFlowArn!,
      mediaLiveRoleArn: cfg.mediaLiveRoleArn!,
      region: cfg.awsRegion,
      deployment: cfg.deployment!,
      tags: {},
      ...(cfg.primaryChannelId ? { primaryChannelId: cfg.primaryChannelId } : {}),
    },
    engineDeps ?? { ...createAwsClients(cfg.awsRegion), logger: engineLogger(), ...(sink ? { sink } : {}) },
  );
}

/** The engine's log lines, through the project's (secret-scrubbing) logger, created on first use. */
function engineLogger(): NonNullable<AwsEngineDeps['logger']> {
  const log = () => createLogger('media-engine');
  return {
    info: (message, attributes) => log().info(message, attributes ?? {}),
    warn: (message, attributes) => log().warn(message, attributes ?? {}),
  };
}
