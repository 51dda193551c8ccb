/**
 * Authentication and authorization at the HTTP edge, against the local runtime's real HTTP server
 * (its dispatch between the destination API and channel-provisioner's included):
 *   - every admin operation of the served OpenAPI document refuses an operator token however the
 *     path is spelled (percent-encoded letters in either hex case, dot segments, doubled and
 *     trailing slashes, mixtures), and really works for an admin;
 *   - FANOUT_ADMIN_TOKEN rotation replaces the old token;
 *   - revocation takes effect at once on every route and ends the token's open event streams;
 *   - one request budget per token across both services; failed authentications limited per
 *     client address (X-Forwarded-For only when a proxy is configured);
 *   - open event streams bounded per token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errorRegistry, type ErrorCode } from '../shared/errors/index.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from './support/local.ts';
import { pathSpellings, rawRequest, type RawResponse } from './support/raw-http.ts';
import { openSse } from './support/sse.ts';

async function operatorToken(rt: TestRuntime, name = 'operator'): Promise<{ token: string; tokenId: string }> {
  const res = await rt.api('POST', '/api/admin/tokens', { body: { name, role: 'operator' } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

function send(rt: TestRuntime, method: string, path: string, token: string | null, body?: unknown, extraHeaders: string[] = []): Promise<RawResponse> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const head = [
    `${method} ${path} HTTP/1.1`,
    `host: ${new URL(rt.url).host}`,
    ...(token ? [`authorization: Bearer ${token}`] : []),
    ...(body === undefined ? [] : ['content-type: application/json', `content-length: ${Buffer.byteLength(payload)}`]),
    ...extraHeaders,
  ].join('\r\n');
  return rawRequest(rt.url, head, payload);
}

const codeOf = (r: RawResponse): string | undefined => {
  try {
    return (JSON.parse(r.body) as { code?: string }).code;
  } catch {
    return undefined;
  }
};

type Operation = { method: string; template: string; security: { bearer?: string[] }[] | undefined };

describe('access is decided by the route that matched', () => {
  let rt: TestRuntime;
  let operator: string;
  let ops: Operation[];
  before(async () => {
    rt = await startTestRuntime({ FANOUT_RATE_LIMIT_PER_MINUTE: '1000000' }, { engine: 'memory' });
    operator = (await operatorToken(rt)).token;
    const doc = (await rt.api('GET', '/api/openapi.json', { token: null })).json as { paths: Record<string, Record<string, { security?: { bearer?: string[] }[] }>> };
    ops = Object.entries(doc.paths).flatMap(([template, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), template, security: op.security })));
  });
  after(async () => rt?.close());

  const isAdmin = (o: Operation) => o.security?.some((s) => s.bearer?.includes('admin')) === true;
  /** A concrete path for a template: ids that exist where it matters, none that a mistake could damage. */
  const concrete = (template: string) =>
    template
      .replace('/api/destinations/{id}', '/api/destinations/00000000-0000-4000-8000-000000000000')
      .replace('/api/admin/platforms/{id}', '/api/admin/platforms/youtube')
      .replace('/api/admin/presets/{id}', '/api/admin/presets/generic-720p30')
      .replace('/api/admin/tokens/{id}', '/api/admin/tokens/no-such-token');

  test('the document declares who may call every operation; the admin ones are exactly the admin paths, cleanup and the failover settings', () => {
    assert.ok(ops.length >= 25, `${ops.length} operations`);
    for (const o of ops) assert.ok(Array.isArray(o.security), `${o.method} ${o.template} declares its security`);
    const admin = ops
      .filter(isAdmin)
      .map((o) => `${o.method} ${o.template}`)
      .sort();
    // Besides /api/admin/*: the orphan cleanup, and the failover settings (ADR 0024: they change what the engine does by itself).
    const adminElsewhere = ['POST /api/channels/cleanup', 'PUT /api/mediaconnect/inputs/failover'];
    const expected = ops
      .filter((o) => o.template.startsWith('/api/admin/') || adminElsewhere.includes(`${o.method} ${o.template}`))
      .map((o) => `${o.method} ${o.template}`)
      .sort();
    assert.deepEqual(admin, expected);
    assert.ok(admin.includes('POST /api/admin/tokens') && adminElsewhere.every((o) => admin.includes(o)), admin.join(', '));
    const publicOps = ops
      .filter((o) => o.security!.length === 0)
      .map((o) => `${o.method} ${o.template}`)
      .sort();
    assert.deepEqual(publicOps, ['GET /api/health', 'GET /api/openapi.json']);
  });

  test('every admin operation, in every path spelling the router accepts, is 403 or 404 for an operator, and works for an admin', async () => {
    const adminOps = ops.filter(isAdmin).flatMap((o) => (o.method === 'GET' ? [o, { ...o, method: 'HEAD' }] : [o]));
    assert.ok(adminOps.length >= 15, `${adminOps.length} admin operations`);
    let tried = 0;
    for (const o of adminOps) {
      const path = concrete(o.template);
      const body = o.method === 'POST' || o.method === 'PUT' ? { name: 'Escalate', role: 'admin' } : undefined;

      // The canonical spelling: refused for an operator, let through for an admin (not vacuous).
      const asOperator = await send(rt, o.method, path, operator, body);
      assert.equal(asOperator.status, 403, `${o.method} ${path} as operator: ${asOperator.body}`);
      if (o.method !== 'HEAD') assert.equal(codeOf(asOperator), 'FORBIDDEN');
      const asAdmin = await send(rt, o.method, path, ADMIN_TOKEN, body && { name: 'Made by the admin', role: 'operator' });
      assert.ok(
        ![401, 403, 404, 405].includes(asAdmin.status) || !['UNAUTHENTICATED', 'FORBIDDEN', 'ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED', undefined].includes(codeOf(asAdmin)),
        `${o.method} ${path} as admin: ${asAdmin.status} ${asAdmin.body}`,
      );

      let routed = 0;
      for (const spelling of pathSpellings(path).slice(1)) {
        const r = await send(rt, o.method, spelling, operator, body);
        tried++;
        const code = codeOf(r);
        const ok = r.status === 403 ? o.method === 'HEAD' || code === 'FORBIDDEN' : r.status === 404 && (o.method === 'HEAD' || code === 'ROUTE_NOT_FOUND');
        assert.ok(ok, `${o.method} ${spelling} as operator: ${r.status} ${r.body.slice(0, 300)}`);
        if (r.status === 403) routed++;
      }
      // The router does accept encoded spellings: some reached the route and were refused there.
      assert.ok(routed > 0, `no spelling of ${o.method} ${path} reached its route`);
    }
    assert.ok(tried > 1000, `${tried} spellings tried`);
    // Nothing an operator sent made a token.
    const tokens = (await rt.api('GET', '/api/admin/tokens')).json.tokens as { name: string }[];
    assert.ok(!tokens.some((t) => t.name === 'Escalate'), 'an operator created a token');
  });

  test('operators reach every operation that is not admin-only (on its canonical path)', async () => {
    const operatorOps = ops.filter((x) => !isAdmin(x) && x.security!.length > 0 && x.template !== '/api/events'); // the event stream: covered by the SSE tests
    assert.ok(operatorOps.length >= 10, `operator operations in the OpenAPI document: ${operatorOps.length}`);
    for (const o of operatorOps) {
      const r = await send(rt, o.method, concrete(o.template), operator, o.method === 'POST' || o.method === 'PUT' ? {} : undefined);
      assert.ok(![401, 403].includes(r.status), `${o.method} ${o.template} as operator: ${r.status} ${r.body}`);
      assert.notEqual(codeOf(r), 'ROUTE_NOT_FOUND', `${o.method} ${o.template}`);
    }
  });
});

