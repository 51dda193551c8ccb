/**
 * The notifier's admin API, a Hono (zod-openapi) app of its own like channel-provisioner's: on AWS
 * the `notifierApi` function serves `/api/admin/notifications/*` of the same HTTP API; the local
 * runtime sends those paths here. Every route is for admins (declared on the route, ADR 0012).
 *
 *   GET    /api/admin/notifications/channels               the delivery channels (targets masked)
 *   POST   /api/admin/notifications/channels               add one (a webhook's signing secret shown once)
 *   GET    /api/admin/notifications/channels/{channelId}
 *   PUT    /api/admin/notifications/channels/{channelId}   name, URL, enabled, alert types, least severity
 *   DELETE /api/admin/notifications/channels/{channelId}
 *   POST   /api/admin/notifications/channels/{channelId}/test   send a test message now
 *   GET    /api/admin/notifications/deliveries             the last deliveries with their outcome
 *   GET    /api/admin/notifications/alerts                 the alert types, and what fires now
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import { apiRoute, assertAccessDeclared, installApiBasics, problemResponse, problemResponses, validationHook, type ApiEnv } from '../../../../shared/http/api-kit.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { Notifier } from '../app/notifier.ts';
import * as s from './schemas.ts';

export interface NotifierApiDeps {
  notifier: Notifier;
  auth: ApiAuth;
  logger: Logger;
}

const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = <T>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const TAGS = ['notifications'];
const notFound = problemResponse('No such channel (NOTIFICATION_CHANNEL_NOT_FOUND)');

export function createNotifierApp(deps: NotifierApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  installApiBasics(app, { logger: deps.logger, auth: deps.auth });
  const n = () => deps.notifier;

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'get',
      path: '/api/admin/notifications/channels',
      tags: TAGS,
      summary: 'Admins: the notification channels (Slack, SNS, webhook, log), targets masked.',
      responses: { 200: json(s.ChannelListSchema, 'The channels'), ...problemResponses },
    }),
    async (c) => c.json({ channels: await n().listChannels() }, 200),
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'post',
      path: '/api/admin/notifications/channels',
      tags: TAGS,
      summary: "Admins: add a channel. The URL is stored encrypted and shown masked from now on; a webhook channel's signing secret is in this answer only.",
      request: body(s.CreateChannelSchema),
      responses: { 201: json(s.CreatedChannelSchema, 'The channel (and a webhook signing secret, once)'), ...problemResponses, 422: problemResponse('NOTIFICATION_CHANNEL_INVALID or EGRESS_REFUSED') },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(
        await n().createChannel({
          name: b.name,
          kind: b.kind,
          ...(b.url !== undefined ? { url: b.url } : {}),
          ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
          ...(b.alertNames !== undefined ? { alertNames: b.alertNames } : {}),
          ...(b.minSeverity !== undefined ? { minSeverity: b.minSeverity } : {}),
        }),
        201,
      );
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'get',
      path: '/api/admin/notifications/channels/{channelId}',
      tags: TAGS,
      summary: 'Admins: one channel.',
      request: { params: s.ChannelParamsSchema },
      responses: { 200: json(s.ChannelSchema, 'The channel'), ...problemResponses, 404: notFound },
    }),
    async (c) => c.json(await n().getChannel(c.req.valid('param').channelId), 200),
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'put',
      path: '/api/admin/notifications/channels/{channelId}',
      tags: TAGS,
      summary: 'Admins: change a channel (name, URL, enabled, the alert types it gets, the least severity).',
      request: { params: s.ChannelParamsSchema, ...body(s.UpdateChannelSchema) },
      responses: { 200: json(s.ChannelSchema, 'The channel'), ...problemResponses, 404: notFound, 409: problemResponse('VERSION_CONFLICT'), 422: problemResponse('NOTIFICATION_CHANNEL_INVALID or EGRESS_REFUSED') },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const patch = Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
      return c.json(await n().updateChannel(c.req.valid('param').channelId, patch), 200);
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'delete',
      path: '/api/admin/notifications/channels/{channelId}',
      tags: TAGS,
      summary: 'Admins: remove a channel (and what waits in its queue).',
      request: { params: s.ChannelParamsSchema },
      responses: { 204: { description: 'Removed' }, ...problemResponses, 404: notFound },
    }),
    async (c) => {
      await n().deleteChannel(c.req.valid('param').channelId);
      return c.body(null, 204);
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'post',
      path: '/api/admin/notifications/channels/{channelId}/test',
      tags: TAGS,
      summary: 'Admins: send a test message to the channel now (one attempt, recorded like any delivery; disabled channels too).',
      request: { params: s.ChannelParamsSchema },
      responses: { 200: json(s.DeliverySchema, 'What happened: outcome sent or failed, with the HTTP status and error'), ...problemResponses, 404: notFound },
    }),
    async (c) => c.json(await n().test(c.req.valid('param').channelId, c.get('principal').tokenId), 200),
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'get',
      path: '/api/admin/notifications/deliveries',
      tags: TAGS,
      summary: 'Admins: the last deliveries, newest first, with their outcome.',
      request: { query: s.DeliveryQuerySchema },
      responses: { 200: json(s.DeliveryListSchema, 'Deliveries'), ...problemResponses },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json({ deliveries: await n().deliveries(q.limit, q.channelId) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'get',
      path: '/api/admin/notifications/alerts',
      tags: TAGS,
      summary: 'Admins: the alert types a channel can choose from, and the alerts firing now.',
      responses: { 200: json(s.AlertsSchema, 'Alert types and firing alerts'), ...problemResponses },
    }),
    async (c) => {
      const a = await n().alerts();
      return c.json({ alertNames: [...a.alertNames], severities: [...a.severities], firing: a.firing }, 200);
    },
  );

  assertAccessDeclared(app);
  return app;
}

export const NOTIFIER_API_VERSION = '0.1.0';

/** This API's part of the OpenAPI document (merged into contracts/openapi.json). */
export function notifierOpenApiDocument(app: OpenAPIHono<ApiEnv> = createNotifierApp({} as NotifierApiDeps)) {
  return app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Fanout notifier API', version: NOTIFIER_API_VERSION } });
}
