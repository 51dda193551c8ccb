/**
 * Vite's configuration of the dashboards (services/dashboard): one single-page app for both the
 * streaming dashboard (/) and the admin dashboard (/admin), Preact's JSX through Vite's own
 * transformer (no Babel preset needed), hashed file names under /assets/, no inline script (the
 * module-preload polyfill is off: every browser Fanout supports has modulepreload) and no asset
 * inlined as a data: URL, so the site runs under the strict Content-Security-Policy of site.ts.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export const DASHBOARD_ROOT = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: DASHBOARD_ROOT,
  base: '/',
  publicDir: 'public',
  logLevel: 'warn',
  clearScreen: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
    // .vite/manifest.json: which chunks the page loads at once and which later (the bench's JS size).
    manifest: true,
  },
});
