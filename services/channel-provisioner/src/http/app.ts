/**
 * channel-provisioner's HTTP API: orphan validation (the dry run) and cleanup. A small Hono
 * (zod-openapi) app of its own, so the service that owns channels answers for them without the
 * destination service importing it: on AWS the `channelProvisionerApi` function serves these two
 * routes of the same HTTP API (bearer tokens checked in the app, with the same route-declared access
 * and the same process-wide ApiAuth as the destination API); the
 * local runtime sends `/api/channels/*` here and everything else to the destination API.
 *
 *   GET  /api/channels/validate   operators and admins: orphans + store/engine mismatches, changes nothing
 *   POST /api/channels/cleanup    admins: removes the orphans (all, or `only` the ids given)
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import { assertAccessDeclared, installApiBasics, validationHook, type ApiEnv, type RequestObserver } from '../../../../shared/http/api-kit.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { OrphanCleanup } from '../app/orphan-cleanup.ts';
import { cleanupRoute, validateRoute } from './routes.ts';

export interface ChannelApiDeps {
  orphans: OrphanCleanup;
  /** The process's one authentication (shared/auth/api-auth.ts), the destination API's too. */
  auth: ApiAuth;
  logger: Logger;
  /** Told of every answered request (request metrics). */
  observeRequest?: RequestObserver;
}

export function createChannelApp(deps: ChannelApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  installApiBasics(app, { logger: deps.logger, auth: deps.auth, ...(deps.observeRequest ? { observe: deps.observeRequest } : {}) });

  app.openapi(validateRoute, async (c) => c.json(await deps.orphans.validate(), 200));

  app.openapi(cleanupRoute, async (c) => {
    const hasBody = (c.req.header('content-length') ?? '0') !== '0' || c.req.header('transfer-encoding') !== undefined;
    const body = hasBody ? c.req.valid('json') : {};
    const result = await deps.orphans.cleanup({ ...(body.only ? { only: body.only } : {}), requestedBy: c.get('principal').tokenId, correlationId: c.get('correlationId') });
    return c.json(result, 200);
  });

  assertAccessDeclared(app);
  return app;
}
