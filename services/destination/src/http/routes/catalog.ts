/**
 * The catalogue: presets and platforms, operators' read-only views and admins' edits (validated
 * against platform limits; what is in use cannot be deleted).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { apiRoute, problemResponses } from '../../../../../shared/http/api-kit.ts';
import { orderForPlatform } from '../../domain/presets.ts';
import type { ApiDeps } from '../api-deps.ts';
import * as s from '../schemas.ts';
import { body, json, p404, p409, p422, type Env } from './common.ts';

export const catalogRoutes = {
  // ---- operators' read-only views
  presets: apiRoute({
    access: 'operator',
    method: 'get',
    path: '/api/presets',
    tags: ['presets'],
    summary: "Presets for a platform: the platform's own first, then generic ones",
    request: { query: s.PresetQuerySchema },
    responses: { 200: json(s.PresetListSchema, 'Presets'), ...problemResponses },
  }),
  platforms: apiRoute({
    access: 'operator',
    method: 'get',
    path: '/api/platforms',
    tags: ['platforms'],
    summary: 'The platforms destinations can use (ingest URLs, limits): built-in first, then by name',
    responses: { 200: json(s.PlatformListSchema, 'Platforms'), ...problemResponses },
  }),
  // ---- admin: platforms
  adminPlatforms: apiRoute({ access: 'admin', method: 'get', path: '/api/admin/platforms', tags: ['admin'], summary: 'List platforms', responses: { 200: json(s.PlatformListSchema, 'Platforms'), ...problemResponses } }),
  createPlatform: apiRoute({
    access: 'admin',
    method: 'post',
    path: '/api/admin/platforms',
    tags: ['admin'],
    summary: 'Add a platform',
    request: body(s.PlatformInputSchema),
    responses: { 201: json(s.PlatformSchema, 'Created'), ...problemResponses, ...p409 },
  }),
  updatePlatform: apiRoute({
    access: 'admin',
    method: 'put',
    path: '/api/admin/platforms/{id}',
    tags: ['admin'],
    summary: "Update a platform (override a built-in's ingest URLs or limits)",
    request: { params: s.PlatformIdParamSchema, ...body(s.PlatformInputSchema) },
    responses: { 200: json(s.PlatformSchema, 'Updated'), ...problemResponses, ...p404, ...p409, ...p422 },
  }),
  deletePlatform: apiRoute({
    access: 'admin',
    method: 'delete',
    path: '/api/admin/platforms/{id}',
    tags: ['admin'],
    summary: 'Delete a platform nothing uses',
    request: { params: s.PlatformIdParamSchema },
    responses: { 204: { description: 'Deleted' }, ...problemResponses, ...p404, ...p409 },
  }),
  // ---- admin: presets
  adminPresets: apiRoute({ access: 'admin', method: 'get', path: '/api/admin/presets', tags: ['admin'], summary: 'List all presets', responses: { 200: json(s.PresetListSchema, 'Presets'), ...problemResponses } }),
  createPreset: apiRoute({
    access: 'admin',
    method: 'post',
    path: '/api/admin/presets',
    tags: ['admin'],
    summary: 'Add a preset',
    request: body(s.PresetInputSchema),
    responses: { 201: json(s.PresetSchema, 'Created'), ...problemResponses, ...p409, ...p422 },
  }),
  updatePreset: apiRoute({
    access: 'admin',
    method: 'put',
    path: '/api/admin/presets/{id}',
    tags: ['admin'],
    summary: 'Update a preset',
    request: { params: s.PresetIdParamSchema, ...body(s.PresetInputSchema) },
    responses: { 200: json(s.PresetSchema, 'Updated'), ...problemResponses, ...p404, ...p409, ...p422 },
  }),
  deletePreset: apiRoute({
    access: 'admin',
    method: 'delete',
    path: '/api/admin/presets/{id}',
    tags: ['admin'],
    summary: 'Delete a preset no destination uses',
    request: { params: s.PresetIdParamSchema },
    responses: { 204: { description: 'Deleted' }, ...problemResponses, ...p404, ...p409 },
  }),
};

export function mountCatalogRoutes(app: OpenAPIHono<Env>, deps: ApiDeps): void {
  const r = catalogRoutes;
  const byPlatformThenName = <T extends { platform: string; name: string }>(a: T, b: T) => a.platform.localeCompare(b.platform) || a.name.localeCompare(b.name);
  const listPlatforms = async () => (await deps.platforms.list()).sort((a, b) => Number(b.builtIn) - Number(a.builtIn) || a.name.localeCompare(b.name));

  app.openapi(r.presets, async (c) => {
    const platform = c.req.valid('query').platform;
    const all = await deps.presets.list();
    // `?platform=` with no value is the same as no filter: all of them.
    return c.json({ presets: platform ? orderForPlatform(all, platform) : all.sort(byPlatformThenName) }, 200);
  });
  app.openapi(r.platforms, async (c) => c.json({ platforms: await listPlatforms() }, 200));

  app.openapi(r.adminPlatforms, async (c) => c.json({ platforms: await listPlatforms() }, 200));
  app.openapi(r.createPlatform, async (c) => c.json(await deps.catalog.createPlatform(c.req.valid('json')), 201));
  app.openapi(r.updatePlatform, async (c) => c.json(await deps.catalog.updatePlatform(c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(r.deletePlatform, async (c) => {
    await deps.catalog.deletePlatform(c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(r.adminPresets, async (c) => c.json({ presets: (await deps.presets.list()).sort(byPlatformThenName) }, 200));
  app.openapi(r.createPreset, async (c) => c.json(await deps.catalog.createPreset(c.req.valid('json')), 201));
  app.openapi(r.updatePreset, async (c) => c.json(await deps.catalog.updatePreset(c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(r.deletePreset, async (c) => {
    await deps.catalog.deletePreset(c.req.valid('param').id);
    return c.body(null, 204);
  });
}
