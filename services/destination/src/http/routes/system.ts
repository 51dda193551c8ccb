/** Health (the store and the runtime's own checks) and the primary HLS output's files. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { apiRoute, problemResponses, requireAccess } from '../../../../../shared/http/api-kit.ts';
import type { ApiDeps } from '../api-deps.ts';
import { serveHls } from '../hls.ts';
import * as s from '../schemas.ts';
import { json, type Env } from './common.ts';

export const systemRoutes = {
  health: apiRoute({ access: 'public', method: 'get', path: '/api/health', tags: ['system'], summary: 'Liveness and dependency checks', responses: { 200: json(s.HealthSchema, 'Healthy'), 503: json(s.HealthSchema, 'Degraded') } }),
  session: apiRoute({
    access: 'session',
    method: 'get',
    path: '/api/session',
    tags: ['system'],
    summary: "The calling token's own identity and role (any valid token: a client learns what it may call without trying)",
    responses: { 200: json(s.SessionSchema, 'The token'), ...problemResponses },
  }),
};

export function mountSystemRoutes(app: OpenAPIHono<Env>, deps: ApiDeps): void {
  app.openapi(systemRoutes.health, async (c) => {
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
  });

  app.openapi(systemRoutes.session, (c) => {
    const { tokenId, name, role } = c.get('principal');
    return c.json({ tokenId, name, role }, 200);
  });

  if (deps.hlsDir) app.get('/hls/*', requireAccess('public'), serveHls(deps.hlsDir));
}
