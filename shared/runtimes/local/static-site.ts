/**
 * Serves the dashboards' static site (services/dashboard, built into `.build/dashboard/`) from the
 * local runtime, as S3 + CloudFront do on AWS: `/` and `/admin[/...]` answer the app's index.html
 * (its client-side routes), `/assets/*` the hashed files, cached for a year as immutable,
 * `/config.json` the app's runtime configuration made from this runtime's configuration. Every
 * answer carries the Content-Security-Policy and security headers of services/dashboard/site.ts.
 *
 * Only GET and HEAD, only plain file names under assets/ (no traversal), and a site that was not
 * built answers 503 with the command that builds it.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { contentSecurityPolicy, IMMUTABLE, isAppRoute, REVALIDATE, SECURITY_HEADERS, type SiteConfig } from '../../../services/dashboard/site.ts';

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/** Files at the site's root besides index.html (copied from services/dashboard/public). */
const ROOT_FILES = new Set(['/favicon.svg', '/robots.txt']);

export interface StaticSite {
  /** The answer for a request the site owns, or null for one it does not (the API's). */
  handle(req: Request): Promise<Response | null>;
}

export function createStaticSite(o: { dir: string; config: () => SiteConfig }): StaticSite {
  const headers = (type: string, cache: string): Record<string, string> => ({
    'content-type': type,
    'cache-control': cache,
    'content-security-policy': contentSecurityPolicy(),
    ...SECURITY_HEADERS,
  });
  const file = async (path: string, type: string, cache: string, head: boolean): Promise<Response | null> => {
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      return null;
    }
    return new Response(head ? null : new Uint8Array(body), { status: 200, headers: { ...headers(type, cache), 'content-length': String(body.length) } });
  };
  const notFound = (): Response => new Response('Not found\n', { status: 404, headers: headers('text/plain; charset=utf-8', REVALIDATE) });

  return {
    async handle(req) {
      const url = new URL(req.url);
      const p = url.pathname;
      if (p.startsWith('/api/') || p === '/api' || p.startsWith('/hls/')) return null;
      if (req.method !== 'GET' && req.method !== 'HEAD') return null;
      const head = req.method === 'HEAD';
      if (p === '/config.json') {
        const body = JSON.stringify(o.config());
        return new Response(head ? null : body, { status: 200, headers: headers('application/json; charset=utf-8', REVALIDATE) });
      }
      if (isAppRoute(p)) {
        const index = join(o.dir, 'index.html');
        if (!existsSync(index)) return new Response('The dashboards are not built. Run: npm run build:local (npm start builds them).\n', { status: 503, headers: headers('text/plain; charset=utf-8', REVALIDATE) });
        return (await file(index, TYPES.html!, REVALIDATE, head)) ?? notFound();
      }
      const asset = /^\/assets\/([A-Za-z0-9_-][A-Za-z0-9_.-]*)$/.exec(p);
      if (asset) {
        const ext = asset[1]!.split('.').pop() ?? '';
        const type = TYPES[ext];
        return (type && (await file(join(o.dir, 'assets', asset[1]!), type, IMMUTABLE, head))) || notFound();
      }
      if (ROOT_FILES.has(p)) return (await file(join(o.dir, p.slice(1)), TYPES[p.split('.').pop()!] ?? 'application/octet-stream', REVALIDATE, head)) ?? notFound();
      return null;
    },
  };
}
