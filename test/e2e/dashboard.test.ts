/**
 * The dashboards in a real browser against a real Fanout: Debian's Chromium (headless, through
 * playwright-core) opens the streaming and admin dashboards served by the local runtime, with the
 * real local engine fed by an encrypted SRT test source and a private nginx-rtmp on loopback
 * standing in for YouTube. Everything is done the way a person would (filling the form, clicking),
 * and the API is asked after each step whether it agrees.
 *
 * A second browser context (another person's browser) watches: each change must reach its page
 * within a second of the server publishing it, and only through the event stream (it never reads
 * the destination list again after its first load: no polling).
 *
 * Also: the API's field errors inline (bad URL, empty key) with nothing created; presets created,
 * edited and refused deletion while in use; the infrastructure page (engine, channels, processes as
 * the API lists them, validate); an operator's token kept out of the admin pages; a
 * destination named like markup shown as text; the streaming page driven by the keyboard alone
 * (Tab reaches every control, each with a focus ring; Enter and Escape in the removal dialog);
 * axe-core on every page (no serious or critical
 * finding); no horizontal scrolling at 390 px; a screenshot of each page in test-output/dashboard/;
 * and, last, the page saying it is offline when Fanout goes away.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { buildDashboard } from '../../services/dashboard/build.ts';
import { launchChromium, pageErrors, signedIn, skipWithoutChromium, type TestBrowser } from '../support/browser.ts';
import { startTestFeed, type TestFeed } from '../support/feed.ts';
import { ADMIN_TOKEN, eventually, type TestRuntime } from '../support/local.ts';
import { NginxRtmp } from '../support/nginx-rtmp.ts';

const PASSPHRASE = 'dashboard-e2e-passphrase-0123';
const KEYS = { main: 'yt-dash-main-key-00112233', backup: 'yt-dash-backup-key-44556677', inUse: 'yt-dash-preset-key-8899aabb' };
const XSS = '<img src=x onerror=alert(1)>';
const OUT = 'test-output/dashboard';
/** How long a change may take to reach the watching browser, from the server publishing it. */
const WITHIN_MS = 1000;

let nginx: NginxRtmp;
let feed: TestFeed;
let rt: TestRuntime;
let browser: TestBrowser;
let operatorToken = '';
let operator: Page; // the person at work (operator token)
let watcher: Page; // another browser watching (admin token)
let admin: Page;
const offLoopback: string[] = [];
const dialogs: string[] = [];
/** Events the server published on the stream, with the time (for the watcher's delay). */
const published: { at: number; event: string; data: Record<string, unknown> }[] = [];
/** Every API request the watcher's page made (method and path). */
const watcherRequests: string[] = [];
const ids = { main: '', backup: '' };

type Seen = { at: number; id: string; status: string };
/** Installed in the watcher: records when each destination card appears, changes status or goes. */
const RECORDER = `
  window.__seen = []; window.__last = {};
  new MutationObserver(() => {
    const now = Date.now(); const cur = {};
    document.querySelectorAll('[data-destination]').forEach((el) => { cur[el.getAttribute('data-destination')] = el.querySelector('[data-status]')?.getAttribute('data-status') ?? '?'; });
    for (const [id, st] of Object.entries(cur)) if (window.__last[id] !== st) window.__seen.push({ at: now, id, status: st });
    for (const id of Object.keys(window.__last)) if (!(id in cur)) window.__seen.push({ at: now, id, status: 'gone' });
    window.__last = cur;
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
`;

const api = (method: string, path: string, body?: unknown, token?: string) => rt.api(method, path, { ...(body !== undefined ? { body } : {}), ...(token ? { token } : {}) });
const dest = async (id: string) => (await api('GET', `/api/destinations/${id}`)).json as { status: string; name: string; preset: string; desired: string } | undefined;
const card = (page: Page, id: string) => page.locator(`[data-destination="${id}"]`);
const statusOf = (page: Page, id: string) => card(page, id).locator('[data-status]').getAttribute('data-status');

async function waitDom(page: Page, id: string, status: string, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => (await statusOf(page, id).catch(() => null)) === status, { timeoutMs, intervalMs: 50, what: `card ${id.slice(0, 8)} to show ${status}` });
}

