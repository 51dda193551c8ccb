/**
 * Test support: Debian's Chromium, headless, driven by playwright-core, the way this machine and
 * CI run it: a fresh profile in a temp dir, and the flags that keep Chromium from reaching out to
 * the network (background networking, component updates, sync: the machine has no network, and
 * its connection attempts would only be refused). Without /usr/bin/chromium, browser tests skip,
 * except under CI (CI=true or 1), where they fail.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const IN_CI = /^(1|true)$/i.test(process.env.CI ?? '');
/** A `skip` option for node:test: the reason, or false when Chromium is there (or CI must fail). */
export const skipWithoutChromium: string | false = !existsSync(CHROMIUM) && !IN_CI ? `no ${CHROMIUM} (install it with: apt-get install chromium); under CI=true this fails instead` : false;

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

export interface TestBrowser {
  /** A new context (its own cookies and sessionStorage: a second browser, as far as the app can tell). */
  context(opts?: { width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh user-data-dir. Each context's pages may only reach loopback:
 * any other request is aborted and recorded in `offLoopback`.
 */
export async function launchChromium(offLoopback: string[] = []): Promise<TestBrowser> {
  if (process.env.FANOUT_TEST_UNIT === '1') throw new Error('npm run test:unit: a test launched Chromium; tag its file @media (test/run.ts)');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing; CI must install it (.ci/run: apt-get install chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'fanout-chromium-'));
  const ctx0 = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const browser = ctx0.browser();
  const contexts: BrowserContext[] = [];
  return {
    async context(o = {}) {
      // A persistent context has no browser() to make siblings from when launched this way on some
      // versions; fall back to the persistent one for the first context.
      const c = browser ? await browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 800 } }) : ctx0;
      await c.route('**/*', (route) => {
        const { hostname } = new URL(route.request().url());
        if (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]') return route.continue();
        offLoopback.push(route.request().url());
        return route.abort();
      });
      contexts.push(c);
      return c;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await ctx0.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs a page's context in by putting the token where the app keeps it (sessionStorage), before any script runs. */
export async function signedIn(context: BrowserContext, token: string): Promise<void> {
  await context.addInitScript(`try { sessionStorage.setItem('fanout.token', ${JSON.stringify(token)}); } catch {}`);
}

/** Errors a page reported (uncaught exceptions and console errors), for a test to assert none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}
