/**
 * The notifier's admin API as a Hono app (`/api/admin/notifications/*`): the Lambda entry wraps it
 * with Hono's API Gateway adapter, the local runtime mounts it on its HTTP server.
 */
import type { NotifierDeps } from '../deps.ts';
import { createNotifierApp } from '../http/app.ts';
import { notifierFor } from './notifier.ts';

export function createApiHandler(deps: NotifierDeps) {
  return createNotifierApp({ notifier: notifierFor(deps), auth: deps.auth, logger: deps.log });
}
