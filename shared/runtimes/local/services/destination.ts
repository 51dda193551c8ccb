/**
 * The destination service in the local runtime: its deps from the local infrastructure (with the
 * live parts only an in-process engine can give the API: the event stream, metrics, input health,
 * the HLS directory, the engine's processes, and the other services' routes in the served
 * OpenAPI document), its handlers by Lambda export name.
 */
import { join } from 'node:path';
import { createLogger } from '../../../logging/logger.ts';
import type { DestinationDeps, LiveApiDeps } from '../../../../services/destination/src/deps.ts';
import { createAdminBootstrapHandler } from '../../../../services/destination/src/handlers/admin-bootstrap.ts';
import { createApiHandler } from '../../../../services/destination/src/handlers/api.ts';
import { createInboxHandler } from '../../../../services/destination/src/handlers/inbox.ts';
import { createOutboxRelayHandler } from '../../../../services/destination/src/handlers/outbox-relay.ts';
import { SERVICE_NAME } from '../../../../services/destination/src/module.ts';
import { hasInputRedundancy } from '../../../../services/destination/src/http/input-health.ts';
import { defineLocalService, type LocalInfrastructure } from './local-service.ts';

function live(infra: LocalInfrastructure): LiveApiDeps {
  const engine = infra.engine;
  return {
    sse: infra.sse,
    ...(infra.ssePingMs ? { ssePingMs: infra.ssePingMs } : {}),
    ...(engine
      ? {
          metrics: (d: { mediaLiveChannelId: string | null }) => (d.mediaLiveChannelId ? (engine.channelMetrics?.(d.mediaLiveChannelId) ?? null) : null),
          inputHealth: () => engine.inputHealth(),
          ...(hasInputRedundancy(engine) ? { inputs: engine } : {}),
          hlsDir: join(infra.dataDir, 'hls'),
          ...(engine.processes ? { processes: () => engine.processes!() } : {}),
        }
      : {}),
    openApiExtra: infra.openApiExtra,
    ...(infra.observeRequest ? { observeRequest: infra.observeRequest } : {}),
  };
}

export const destination = defineLocalService<DestinationDeps>({
  deps: (infra) => ({
    config: infra.config,
    dynamo: infra.dynamo,
    doc: infra.doc,
    publisher: infra.publisher,
    cipher: infra.cipher,
    auth: infra.auth,
    log: createLogger(SERVICE_NAME),
    ...(infra.resolveHost ? { resolveHost: infra.resolveHost } : {}),
    live: live(infra),
  }),
  handlers: { api: createApiHandler, inbox: createInboxHandler, outboxRelay: createOutboxRelayHandler, adminBootstrap: createAdminBootstrapHandler },
});
