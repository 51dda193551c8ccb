/**
 * What every Fanout HTTP API shares, whichever service serves it: one problem+json error path
 * (AppError → RFC 9457 with the registry's stable code; a framework's own client errors keep their
 * 4xx; a retryable engine error is ENGINE_UNAVAILABLE; anything else becomes INTERNAL without its message), request and correlation ids, the
 * client's address, JSON-only bodies, and access declared on each route.
 *
 * Access is a property of the route, never of the path string: `apiRoute({ access, ... })` puts
 * the check on the route itself, so it runs exactly when the router has matched that route,
 * however the path was spelled (percent-encoded letters, dot segments, doubled slashes), and
 * `assertAccessDeclared` refuses to build an app with a route that does not declare it. Used by
 * the destination API and channel-provisioner's.
 */
import { randomUUID } from 'node:crypto';
import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { matchedRoutes } from 'hono/route';
import { HTTPException } from 'hono/http-exception';
import ipaddr from 'ipaddr.js';
import type { ZodError } from 'zod';
import type { Access, ApiAuth } from '../auth/api-auth.ts';
import { isRetryable } from '../engines/port/errors.ts';
import type { Principal } from '../auth/tokens.ts';
import { AppError, PROBLEM_CONTENT_TYPE, toProblem, type ErrorCode } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { z } from './zod.ts';

export type { Access } from '../auth/api-auth.ts';

export type ApiEnv = { Variables: { principal: Principal; requestId: string; correlationId: string; clientAddress: string; auth: ApiAuth } };

export const MAX_BODY_BYTES = 64 * 1024;

export const ProblemSchema = z.object({ type: z.string(), title: z.string(), status: z.number().int(), code: z.string(), detail: z.string(), hint: z.string(), instance: z.string().optional() }).catchall(z.unknown()).openapi('Problem');

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

/** Status of a framework's own HTTPException → the registry's code (anything 4xx stays a client error). */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  401: 'UNAUTHENTICATED',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/**
 * What a client sees for an error: an AppError as it is; a framework's HTTPException for a 4xx
 * (a body that is not JSON, a Content-Type its validator refuses, an oversized body) as the
 * matching code, because it was the request that was wrong; anything else is a fault of ours:
 * null, and the caller logs it and answers INTERNAL.
 */
export function clientError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  // An engine that cannot answer now (throttled, 5xx) is a 503 the client may retry; any other
  // engine error reaching a route is a fault of Fanout's (INTERNAL, logged).
  if (isRetryable(err)) return new AppError('ENGINE_UNAVAILABLE', (err as Error).message, { engineCode: (err as { code: string }).code });
  if (!(err instanceof HTTPException) || err.status < 400 || err.status >= 500) return null;
  if (/malformed json/i.test(err.message)) return new AppError('MALFORMED_JSON', 'The body is not valid JSON.');
  if (err.status === 413) return new AppError('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  if (err.status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send a JSON body with Content-Type: application/json.');
  return new AppError(HTTP_EXCEPTION_CODES[err.status] ?? 'MALFORMED_REQUEST', err.message || undefined);
}

/** The problem document of an error as a Response (also for errors raised outside Hono, e.g. by the Node server). */
export function problemAsResponse(err: AppError, requestId?: string): Response {
  return new Response(JSON.stringify(toProblem(err, requestId)), { status: err.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...err.headers } });
}

/** One answered request, for request metrics: `route` is the matched route's pattern, never the raw path. */
export interface ObservedRequest {
  method: string;
  /** The pattern of the route that answered (`/api/destinations/:id`), or `unmatched` when none did. */
  route: string;
  status: number;
  seconds: number;
}
export type RequestObserver = (r: ObservedRequest) => void;

export interface ApiBasicsOptions {
  logger: Logger;
  /** The process's authentication (shared/auth/api-auth.ts); routes declare what they need of it. */
  auth: ApiAuth;
  /** Told of every answered request (the local runtime's `/metrics` latency histogram). */
  observe?: RequestObserver;
}

