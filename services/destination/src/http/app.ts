/**
 * The destination service's HTTP API (the paths of the original plan), built with Hono and
 * @hono/zod-openapi: the same app serves the local runtime (Node server) and Lambda (API Gateway
 * v2 adapter), and generates its own OpenAPI 3.1 document from the schemas that validate requests.
 * Every error leaves through one handler as `application/problem+json` with a stable `code`.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import { generateToken } from '../../../../shared/auth/tokens.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { CatalogService } from '../app/catalog-service.ts';
import type { DestinationService, RequestContext } from '../app/destination-service.ts';
import { toView } from '../domain/destination.ts';
import type { Platform } from '../domain/platforms.ts';
import { orderForPlatform, type Preset } from '../domain/presets.ts';
import type { CatalogRepository } from '../store/catalog-repository.ts';
import type { DestinationRepository } from '../store/destination-repository.ts';
import type { SystemStore } from '../store/system-store.ts';
import * as s from './schemas.ts';
import type { SseHub } from './sse-hub.ts';
import { serveHls } from './hls.ts';
import { apiRoute, assertAccessDeclared, installApiBasics, problemResponse, problemResponses, requireAccess, validationHook, type ApiEnv, type RequestObserver } from '../../../../shared/http/api-kit.ts';
import type { ChannelMetrics, InputHealth } from '../../../../shared/engines/port/ports.ts';

export { MAX_BODY_BYTES } from '../../../../shared/http/api-kit.ts';


export interface ApiDeps {
  service: DestinationService;
  catalog: CatalogService;
  destinations: DestinationRepository;
  presets: CatalogRepository<Preset>;
  platforms: CatalogRepository<Platform>;
  system: SystemStore;
  /** The process's one authentication (token store, rate limits): shared/auth/api-auth.ts. */
  auth: ApiAuth;
  logger: Logger;
  runtime: string;
  version: string;
  /** The live event stream; absent where the runtime cannot stream (API Gateway buffers responses). */
  sse?: SseHub;
  ssePingMs?: number;
  /** Event streams one token may hold open (FANOUT_SSE_STREAMS_PER_TOKEN; default 20). */
  sseStreamsPerToken?: number;
  /**
   * Per-destination metrics: live from the media engine when it runs in this process, from
   * CloudWatch on AWS (shared/engines/aws/metrics-reader.ts).
   */
  metrics?: (d: { destinationId: string; mediaLiveChannelId: string | null }) => ChannelMetrics | null | Promise<ChannelMetrics | null>;
  /** The contribution input's health, from the engine (flow-output's source). */
  inputHealth?: () => Promise<InputHealth>;
  /** Where the primary HLS output is written (served at /hls/primary/index.m3u8). */
  hlsDir?: string;
  /** The engine's processes (local engine), commands redacted. */
  processes?: () => unknown[];
  /** Told of every answered request (request metrics, by route pattern). */
  observeRequest?: RequestObserver;
  /** Extra health checks (e.g. the media engine). */
  health?: () => Promise<Record<string, string>>;
  /**
   * OpenAPI documents of other services' routes on the same HTTP API (channel-provisioner's), merged
   * into /api/openapi.json by the composition root: this service never imports another.
   */
  openApiExtra?: OpenApiFragment[];
}

/** The parts of another OpenAPI document that are merged (paths, component schemas, tags). */
export interface OpenApiFragment {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> };
}

type Env = ApiEnv;

const p404 = { 404: problemResponse('Not found') } as const;
const p409 = { 409: problemResponse('Conflict') } as const;
const p422 = { 422: problemResponse('Semantically invalid') } as const;
const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = <T>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });

