/**
 * The dashboards' static site as the local runtime serves it (issue 13: "caching headers fit for
 * hashed assets and a CSP that allows nothing but the app's own origin and the API"): every answer
 * it gives carries the Content-Security-Policy and security headers of services/dashboard/site.ts;
 * hashed assets are immutable for a year, index.html, config.json and the root files are
 * revalidated; the app's routes answer index.html; what is not the site's (the API, HLS, other
 * methods) is left to the API; nothing outside assets/ can be read through it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { contentSecurityPolicy, IMMUTABLE, REVALIDATE, SECURITY_HEADERS, type SiteConfig } from '../../../services/dashboard/site.ts';
import { createStaticSite, type StaticSite } from './static-site.ts';

const CONFIG: SiteConfig = { apiBase: '', hlsUrl: '/hls/primary/index.m3u8', srt: { host: null, port: 9998, keyLength: 16 }, runtime: 'local' };

function assertSiteHeaders(res: Response, cache: string, what: string): void {
  assert.equal(res.headers.get('content-security-policy'), contentSecurityPolicy(), `${what}: the CSP`);
  assert.equal(res.headers.get('cache-control'), cache, `${what}: cache-control`);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers.get(name), value, `${what}: ${name}`);
}

describe('the static site of the local runtime', () => {
  let dir: string;
  let site: StaticSite;
  const get = async (path: string, method = 'GET'): Promise<Response> => {
    const res = await site.handle(new Request(`http://127.0.0.1:8080${path}`, { method }));
    assert.ok(res, `${method} ${path} is the site's`);
    return res;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-site-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-AbC123.js"></script>');
    writeFileSync(join(dir, 'assets', 'index-AbC123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'assets', 'index-AbC123.css'), 'body{}');
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *\nDisallow: /\n');
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    site = createStaticSite({ dir, config: () => CONFIG });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the CSP allows the app's own origin only: no inline script, no eval, no frames, no other origin", () => {
    const csp = contentSecurityPolicy();
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"], 'the API and the event stream: this origin');
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(directives.get('object-src'), ["'none'"]);
    assert.ok(!/unsafe-inline|unsafe-eval|\*|https?:/.test(csp), csp);
  });

  test('the app routes answer index.html, revalidated, with the CSP', async () => {
    for (const path of ['/', '/index.html', '/admin', '/admin/', '/admin/tokens']) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await res.text(), /index-AbC123\.js/);
      assertSiteHeaders(res, REVALIDATE, path);
    }
    const head = await get('/admin', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assertSiteHeaders(head, REVALIDATE, 'HEAD /admin');
  });

  test('hashed assets are immutable for a year, with their type and the CSP', async () => {
    assert.equal(IMMUTABLE, 'public, max-age=31536000, immutable');
    const js = await get('/assets/index-AbC123.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await js.text(), 'console.log(1)');
    assertSiteHeaders(js, IMMUTABLE, 'a script');
    const css = await get('/assets/index-AbC123.css');
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assertSiteHeaders(css, IMMUTABLE, 'a style sheet');
  });

  test('config.json and the root files are revalidated; config.json is the runtime configuration', async () => {
    const cfg = await get('/config.json');
    assert.equal(cfg.status, 200);
    assert.deepEqual(await cfg.json(), CONFIG);
    assertSiteHeaders(cfg, REVALIDATE, 'config.json');
    const robots = await get('/robots.txt');
    assert.equal(robots.status, 200);
    assertSiteHeaders(robots, REVALIDATE, 'robots.txt');
  });

  test('a missing asset, an unknown type or a way out of assets/ is a 404 with the CSP, never a file', async () => {
    for (const path of ['/assets/missing-1.js', '/assets/index-AbC123.exe']) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.ok(!(await res.text()).includes('not for the web'), path);
      assertSiteHeaders(res, REVALIDATE, path);
    }
    // Not the site's: left to the API (whose answer is a problem document).
    for (const path of ['/secret.txt', '/assets/../secret.txt', '/assets/..%2Fsecret.txt', '/assets/.hidden.js', '/assets/sub/x.js', '/api/health', '/hls/primary/index.m3u8', '/admin/../api/health']) {
      assert.equal(await site.handle(new Request(`http://127.0.0.1:8080${path}`)), null, path);
    }
    assert.equal(await site.handle(new Request('http://127.0.0.1:8080/', { method: 'POST', body: '{}' })), null, 'POST /');
  });

  test('a site that was not built answers 503 with the command that builds it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fanout-site-empty-'));
    try {
      const res = await createStaticSite({ dir: empty, config: () => CONFIG }).handle(new Request('http://127.0.0.1:8080/'));
      assert.equal(res?.status, 503);
      assert.match((await res!.text()) ?? '', /npm run build:local/);
      assertSiteHeaders(res!, REVALIDATE, 'not built');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
