/**
 * The Lambda entries of the destination service (serverless.yml: api, destinationInbox,
 * outboxRelay, adminBootstrap). Builds DestinationDeps from configuration, once per container and
 * only on the first invocation: DynamoDB, EventBridge, KMS and the API's authentication; no media
 * engine (the bundle holds no MediaLive or MediaConnect client: test/lambda-bundles.test.ts).
 *
 * The API builds its app on the first request, after seeding the built-in platforms and presets
 * (idempotent, conditional writes); the outbox relay's first run in a container migrates stored
 * records (ADR 0017).
 */
import { apiAuthFor } from '../../auth/api-auth.ts';
import { config, type Config } from '../../config/index.ts';
import { createLogger } from '../../logging/logger.ts';
import type { DestinationDeps } from '../../../services/destination/src/deps.ts';
import { createAdminBootstrapHandler } from '../../../services/destination/src/handlers/admin-bootstrap.ts';
import { createApiHandler } from '../../../services/destination/src/handlers/api.ts';
import { createInboxHandler } from '../../../services/destination/src/handlers/inbox.ts';
import { createOutboxRelayHandler } from '../../../services/destination/src/handlers/outbox-relay.ts';
import { destinationModule, SERVICE_NAME } from '../../../services/destination/src/module.ts';
import { createApiMetrics } from './api-metrics.ts';
import { awsDestinationReaders } from './destination-readers.ts';
import { awsCipher, awsPublisher, awsStore, httpApiHandler, KMS_SETTING, lazyHandler, once, requireSettings } from './base.ts';

/** The destination service's dependencies on AWS, from configuration. */
export function destinationDepsFromConfig(cfg: Config): DestinationDeps {
  requireSettings(cfg, [KMS_SETTING]);
  const store = awsStore(cfg);
  return {
    config: cfg,
    ...store,
    publisher: awsPublisher(cfg),
    cipher: awsCipher(cfg),
    auth: apiAuthFor(store, cfg),
    log: createLogger(SERVICE_NAME),
    // Input health and destination metrics from MediaConnect and CloudWatch (built on first use);
    // each request counted as an EMF metric line (published after each invocation, below).
    live: { ...awsDestinationReaders(), observeRequest: apiMetrics().observeRequest },
  };
}

/** Fanout's own API metrics (EMF), one per container. */
const apiMetrics = once(() => createApiMetrics({ deployment: config().deployment }));

/** The service's Lambda handlers over `deps` (tests give their own: dynalite, a capturing publisher). */
export function destinationLambdas(deps: () => DestinationDeps, o: { afterRequest?: () => void } = {}) {
  return {
    api: httpApiHandler(
      () => createApiHandler(deps()),
      () => destinationModule(deps()).seed(),
      o.afterRequest,
    ),
    inbox: lazyHandler(() => createInboxHandler(deps())),
    outboxRelay: lazyHandler(() => createOutboxRelayHandler(deps())),
    adminBootstrap: lazyHandler(() => createAdminBootstrapHandler(deps())),
  };
}

export const { api, inbox, outboxRelay, adminBootstrap } = destinationLambdas(
  once(() => destinationDepsFromConfig(config())),
  { afterRequest: () => apiMetrics().publish() },
);
