/** Scheduled reconcile of the flow and its outputs (and at local start-up). */
import { randomUUID } from 'node:crypto';
import { flowOutputService } from '../wiring.ts';

export const handler = async (): Promise<{ added: number; removed: number }> => flowOutputService().reconcile(`reconcile-${randomUUID()}`);
