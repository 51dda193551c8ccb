/** Scheduled reconcile of channels against the wanted state (and at local start-up). */
import { randomUUID } from 'node:crypto';
import type { ChannelProvisionerDeps } from '../deps.ts';
import { channelProvisionerModule } from '../module.ts';

export function createReconcileHandler(deps: ChannelProvisionerDeps) {
  return async () => channelProvisionerModule(deps).service.reconcile(`reconcile-${randomUUID()}`);
}
