/** channel-provisioner in the local runtime: its deps from the local infrastructure, its handlers by Lambda export name. */
import { createLogger } from '../../../logging/logger.ts';
import type { ChannelProvisionerDeps } from '../../../../services/channel-provisioner/src/deps.ts';
import { createApiHandler } from '../../../../services/channel-provisioner/src/handlers/api.ts';
import { createInboxHandler } from '../../../../services/channel-provisioner/src/handlers/inbox.ts';
import { createReconcileHandler } from '../../../../services/channel-provisioner/src/handlers/reconcile.ts';
import { channelOpenApiFragment } from '../../../../services/channel-provisioner/src/http/openapi.ts';
import { SERVICE_NAME } from '../../../../services/channel-provisioner/src/module.ts';
import { defineLocalService, requireEngine } from './local-service.ts';

export const channelProvisioner = defineLocalService<ChannelProvisionerDeps>({
  deps: (infra) => {
    const engine = requireEngine(infra, SERVICE_NAME);
    return {
      config: infra.config,
      dynamo: infra.dynamo,
      doc: infra.doc,
      publisher: infra.publisher,
      cipher: infra.cipher,
      auth: infra.auth,
      log: createLogger(SERVICE_NAME),
      channel: engine,
      flow: engine,
      ...(infra.observeRequest ? { observeRequest: infra.observeRequest } : {}),
    };
  },
  handlers: { api: createApiHandler, inbox: createInboxHandler, reconcile: createReconcileHandler },
  needsEngine: true,
  openApi: () => channelOpenApiFragment(),
  atStart: ['channelReconcile'],
});
