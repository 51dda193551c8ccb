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
import { apiRoute, assertAccessDeclared, installApiBasics, problemResponse, problemResponses, validationHook, type ApiEnv, type RequestObserver } from '../../../../shared/http/api-kit.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { OrphanCleanup } from '../app/orphan-cleanup.ts';
import * as s from './schemas.ts';

export interface ChannelApiDeps {
  orphans: OrphanCleanup;
  /** The process's one authentication (shared/auth/api-auth.ts), the destination API's too. */
  auth: ApiAuth;
  logger: Logger;
  /** Told of every answered request (request metrics). */
  observeRequest?: RequestObserver;
}

const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

export function createChannelApp(deps: ChannelApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  installApiBasics(app, { logger: deps.logger, auth: deps.auth, ...(deps.observeRequest ? { observe: deps.observeRequest } : {}) });

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/channels/validate',
      tags: ['channels'],
      summary: "Orphans (this deployment's channels and inputs/outputs that belong to no destination) and channels whose engine state disagrees with the store. The dry run of cleanup: changes nothing.",
      responses: { 200: json(s.ValidationReportSchema, 'What cleanup would remove, and what reconcile repairs'), ...problemResponses, 503: problemResponse('No media engine') },
    }),
    async (c) => c.json(await deps.orphans.validate(), 200),
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'post',
      path: '/api/channels/cleanup',
      tags: ['channels'],
      summary: 'Admins: remove the orphans validate lists (stop if running → delete channel → delete input / remove output). Each resource is listed with its outcome; OrphanResourcesCleanedUp is published. Idempotent.',
      request: { body: { required: false, content: { 'application/json': { schema: s.CleanupRequestSchema } } } },
      responses: { 200: json(s.CleanupResultSchema, 'What was done to each orphan'), ...problemResponses, 409: problemResponse('An id in `only` is not an orphan (nothing was changed)'), 503: problemResponse('No media engine') },
    }),
    async (c) => {
      const hasBody = (c.req.header('content-length') ?? '0') !== '0' || c.req.header('transfer-encoding') !== undefined;
      const body = hasBody ? c.req.valid('json') : {};
      const result = await deps.orphans.cleanup({ ...(body.only ? { only: body.only } : {}), requestedBy: c.get('principal').tokenId, correlationId: c.get('correlationId') });
      return c.json(result, 200);
    },
  );

  assertAccessDeclared(app);
  return app;
}

/** This API's part of the OpenAPI document (merged into contracts/openapi.json). */
export function channelOpenApiDocument(app: OpenAPIHono<ApiEnv>, version: string) {
  return app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Fanout channel-provisioner API', version } });
}
