/**
 * The Lambda entries of flow-output (serverless.yml: flowOutputInbox, flowOutputReconcile). Builds
 * FlowOutputDeps from configuration, once per container and only on the first invocation:
 * DynamoDB, EventBridge and the AWS media engine (MediaConnect, MediaLive).
 */
import { config, type Config } from '../../config/index.ts';
import { createLogger } from '../../logging/logger.ts';
import type { FlowOutputDeps } from '../../../services/flow-output/src/deps.ts';
import { createInboxHandler } from '../../../services/flow-output/src/handlers/inbox.ts';
import { createReconcileHandler } from '../../../services/flow-output/src/handlers/reconcile.ts';
import { SERVICE_NAME } from '../../../services/flow-output/src/module.ts';
import type { AwsEngineDeps } from '../../engines/aws/index.ts';
import { awsPublisher, awsStore, lazyHandler, once, requireSettings } from './base.ts';
import { createAwsEngine, ENGINE_SETTINGS } from './engine.ts';

/** flow-output's dependencies on AWS, from configuration (`engineDeps`: clients of the tests' own). */
export function flowOutputDepsFromConfig(cfg: Config, engineDeps?: AwsEngineDeps): FlowOutputDeps {
  requireSettings(cfg, ENGINE_SETTINGS);
  return { config: cfg, ...awsStore(cfg), publisher: awsPublisher(cfg), log: createLogger(SERVICE_NAME), flow: createAwsEngine(cfg, engineDeps) };
}

export function flowOutputLambdas(deps: () => FlowOutputDeps) {
  return {
    inbox: lazyHandler(() => createInboxHandler(deps())),
    reconcile: lazyHandler(() => createReconcileHandler(deps())),
  };
}

export const { inbox, reconcile } = flowOutputLambdas(once(() => flowOutputDepsFromConfig(config())));
