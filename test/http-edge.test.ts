/**
 * No request from a client can produce a 500: malformed headers, bodies, paths and methods, sent
 * as raw bytes to the local runtime's HTTP server, each get a 4xx problem document (from the API,
 * or from the server itself when Node's HTTP parser refuses the request), and nothing is logged
 * as an unhandled error or with a stack trace. A table of known cases, then a seeded fuzz loop of
 * mutations of valid requests.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { errorRegistry, type ErrorCode } from '../shared/errors/index.ts';
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime } from './support/local.ts';
import { rawRequest, type RawResponse } from './support/raw-http.ts';

let rt: TestRuntime;
let destinationId: string;
const logs: string[] = [];

before(async () => {
  // Budgets high enough that the limits do not hide what is behind them (they have their own tests).
  rt = await startTestRuntime({ FANOUT_RATE_LIMIT_PER_MINUTE: '1000000', FANOUT_AUTH_FAILURES_PER_MINUTE: '1000000' }, { engine: 'memory' });
  const d = await rt.api('POST', '/api/destinations', { body: { name: 'Edge', platform: 'youtube', streamKey: 'edge-stream-key-0123456789' } });
  assert.equal(d.status, 201, d.text);
  destinationId = d.json.destinationId;
});
after(async () => {
  await rt?.close();
});

/**
 * Runs `fn` with everything the process writes (its log lines: errors are logged at WARN) kept in
 * `logs`, then checks they hold no unhandled error and no stack trace. Restored before the test
 * ends: the test runner reports on the same stdout.
 */
