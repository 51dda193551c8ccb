/**
 * Authentication of the whole HTTP API, one instance per process (the runtime builds it with
 * `apiAuthFor` and hands it to the services): the one token store, the one per-token rate
 * limiter and the one per-address limit on failed authentications, shared by every service's
 * routes (the destination API and channel-provisioner's). In the local runtime that means a
 * revocation is seen by every route at once and a token's request budget is one budget,
 * whichever service answers; on AWS each Lambda instance has its own (docs/security.md).
 *
 * What a route needs is declared on the route (shared/http/api-kit.ts `apiRoute`); this decides
 * whether a request meets it, in this order:
 *   1. an address over its failed-authentication budget gets AUTH_RATE_LIMITED without a lookup
 *      (unless the token is one this store has just verified: a valid token is not locked out by
 *      a neighbour guessing on the same address);
 *   2. no token, or a wrong one: UNAUTHENTICATED, and the address is charged one failure (into
 *      debt if need be: concurrent guesses that all passed step 1 are paid for afterwards, so
 *      the limit holds however many requests an attacker keeps in flight);
 *   3. a valid token past its request budget: RATE_LIMITED;
 *   4. a role the route does not admit: FORBIDDEN (an admin route with an operator token; any
 *      route but the metrics endpoint with a metrics token; the metrics endpoint with an
 *      operator token).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { RateLimiter } from './rate-limit.ts';
import { TokenStore, type Principal, type Role } from './tokens.ts';

/**
 * Who may call a route: anyone; operators and admins; admins only; the metrics scraper
 * (`metrics` tokens) and admins; or any valid token (`session`: only GET /api/session, which
 * tells a client its own role so it never calls a route its token may not read). A `metrics`
 * token is read-only and good for nothing else.
 */
export type Access = 'public' | 'operator' | 'admin' | 'metrics' | 'session';

/** The roles each access admits (docs/security.md, "Roles"). */
const ADMITS: Record<Exclude<Access, 'public'>, readonly Role[]> = {
  operator: ['operator', 'admin'],
  admin: ['admin'],
  metrics: ['metrics', 'admin'],
  session: ['admin', 'operator', 'metrics'],
};

export interface ApiAuthOptions {
  tokens: TokenStore;
  /** Requests per token per minute. */
  requestsPerMinute: number;
  /** Failed authentications per client address per minute. */
  failuresPerMinute: number;
  /** Proxies in front that append to X-Forwarded-For (0: the header is ignored). */
  trustedProxyHops?: number;
  now?: () => number;
}

export class ApiAuth {
  readonly tokens: TokenStore;
  readonly trustedProxyHops: number;
  /** One bucket per token id, whichever route or service the request is for. */
  readonly requests: RateLimiter;
  /** One bucket per client address, spent only by failed authentications. */
  readonly failures: RateLimiter;

  constructor(o: ApiAuthOptions) {
    this.tokens = o.tokens;
    this.trustedProxyHops = o.trustedProxyHops ?? 0;
    this.requests = new RateLimiter(o.requestsPerMinute, o.now ? { now: o.now } : {});
    this.failures = new RateLimiter(o.failuresPerMinute, o.now ? { now: o.now } : {});
  }

  /** The principal allowed to make a request that needs `access` (not `public`), or the AppError that refuses it. */
  async authenticate(request: { token: string | undefined; clientAddress: string }, access: Exclude<Access, 'public'>): Promise<Principal> {
    const { token, clientAddress } = request;
    const locked = this.failures.peek(clientAddress);
    if (locked > 0 && !(token && this.tokens.remembered(token)))
      throw new AppError('AUTH_RATE_LIMITED', `Too many failed authentications from this address; retry in ${locked} s.`, { retryAfterSeconds: locked }, { 'retry-after': String(locked) });
    if (!token) {
      this.failures.charge(clientAddress);
      throw new AppError('UNAUTHENTICATED', 'Send Authorization: Bearer <token>.', {}, { 'www-authenticate': 'Bearer' });
    }
    const principal = await this.tokens.authenticate(token);
    if (!principal) {
      this.failures.charge(clientAddress);
      throw new AppError('UNAUTHENTICATED', 'The token is not valid.', {}, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    const wait = this.requests.take(principal.tokenId);
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many requests for this token; retry in ${wait} s.`, { retryAfterSeconds: wait }, { 'retry-after': String(wait) });
    if (!ADMITS[access].includes(principal.role))
      throw new AppError('FORBIDDEN', principal.role === 'metrics' ? 'A metrics token may only read GET /metrics.' : access === 'admin' ? 'This endpoint is for admins.' : 'This endpoint is for metrics tokens and admins.');
    return principal;
  }
}

/** How long the local runtime remembers a verified token (revocations reach its one store at once). */
const LOCAL_POSITIVE_CACHE_MS = 30_000;

/**
 * The process's ApiAuth, from its store and settings. Each runtime builds one per process (on AWS
 * one per Lambda container, in the local runtime one for every service's routes) and hands it to
 * the services that serve HTTP.
 */
export function apiAuthFor(store: { doc: DynamoDBDocumentClient }, cfg: Config): ApiAuth {
  return new ApiAuth({
    // AWS: no cache across requests. Another Lambda instance may have revoked the token a moment
    // ago, and nothing can tell this one; a lookup per request is one DynamoDB GetItem.
    tokens: new TokenStore(store.doc, cfg.tableTokens, { positiveCacheMs: cfg.runtime === 'local' ? LOCAL_POSITIVE_CACHE_MS : 0 }),
    requestsPerMinute: cfg.rateLimitPerMinute,
    failuresPerMinute: cfg.authFailuresPerMinute,
    trustedProxyHops: cfg.trustedProxyHops,
  });
}
