/**
 * The Lambda entries of channel-provisioner (serverless.yml: channelProvisionerApi,
 * channelProvisionerInbox, channelReconcile). Builds ChannelProvisionerDeps from configuration,
 * once per container and only on the first invocation: DynamoDB, EventBridge, KMS, the API's
 * authentication and the AWS media engine (one engine serves both ports).
 */
import { apiAuthFor } from '../../auth/api-auth.ts';
import { config, type Config } from '../../config/index.ts';
import { createLogger } from '../../logging/logger.ts';
import type { ChannelProvisionerDeps } from '../../../services/channel-provisioner/src/deps.ts';
import { createApiHandler } from '../../../services/channel-provisioner/src/handlers/api.ts';
import { createInboxHandler } from '../../../services/channel-provisioner/src/handlers/inbox.ts';
import { createReconcileHandler } from '../../../services/channel-provisioner/src/handlers/reconcile.ts';
import { SERVICE_NAME } from '../../../services/channel-provisioner/src/module.ts';
import type { AwsEngineDeps } from '../../engines/aws/index.ts';
import { awsCipher, awsPublisher, awsStore, httpApiHandler, KMS_SETTING, lazyHandler, once, requireSettings } from './base.ts';
import { createAwsEngine, ENGINE_SETTINGS } from './engine.ts';

/** channel-provisioner's dependencies on AWS, from configuration (`engineDeps`: clients of the tests' own). */
export function channelProvisionerDepsFromConfig(cfg: Config, engineDeps?: AwsEngineDeps): ChannelProvisionerDeps {
  requireSettings(cfg, [KMS_SETTING, ...ENGINE_SETTINGS]);
  const store = awsStore(cfg);
  const engine = createAwsEngine(cfg, engineDeps);
  return {
    config: cfg,
    ...store,
    publisher: awsPublisher(cfg),
    cipher: awsCipher(cfg),
    auth: apiAuthFor(store, cfg),
    log: createLogger(SERVICE_NAME),
    channel: engine,
    flow: engine,
  };
}

export function channelProvisionerLambdas(deps: () => ChannelProvisionerDeps) {
  return {
    api: httpApiHandler(() => createApiHandler(deps())),
    inbox: lazyHandler(() => createInboxHandler(deps())),
    reconcile: lazyHandler(() => createReconcileHandler(deps())),
  };
}

export const { api, inbox, reconcile } = channelProvisionerLambdas(once(() => channelProvisionerDepsFromConfig(config())));
