/**
 * The /hls route's headers, in process: what a player on another site needs (CORS on every answer,
 * the 404 too), the content types hls.js and Safari expect, and caching that suits a live playlist
 * (never cached) and its segments (cacheable: a segment's name is never reused).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OpenAPIHono } from '@hono/zod-openapi';
import { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import type { TokenStore } from '../../../../shared/auth/tokens.ts';
import { installApiBasics, requireAccess, type ApiEnv } from '../../../../shared/http/api-kit.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import { serveHls } from './hls.ts';

const root = mkdtempSync(join(tmpdir(), 'fanout-hls-'));
mkdirSync(join(root, 'primary'));
writeFileSync(join(root, 'primary', 'index.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg_00001.ts\n');
writeFileSync(join(root, 'primary', 'seg_00001.ts'), Buffer.alloc(188 * 4, 0x47));
after(() => rmSync(root, { recursive: true, force: true }));

const app = new OpenAPIHono<ApiEnv>();
// The HLS output is public: no token is ever looked up (the store is never reached).
installApiBasics(app, { logger: createLogger('hls-test'), auth: new ApiAuth({ tokens: {} as TokenStore, requestsPerMinute: 60, failuresPerMinute: 60 }) });
app.get('/hls/*', requireAccess('public'), serveHls(root));
const get = (path: string) => app.request(`http://fanout.test${path}`, { headers: { origin: 'https://player.example' } });

const cases = [
  { path: '/hls/primary/index.m3u8', status: 200, type: 'application/vnd.apple.mpegurl', cache: /^no-cache$/ },
  { path: '/hls/primary/seg_00001.ts', status: 200, type: 'video/mp2t', cache: /^(public, )?max-age=[1-9]\d*/ },
  { path: '/hls/primary/seg_99999.ts', status: 404, type: 'application/problem+json', cache: null },
  { path: '/hls/other/index.m3u8', status: 404, type: 'application/problem+json', cache: null },
  { path: '/hls/primary/notes.txt', status: 404, type: 'application/problem+json', cache: null },
  { path: '/hls/primary/..%2F..%2Fetc%2Fpasswd.ts', status: 404, type: 'application/problem+json', cache: null },
  { path: '/hls/primary/sub/index.m3u8', status: 404, type: 'application/problem+json', cache: null },
];

for (const c of cases) {
  test(`GET ${c.path} → ${c.status} ${c.type}, readable from any origin`, async () => {
    const res = await get(c.path);
    assert.equal(res.status, c.status);
    assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${c.type.replaceAll('.', '\\.').replaceAll('+', '\\+')}`));
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    if (c.cache) assert.match(res.headers.get('cache-control') ?? '', c.cache);
  });
}

test('the bytes served are the bytes written', async () => {
  const res = await get('/hls/primary/seg_00001.ts');
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body.length, 188 * 4);
  assert.ok(body.every((b) => b === 0x47));
});
