/**
 * The shared HTTP kit on its own: an app with a route that declares no access is refused when it
 * is built; the access check runs on the matched route whatever the spelling; the client address
 * (peer, X-Forwarded-For only with trusted hops, IPv6 by /64); a framework's 4xx stays a 4xx.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiAuth } from '../auth/api-auth.ts';
import type { Principal, TokenStore } from '../auth/tokens.ts';
import { portError } from '../engines/port/errors.ts';
import { createLogger } from '../logging/logger.ts';
import { apiRoute, assertAccessDeclared, clientAddress, clientError, installApiBasics, requireAccess, type ApiEnv } from './api-kit.ts';

const logger = createLogger('api-kit-test');
/** A token store that knows one operator token, without a database. */
const oneOperator = { authenticate: async (t: string): Promise<Principal | null> => (t === 'op-token' ? { tokenId: 'op', name: 'op', role: 'operator' } : null), remembered: () => undefined } as unknown as TokenStore;
const auth = () => new ApiAuth({ tokens: oneOperator, requestsPerMinute: 1000, failuresPerMinute: 1000 });

describe('access declared on routes', () => {
  test('building an app with a route that declares no access fails', () => {
    const app = new OpenAPIHono<ApiEnv>();
    installApiBasics(app, { logger, auth: auth() });
    app.get('/api/declared', requireAccess('operator'), (c) => c.text('ok'));
    assertAccessDeclared(app);
    app.get('/api/forgotten', (c) => c.text('open to anyone'));
    assert.throws(() => assertAccessDeclared(app), /GET \/api\/forgotten/);
  });

  test('the check is on the route: an operator is refused an admin route however the path is spelled', async () => {
    const app = new OpenAPIHono<ApiEnv>();
    installApiBasics(app, { logger, auth: auth() });
    app.openapi(apiRoute({ access: 'admin', method: 'get', path: '/api/admin/things', responses: { 200: { description: 'ok' } } }), (c) => c.text('secret', 200));
    assertAccessDeclared(app);
    for (const path of ['/api/admin/things', '/api/%61dmin/things', '/api/%61%64min/%74hings', '/api/x/../admin/things', '/api/./admin/things']) {
      const res = await app.request(`http://fanout.test${path}`, { headers: { authorization: 'Bearer op-token' } });
      assert.ok([403, 404].includes(res.status), `${path}: ${res.status}`);
      assert.notEqual(await res.text(), 'secret');
    }
  });
});

describe('client address', () => {
  const at = async (env: unknown, headers: Record<string, string>, hops: number) => {
    const app = new Hono();
    app.get('/', (c) => c.text(clientAddress(c, hops)));
    return (await app.request('http://x/', { headers }, env)).text();
  };
  const node = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });
  const lambda = (sourceIp: string) => ({ requestContext: { http: { sourceIp } } });

  test('the peer: the socket locally, API Gateway’s sourceIp on Lambda; X-Forwarded-For ignored without trusted hops', async () => {
    assert.equal(await at(node('::ffff:127.0.0.1'), { 'x-forwarded-for': '198.51.100.7' }, 0), '127.0.0.1');
    assert.equal(await at(lambda('203.0.113.9'), { 'x-forwarded-for': '198.51.100.7' }, 0), '203.0.113.9');
    assert.equal(await at(node('2001:db8:aa:bb:1:2:3:4'), {}, 0), '2001:db8:aa:bb::/64');
    assert.equal(await at(undefined, {}, 0), 'unknown');
  });

  test('with trusted hops: the entry that many from the right; a malformed one falls back to the peer', async () => {
    assert.equal(await at(node('10.0.0.1'), { 'x-forwarded-for': 'spoofed, 198.51.100.7' }, 1), '198.51.100.7');
    assert.equal(await at(node('10.0.0.1'), { 'x-forwarded-for': '198.51.100.7, 10.0.0.2' }, 2), '198.51.100.7');
    assert.equal(await at(node('10.0.0.1'), { 'x-forwarded-for': 'not-an-address' }, 1), '10.0.0.1');
    assert.equal(await at(node('10.0.0.1'), {}, 1), '10.0.0.1');
  });
});

test("a framework's client errors keep their 4xx; its 5xx and other errors are ours", () => {
  assert.equal(clientError(new HTTPException(415, { message: 'Unsupported Media Type' }))?.code, 'UNSUPPORTED_MEDIA_TYPE');
  assert.equal(clientError(new HTTPException(400, { message: 'Malformed JSON in request body' }))?.code, 'MALFORMED_JSON');
  assert.equal(clientError(new HTTPException(405))?.code, 'METHOD_NOT_ALLOWED');
  assert.equal(clientError(new HTTPException(418))?.code, 'MALFORMED_REQUEST');
  assert.equal(clientError(new HTTPException(500)), null);
  assert.equal(clientError(new TypeError('a bug')), null);
});

test('an engine that cannot answer now is 503 ENGINE_UNAVAILABLE (with its code); any other engine error is ours (INTERNAL)', () => {
  const throttled = clientError(portError('ENGINE_UNAVAILABLE', 'MediaLive ListChannels failed transiently', { details: { awsCode: 'TooManyRequestsException' } }));
  assert.equal(throttled?.code, 'ENGINE_UNAVAILABLE');
  assert.equal(throttled?.status, 503);
  assert.deepEqual(throttled?.extra, { engineCode: 'ENGINE_UNAVAILABLE' });
  assert.equal(clientError(portError('CHANNEL_NOT_IDLE', 'cannot delete channel 1 while it is RUNNING')), null);
});