describe('FANOUT_ADMIN_TOKEN', () => {
  test('a new value replaces the old one: the old token stops working at the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fanout-rotate-'));
    const first = 'first-admin-token-0123456789abcdef';
    const second = 'second-admin-token-0123456789abcdef';
    try {
      const a = await startTestRuntime({ FANOUT_ADMIN_TOKEN: first }, { dataDir, inMemory: false });
      try {
        assert.equal((await a.api('GET', '/api/admin/tokens', { token: first })).status, 200);
      } finally {
        await a.close();
      }
      const b = await startTestRuntime({ FANOUT_ADMIN_TOKEN: second }, { dataDir, inMemory: false });
      try {
        const old = await b.api('GET', '/api/admin/tokens', { token: first });
        assert.equal(old.status, 401, old.text);
        assert.equal(old.json.code, 'UNAUTHENTICATED');
        const now = await b.api('GET', '/api/admin/tokens', { token: second });
        assert.equal(now.status, 200, now.text);
        assert.equal((now.json.tokens as { tokenId: string }[]).filter((t) => t.tokenId === 'admin-env').length, 1, 'one admin-env token');
      } finally {
        await b.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('one token store and one request budget for the whole API', () => {
  test('a revoked token is refused at once by both services, and its open event streams end', async () => {
    const rt = await startTestRuntime({}, { engine: 'memory' });
    try {
      const { token, tokenId } = await operatorToken(rt);
      // Both services have seen (and may have cached) the token.
      assert.equal((await rt.api('GET', '/api/channels/validate', { token })).status, 200);
      assert.equal((await rt.api('GET', '/api/destinations', { token })).status, 200);
      const stream = await openSse(`${rt.url}/api/events?access_token=${token}`);
      const other = await openSse(`${rt.url}/api/events?access_token=${ADMIN_TOKEN}`);
      try {
        assert.equal(stream.status, 200);
        await eventually(() => stream.frames.some((f) => f.event === 'ready') && other.frames.some((f) => f.event === 'ready'), { what: 'both streams ready' });

        assert.equal((await rt.api('DELETE', `/api/admin/tokens/${tokenId}`)).status, 204);
        for (const path of ['/api/channels/validate', '/api/destinations', '/api/presets']) {
          const r = await rt.api('GET', path, { token });
          assert.equal(r.status, 401, `${path} after revocation: ${r.text}`);
          assert.equal(r.json.code, 'UNAUTHENTICATED');
        }
        // The revoked token's stream is ended by the server (with the reason); the admin's goes on.
        await Promise.race([stream.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the revoked token’s stream stayed open')), 5_000))]);
        assert.deepEqual(JSON.parse(stream.frames.at(-1)!.data), { reason: 'token revoked' });
        assert.equal(stream.frames.at(-1)!.event, 'closed');
        const d = await rt.api('POST', '/api/destinations', { body: { name: 'After revoke', platform: 'youtube', streamKey: 'after-revoke-key-0123' } });
        assert.equal(d.status, 201);
        await eventually(() => other.frames.some((f) => f.event === 'destination.created'), { what: 'the admin stream still delivers' });
      } finally {
        await stream.close();
        await other.close();
      }
    } finally {
      await rt.close();
    }
  });

  test("a token's request budget is one, whichever service answers", async () => {
    const rt = await startTestRuntime({ FANOUT_RATE_LIMIT_PER_MINUTE: '6' }, { engine: 'memory' });
    try {
      const { token } = await operatorToken(rt);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await rt.api('GET', '/api/destinations', { token })).status);
        statuses.push((await rt.api('GET', '/api/channels/validate', { token })).status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await rt.close();
    }
  });
});

describe('failed authentications are limited per client address', () => {
  test('past the budget: 429 AUTH_RATE_LIMITED with Retry-After, without a lookup; X-Forwarded-For is not trusted by default', async () => {
    const rt = await startTestRuntime({ FANOUT_AUTH_FAILURES_PER_MINUTE: '5' });
    try {
      // The admin token was verified at start-up use: remembered, so a neighbour's guessing does not lock it out.
      assert.equal((await rt.api('GET', '/api/destinations')).status, 200);
      const fresh = await operatorToken(rt, 'not yet used');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        // A client that claims another address each time gains nothing: the header is ignored.
        const r = await rt.api('GET', '/api/destinations', { token: i % 2 ? `fo_wrong_${i}` : null, headers: { 'x-forwarded-for': `198.51.100.${i}` } });
        statuses.push(r.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
      const limited = await rt.api('GET', '/api/destinations', { token: 'fo_wrong_again' });
      assert.equal(limited.status, 429);
      assert.equal(limited.json.code, 'AUTH_RATE_LIMITED');
      assert.match(limited.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${limited.headers.get('retry-after')}`);
      assert.equal(limited.json.retryAfterSeconds, retryAfter);
      // A remembered valid token still works; one never verified waits like any guess would.
      assert.equal((await rt.api('GET', '/api/destinations')).status, 200);
      assert.equal((await rt.api('GET', '/api/destinations', { token: fresh.token })).status, 429);
      // Public routes are not behind the limit.
      assert.equal((await rt.api('GET', '/api/health', { token: null })).status, 200);
    } finally {
      await rt.close();
    }
  });

  test('with FANOUT_TRUSTED_PROXY_HOPS=1 the address is the one the proxy appended to X-Forwarded-For', async () => {
    const rt = await startTestRuntime({ FANOUT_AUTH_FAILURES_PER_MINUTE: '2', FANOUT_TRUSTED_PROXY_HOPS: '1' });
    try {
      const from = async (xff: string) => (await rt.api('GET', '/api/destinations', { token: 'fo_wrong', headers: { 'x-forwarded-for': xff } })).status;
      assert.deepEqual([await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1')], [401, 401, 429]);
      // Another client behind the proxy has its own budget; what a client prepends does not count.
      assert.deepEqual([await from('203.0.113.2'), await from('10.0.0.9, 203.0.113.2'), await from('203.0.113.1, 203.0.113.2')], [401, 401, 429]);
      // An IPv6 client counts by its /64.
      assert.deepEqual([await from('2001:db8:1:2::1'), await from('2001:db8:1:2::ffff'), await from('2001:db8:1:2:abcd::9')], [401, 401, 429]);
    } finally {
      await rt.close();
    }
  });
});

describe('event streams', () => {
  test('open streams per token are bounded: one more is 429 TOO_MANY_STREAMS; other tokens are unaffected; a closed stream frees its place', async () => {
    const rt = await startTestRuntime({ FANOUT_SSE_STREAMS_PER_TOKEN: '3' });
    const open: Awaited<ReturnType<typeof openSse>>[] = [];
    try {
      const { token } = await operatorToken(rt);
      const url = (t: string) => `${rt.url}/api/events?access_token=${t}`;
      for (let i = 0; i < 3; i++) open.push(await openSse(url(token)));
      assert.deepEqual(
        open.map((s) => s.status),
        [200, 200, 200],
      );
      const refused = await fetch(url(token));
      assert.equal(refused.status, 429);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const p = (await refused.json()) as { code: ErrorCode; maxStreams: number };
      assert.equal(p.code, 'TOO_MANY_STREAMS');
      assert.equal(errorRegistry[p.code].status, 429);
      assert.equal(p.maxStreams, 3);
      // Opened at once, too: never more than the bound.
      const burst = await Promise.all(Array.from({ length: 5 }, () => fetch(url(token))));
      assert.deepEqual(
        burst.map((r) => r.status),
        [429, 429, 429, 429, 429],
      );
      // HEAD answers with the headers and holds no place (the body it would stream is never read).
      const admin0 = await Promise.all(Array.from({ length: 4 }, () => fetch(url(ADMIN_TOKEN), { method: 'HEAD' })));
      assert.deepEqual(
        admin0.map((r) => r.status),
        [200, 200, 200, 200],
      );
      assert.equal(rt.sse.streamsOf('admin-env'), 0);
      const admin = await openSse(url(ADMIN_TOKEN));
      open.push(admin);
      assert.equal(admin.status, 200);
      await open.shift()!.close();
      const again = await eventually(
        async () => {
          const s = await openSse(url(token));
          if (s.status === 200) return s;
          await s.close();
          return undefined;
        },
        { what: 'a place freed by the closed stream' },
      );
      open.push(again);
    } finally {
      await Promise.all(open.map((s) => s.close()));
      await rt.close();
    }
  });
});
