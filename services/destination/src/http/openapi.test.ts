/**
 * The OpenAPI document comes from the route definitions (openapi.ts), and it describes exactly what
 * the app serves: every route the app mounts is in the document with its method, and nothing in
 * the document is missing from the app. The served copy is built once (at the first request), not
 * per request: building it costs milliseconds of CPU on the event loop the RTMP fan-out shares.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import type { TokenStore } from '../../../../shared/auth/tokens.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import { createApp, type ApiDeps } from './app.ts';
import { openApiDocument } from './openapi.ts';

const app = () =>
  createApp({
    logger: createLogger('openapi-test'),
    auth: new ApiAuth({ tokens: { onRevoked: () => undefined } as unknown as TokenStore, requestsPerMinute: 60, failuresPerMinute: 60 }),
    version: 'test',
    hlsDir: '/nonexistent',
  } as unknown as ApiDeps);

test('the served OpenAPI document is the one generated from the route definitions, built once', async () => {
  const a = app();
  const bodies = [];
  for (let i = 0; i < 5; i++) {
    const res = await a.request('http://fanout.test/api/openapi.json');
    assert.equal(res.status, 200);
    bodies.push(await res.text());
  }
  assert.equal(new Set(bodies).size, 1);
  assert.equal(bodies[0], JSON.stringify(openApiDocument('test')));
  assert.equal((JSON.parse(bodies[0]!) as { openapi: string }).openapi, '3.1.0');
});

test('the document is built at the first request only, not per request (a flood of it would cost CPU the fan-out shares)', async () => {
  let builds = 0;
  // A fragment every build reads once: the count of builds.
  const counting = {
    get paths() {
      builds++;
      return {};
    },
  };
  const a = createApp({
    logger: createLogger('openapi-test'),
    auth: new ApiAuth({ tokens: { onRevoked: () => undefined } as unknown as TokenStore, requestsPerMinute: 60, failuresPerMinute: 60 }),
    version: 'test',
    hlsDir: '/nonexistent',
    openApiExtra: [counting],
  } as unknown as ApiDeps);
  assert.equal(builds, 0, 'not built before it is asked for');
  for (let i = 0; i < 20; i++) assert.equal((await a.request('http://fanout.test/api/openapi.json')).status, 200);
  assert.equal(builds, 1);
});

test('the document and the app agree: every API route the app serves is described, and nothing else', () => {
  const doc = openApiDocument('test');
  const described = new Set(Object.entries(doc.paths ?? {}).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`)));
  const served = new Set(
    app()
      .routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'))
      .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`),
  );
  assert.ok(served.size >= 27, `${served.size} routes`);
  assert.deepEqual(
    [...served].filter((r) => !described.has(r)),
    [],
    'served but not described',
  );
  assert.deepEqual(
    [...described].filter((r) => !served.has(r)),
    [],
    'described but not served',
  );
});
