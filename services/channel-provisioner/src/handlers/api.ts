/**
 * channel-provisioner's HTTP API (GET /api/channels/validate, POST /api/channels/cleanup) from the
 * service's dependencies, checking tokens with the ApiAuth it is given (in the local runtime the
 * destination API's too: one token store, one budget). The AWS runtime serves it through API
 * Gateway's adapter (shared/runtimes/aws/channel-provisioner.ts), the local one from its Node server.
 */
import type { ChannelProvisionerDeps } from '../deps.ts';
import { createChannelApp } from '../http/app.ts';
import { channelProvisionerModule } from '../module.ts';

export function createApiHandler(deps: ChannelProvisionerDeps) {
  return createChannelApp({ orphans: channelProvisionerModule(deps).orphans, auth: deps.auth, logger: deps.log, ...(deps.observeRequest ? { observeRequest: deps.observeRequest } : {}) });
}
