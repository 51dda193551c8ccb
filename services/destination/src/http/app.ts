/**
 * The destination service's HTTP API (the paths of the original plan), built with Hono and
 * @hono/zod-openapi: the same app serves the local runtime (Node server) and Lambda (API Gateway
 * v2 adapter). Its routes live in route groups (routes/: destinations, flow, catalogue, admin,
 * system, the event stream), each with its definitions and its handlers; the OpenAPI 3.1 document
 * is generated from those definitions (openapi.ts). Every error leaves through one handler as
 * `application/problem+json` with a stable `code`.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { assertAccessDeclared, installApiBasics, requireAccess, validationHook } from '../../../../shared/http/api-kit.ts';
import type { ApiDeps } from './api-deps.ts';
import { openApiDocument } from './openapi.ts';
import { mountAdminRoutes } from './routes/admin.ts';
import { mountCatalogRoutes } from './routes/catalog.ts';
import type { Env } from './routes/common.ts';
import { mountDestinationRoutes } from './routes/destinations.ts';
import { mountEventStream } from './routes/events.ts';
import { mountFlowRoutes } from './routes/flow.ts';
import { mountSystemRoutes } from './routes/system.ts';

export { MAX_BODY_BYTES } from '../../../../shared/http/api-kit.ts';
export type { ApiDeps } from './api-deps.ts';
export { openApiDocument, type OpenApiFragment } from './openapi.ts';

export function createApp(deps: ApiDeps): OpenAPIHono<Env> {
  const app = new OpenAPIHono<Env>({ defaultHook: validationHook });
  installApiBasics(app, { logger: deps.logger, auth: deps.auth, ...(deps.observeRequest ? { observe: deps.observeRequest } : {}) });

  mountDestinationRoutes(app, deps);
  mountFlowRoutes(app, deps);
  mountCatalogRoutes(app, deps);
  mountAdminRoutes(app, deps);
  mountSystemRoutes(app, deps);

  // Built once, at the first request for it: ~7 ms of CPU that a flood of requests for it would
  // otherwise spend on the event loop the RTMP fan-out shares.
  let openApiJson: string | undefined;
  app.get('/api/openapi.json', requireAccess('public'), (c) => {
    openApiJson ??= JSON.stringify(openApiDocument(deps.version, deps.openApiExtra));
    return c.body(openApiJson, 200, { 'content-type': 'application/json' });
  });

  mountEventStream(app, deps);

  assertAccessDeclared(app);
  return app;
}