export function createApp(deps: ApiDeps): OpenAPIHono<Env> {
  const app = new OpenAPIHono<Env>({ defaultHook: validationHook });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  installApiBasics(app, { logger: deps.logger, auth: deps.auth, ...(deps.observeRequest ? { observe: deps.observeRequest } : {}) });

  const ctx = (c: Context<Env>): RequestContext => ({ correlationId: c.get('correlationId'), principalId: c.get('principal').tokenId });

  // ---- destinations -----------------------------------------------------------------------

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'post',
      path: '/api/destinations',
      tags: ['destinations'],
      summary: 'Add a destination (its flow output and channel are created on demand, via events)',
      request: {
        ...body(s.CreateDestinationSchema),
        headers: s.IdempotencyHeaderSchema,
      },
      responses: { 201: json(s.DestinationSchema, 'Created (or replayed for the same Idempotency-Key)'), ...problemResponses, ...p422 },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const { record, replayed } = await deps.service.create(input, ctx(c), key);
      if (replayed) c.header('idempotent-replayed', 'true');
      c.header('location', `/api/destinations/${record.destinationId}`);
      return c.json(toView(record), 201);
    },
  );

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/destinations',
      tags: ['destinations'],
      summary: 'List destinations with their live status (all of them, or a page with ?limit=&cursor=)',
      request: { query: s.DestinationListQuerySchema },
      responses: { 200: json(s.DestinationListSchema, 'All destinations, or one page in creation order'), ...problemResponses },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      if (limit === undefined) {
        if (cursor !== undefined) throw new AppError('VALIDATION_FAILED', 'cursor: send it with limit.', { errors: [{ path: 'cursor', message: 'send it with limit' }] });
        // Exactly what it always was (dashboards read it): the whole list, no paging members.
        return c.json({ destinations: (await deps.destinations.list()).map(toView) }, 200);
      }
      const page = await deps.destinations.page(limit, cursor);
      return c.json({ destinations: page.items.map(toView), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/destinations/{id}',
      tags: ['destinations'],
      summary: 'Get one destination',
      request: { params: s.IdParamSchema },
      responses: { 200: json(s.DestinationSchema, 'The destination'), ...problemResponses, ...p404 },
    }),
    async (c) => c.json(toView(await deps.destinations.require(c.req.valid('param').id)), 200),
  );

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'put',
      path: '/api/destinations/{id}',
      tags: ['destinations'],
      summary: 'Update name, rtmpUrl, streamKey or preset (a running channel is updated by the engine)',
      request: { params: s.IdParamSchema, ...body(s.UpdateDestinationSchema) },
      responses: { 200: json(s.DestinationSchema, 'Updated'), ...problemResponses, ...p404, ...p409, ...p422 },
    }),
    async (c) => c.json(toView(await deps.service.update(c.req.valid('param').id, c.req.valid('json'), ctx(c))), 200),
  );

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'delete',
      path: '/api/destinations/{id}',
      tags: ['destinations'],
      summary: 'Remove a destination and every resource made for it (asynchronous: status becomes deleting)',
      request: { params: s.IdParamSchema },
      responses: { 202: json(s.DestinationSchema, 'Deletion under way'), ...problemResponses, ...p404, ...p409 },
    }),
    async (c) => c.json(toView(await deps.service.delete(c.req.valid('param').id, ctx(c))), 202),
  );

  for (const action of ['start', 'stop'] as const) {
    app.openapi(
      apiRoute({
        access: 'operator',
        method: 'post',
        path: `/api/destinations/{id}/${action}`,
        tags: ['destinations'],
        summary: action === 'start' ? 'Go live (202 at once; the status follows by events)' : 'Stop (202 at once; the status follows by events)',
        request: { params: s.IdParamSchema },
        responses: { 202: json(s.DestinationSchema, 'Accepted'), ...problemResponses, ...p404, ...p409 },
      }),
      async (c) => c.json(toView(await deps.service[action](c.req.valid('param').id, ctx(c))), 202),
    );
  }

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/destinations/{id}/metrics',
      tags: ['destinations'],
      summary: "The destination's live metrics (bitrate, fps, frames, drops, uptime, restarts)",
      request: { params: s.IdParamSchema },
      responses: { 200: json(s.MetricsSchema, 'Metrics'), ...problemResponses, ...p404 },
    }),
    async (c) => {
      const d = await deps.destinations.require(c.req.valid('param').id);
      return c.json({ destinationId: d.destinationId, status: d.status, metrics: (await deps.metrics?.(d)) ?? null }, 200);
    },
  );

  // ---- flow ---------------------------------------------------------------------------------

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/mediaconnect/flow/status',
      tags: ['flow'],
      summary: 'The contribution flow as flow-output last reported it (UNKNOWN until it has)',
      responses: { 200: json(s.FlowStatusSchema, 'Flow status'), ...problemResponses },
    }),
    async (c) => {
      const f = await deps.system.getFlowStatus();
      return c.json(
        f
          ? { state: f.state, flowArn: f.flowArn, sourceConnected: f.sourceConnected, sourceAddress: f.sourceAddress, connectedSince: f.connectedSince, outputs: f.outputs, primary: f.primary ?? null, updatedAt: f.updatedAt }
          : { state: 'UNKNOWN', flowArn: null, sourceConnected: null, sourceAddress: null, connectedSince: null, outputs: null, primary: null, updatedAt: null },
        200,
      );
    },
  );

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/mediaconnect/inputs/health',
      tags: ['flow'],
      summary: 'Health of the contribution input: connected, source address, since, bitrate in, loss, retransmits, RTT',
      responses: { 200: json(s.InputHealthSchema, 'Input health'), ...problemResponses, 503: { description: 'No engine', content: { 'application/problem+json': { schema: s.ProblemSchema } } } },
    }),
    async (c) => {
      if (!deps.inputHealth) throw new AppError('ENGINE_UNAVAILABLE', 'No media engine runs in this process.');
      return c.json(await deps.inputHealth(), 200);
    },
  );

  // ---- presets (operators' read-only view) ---------------------------------------------------

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/presets',
      tags: ['presets'],
      summary: "Presets for a platform: the platform's own first, then generic ones",
      request: { query: s.PresetQuerySchema },
      responses: { 200: json(s.PresetListSchema, 'Presets'), ...problemResponses },
    }),
    async (c) => {
      const platform = c.req.valid('query').platform;
      const all = await deps.presets.list();
      // `?platform=` with no value is the same as no filter: all of them.
      return c.json({ presets: platform ? orderForPlatform(all, platform) : all.sort((a, b) => a.platform.localeCompare(b.platform) || a.name.localeCompare(b.name)) }, 200);
    },
  );

  // ---- platforms (operators' read-only view) -------------------------------------------------

  const listPlatforms = async () => (await deps.platforms.list()).sort((a, b) => Number(b.builtIn) - Number(a.builtIn) || a.name.localeCompare(b.name));

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/platforms',
      tags: ['platforms'],
      summary: 'The platforms destinations can use (ingest URLs, limits): built-in first, then by name',
      responses: { 200: json(s.PlatformListSchema, 'Platforms'), ...problemResponses },
    }),
    async (c) => c.json({ platforms: await listPlatforms() }, 200),
  );

  // ---- admin: platforms ----------------------------------------------------------------------

  app.openapi(
    apiRoute({ access: 'admin', method: 'get', path: '/api/admin/platforms', tags: ['admin'], summary: 'List platforms', responses: { 200: json(s.PlatformListSchema, 'Platforms'), ...problemResponses } }),
    async (c) => c.json({ platforms: await listPlatforms() }, 200),
  );
  app.openapi(
    apiRoute({ access: 'admin', method: 'post', path: '/api/admin/platforms', tags: ['admin'], summary: 'Add a platform', request: body(s.PlatformInputSchema), responses: { 201: json(s.PlatformSchema, 'Created'), ...problemResponses, ...p409 } }),
    async (c) => c.json(await deps.catalog.createPlatform(c.req.valid('json')), 201),
  );
  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'put',
      path: '/api/admin/platforms/{id}',
      tags: ['admin'],
      summary: "Update a platform (override a built-in's ingest URLs or limits)",
      request: { params: s.PlatformIdParamSchema, ...body(s.PlatformInputSchema) },
      responses: { 200: json(s.PlatformSchema, 'Updated'), ...problemResponses, ...p404, ...p409, ...p422 },
    }),
    async (c) => c.json(await deps.catalog.updatePlatform(c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'delete',
      path: '/api/admin/platforms/{id}',
      tags: ['admin'],
      summary: 'Delete a platform nothing uses',
      request: { params: s.PlatformIdParamSchema },
      responses: { 204: { description: 'Deleted' }, ...problemResponses, ...p404, ...p409 },
    }),
    async (c) => {
      await deps.catalog.deletePlatform(c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  // ---- admin: presets ------------------------------------------------------------------------

  app.openapi(
    apiRoute({ access: 'admin', method: 'get', path: '/api/admin/presets', tags: ['admin'], summary: 'List all presets', responses: { 200: json(s.PresetListSchema, 'Presets'), ...problemResponses } }),
    async (c) => c.json({ presets: (await deps.presets.list()).sort((a, b) => a.platform.localeCompare(b.platform) || a.name.localeCompare(b.name)) }, 200),
  );
  app.openapi(
    apiRoute({ access: 'admin', method: 'post', path: '/api/admin/presets', tags: ['admin'], summary: 'Add a preset', request: body(s.PresetInputSchema), responses: { 201: json(s.PresetSchema, 'Created'), ...problemResponses, ...p409, ...p422 } }),
    async (c) => c.json(await deps.catalog.createPreset(c.req.valid('json')), 201),
  );
  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'put',
      path: '/api/admin/presets/{id}',
      tags: ['admin'],
      summary: 'Update a preset',
      request: { params: s.PresetIdParamSchema, ...body(s.PresetInputSchema) },
      responses: { 200: json(s.PresetSchema, 'Updated'), ...problemResponses, ...p404, ...p409, ...p422 },
    }),
    async (c) => c.json(await deps.catalog.updatePreset(c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'delete',
      path: '/api/admin/presets/{id}',
      tags: ['admin'],
      summary: 'Delete a preset no destination uses',
      request: { params: s.PresetIdParamSchema },
      responses: { 204: { description: 'Deleted' }, ...problemResponses, ...p404, ...p409 },
    }),
    async (c) => {
      await deps.catalog.deletePreset(c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'get',
      path: '/api/admin/engine/processes',
      tags: ['admin'],
      summary: "The local media engine's processes: role, pid, state, restarts, last error, command (secrets redacted)",
      responses: { 200: json(s.EngineProcessListSchema, 'Processes'), ...problemResponses },
    }),
    async (c) => {
      if (!deps.processes) throw new AppError('ENGINE_UNAVAILABLE', 'No local media engine runs in this process.');
      return c.json({ processes: deps.processes() as never[] }, 200);
    },
  );

  // ---- admin: tokens ---------------------------------------------------------------------------

  app.openapi(
    apiRoute({ access: 'admin', method: 'get', path: '/api/admin/tokens', tags: ['admin'], summary: 'List API tokens (never their values)', responses: { 200: json(s.TokenListSchema, 'Tokens'), ...problemResponses } }),
    async (c) => c.json({ tokens: (await deps.auth.tokens.list()).map(({ tokenId, name, role, createdAt }) => ({ tokenId, name, role, createdAt })) }, 200),
  );
  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'post',
      path: '/api/admin/tokens',
      tags: ['admin'],
      summary: 'Create a token (e.g. for an operator); its value is shown once',
      request: body(s.TokenInputSchema),
      responses: { 201: json(s.NewTokenSchema, 'Created'), ...problemResponses },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const token = generateToken();
      const rec = await deps.auth.tokens.put(token, input);
      if (!rec) throw new AppError('INTERNAL', 'Token collision; retry.');
      c.header('cache-control', 'no-store');
      return c.json({ tokenId: rec.tokenId, name: rec.name, role: rec.role, createdAt: rec.createdAt, token: token.reveal() }, 201);
    },
  );
  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'delete',
      path: '/api/admin/tokens/{id}',
      tags: ['admin'],
      summary: 'Revoke a token',
      request: { params: s.TokenIdParamSchema },
      responses: { 204: { description: 'Revoked' }, ...problemResponses, ...p404 },
    }),
    async (c) => {
      await deps.auth.tokens.revoke(c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  // ---- health, contract, live events -----------------------------------------------------------

  app.openapi(
    apiRoute({ access: 'public', method: 'get', path: '/api/health', tags: ['system'], summary: 'Liveness and dependency checks', responses: { 200: json(s.HealthSchema, 'Healthy'), 503: json(s.HealthSchema, 'Degraded') } }),
    async (c) => {
      const checks: Record<string, string> = {};
      try {
        await deps.presets.get('passthrough');
        checks.store = 'ok';
      } catch {
        checks.store = 'unavailable';
      }
      Object.assign(checks, (await deps.health?.()) ?? {});
      const ok = Object.values(checks).every((v) => v === 'ok' || v.startsWith('ok'));
      return c.json({ status: ok ? ('ok' as const) : ('degraded' as const), version: deps.version, runtime: deps.runtime, checks }, ok ? 200 : 503);
    },
  );

  if (deps.hlsDir) app.get('/hls/*', requireAccess('public'), serveHls(deps.hlsDir));

  // Built once, at the first request (every route is registered by then): ~7 ms of CPU that a
  // flood of requests for it would otherwise spend on the event loop the RTMP fan-out shares.
  let openApiJson: string | undefined;
  app.get('/api/openapi.json', requireAccess('public'), (c) =>
    c.body((openApiJson ??= JSON.stringify(openApiDocument(app, deps.version, deps.openApiExtra))), 200, { 'content-type': 'application/json' }),
  );

  // A revoked token's open streams end at once (the store tells every listener of a revocation).
  if (deps.sse) {
    const hub = deps.sse;
    deps.auth.tokens.onRevoked((tokenId) => hub.closeToken(tokenId));
  }

  app.get('/api/events', requireAccess('operator', { queryToken: true }), async (c) => {
    const hub = deps.sse;
    if (!hub) throw new AppError('SSE_UNAVAILABLE', 'This runtime cannot stream events; poll GET /api/destinations.');
    // HEAD: the headers only. (Hono answers HEAD with the GET handler and drops the body: a stream
    // opened here would never see its client go, and would hold one of the token's places for good.)
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    const max = deps.sseStreamsPerToken ?? 20;
    const resumeFrom = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    const queue: { id: string; event: string; data: unknown }[] = [];
    let wake: (() => void) | undefined;
    let ended: string | undefined;
    // Held from here (before the response starts), so the bound holds however fast streams are opened.
    const held = hub.open(
      c.get('principal').tokenId,
      max,
      (e) => {
        queue.push(e);
        wake?.();
      },
      (reason) => {
        ended = reason;
        wake?.();
      },
    );
    if (!held) throw new AppError('TOO_MANY_STREAMS', `This token already holds ${max} open event streams (the most one token may hold).`, { maxStreams: max });
    c.header('cache-control', 'no-store');
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      let closed = false;
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      try {
        const missed = hub.since(resumeFrom);
        if (missed === null) await stream.writeSSE({ event: 'reset', data: JSON.stringify({ reason: 'cannot resume from that id; reload the list' }) });
        else queue.unshift(...missed);
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ at: new Date().toISOString() }) });
        const pingMs = deps.ssePingMs ?? 15_000;
        while (!closed && ended === undefined) {
          while (queue.length > 0 && !closed && ended === undefined) {
            const e = queue.shift()!;
            await stream.writeSSE({ ...(e.id ? { id: e.id } : {}), event: e.event, data: JSON.stringify(e.data) });
          }
          if (closed || ended !== undefined) break;
          const timedOut = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(true), pingMs);
            wake = () => {
              clearTimeout(t);
              resolve(false);
            };
          });
          wake = undefined;
          if (timedOut && !closed && ended === undefined) await stream.writeSSE({ event: 'ping', data: JSON.stringify({ at: new Date().toISOString() }) });
        }
        if (ended !== undefined && !closed) await stream.writeSSE({ event: 'closed', data: JSON.stringify({ reason: ended }) });
      } finally {
        held.close();
      }
    });
  });

  assertAccessDeclared(app);
  return app;
}

