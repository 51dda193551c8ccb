/**
 * The destination API (the Hono app of http/app.ts) from the service's dependencies. The AWS
 * runtime serves it through API Gateway's adapter (shared/runtimes/aws/destination.ts), the local
 * one from its Node server; both build it with this factory.
 */
import type { DestinationDeps } from '../deps.ts';
import { createApp } from '../http/app.ts';
import { destinationModule, VERSION } from '../module.ts';

export function createApiHandler(deps: DestinationDeps) {
  const m = destinationModule(deps);
  return createApp({
    service: m.service,
    catalog: m.catalog,
    destinations: m.destinations,
    presets: m.presets,
    platforms: m.platforms,
    system: m.system,
    auth: deps.auth,
    sseStreamsPerToken: deps.config.sseStreamsPerToken,
    logger: deps.log,
    runtime: deps.config.runtime,
    version: VERSION,
    ...deps.live,
  });
}