/**
 * The pattern of the route whose handler answered (the last handler the router dispatched to);
 * `unmatched` when it was middleware (no route matched: the not-found answer). Labels built from
 * this have bounded cardinality, whatever paths clients send.
 */
export function answeringRoute(c: Context): string {
  const r = matchedRoutes(c)[c.req.routeIndex];
  return r && r.method !== 'ALL' ? r.path : 'unmatched';
}

/** onError, notFound, request/correlation ids, the client address, and the body limit on `/api/*`. */
export function installApiBasics(app: OpenAPIHono<ApiEnv>, o: ApiBasicsOptions): void {
  const { logger } = o;
  app.onError((err, c) => {
    let appErr = clientError(err);
    if (!appErr && c.req.raw.signal?.aborted) {
      // The client went away mid-request (its body stream ended with "aborted"): nobody to answer, nothing of ours broke.
      logger.debug('client closed the connection before the request was complete', { requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
      appErr = new AppError('MALFORMED_REQUEST', 'The connection closed before the request was complete.');
    }
    if (!appErr) {
      // Method and path (never the query: it may hold an access_token) say where to look.
      logger.error('unhandled error', { error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err), requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
      appErr = new AppError('INTERNAL', 'An unexpected error occurred.');
    }
    return c.body(JSON.stringify(toProblem(appErr, c.get('requestId'))), appErr.status as 400, { 'content-type': PROBLEM_CONTENT_TYPE, ...appErr.headers });
  });
  app.notFound((c) => c.body(JSON.stringify(toProblem(new AppError('ROUTE_NOT_FOUND', `No endpoint ${c.req.method} ${new URL(c.req.url).pathname}.`), c.get('requestId'))), 404, { 'content-type': PROBLEM_CONTENT_TYPE }));
  app.use('*', async (c, next) => {
    const requestId = randomUUID();
    c.set('requestId', requestId);
    const incoming = c.req.header('x-correlation-id');
    c.set('correlationId', incoming && /^[\w.:-]{1,100}$/.test(incoming) ? incoming : requestId);
    c.set('auth', o.auth);
    c.set('clientAddress', clientAddress(c, o.auth?.trustedProxyHops ?? 0));
    const started = o.observe ? performance.now() : 0;
    await next();
    c.header('x-request-id', requestId);
    o.observe?.({ method: c.req.method, route: answeringRoute(c), status: c.res.status, seconds: (performance.now() - started) / 1000 });
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
}

// ---- access, declared on each route -----------------------------------------------------------

const ACCESS = Symbol('fanout.access');
type AccessMiddleware = MiddlewareHandler<ApiEnv> & { [ACCESS]: Access };

/** `Authorization: Bearer <token>` (case-insensitive scheme), or undefined for anything else. */
function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer[ \t]+([^\s]+)[ \t]*$/i)?.[1];
}

/**
 * The check a route needs, as route middleware: `public` lets anyone through; `operator` needs
 * an operator or admin token; `admin` an admin token; `metrics` a metrics or admin token (ApiAuth.authenticate says which error otherwise).
 * `queryToken` also takes `?access_token=` (EventSource cannot send headers).
 */
export function requireAccess(access: Access, opts: { queryToken?: boolean } = {}): AccessMiddleware {
  const check: MiddlewareHandler<ApiEnv> = async (c, next) => {
    if (access !== 'public') {
      const token = bearerToken(c.req.header('authorization')) ?? (opts.queryToken ? c.req.query('access_token') || undefined : undefined);
      c.set('principal', await c.get('auth').authenticate({ token, clientAddress: c.get('clientAddress') }, access));
    }
    await next();
  };
  return Object.assign(check, { [ACCESS]: access });
}

/** The role a route declares in its OpenAPI `security` (OpenAPI 3.1: role names for non-OAuth schemes). */
function securityFor(access: Access): RouteConfig['security'] {
  if (access === 'public') return [];
  // `session` (any valid token): what operators and admins may call, or a metrics token.
  if (access === 'session') return [{ bearer: [] }, { bearer: ['metrics'] }];
  return [{ bearer: access === 'admin' ? ['admin'] : access === 'metrics' ? ['metrics', 'admin'] : [] }];
}

const JSON_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** A JSON media type with well-formed parameters: what the request validators accept (anything else would be refused later with less to say). */
const JSON_MEDIA_TYPE = /^application\/([a-z.-]+\+)?json(;\s*[a-zA-Z0-9-]+=[^;]+)*$/i;

/** JSON is UTF-8 (RFC 8259): a body that is not is refused rather than read with replacement characters. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bodies are JSON: a body with another (or a malformed) Content-Type is UNSUPPORTED_MEDIA_TYPE,
 * one that is not UTF-8 MALFORMED_JSON. (The body read here is kept for the validator.)
 */
const jsonBodiesOnly: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (JSON_METHODS.has(c.req.method)) {
    const length = c.req.header('content-length');
    const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
    const type = c.req.header('content-type');
    if (hasBody && !JSON_MEDIA_TYPE.test(type ?? ''))
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', type === undefined ? 'Send a JSON body with Content-Type: application/json.' : 'The Content-Type is not a well-formed JSON media type; send Content-Type: application/json.');
    if (hasBody) {
      const bytes = await c.req.arrayBuffer();
      try {
        STRICT_UTF8.decode(bytes);
      } catch {
        throw new AppError('MALFORMED_JSON', 'The body is not valid UTF-8 (JSON must be).');
      }
    }
  }
  await next();
};

/**
 * A route of the API with its access declared: the check runs as the route's first middleware
 * (after the router matched, before validation), and the OpenAPI document states it in `security`.
 */
export function apiRoute<R extends RouteConfig>(r: R & { access: Access }): R {
  const { access, ...route } = r;
  const extra = route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
  return createRoute({ ...route, security: securityFor(access), middleware: [requireAccess(access), jsonBodiesOnly, ...extra] } as unknown as R);
}

/**
 * Refuses an app in which some route does not start with a declared access check (every handler
 * chain Hono registered for a method and path, except `app.use` middleware). Run after the last
 * route is added; a route added without `apiRoute` or `requireAccess` fails at start, not in use.
 */
export function assertAccessDeclared(app: OpenAPIHono<ApiEnv>): void {
  const first = new Map<string, unknown>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    if (!first.has(key)) first.set(key, r.handler);
  }
  const missing = [...first].filter(([, h]) => typeof h !== 'function' || !(ACCESS in h)).map(([k]) => k);
  if (missing.length > 0) throw new Error(`routes without a declared access (use apiRoute or requireAccess): ${missing.join(', ')}`);
}

// ---- the client's address ---------------------------------------------------------------------

/**
 * The address a request came from, as the limit on failed authentications counts it: the peer of
 * the connection (the Node server's socket locally; API Gateway's `requestContext.http.sourceIp`
 * on Lambda), or, with `trustedProxyHops` > 0 only, the entry that many from the right of
 * X-Forwarded-For (the one the outermost trusted proxy saw). IPv4-mapped IPv6 is IPv4; IPv6
 * counts by its /64, which one client usually holds whole.
 */
export function clientAddress(c: Context, trustedProxyHops: number): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } }; requestContext?: { http?: { sourceIp?: string } } } | undefined;
  let address = env?.incoming?.socket?.remoteAddress ?? env?.requestContext?.http?.sourceIp;
  if (trustedProxyHops > 0) {
    const hops = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const forwarded = hops[hops.length - trustedProxyHops];
    if (forwarded && ipaddr.isValid(forwarded)) address = forwarded;
  }
  return normalizeAddress(address);
}

function normalizeAddress(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return 'unknown';
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return ip.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/64`).toString()}/64`;
}
