/**
 * Destinations: add, list (a page at a time), get, update, delete, start, stop, metrics. The route
 * definitions (what openapi.ts describes) and the handlers that serve them.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { apiRoute, problemResponses } from '../../../../../shared/http/api-kit.ts';
import { toView } from '../../domain/destination.ts';
import type { ApiDeps } from '../api-deps.ts';
import * as s from '../schemas.ts';
import { body, ctx, json, p404, p409, p422, type Env } from './common.ts';

const action = (name: 'start' | 'stop') =>
  apiRoute({
    access: 'operator',
    method: 'post',
    path: `/api/destinations/{id}/${name}`,
    tags: ['destinations'],
    summary: name === 'start' ? 'Go live (202 at once; the status follows by events)' : 'Stop (202 at once; the status follows by events)',
    request: { params: s.IdParamSchema },
    responses: { 202: json(s.DestinationSchema, 'Accepted'), ...problemResponses, ...p404, ...p409 },
  });

export const destinationRoutes = {
  create: apiRoute({
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
  list: apiRoute({
    access: 'operator',
    method: 'get',
    path: '/api/destinations',
    tags: ['destinations'],
    summary: 'List destinations with their live status, a page at a time in creation order (?limit=&cursor=; follow nextCursor)',
    request: { query: s.DestinationListQuerySchema },
    responses: { 200: json(s.DestinationListSchema, 'One page of destinations in creation order, and the cursor of the next'), ...problemResponses },
  }),
  get: apiRoute({
    access: 'operator',
    method: 'get',
    path: '/api/destinations/{id}',
    tags: ['destinations'],
    summary: 'Get one destination',
    request: { params: s.IdParamSchema },
    responses: { 200: json(s.DestinationSchema, 'The destination'), ...problemResponses, ...p404 },
  }),
  update: apiRoute({
    access: 'operator',
    method: 'put',
    path: '/api/destinations/{id}',
    tags: ['destinations'],
    summary: 'Update name, rtmpUrl, streamKey or preset (a running channel is updated by the engine)',
    request: { params: s.IdParamSchema, ...body(s.UpdateDestinationSchema) },
    responses: { 200: json(s.DestinationSchema, 'Updated'), ...problemResponses, ...p404, ...p409, ...p422 },
  }),
  remove: apiRoute({
    access: 'operator',
    method: 'delete',
    path: '/api/destinations/{id}',
    tags: ['destinations'],
    summary: 'Remove a destination and every resource made for it (asynchronous: status becomes deleting)',
    request: { params: s.IdParamSchema },
    responses: { 202: json(s.DestinationSchema, 'Deletion under way'), ...problemResponses, ...p404, ...p409 },
  }),
  start: action('start'),
  stop: action('stop'),
  metrics: apiRoute({
    access: 'operator',
    method: 'get',
    path: '/api/destinations/{id}/metrics',
    tags: ['destinations'],
    summary: "The destination's live metrics (bitrate, fps, frames, drops, uptime, restarts)",
    request: { params: s.IdParamSchema },
    responses: { 200: json(s.MetricsSchema, 'Metrics'), ...problemResponses, ...p404 },
  }),
};

export function mountDestinationRoutes(app: OpenAPIHono<Env>, deps: ApiDeps): void {
  const r = destinationRoutes;
  app.openapi(r.create, async (c) => {
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const { record, replayed } = await deps.service.create(input, ctx(c), key);
    if (replayed) c.header('idempotent-replayed', 'true');
    c.header('location', `/api/destinations/${record.destinationId}`);
    return c.json(toView(record), 201);
  });

  app.openapi(r.list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    // Always a page (ADR 0025): without `limit`, the default size; clients follow nextCursor.
    const page = await deps.destinations.page(limit ?? s.DEFAULT_LIST_LIMIT, cursor);
    return c.json({ destinations: page.items.map(toView), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(r.get, async (c) => c.json(toView(await deps.destinations.require(c.req.valid('param').id)), 200));

  app.openapi(r.update, async (c) => c.json(toView(await deps.service.update(c.req.valid('param').id, c.req.valid('json'), ctx(c))), 200));

  app.openapi(r.remove, async (c) => c.json(toView(await deps.service.delete(c.req.valid('param').id, ctx(c))), 202));

  app.openapi(r.start, async (c) => c.json(toView(await deps.service.start(c.req.valid('param').id, ctx(c))), 202));
  app.openapi(r.stop, async (c) => c.json(toView(await deps.service.stop(c.req.valid('param').id, ctx(c))), 202));

  app.openapi(r.metrics, async (c) => {
    const d = await deps.destinations.require(c.req.valid('param').id);
    return c.json({ destinationId: d.destinationId, status: d.status, metrics: (await deps.metrics?.(d)) ?? null }, 200);
  });
}