async function withCleanLogs(fn: () => Promise<void>): Promise<void> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  // Log lines are kept; anything else (the test runner's own reports) passes through.
  const grab =
    (pass: typeof out) =>
    (chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('latin1') : '';
      // (The runner's reports are binary frames: they never start like a log line or a printed error.)
      if (/^(\{"level"|[A-Za-z]*Error\b|\s+at )/.test(text)) return (logs.push(text), true);
      return (pass as (...a: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = grab(out) as typeof process.stdout.write;
  process.stderr.write = grab(err) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  assertCleanLogs();
}

const host = () => `host: ${new URL(rt.url).host}`;
const auth = `authorization: Bearer ${ADMIN_TOKEN}`;
const validBody = JSON.stringify({ name: 'Edge two', platform: 'youtube', streamKey: 'edge-two-stream-key-0123' });

/** The one shape of every error the server sends: a problem document with a registered code and its status. */
function assertProblem(r: RawResponse, what: string, method = ''): void {
  assert.ok(r.status < 500, `${what}: ${r.status} ${r.body.slice(0, 300)}`);
  if (r.status < 400 || method === 'HEAD') return;
  assert.match(r.headers['content-type'] ?? '', /^application\/problem\+json/, `${what}: content-type of ${r.status}`);
  const p = JSON.parse(r.body) as { code: ErrorCode; status: number; detail: string };
  assert.ok(p.code in errorRegistry, `${what}: unregistered code ${p.code}`);
  assert.equal(errorRegistry[p.code].status, r.status, `${what}: ${p.code} is registered with another status`);
  assert.equal(p.status, r.status);
  assert.ok(!/\n\s+at /.test(r.body), `${what}: a stack trace in the response`);
}

function request(method: string, path: string, headers: string[], body = ''): Promise<RawResponse> {
  const withLength = body.length > 0 && !headers.some((h) => /^(content-length|transfer-encoding):/i.test(h)) ? [...headers, `content-length: ${Buffer.byteLength(body, 'latin1')}`] : headers;
  return rawRequest(rt.url, [`${method} ${path} HTTP/1.1`, ...withLength].join('\r\n'), Buffer.from(body, 'latin1'));
}

interface Case {
  what: string;
  method?: string;
  path?: string;
  headers?: string[];
  body?: string;
  /** The raw request head, for what a request line cannot say otherwise. */
  head?: string;
  status: number;
  code?: ErrorCode;
}

const json = 'content-type: application/json';
const cases = (): Case[] => [
  // Content-Type
  { what: 'Content-Type with a trailing semicolon', headers: [auth, 'content-type: application/json;'], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'Content-Type listing two types', headers: [auth, 'content-type: application/json, text/plain'], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'Content-Type with two semicolons', headers: [auth, 'content-type: application/json;;'], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'Content-Type with an empty parameter value', headers: [auth, 'content-type: application/json; charset='], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'Content-Type with an odd parameter name', headers: [auth, 'content-type: application/json; my_param=1'], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'Content-Type that is a lone semicolon', headers: [auth, 'content-type: ;'], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'empty Content-Type', headers: [auth, 'content-type: '], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'Content-Type on a body-less route with no body', path: `/api/destinations/{id}/start`, headers: [auth, 'content-type: application/json;'], status: 202 },
  { what: 'Content-Type given twice', headers: [auth, json, 'content-type: text/plain'], body: validBody, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { what: 'JSON with a charset is fine', headers: [auth, 'content-type: application/json; charset=utf-8'], body: validBody, status: 201 },
  { what: 'a +json type is fine', headers: [auth, 'content-type: application/merge-patch+json'], body: validBody, status: 201 },
  // Bodies
  { what: 'a body that is not JSON', headers: [auth, json], body: '{"name": ', status: 400, code: 'MALFORMED_JSON' },
  { what: 'a body of invalid UTF-8', headers: [auth, json], body: '{"name": "\xff\xfe", "platform": "youtube", "streamKey": "k-0123456789ab"}', status: 400 },
  { what: 'a JSON string body', headers: [auth, json], body: '"just a string"', status: 400, code: 'VALIDATION_FAILED' },
  { what: 'a JSON null body', headers: [auth, json], body: 'null', status: 400, code: 'VALIDATION_FAILED' },
  { what: 'a deeply nested body', headers: [auth, json], body: `${'['.repeat(5000)}${']'.repeat(5000)}`, status: 400 },
  { what: 'a body over the limit', headers: [auth, json], body: `{"name":"${'x'.repeat(70_000)}"}`, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { what: 'a Content-Length that is not a number', headers: [auth, json, 'content-length: abc'], body: validBody, status: 400, code: 'MALFORMED_REQUEST' },
  { what: 'a Content-Length shorter than the body', headers: [auth, json, 'content-length: 1'], body: validBody, status: 400 },
  { what: 'a chunked body with a bad chunk size', headers: [auth, json, 'transfer-encoding: chunked'], body: 'zz\r\n{}\r\n0\r\n\r\n', status: 400, code: 'MALFORMED_REQUEST' },
  // Authorization
  { what: 'garbage Authorization', method: 'GET', headers: ['authorization: !!!@@@###'], status: 401, code: 'UNAUTHENTICATED' },
  { what: 'Bearer without a token', method: 'GET', headers: ['authorization: Bearer'], status: 401, code: 'UNAUTHENTICATED' },
  { what: 'Bearer with two tokens', method: 'GET', headers: [`authorization: Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`], status: 401, code: 'UNAUTHENTICATED' },
  { what: 'Bearer with a 10 KB token', method: 'GET', headers: [`authorization: Bearer ${'a'.repeat(10_000)}`], status: 401, code: 'UNAUTHENTICATED' },
  { what: 'Bearer with bytes outside ASCII', method: 'GET', headers: ['authorization: Bearer fo_\xe9\xff\x80'], status: 401, code: 'UNAUTHENTICATED' },
  { what: 'Authorization given twice', method: 'GET', headers: [auth, 'authorization: Bearer fo_other'], status: 401, code: 'UNAUTHENTICATED' },
  { what: 'lower-case bearer works', method: 'GET', headers: [`authorization: bearer ${ADMIN_TOKEN}`], status: 200 },
  { what: 'an access_token with bad percent-encoding', method: 'GET', path: '/api/events?access_token=%zz%', headers: [], status: 401, code: 'UNAUTHENTICATED' },
  { what: 'an access_token on a route that does not take one', method: 'GET', path: `/api/destinations?access_token=${ADMIN_TOKEN}`, headers: [], status: 401, code: 'UNAUTHENTICATED' },
  // Last-Event-ID and other headers
  { what: 'a garbage Last-Event-ID', method: 'GET', path: '/api/events', headers: [auth, 'last-event-id: ;;--!!~~\xe9'], status: 200 },
  { what: 'control characters in a header', method: 'GET', path: '/api/events', headers: [auth, 'last-event-id: \x01\x02'], status: 400, code: 'MALFORMED_REQUEST' },
  { what: 'a huge Last-Event-ID', method: 'GET', path: '/api/events', headers: [auth, `last-event-id: ${'9'.repeat(8000)}-${'9'.repeat(400)}`], status: 200 },
  { what: 'a Last-Event-ID of many dashes', method: 'GET', path: '/api/events', headers: [auth, `last-event-id: ${'-'.repeat(1000)}`], status: 200 },
  { what: 'a garbage Idempotency-Key', headers: [auth, json, 'idempotency-key: has spaces \xe9'], body: validBody, status: 400, code: 'VALIDATION_FAILED' },
  { what: 'a garbage X-Correlation-Id', method: 'GET', headers: [auth, `x-correlation-id: ${'\xff'.repeat(300)}`], status: 200 },
  { what: 'headers over 16 KiB', method: 'GET', headers: [auth, `x-padding: ${'p'.repeat(20_000)}`], status: 431, code: 'HEADERS_TOO_LARGE' },
  { what: 'a header line without a colon', method: 'GET', headers: [auth, 'this is not a header'], status: 400, code: 'MALFORMED_REQUEST' },
  { what: 'a header name with a space', method: 'GET', headers: [auth, 'x bad: 1'], status: 400, code: 'MALFORMED_REQUEST' },
  { what: 'a Host that is not a host', method: 'GET', headers: [auth, 'host: a b/../c'], status: 400, code: 'MALFORMED_REQUEST' },
  { what: 'a Host with a path', method: 'GET', headers: [auth, 'host: example.com/evil'], status: 400 },
  { what: 'no Host at all', head: `GET /api/destinations HTTP/1.1\r\n${auth}`, status: 400 },
  // Methods and paths
  { what: 'an unknown method', method: 'FOO', headers: [auth], status: 400, code: 'MALFORMED_REQUEST' },
  { what: 'PROPFIND', method: 'PROPFIND', headers: [auth], status: 404, code: 'ROUTE_NOT_FOUND' },
  { what: 'TRACE', method: 'TRACE', headers: [auth], status: 404, code: 'ROUTE_NOT_FOUND' },
  { what: 'OPTIONS', method: 'OPTIONS', headers: [auth], status: 404, code: 'ROUTE_NOT_FOUND' },
  { what: 'PATCH on a PUT route', method: 'PATCH', path: `/api/destinations/{id}`, headers: [auth, json], body: '{}', status: 404, code: 'ROUTE_NOT_FOUND' },
  { what: 'HEAD on a GET route', method: 'HEAD', path: '/api/destinations', headers: [auth], status: 200 },
  { what: 'CONNECT', head: `CONNECT 127.0.0.1:22 HTTP/1.1\r\n${host()}`, status: 405, code: 'METHOD_NOT_ALLOWED' },
  { what: 'an upgrade to websocket', method: 'GET', headers: [auth, 'connection: upgrade', 'upgrade: websocket', 'sec-websocket-key: x', 'sec-websocket-version: 13'], status: 200 },
  { what: 'OPTIONS *', method: 'OPTIONS', path: '*', headers: [auth], status: 400 },
  { what: 'an absolute-form target', method: 'GET', path: 'http://elsewhere.example/api/destinations', headers: [auth], status: 200 },
  { what: 'a bad percent-encoding in the path', method: 'GET', path: '/api/destinations/%zz%', headers: [auth], status: 400, code: 'VALIDATION_FAILED' },
  { what: 'an encoded NUL in the path', method: 'GET', path: '/api/destinations/%00', headers: [auth], status: 400, code: 'VALIDATION_FAILED' },
  { what: 'an overlong UTF-8 sequence in the path', method: 'GET', path: '/api/destinations/%c0%ae%c0%ae', headers: [auth], status: 400, code: 'VALIDATION_FAILED' },
  { what: 'a backslash in the path', method: 'GET', path: '/api\\destinations', headers: [auth], status: 400, code: 'MALFORMED_REQUEST' },
  { what: 'a path that does not start with a slash', method: 'GET', path: 'api/destinations', headers: [auth], status: 400 },
  { what: 'a request line in HTTP/0.9', head: 'GET /api/destinations', status: 400 },
  { what: 'an unknown HTTP version', head: `GET /api/destinations HTTP/7.1\r\n${host()}`, status: 400 },
  { what: 'a query with bad percent-encoding', method: 'GET', path: '/api/presets?platform=%zz', headers: [auth], status: 400, code: 'VALIDATION_FAILED' },
  { what: 'a query given twice', method: 'GET', path: '/api/presets?platform=youtube&platform=twitch', headers: [auth], status: 400, code: 'VALIDATION_FAILED' },
  { what: 'an empty query value', method: 'GET', path: '/api/presets?platform=', headers: [auth], status: 200 },
];

test('malformed headers, bodies, methods and paths: each a 4xx problem document, never a 500', () =>
  withCleanLogs(async () => {
    const wrong: string[] = [];
    for (const c of cases()) {
      const method = c.method ?? 'POST';
      const path = (c.path ?? '/api/destinations').replace('{id}', destinationId);
      const r = c.head
        ? await rawRequest(rt.url, c.head.includes('\r\n\r\n') ? c.head.replace(/\r\n\r\n[\s\S]*$/, '') : c.head, c.head.includes('\r\n\r\n') ? c.head.replace(/^[\s\S]*?\r\n\r\n/, '') : '')
        : await request(method, path, c.headers?.some((h) => h.startsWith('host:')) ? c.headers : [host(), ...(c.headers ?? [])], c.body);
      assertProblem(r, c.what, method);
      const code = r.status >= 400 && method !== 'HEAD' ? (JSON.parse(r.body) as { code: string }).code : undefined;
      if (r.status !== c.status || (c.code && code !== c.code)) wrong.push(`${c.what}: expected ${c.status} ${c.code ?? ''}, got ${r.status} ${code ?? ''} ${r.body.slice(0, 200)}`);
    }
    assert.deepEqual(wrong, []);
  }));

/** A small deterministic PRNG (mulberry32): the same mutations every run, and a failing seed can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: 1,500 mutations of valid requests (headers, bodies, paths, methods) never get a 5xx', () =>
  withCleanLogs(async () => {
    const rand = prng(0xfa0017);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(pick([0x20 + Math.floor(rand() * 95), Math.floor(rand() * 256)]))).join('');
    const paths = [
      '/api/destinations',
      `/api/destinations/${destinationId}`,
      `/api/destinations/${destinationId}/start`,
      `/api/destinations/${destinationId}/metrics`,
      '/api/presets?platform=youtube',
      '/api/platforms',
      '/api/admin/tokens',
      '/api/admin/presets/generic-720p30',
      '/api/admin/platforms/youtube',
      '/api/channels/validate',
      '/api/channels/cleanup',
      '/api/mediaconnect/flow/status',
      '/api/health',
      '/api/openapi.json',
      '/api/events',
      '/hls/primary/index.m3u8',
    ];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'PROPFIND', 'get', 'G\x00T', 'POST '];
    const bodies = [validBody, '{}', '[]', '', '{"only":["x"]}', '{"name":"x","role":"admin"}', '\x00\x01\x02', '{"a":'.repeat(50), 'null', '1e999999', '"\\ud800"', `{"streamKey":"${'k'.repeat(2000)}"}`];
    const headerMutations: (() => string)[] = [
      () => `content-type: ${pick(['application/json', 'application/json;', 'application/json, text/plain', 'text/plain', 'application/json; charset=', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', junk(8)])}`,
      () => `authorization: ${pick([`Bearer ${ADMIN_TOKEN}`, 'Bearer', `Basic ${junk(6)}`, `Bearer ${junk(30)}`, junk(12), `bearer  ${ADMIN_TOKEN}`])}`,
      () => `last-event-id: ${pick(['garbage', '-1', '1-1-1', junk(20), 'deadbeef-99999999999999999999'])}`,
      () => `idempotency-key: ${pick(['ok-key-1', junk(10), 'x'.repeat(300)])}`,
      () => `x-forwarded-for: ${pick(['1.2.3.4', junk(10), '::1, 999.1.1.1'])}`,
      () => `x-correlation-id: ${junk(20)}`,
      () => `accept: ${junk(15)}`,
      () => `content-length: ${pick(['0', '-1', '99999999999', '1', 'x'])}`,
      () => `transfer-encoding: ${pick(['chunked', 'gzip', 'identity', junk(5)])}`,
      () => `${junk(6)}: ${junk(6)}`,
    ];
    const mutatePath = (p: string): string => {
      switch (Math.floor(rand() * 12)) {
        case 0:
          return p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
        case 1:
          return `${p}/${pick(['..', '.', '%2e%2e', '', '%00', '%zz', '%'])}`;
        case 2:
          return p.replace('/', '//');
        case 3:
          return `${p}${p.includes('?') ? '&' : '?'}${pick(['access_token=%zz', `access_token=${ADMIN_TOKEN}`, 'platform=', 'platform=%ff', `x=${junk(5)}`])}`;
        case 4:
          return p.replace(/\/[^/]*$/, `/${encodeURIComponent(junk(6))}`);
        default:
          return p;
      }
    };
    const seen = new Map<number, number>();
    for (let i = 0; i < 1500; i++) {
      const method = rand() < 0.9 ? pick(methods.slice(0, 2)) : pick(methods);
      const path = mutatePath(pick(paths));
      const headers = [host(), `authorization: Bearer ${ADMIN_TOKEN}`];
      const n = Math.floor(rand() * 4);
      for (let k = 0; k < n; k++) headers.push(pick(headerMutations)());
      const body = method === 'GET' || method === 'HEAD' ? (rand() < 0.1 ? pick(bodies) : '') : pick(bodies);
      let r: RawResponse;
      try {
        // A chunked request needs a chunked body; the mutation may have asked for it.
        const chunked = headers.some((h) => /^transfer-encoding: chunked/i.test(h));
        r = await request(method, path, chunked ? headers.filter((h) => !/^content-length/i.test(h)) : headers, chunked ? `${Buffer.byteLength(body, 'latin1').toString(16)}\r\n${body}\r\n0\r\n\r\n` : body);
      } catch (err) {
        throw new Error(`request ${i}: ${method} ${path} [${headers.slice(2).join(' | ')}]: ${String(err)}`);
      }
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      assertProblem(r, `request ${i}: ${JSON.stringify(method)} ${JSON.stringify(path)} [${headers.slice(2).join(' | ')}] body ${JSON.stringify(body.slice(0, 40))}`, method);
    }
    // The loop reached the API, not just the parser: successes and many kinds of refusal.
    assert.ok((seen.get(200) ?? 0) > 50, JSON.stringify([...seen]));
    assert.ok([...seen.keys()].filter((s) => s >= 400).length >= 6, JSON.stringify([...seen]));
  }));

function assertCleanLogs(): void {
  const text = logs.join('');
  assert.ok(!/unhandled error/i.test(text), `an unhandled error was logged: ${text.slice(text.search(/unhandled error/i) - 200, text.search(/unhandled error/i) + 600)}`);
  assert.ok(!/\n\s+at [^\n]+:\d+:\d+/.test(text) && !/\\n\s+at [^\\]+:\d+:\d+/.test(text), `a stack trace was logged: ${text.slice(0, 2000)}`);
}
