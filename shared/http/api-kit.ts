/**
 * What every Fanout HTTP API shares, whichever service serves it: one problem+json error path
 * (AppError → RFC 9457 with the registry's stable code; unknown errors become INTERNAL without
 * their message), request and correlation ids, JSON-only bodies, and bearer-token authentication
 * with roles and per-token rate limits (shared/auth). Used by the destination API and
 * channel-provisioner's.
 */
import { randomUUID } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { RateLimiter } from '../auth/rate-limit.ts';
import type { Principal, Role, TokenStore } from '../auth/tokens.ts';
import { AppError, PROBLEM_CONTENT_TYPE, toProblem } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { z } from './zod.ts';

export type ApiEnv = { Variables: { principal: Principal; requestId: string; correlationId: string } };

export const MAX_BODY_BYTES = 64 * 1024;

export const ProblemSchema = z
  .object({ type: z.string(), title: z.string(), status: z.number().int(), code: z.string(), detail: z.string(), hint: z.string(), instance: z.string().optional() })
  .catchall(z.unknown())
  .openapi('Problem');

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });
export const problemResponses = {
  400: problem('Invalid request'),
  401: problem('Missing or invalid token'),
  403: problem('Role not allowed'),
  429: problem('Rate limited'),
} as const;
export const problemResponse = problem;

/** The validation hook of OpenAPIHono: a failed request schema is VALIDATION_FAILED with each problem listed. */
export function validationHook(result: { success: boolean; error?: unknown }): void {
  if (result.success) return;
  const error = result.error as ZodError;
  const errors = error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message }));
  throw new AppError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

/** onError, notFound, request/correlation ids, body limit and JSON-only bodies on `/api/*`. */
export function installApiBasics(app: OpenAPIHono<ApiEnv>, logger: Logger): void {
  app.onError((err, c) => {
    let appErr: AppError;
    if (err instanceof AppError) appErr = err;
    else if (err instanceof HTTPException && /malformed json/i.test(err.message)) appErr = new AppError('MALFORMED_JSON', 'The body is not valid JSON.');
    else if (err instanceof HTTPException && err.status === 413) appErr = new AppError('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
    else {
      logger.error('unhandled error', { error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err), requestId: c.get('requestId') });
      appErr = new AppError('INTERNAL', 'An unexpected error occurred.');
    }
    return c.body(JSON.stringify(toProblem(appErr, c.get('requestId'))), appErr.status as 400, { 'content-type': PROBLEM_CONTENT_TYPE, ...appErr.headers });
  });
  app.notFound((c) =>
    c.body(JSON.stringify(toProblem(new AppError('ROUTE_NOT_FOUND', `No endpoint ${c.req.method} ${new URL(c.req.url).pathname}.`), c.get('requestId'))), 404, { 'content-type': PROBLEM_CONTENT_TYPE }),
  );
  app.use('*', async (c, next) => {
    const requestId = randomUUID();
    c.set('requestId', requestId);
    const incoming = c.req.header('x-correlation-id');
    c.set('correlationId', incoming && /^[\w.:-]{1,100}$/.test(incoming) ? incoming : requestId);
    await next();
    c.header('x-request-id', requestId);
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
      },
    }),
  );
  app.use('/api/*', async (c, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(c.req.method)) {
      const length = c.req.header('content-length');
      const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
      if (hasBody && !/^application\/(.+\+)?json\b/i.test(c.req.header('content-type') ?? '')) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send a JSON body with Content-Type: application/json.');
    }
    await next();
  });
}

export interface BearerAuthOptions {
  tokens: TokenStore;
  rateLimiter: RateLimiter;
  /** The role a request needs; null = any valid token. */
  roleFor: (method: string, path: string) => Role | null;
  /** Paths served without a token. */
  publicPaths?: ReadonlySet<string>;
  /** Paths that also take `?access_token=` (EventSource cannot send headers). */
  queryTokenPaths?: ReadonlySet<string>;
}

/**
 * Bearer authentication: UNAUTHENTICATED without a valid token, RATE_LIMITED past the token's
 * budget, FORBIDDEN when `roleFor(method, path)` names a role the token does not have.
 */
export function bearerAuth(o: BearerAuthOptions): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (o.publicPaths?.has(path)) return next();
    let token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token && o.queryTokenPaths?.has(path)) token = c.req.query('access_token');
    if (!token) throw new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <token>.', {}, { 'www-authenticate': 'Bearer' });
    const principal = await o.tokens.authenticate(token);
    if (!principal) throw new AppError('UNAUTHENTICATED', 'The token is not valid.', {}, { 'www-authenticate': 'Bearer error="invalid_token"' });
    const wait = o.rateLimiter.take(principal.tokenId);
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many requests for this token; retry in ${wait} s.`, { retryAfterSeconds: wait }, { 'retry-after': String(wait) });
    const needed = o.roleFor(c.req.method, path);
    if (needed === 'admin' && principal.role !== 'admin') throw new AppError('FORBIDDEN', 'This endpoint is for admins.');
    c.set('principal', principal);
    await next();
  };
}
