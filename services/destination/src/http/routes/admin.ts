/** Admins' view of the engine's processes, and API tokens (created shown once, listed without values, revoked). */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { generateToken } from '../../../../../shared/auth/tokens.ts';
import { AppError } from '../../../../../shared/errors/index.ts';
import { apiRoute, problemResponses } from '../../../../../shared/http/api-kit.ts';
import type { ApiDeps } from '../api-deps.ts';
import * as s from '../schemas.ts';
import { body, json, p404, type Env } from './common.ts';

export const adminRoutes = {
  processes: apiRoute({
    access: 'admin',
    method: 'get',
    path: '/api/admin/engine/processes',
    tags: ['admin'],
    summary: "The local media engine's processes: role, pid, state, restarts, last error, command (secrets redacted)",
    responses: { 200: json(s.EngineProcessListSchema, 'Processes'), ...problemResponses },
  }),
  tokens: apiRoute({ access: 'admin', method: 'get', path: '/api/admin/tokens', tags: ['admin'], summary: 'List API tokens (never their values)', responses: { 200: json(s.TokenListSchema, 'Tokens'), ...problemResponses } }),
  createToken: apiRoute({
    access: 'admin',
    method: 'post',
    path: '/api/admin/tokens',
    tags: ['admin'],
    summary: 'Create a token (e.g. for an operator); its value is shown once',
    request: body(s.TokenInputSchema),
    responses: { 201: json(s.NewTokenSchema, 'Created'), ...problemResponses },
  }),
  revokeToken: apiRoute({
    access: 'admin',
    method: 'delete',
    path: '/api/admin/tokens/{id}',
    tags: ['admin'],
    summary: 'Revoke a token',
    request: { params: s.TokenIdParamSchema },
    responses: { 204: { description: 'Revoked' }, ...problemResponses, ...p404 },
  }),
};

export function mountAdminRoutes(app: OpenAPIHono<Env>, deps: ApiDeps): void {
  const r = adminRoutes;
  app.openapi(r.processes, async (c) => {
    if (!deps.processes) throw new AppError('ENGINE_UNAVAILABLE', 'No local media engine runs in this process.');
    return c.json({ processes: deps.processes() as never[] }, 200);
  });

  app.openapi(r.tokens, async (c) => c.json({ tokens: (await deps.auth.tokens.list()).map(({ tokenId, name, role, createdAt }) => ({ tokenId, name, role, createdAt })) }, 200));
  app.openapi(r.createToken, async (c) => {
    const input = c.req.valid('json');
    const token = generateToken();
    const rec = await deps.auth.tokens.put(token, input);
    if (!rec) throw new AppError('INTERNAL', 'Token collision; retry.');
    c.header('cache-control', 'no-store');
    return c.json({ tokenId: rec.tokenId, name: rec.name, role: rec.role, createdAt: rec.createdAt, token: token.reveal() }, 201);
  });
  app.openapi(r.revokeToken, async (c) => {
    await deps.auth.tokens.revoke(c.req.valid('param').id);
    return c.body(null, 204);
  });
}
