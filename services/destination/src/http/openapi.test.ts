/**
 * The served OpenAPI document is built once (at the first request), not per request: building it
 * costs milliseconds of CPU on the event loop the RTMP fan-out shares, and anyone may ask for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import type { TokenStore } from '../../../../shared/auth/tokens.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import { createApp, type ApiDeps } from './app.ts';

test('the destination API builds its OpenAPI document once, not per request', async () => {
  const app = createApp({ logger: createLogger('openapi-test'), auth: new ApiAuth({ tokens: {} as TokenStore, requestsPerMinute: 60, failuresPerMinute: 60 }), version: 'test' } as unknown as ApiDeps);
  let built = 0;
  const original = app.getOpenAPI31Document.bind(app);
  app.getOpenAPI31Document = ((...args: Parameters<typeof original>) => (built++, original(...args))) as typeof original;
  const bodies = [];
  for (let i = 0; i < 5; i++) {
    const res = await app.request('http://fanout.test/api/openapi.json');
    assert.equal(res.status, 200);
    bodies.push(await res.text());
  }
  assert.equal(built, 1);
  assert.equal(new Set(bodies).size, 1);
  assert.equal((JSON.parse(bodies[0]!) as { openapi: string }).openapi, '3.1.0');
});
