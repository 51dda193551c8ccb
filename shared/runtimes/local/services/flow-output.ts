/** flow-output in the local runtime: its deps from the local infrastructure, its handlers by Lambda export name. */
import { createLogger } from '../../../logging/logger.ts';
import type { FlowOutputDeps } from '../../../../services/flow-output/src/deps.ts';
import { createInboxHandler } from '../../../../services/flow-output/src/handlers/inbox.ts';
import { createReconcileHandler } from '../../../../services/flow-output/src/handlers/reconcile.ts';
import { SERVICE_NAME } from '../../../../services/flow-output/src/module.ts';
import { defineLocalService, requireEngine } from './local-service.ts';

export const flowOutput = defineLocalService<FlowOutputDeps>({
  deps: (infra) => ({
    config: infra.config,
    dynamo: infra.dynamo,
    doc: infra.doc,
    publisher: infra.publisher,
    log: createLogger(SERVICE_NAME),
    flow: requireEngine(infra, SERVICE_NAME),
  }),
  handlers: { inbox: createInboxHandler, reconcile: createReconcileHandler },
  needsEngine: true,
  // Outputs first: channels read from them.
  atStart: ['flowOutputReconcile'],
});