/** The delay from the server publishing `event` (matching `match`) to the watcher's page showing `status` ('*': the card at all). */
async function watcherDelay(event: string, match: (d: Record<string, unknown>) => boolean, id: string, status: string): Promise<number> {
  const pub = await eventually(() => published.find((p) => p.event === event && match(p.data)), { timeoutMs: 30_000, what: `${event} to be published` });
  const seen = await eventually(async () => ((await watcher.evaluate('window.__seen')) as Seen[]).find((s) => s.id === id && (status === '*' || s.status === status) && s.at >= pub.at - 5), {
    timeoutMs: 5000,
    intervalMs: 20,
    what: `the watcher to show ${id.slice(0, 8)} ${status}`,
  });
  return seen.at - pub.at;
}

async function axe(page: Page, name: string): Promise<void> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Injected through the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
  await page.evaluate(source);
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')})`,
    ),
    [],
    `axe on ${name}`,
  );
}

async function noHorizontalScroll(page: Page, name: string): Promise<void> {
  const { scroll, width } = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })')) as { scroll: number; width: number };
  assert.ok(scroll <= width, `${name} scrolls sideways at ${width} px: ${scroll} px wide`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
}

/** A page whose script errors and dialogs (an alert() would be an XSS) are recorded. */
async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  const errs = pageErrors(page);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('response', (r) => {
    if (r.status() === 403) forbidden.push(`${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  pages.push({ page, errs });
  return page;
}
const pages: { page: Page; errs: string[] }[] = [];
/** Every 403 any page got: the dashboards must never call a route their token may not read. */
const forbidden: string[] = [];

/**
 * Types a URL over the platform's pre-filled one once the pre-fill has landed: typing while the
 * form is still pre-filling can leave the caret after the default, and the text is appended to it.
 */
async function fillIngestUrl(page: Page, url: string): Promise<void> {
  await eventually(async () => (await page.inputValue('#add-rtmpUrl')) !== '', { what: 'the ingest URL pre-filled' });
  await page.fill('#add-rtmpUrl', url);
  await eventually(async () => (await page.inputValue('#add-rtmpUrl')) === url, { what: 'the ingest URL typed' });
}

describe('the dashboards in Chromium, against a real Fanout with real media', { timeout: 420_000, skip: skipWithoutChromium }, () => {
  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildDashboard();
    nginx = await NginxRtmp.start();
    feed = await startTestFeed({ passphrase: PASSPHRASE });
    rt = feed.rt;
    rt.sse.subscribe((e) => published.push({ at: Date.now(), event: e.event, data: e.data as Record<string, unknown> }));
    const tok = await api('POST', '/api/admin/tokens', { name: 'e2e operator', role: 'operator' });
    assert.equal(tok.status, 201, tok.text);
    operatorToken = tok.json.token;
    browser = await launchChromium(offLoopback);

    const opCtx = await browser.context();
    await signedIn(opCtx, operatorToken);
    operator = await newPage(opCtx);
    const watchCtx = await browser.context();
    await signedIn(watchCtx, ADMIN_TOKEN);
    await watchCtx.addInitScript(RECORDER);
    watcher = await newPage(watchCtx);
    watcher.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/')) watcherRequests.push(`${r.method()} ${u.pathname}`);
    });
    await Promise.all([operator.goto(`${rt.url}/`), watcher.goto(`${rt.url}/`)]);
  });

  after(async () => {
    await browser?.close();
    await feed?.close();
    await nginx?.close();
  });

  it('signs in from the token in sessionStorage, knows the role, and is live', async () => {
    for (const [page, role] of [
      [operator, 'operator'],
      [watcher, 'admin'],
    ] as const) {
      await eventually(async () => (await page.getByTestId('role').textContent()) === role, { what: `${role} role shown` });
      await eventually(async () => (await page.getByTestId('connection').textContent()) === 'Live', { what: 'the event stream open' });
      await page.getByText('No destinations yet').waitFor();
      // The token is in no URL the app shows, requested or keeps.
      assert.ok(!page.url().includes(page === operator ? operatorToken : ADMIN_TOKEN));
    }
    assert.equal(await operator.getByRole('link', { name: 'Admin' }).count(), 0, 'no admin link for an operator');
    await shot(operator, 'streaming-empty');
  });

  it('adds two YouTube destinations through the form; both browsers show them, the API agrees', async () => {
    for (const [key, name, keyName] of [
      ['main', 'YouTube main', KEYS.main],
      ['backup', 'YouTube backup', KEYS.backup],
    ] as const) {
      await operator.getByRole('button', { name: 'Add destination' }).click();
      await operator.selectOption('#add-platform', 'youtube');
      await fillIngestUrl(operator, nginx.url('live'));
      await operator.fill('#add-streamKey', keyName);
      await operator.selectOption('#add-preset', 'passthrough');
      await operator.fill('#add-name', name);
      await operator.locator('form.dest-form').getByRole('button', { name: 'Add destination' }).click();
      const created = await eventually(async () => ((await api('GET', '/api/destinations')).json.destinations as { destinationId: string; name: string }[]).find((d) => d.name === name), { what: `${name} in the API` });
      ids[key] = created.destinationId;
      const d = (await api('GET', `/api/destinations/${created.destinationId}`)).json;
      assert.deepEqual([d.platform, d.rtmpUrl.replace(/\/$/, ''), d.preset, d.streamKeyLast4], ['youtube', nginx.url('live'), 'passthrough', keyName.slice(-4)]);
      // The card's first appearance (its status may already have moved on when the page renders).
      const delay = await watcherDelay('destination.created', (x) => x.destinationId === created.destinationId, created.destinationId, '*');
      assert.ok(delay <= WITHIN_MS, `the watcher saw ${name} ${delay} ms after it was published`);
      await waitDom(operator, created.destinationId, 'idle');
      await waitDom(watcher, created.destinationId, 'idle');
      assert.equal((await dest(created.destinationId))?.status, 'idle');
      await eventually(async () => (await card(operator, created.destinationId).locator('.dest-sub').first().textContent())?.includes(keyName.slice(-4)), { what: 'the key’s last 4 on the card' });
      assert.ok(!(await operator.content()).includes(keyName), 'the stream key is never on the page');
    }
  });

  it('starts one: running with a bitrate above zero while the preview plays; the API and nginx agree', async () => {
    await card(operator, ids.main).getByRole('button', { name: 'Start' }).click();
    await waitDom(operator, ids.main, 'running');
    const delay = await watcherDelay('destination.status', (x) => x.destinationId === ids.main && x.to === 'running', ids.main, 'running');
    assert.ok(delay <= WITHIN_MS, `the watcher saw running ${delay} ms after it was published`);
    assert.equal((await dest(ids.main))?.status, 'running');
    assert.ok((await nginx.hasPublisher(KEYS.main))?.publishing, 'nginx receives the stream');
    await eventually(async () => (await card(operator, ids.main).locator('[data-health]').getAttribute('data-health')) === 'ok', { timeoutMs: 15_000, what: 'health ok (bytes and frames leaving)' });
    // Above zero at once; above 100 kb/s (a real video stream, not a unit slip) once the encoder
    // has settled: the first sample window of a start on a loaded machine can hold a few kb/s.
    const seen: number[] = [];
    await eventually(
      async () => {
        const t = (await card(operator, ids.main).getByTestId('bitrate').textContent()) ?? '';
        const m = /([\d.]+) (kb|Mb)\/s/.exec(t);
        const v = m ? Number(m[1]) * (m[2] === 'Mb' ? 1000 : 1) : 0;
        if (v > 0 && seen.at(-1) !== v) seen.push(v);
        return v > 100 ? v : null;
      },
      { timeoutMs: 30_000, what: 'a bitrate above 100 kb/s on the card' },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (the card showed: ${seen.join(', ') || 'nothing above zero'} kb/s)`);
    });
    assert.equal(await card(operator, ids.backup).locator('[data-health]').getAttribute('data-health'), 'off', 'the other one is not green');
    // The preview: the video's clock advances.
    const t0 = await eventually(
      async () => {
        const t = (await operator.evaluate("document.querySelector('[data-testid=preview]').currentTime")) as number;
        return t > 0 ? t : null;
      },
      { timeoutMs: 30_000, what: 'the preview to play' },
    );
    await eventually(async () => ((await operator.evaluate("document.querySelector('[data-testid=preview]').currentTime")) as number) > t0 + 2, { timeoutMs: 20_000, what: 'the preview’s time to advance' });
    await eventually(async () => /\d/.test((await operator.getByTestId('outbound').textContent()) ?? '') && (await operator.getByTestId('running-count').textContent()) === '1 of 2', { what: 'the status bar' });
    assert.equal(await operator.getByTestId('input-summary').textContent(), 'Connected');
    await shot(operator, 'streaming-running');
  });

  it('stops it; both browsers and the API show it stopped, nginx loses the stream', async () => {
    await card(operator, ids.main).getByRole('button', { name: 'Stop' }).click();
    await waitDom(operator, ids.main, 'idle');
    const delay = await watcherDelay('destination.status', (x) => x.destinationId === ids.main && x.to === 'idle', ids.main, 'idle');
    assert.ok(delay <= WITHIN_MS, `the watcher saw idle ${delay} ms after it was published`);
    assert.equal((await dest(ids.main))?.status, 'idle');
    await eventually(async () => !(await nginx.hasPublisher(KEYS.main))?.publishing, { what: 'the stream to leave nginx' });
  });

  it('removes the other after a confirmation; gone from both browsers and the API', async () => {
    await card(operator, ids.backup).getByRole('button', { name: 'Remove' }).click();
    const dialog = operator.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await eventually(async () => (await card(operator, ids.backup).count()) === 0, { timeoutMs: 30_000, what: 'the card to go' });
    const delay = await watcherDelay('destination.deleted', (x) => x.destinationId === ids.backup, ids.backup, 'gone');
    assert.ok(delay <= WITHIN_MS, `the watcher saw the removal ${delay} ms after it was published`);
    assert.equal((await api('GET', `/api/destinations/${ids.backup}`)).status, 404);
    assert.equal(await card(operator, ids.main).count(), 1, 'the first one is untouched');
  });

  it('the watcher learnt all of it from the event stream: it read the list once and never polled', () => {
    const lists = watcherRequests.filter((r) => r === 'GET /api/destinations');
    assert.equal(lists.length, 1, `list reads: ${lists.length}`);
    const polled = watcherRequests.filter((r) => !/^GET \/api\/(events|destinations\/[^/]+(\/metrics)?|destinations|mediaconnect\/flow\/status|mediaconnect\/inputs\/health|session|platforms|admin\/platforms)$/.test(r));
    assert.deepEqual(polled, [], 'no other API request');
    assert.equal(watcherRequests.filter((r) => r === 'GET /api/events').length, 1, 'one event stream, never reopened');
  });

  it('a bad URL, an empty key and a too-short key show the API’s errors next to their fields and create nothing', async () => {
    const before = (await api('GET', '/api/destinations')).json.destinations.length;
    await operator.getByRole('button', { name: 'Add destination' }).click();
    await operator.selectOption('#add-platform', 'youtube');
    await fillIngestUrl(operator, 'http://example.invalid/live');
    await operator.fill('#add-streamKey', '');
    await operator.fill('#add-name', 'Broken');
    await operator.locator('form.dest-form').getByRole('button', { name: 'Add destination' }).click();
    const urlError = operator.locator('#add-rtmpUrl-error');
    const keyError = operator.locator('#add-streamKey-error');
    await urlError.waitFor();
    await keyError.waitFor();
    // The API's own words, next to their fields.
    const problem = (await api('POST', '/api/destinations', { name: 'Broken', platform: 'youtube', rtmpUrl: 'http://example.invalid/live', streamKey: '' })).json;
    assert.equal(problem.code, 'VALIDATION_FAILED');
    const message = (path: string) =>
      (problem.errors as { path: string; message: string }[])
        .filter((e) => e.path === path)
        .map((e) => e.message)
        .join('; ');
    assert.equal(await urlError.textContent(), message('rtmpUrl'));
    assert.equal(await keyError.textContent(), message('streamKey'));
    assert.equal(await operator.locator('#add-rtmpUrl').getAttribute('aria-invalid'), 'true');
    assert.equal((await api('GET', '/api/destinations')).json.destinations.length, before, 'nothing was created');
    await shot(operator, 'streaming-form-errors');
    // A good URL and a key too short for YouTube: the service's own refusal, next to the key.
    await operator.fill('#add-rtmpUrl', 'rtmps://a.rtmps.youtube.com:443/live2');
    await operator.fill('#add-streamKey', 'abcd-efgh');
    await operator.locator('form.dest-form').getByRole('button', { name: 'Add destination' }).click();
    const short = (await api('POST', '/api/destinations', { name: 'Broken', platform: 'youtube', rtmpUrl: 'rtmps://a.rtmps.youtube.com:443/live2', streamKey: 'abcd-efgh' })).json;
    assert.equal(short.code, 'STREAM_KEY_INVALID');
    const shortMessage = (short.errors as { path: string; message: string }[]).find((e) => e.path === 'streamKey')!.message;
    await eventually(async () => (await keyError.textContent()) === shortMessage, { what: 'the too-short key refused next to its field' });
    assert.equal((await api('GET', '/api/destinations')).json.destinations.length, before, 'nothing was created');
    await operator.locator('form.dest-form').getByRole('button', { name: 'Cancel' }).click();
  });

  it('a destination named like markup is shown as text', async () => {
    const res = await api('POST', '/api/destinations', { name: XSS, platform: 'youtube', rtmpUrl: nginx.url('live'), streamKey: 'xss-test-key-0000111122', preset: 'passthrough' });
    assert.equal(res.status, 201);
    const id = res.json.destinationId as string;
    await card(operator, id).waitFor();
    assert.equal(await card(operator, id).locator('.dest-name').textContent(), XSS);
    assert.equal(await operator.locator('img[src="x"]').count(), 0, 'no element was made from the name');
    assert.deepEqual(dialogs, [], 'no script ran');
    await waitDom(operator, id, 'idle');
  });

  it('keyboard only: Tab reaches every control of the page with a visible focus ring; Enter opens the removal dialog, Escape cancels it, focus comes back', async () => {
    const xssId = (await api('GET', '/api/destinations')).json.destinations.find((d: { name: string }) => d.name === XSS).destinationId as string;
    await operator.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
    // What has the focus: its role, its name, the card it is in, and whether it shows a focus ring.
    const focused = () =>
      operator.evaluate(`(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const ring = getComputedStyle(el).outlineStyle !== 'none' && parseFloat(getComputedStyle(el).outlineWidth) > 0;
        return { tag: el.tagName.toLowerCase(), name: (el.getAttribute('aria-label') || el.textContent || el.id || '').trim(), card: el.closest('[data-destination]')?.getAttribute('data-destination') ?? null, ring };
      })()`) as Promise<{ tag: string; name: string; card: string | null; ring: boolean } | null>;
    const reached: NonNullable<Awaited<ReturnType<typeof focused>>>[] = [];
    for (let i = 0; i < 120; i++) {
      await operator.keyboard.press('Tab');
      const f = await focused();
      if (!f) continue;
      if (reached.some((r) => r.tag === f.tag && r.name === f.name && r.card === f.card)) break; // wrapped around
      reached.push(f);
    }
    const names = reached.map((r) => `${r.card ? `[${r.card.slice(0, 8)}] ` : ''}${r.name}`);
    for (const name of ['Start all', 'Stop all', 'Add destination'])
      assert.ok(
        reached.some((r) => r.name === name && !r.card),
        `Tab reaches ${name}: ${names.join(' | ')}`,
      );
    for (const id of [ids.main, xssId])
      for (const name of ['Start', 'Edit', 'Remove'])
        assert.ok(
          reached.some((r) => r.card === id && r.name === name),
          `Tab reaches ${name} of ${id.slice(0, 8)}: ${names.join(' | ')}`,
        );
    const noRing = reached.filter((r) => !r.ring).map((r) => `${r.tag} ${r.name}`);
    assert.deepEqual(noRing, [], 'every control reached by Tab shows where the focus is');

    // Back to Remove of the markup-named card by keyboard, then Enter, Escape.
    await operator.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
    let onRemove = false;
    for (let i = 0; i < 120 && !onRemove; i++) {
      await operator.keyboard.press('Tab');
      const f = await focused();
      onRemove = f?.card === xssId && f.name === 'Remove';
    }
    assert.ok(onRemove, 'Tab brings the focus to Remove');
    await operator.keyboard.press('Enter');
    const dialog = operator.getByRole('dialog');
    await dialog.waitFor();
    assert.ok(await operator.evaluate("document.activeElement?.closest('dialog') !== null"), 'the focus moved into the dialog');
    await operator.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await eventually(
      async () => {
        const f = await focused();
        return f?.card === xssId && f.name === 'Remove';
      },
      { timeoutMs: 2_000, what: 'the focus back on Remove after Escape' },
    );
    assert.equal((await api('GET', `/api/destinations/${xssId}`)).status, 200, 'Escape removed nothing');
    assert.equal(await card(operator, xssId).count(), 1);
  });

  it('an operator cannot open the admin pages: the page says it needs an admin token, the API refuses', async () => {
    await operator.goto(`${rt.url}/admin/tokens`);
    await operator.getByRole('heading', { name: 'This page needs an admin token' }).waitFor();
    assert.equal(await operator.getByRole('heading', { name: 'Tokens' }).count(), 0);
    for (const path of ['/api/admin/tokens', '/api/admin/presets', '/api/admin/platforms', '/api/admin/engine/processes']) assert.equal((await api('GET', path, undefined, operatorToken)).status, 403, path);
    await axe(operator, 'admin as operator');
    await shot(operator, 'admin-needs-admin-token');
    await operator.goto(`${rt.url}/`);
  });

  it('presets: created and edited in the admin dashboard; deleting one in use is refused and names its users', async () => {
    const ctx = await browser.context();
    await signedIn(ctx, ADMIN_TOKEN);
    admin = await newPage(ctx);
    await admin.goto(`${rt.url}/admin/catalog`);
    await admin.getByRole('button', { name: 'New preset' }).click();
    await admin.fill('#preset-presetId', 'e2e-360p');
    await admin.fill('#preset-name', 'E2E 360p');
    await admin.selectOption('#preset-platform', 'youtube');
    await admin.fill('#preset-resolution', '640x360');
    await admin.fill('#preset-videoKbps', '50');
    await admin.getByRole('button', { name: 'Create preset' }).click();
    // The API's validation, next to the field; nothing created.
    await admin.locator('#preset-videoKbps-error').waitFor();
    assert.match((await admin.locator('#preset-videoKbps-error').textContent()) ?? '', /100 kbps/);
    assert.equal(
      (await api('GET', '/api/admin/presets')).json.presets.some((p: { presetId: string }) => p.presetId === 'e2e-360p'),
      false,
    );
    await admin.fill('#preset-videoKbps', '800');
    await admin.getByRole('button', { name: 'Create preset' }).click();
    await admin.locator('[data-preset="e2e-360p"]').waitFor();
    const created = (await api('GET', '/api/admin/presets')).json.presets.find((p: { presetId: string }) => p.presetId === 'e2e-360p');
    assert.deepEqual([created.name, created.platform, created.video.resolution, created.video.bitrate], ['E2E 360p', 'youtube', '640x360', 800_000]);

    await admin.getByRole('button', { name: 'Edit preset E2E 360p' }).click();
    await admin.fill('#preset-name', 'E2E 360p low');
    await admin.getByRole('button', { name: 'Save preset' }).click();
    await admin.getByText('E2E 360p low', { exact: true }).waitFor();
    assert.equal((await api('GET', '/api/admin/presets')).json.presets.find((p: { presetId: string }) => p.presetId === 'e2e-360p').name, 'E2E 360p low');

    const user = await api('POST', '/api/destinations', { name: 'Uses the preset', platform: 'youtube', rtmpUrl: nginx.url('live'), streamKey: KEYS.inUse, preset: 'e2e-360p' });
    assert.equal(user.status, 201, user.text);
    await admin.goto(`${rt.url}/admin/catalog`);
    await admin.getByRole('button', { name: 'Delete preset E2E 360p low' }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await admin.getByTestId('used-by').waitFor();
    assert.equal(await admin.getByTestId('used-by').textContent(), 'Uses the preset');
    assert.match((await admin.locator('.problem').first().textContent()) ?? '', /1 destination\(s\) use this preset/);
    assert.ok(
      (await api('GET', '/api/admin/presets')).json.presets.some((p: { presetId: string }) => p.presetId === 'e2e-360p'),
      'the preset is still there',
    );
    await shot(admin, 'admin-catalog');
  });

  it('tokens: created (shown once), listed, revoked', async () => {
    await admin.goto(`${rt.url}/admin/tokens`);
    await admin.fill('#token-name', 'CLI on the studio laptop');
    await admin.getByRole('button', { name: 'Create token' }).click();
    const shown = (await admin.getByTestId('new-token').locator('code').textContent()) ?? '';
    assert.match(shown, /^fo_/);
    assert.equal((await api('GET', '/api/destinations', undefined, shown)).status, 200, 'the token shown works');
    await admin.getByRole('button', { name: 'Done, hide it' }).click();
    assert.ok(!(await admin.content()).includes(shown), 'shown once only');
    await admin.getByRole('button', { name: 'Revoke CLI on the studio laptop' }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await eventually(async () => (await admin.getByRole('button', { name: 'Revoke CLI on the studio laptop' }).count()) === 0, { what: 'the token gone from the list' });
    assert.equal((await api('GET', '/api/destinations', undefined, shown)).status, 401, 'revoked');
  });

  it('infrastructure: the local engine, each channel with its state, the engine processes as the API lists them (no secret in a command line), validate with nothing to clean up', async () => {
    await admin.goto(`${rt.url}/admin/infrastructure`);
    await eventually(async () => (await admin.getByTestId('engine').textContent())?.startsWith('local (') === true, { what: 'the engine named' });
    const channels = admin.locator('section[aria-labelledby="channels-title"]');
    const mainRow = channels.locator('li.row', { hasText: 'YouTube main' });
    await mainRow.waitFor();
    assert.equal(await mainRow.locator('[data-status]').getAttribute('data-status'), (await dest(ids.main))?.status);
    const processes = (await api('GET', '/api/admin/engine/processes')).json.processes as { name: string; role: string }[];
    assert.ok(
      processes.some((p) => p.role === 'ingest'),
      `the ingest runs: ${JSON.stringify(processes)}`,
    );
    const procs = admin.locator('section[aria-labelledby="procs-title"]');
    for (const p of processes) await procs.locator('li.row strong', { hasText: p.name }).first().waitFor();
    const shown = (await procs.textContent()) ?? '';
    for (const secret of [...Object.values(KEYS), PASSPHRASE, operatorToken, ADMIN_TOKEN]) assert.ok(!shown.includes(secret), 'no secret in the process list');
    const orphans = admin.locator('section[aria-labelledby="validate-title"]');
    const cleanup = orphans.getByRole('button', { name: 'Clean up orphans…' });
    assert.ok(await cleanup.isDisabled(), 'nothing to clean up before a validation');
    await orphans.getByRole('button', { name: 'Validate' }).click();
    const report = (await api('GET', '/api/channels/validate')).json as { orphans: unknown[]; mismatches: unknown[] };
    assert.deepEqual(report.orphans, [], 'nothing orphaned in this run');
    await eventually(async () => /: 0 orphans, \d+ mismatch(es)?\.$/.test((await admin.getByTestId('validate-summary').textContent()) ?? ''), { what: 'the validation summary' });
    assert.ok(await cleanup.isDisabled(), 'no orphan: no cleanup');
    await shot(admin, 'admin-infrastructure');
  });

  it('costs: month to date and projection from GET /api/cost, a budget set from the page', async () => {
    await admin.goto(`${rt.url}/admin/costs`);
    await admin.getByTestId('cost-mtd').waitFor();
    const report = (await api('GET', '/api/cost')).json;
    assert.match((await admin.getByTestId('cost-mtd').textContent()) ?? '', /^\$\d+\.\d{2}$/);
    assert.equal(report.engine, 'local');
    await admin.fill('#budget-amount', '500');
    await admin.getByRole('button', { name: 'Save budget' }).click();
    await admin.getByText('Budget saved.').waitFor();
    assert.match((await admin.getByTestId('cost-budget').textContent()) ?? '', /^\$500\.00: /);
    assert.equal((await api('GET', '/api/admin/cost/budget')).json.budget.amount, '500.000000');
    await shot(admin, 'admin-costs');
  });

  it('axe-core finds nothing serious on any page; at 390 px nothing scrolls sideways; a screenshot of each', async () => {
    const pagesToCheck = ['/', '/admin', '/admin/catalog', '/admin/tokens', '/admin/costs', '/admin/notifications', '/admin/backup-input'];
    for (const width of [1280, 390]) {
      const ctx = await browser.context({ width, height: width === 390 ? 844 : 800 });
      await signedIn(ctx, ADMIN_TOKEN);
      const page = await newPage(ctx);
      for (const path of pagesToCheck) {
        await page.goto(`${rt.url}${path}`);
        await page.locator('h1').first().waitFor();
        await eventually(
          async () =>
            (await page
              .getByRole('status')
              .filter({ hasText: /^Loading(…| destinations| the admin)/ })
              .count()) === 0,
          { what: `${path} loaded` },
        );
        const name = `${path === '/' ? 'streaming' : path.slice(1).replaceAll('/', '-')}-${width}`;
        if (width === 1280) await axe(page, path);
        else await noHorizontalScroll(page, path);
        await shot(page, name);
      }
      await ctx.close();
    }
    // The sign-in page, at both widths.
    for (const width of [1280, 390]) {
      const ctx = await browser.context({ width, height: 800 });
      const page = await newPage(ctx);
      await page.goto(`${rt.url}/`);
      await page.getByRole('heading', { name: 'Sign in to Fanout' }).waitFor();
      await page.fill('#token', 'not-a-valid-token-at-all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#token-error').waitFor();
      assert.match((await page.locator('#token-error').textContent()) ?? '', /not valid/);
      if (width === 1280) await axe(page, 'sign-in');
      else await noHorizontalScroll(page, 'sign-in');
      await shot(page, `sign-in-${width}`);
      await ctx.close();
    }
  });

  it('a metrics token is refused at sign-in, saying why, without calling any route it may not read', async () => {
    const tok = await api('POST', '/api/admin/tokens', { name: 'e2e scraper', role: 'metrics' });
    assert.equal(tok.status, 201, tok.text);
    const ctx = await browser.context();
    const page = await newPage(ctx);
    const called: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/') || u.pathname === '/metrics') called.push(`${r.method()} ${u.pathname}`);
    });
    await page.goto(`${rt.url}/`);
    await page.fill('#token', tok.json.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error').waitFor();
    assert.match((await page.locator('#token-error').textContent()) ?? '', /metrics token/);
    assert.equal(await page.getByRole('heading', { name: 'Sign in to Fanout' }).count(), 1, 'still on the sign-in page');
    assert.deepEqual(called, ['GET /api/session'], 'only the session probe');
    await ctx.close();
  });

  it('no page got a 403: the operator, admin, watcher and metrics sessions only called routes their tokens may read', () => {
    assert.deepEqual(forbidden, []);
  });

  it('no script error on any page, nothing requested beyond loopback, no key or token in what the pages showed', async () => {
    const real = pages.flatMap((p) => p.errs).filter((e) => !/Failed to load resource/.test(e));
    assert.deepEqual(real, [], 'script errors');
    assert.deepEqual(offLoopback, [], 'requests beyond loopback');
  });

  it('when Fanout goes away, the page says it is offline and that it is retrying', async () => {
    await operator.goto(`${rt.url}/`);
    await eventually(async () => (await operator.getByTestId('connection').textContent()) === 'Live', { what: 'live first' });
    await feed.close();
    await eventually(async () => /^Offline, retrying in \d+ s$/.test((await operator.getByTestId('connection').textContent()) ?? ''), { timeoutMs: 20_000, what: 'the offline state' });
    assert.match((await operator.getByTestId('offline').textContent()) ?? '', /cannot be reached/);
    await shot(operator, 'streaming-offline');
  });
});
