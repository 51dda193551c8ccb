/**
 * What the dashboards' static site sends with every file, wherever it is served: the local runtime
 * (shared/runtimes/local/static-site.ts) and, on AWS, CloudFront's response headers policy in
 * serverless.yml (test/serverless-package.test.ts checks both say the same).
 *
 * The Content-Security-Policy allows nothing but the app's own origin: no inline script or style,
 * no eval, API calls and the event stream to the same origin (on AWS CloudFront routes /api/* to
 * the HTTP API, so the API is same-origin there too), media from the same origin and `blob:` (hls.js
 * plays through Media Source Extensions, whose object URLs are blob:), and, on AWS only, the
 * primary HLS origin (MediaPackage) for the preview. Frames, plugins, forms to elsewhere and
 * `<base>` are refused.
 *
 * Caching: files under /assets/ carry a content hash in their name (Vite), so they never change and
 * are cached for a year as immutable; index.html and config.json are revalidated every time, so a
 * new build is seen at the next load.
 */

/** The Content-Security-Policy of the dashboards; `hlsOrigins` adds where the preview plays from. */
export function contentSecurityPolicy(hlsOrigins: readonly string[] = []): string {
  const extra = hlsOrigins.length > 0 ? ` ${hlsOrigins.join(' ')}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${extra}`,
    `media-src 'self' blob:${extra}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Headers every answer of the site carries (besides Content-Security-Policy and caching). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** Cache-Control of hashed assets (/assets/*): a year, never revalidated. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Cache-Control of index.html, config.json and the few unhashed files: always revalidated. */
export const REVALIDATE = 'no-cache';

/** The paths the single-page app answers with index.html (its client-side routes). */
export function isAppRoute(pathname: string): boolean {
  return pathname === '/' || pathname === '/index.html' || pathname === '/admin' || /^\/admin\/[a-z-]+\/?$/.test(pathname) || pathname === '/admin/';
}

/**
 * The runtime configuration the app reads from /config.json at start (no secret in it): where the
 * API is (empty = this origin), the primary HLS playlist, the SRT listener the encoder calls.
 */
export interface SiteConfig {
  /** Base URL of the API; '' when it is this origin (local runtime; CloudFront on AWS). */
  apiBase: string;
  /** The primary HLS playlist (absolute, or relative to this origin). */
  hlsUrl: string;
  /** The SRT listener: host (null = the host this page came from), port, AES key length in bytes (null: the encoder chooses, as on MediaConnect). */
  srt: { host: string | null; port: number; keyLength: number | null } | null;
  /** 'local' or 'aws'. */
  runtime: string;
}