/** The OpenAPI 3.1 document of the API (also written to contracts/openapi.json). */
export function openApiDocument(app: OpenAPIHono<Env>, version: string, extra: OpenApiFragment[] = []): ReturnType<OpenAPIHono<Env>['getOpenAPI31Document']> {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Fanout destination API',
      version,
      description:
        'One live feed in, every platform out. Errors are application/problem+json with a stable `code` (docs/errors.md). ' +
        'GET /api/events is a server-sent event stream (status changes, with ids, Last-Event-ID resume and pings). ' +
        "Each operation's `security` names who may call it: `bearer: [\"admin\"]` admins only, `bearer: []` any valid token (operators and admins), none: anyone (docs/security.md).",
    },
    servers: [{ url: '/' }],
  });
  doc.paths ??= {};
  doc.paths['/api/openapi.json'] = { get: { tags: ['system'], summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1 document' } } } };
  doc.paths['/api/events'] = {
    get: {
      tags: ['system'],
      summary: 'Server-sent events: destination.created/updated/status/deleted and flow.status, with ids; destination.metrics and input.health live; resume with Last-Event-ID; ping every 15 s; `reset` when resuming is not possible',
      security: [{ bearer: [] }],
      description: [
        'Events (the `event:` field; `data:` is JSON):',
        '- `ready` first, on every connection: the stream is open (read the lists now).',
        '- `destination.created`, `destination.updated`, `destination.status` (`from`, `to`, `desired`, `lastError`, `aggregateVersion`), `destination.deleted`: from the destination events, with ids (resumable).',
        '- `flow.status`: the contribution flow changed state or its source connected/disconnected (FlowStateChanged: `state`, `sourceConnected`, `sourceAddress`, `connectedSince`, `outputs`, `primary`), with an id.',
        '- `destination.metrics`: every 2 s per running channel (`destinationId` and the fields of GET /api/destinations/{id}/metrics); no id, not replayed.',
        '- `input.health`: every 2 s, the contribution input (the body of GET /api/mediaconnect/inputs/health); no id, not replayed.',
        '- `ping` every 15 s; `reset` when Last-Event-ID cannot be resumed (another process, or too old): read the lists again.',
        'Send the token as `Authorization: Bearer` (fetch-based clients; it stays out of URLs and logs) or, for EventSource, as `?access_token=`.',
      ].join('\n'),
      parameters: [
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        { name: 'access_token', in: 'query', required: false, description: 'For EventSource clients, which cannot send headers', schema: { type: 'string' } },
      ],
      responses: {
        '200': { description: 'An event stream; `closed` (with a reason) when the server ends it, e.g. because the token was revoked', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '401': { description: 'Missing or invalid token', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
        '429': { description: 'Rate limited, or the token already holds the most open streams (TOO_MANY_STREAMS)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    },
  };
  for (const fragment of extra) {
    Object.assign(doc.paths, fragment.paths ?? {});
    doc.components ??= {};
    doc.components.schemas = { ...(fragment.components?.schemas as object), ...doc.components.schemas } as typeof doc.components.schemas;
  }
  return doc;
}
