/** Scheduled reconcile of the flow and its outputs (and at local start-up). */
import { randomUUID } from 'node:crypto';
import type { FlowOutputDeps } from '../deps.ts';
import { flowOutputService } from '../module.ts';

export function createReconcileHandler(deps: FlowOutputDeps) {
  return async (): Promise<{ added: number; removed: number }> => flowOutputService(deps).reconcile(`reconcile-${randomUUID()}`);
}
