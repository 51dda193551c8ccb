/** Scheduled reconcile of channels against the wanted state (and at local start-up). */
import { randomUUID } from 'node:crypto';
import { provisioner } from '../wiring.ts';

export const handler = async () => provisioner().reconcile(`reconcile-${randomUUID()}`);
