/**
 * The dashboards' figures for `npm run bench` (run.ts calls `benchDashboard()`; alone:
 * `npx tsx test/bench/dashboard.ts`, after `npm run build:local` has built the dashboards):
 *
 *   1. JavaScript the streaming dashboard loads at once, gzipped (the entry and its static
 *      imports, from Vite's manifest), without the chunks it loads later: the preview's hls.js and
 *      the admin dashboard, reported apart;
 *   2. first render with 50 destinations: navigation start → the 50 cards on screen (the app's
 *      `fanout:destinations-rendered` performance mark), in Debian's Chromium, headless;
 *   3. SSE status event → DOM: from the server publishing a `destination.status` event to the
 *      card's status changing in the page (a MutationObserver's clock against the server's; one
 *      machine, one wall clock), p50 / p95 over a few dozen events, with the 50 cards on the page.
 *
 * Fanout runs in this process with the destination service alone (engine `none`): statuses move by
 * commands and by channel reports put on the bus, as channel-provisioner would, so no media is
 * needed and the figures are the page's and the stream's, not the engine's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../shared/runtimes/local/serverless-config.ts';
import { CHROMIUM, launchChromium, signedIn } from '../support/browser.ts';
import { reportChannelState } from '../support/engine-events.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime } from '../support/local.ts';

const DIST = join(repoRoot, '.build/dashboard');
const DESTINATIONS = 50;
const RENDER_RUNS = 5;
const STATUS_CYCLES = 10;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

export interface DashboardFigures {
  js: { initialGzipBytes: number; initialBytes: number; cssGzipBytes: number; files: string[]; lazyGzipBytes: Record<string, number> };
  firstRender50: { runsMs: number[]; p50Ms: number; cards: number } | null;
  sseToDom: { n: number; p50Ms: number; p95Ms: number; maxMs: number } | null;
  skipped?: string;
}

const gz = (file: string): number => gzipSync(readFileSync(join(DIST, file))).length;

/** The entry's JS and everything it imports statically; the chunks it imports dynamically apart. */
export function jsSizes(): DashboardFigures['js'] {
  const manifest = JSON.parse(readFileSync(join(DIST, '.vite/manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry)!;
  const initial = new Set<string>();
  const css = new Set<string>();
  const walk = (key: string): void => {
    const c = manifest[key]!;
    if (initial.has(c.file)) return;
    initial.add(c.file);
    for (const f of c.css ?? []) css.add(f);
    for (const i of c.imports ?? []) walk(i);
  };
  walk(entryKey);
  const lazy: Record<string, number> = {};
  const lazyWalk = (key: string, root: string, seen: Set<string>): void => {
    const c = manifest[key]!;
    if (initial.has(c.file) || seen.has(c.file)) return;
    seen.add(c.file);
    lazy[root] = (lazy[root] ?? 0) + gz(c.file);
    for (const i of [...(c.imports ?? []), ...(c.dynamicImports ?? [])]) lazyWalk(i, root, seen);
  };
  for (const c of Object.values(manifest))
    for (const d of c.dynamicImports ?? []) {
      const name = /hls/.test(d) ? 'preview (hls.js)' : /admin/.test(d) ? 'admin dashboard' : d;
      lazyWalk(d, name, new Set());
    }
  const files = [...initial];
  return {
    initialGzipBytes: files.reduce((n, f) => n + gz(f), 0),
    initialBytes: files.reduce((n, f) => n + readFileSync(join(DIST, f)).length, 0),
    cssGzipBytes: [...css].reduce((n, f) => n + gz(f), 0),
    files,
    lazyGzipBytes: lazy,
  };
}

const pct = (v: number[], p: number): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const r1 = (v: number): number => Math.round(v * 10) / 10;

/** The page-side recorder of status changes (wall-clock ms, sub-millisecond). */
const RECORDER = `
  window.__changes = []; window.__last = {};
  new MutationObserver(() => {
    const t = performance.timeOrigin + performance.now();
    document.querySelectorAll('[data-destination]').forEach((el) => {
      const id = el.getAttribute('data-destination'); const st = el.querySelector('[data-status]')?.getAttribute('data-status');
      if (window.__last[id] !== st) { window.__changes.push({ t, id, st }); window.__last[id] = st; }
    });
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
`;

export async function benchDashboard(log: (m: string) => void = console.log): Promise<DashboardFigures> {
  if (!existsSync(join(DIST, '.vite/manifest.json'))) throw new Error(`no built dashboards in ${DIST}: run npm run build:local`);
  const js = jsSizes();
  log(
    `dashboard JS at load: ${(js.initialGzipBytes / 1024).toFixed(1)} KiB gzipped (${js.files.length} files), lazy: ${Object.entries(js.lazyGzipBytes)
      .map(([k, v]) => `${k} ${(v / 1024).toFixed(1)} KiB`)
      .join(', ')}`,
  );
  if (!existsSync(CHROMIUM)) return { js, firstRender50: null, sseToDom: null, skipped: `no ${CHROMIUM}` };

  const rt = await startTestRuntime({ FANOUT_RATE_LIMIT_PER_MINUTE: '1000000' }, { engine: 'none', ssePingMs: 15_000 });
  const browser = await launchChromium();
  try {
    const ids: string[] = [];
    for (let i = 0; i < DESTINATIONS; i++) {
      const res = await rt.api('POST', '/api/destinations', { body: { name: `Bench ${i + 1}`, platform: i % 2 ? 'twitch' : 'youtube', streamKey: `bench-dashboard-key-${String(i).padStart(4, '0')}` } });
      ids.push(res.json.destinationId as string);
    }
    for (const id of ids) await reportChannelState(rt, id, 'IDLE');
    await eventually(async () => ((await rt.api('GET', '/api/destinations')).json.destinations as { status: string }[]).every((d) => d.status === 'idle'), { timeoutMs: 60_000, intervalMs: 200, what: 'all idle' });

    // 2. First render with 50 destinations (a new context each time: nothing cached but the HTTP cache is cold too).
    const runsMs: number[] = [];
    let cards = 0;
    for (let i = 0; i < RENDER_RUNS; i++) {
      const ctx = await browser.context();
      await signedIn(ctx, ADMIN_TOKEN);
      const page = await ctx.newPage();
      await page.goto(`${rt.url}/`);
      const mark = await eventually(async () => (await page.evaluate("performance.getEntriesByName('fanout:destinations-rendered')[0]?.startTime ?? null")) as number | null, { timeoutMs: 20_000, what: 'the render mark' });
      cards = (await page.evaluate("document.querySelectorAll('[data-destination]').length")) as number;
      runsMs.push(r1(mark));
      await ctx.close();
    }
    log(`dashboard first render, ${cards} destinations: ${runsMs.join(', ')} ms`);

    // 3. SSE status event → DOM.
    const ctx = await browser.context();
    await signedIn(ctx, ADMIN_TOKEN);
    await ctx.addInitScript(RECORDER);
    const page = await ctx.newPage();
    await page.goto(`${rt.url}/`);
    await eventually(async () => ((await page.evaluate("document.querySelectorAll('[data-destination]').length")) as number) === DESTINATIONS, { what: 'the cards' });
    await eventually(async () => (await page.getByTestId('connection').textContent()) === 'Live', { what: 'the stream open' });
    const published: { t: number; id: string; to: string }[] = [];
    const unsubscribe = rt.sse.subscribe((e) => {
      if (e.event === 'destination.status') {
        const d = e.data as { destinationId: string; to: string };
        published.push({ t: performance.timeOrigin + performance.now(), id: d.destinationId, to: d.to });
      }
    });
    const delays: number[] = [];
    const seen = async (id: string, to: string): Promise<void> => {
      const pub = await eventually(() => published.find((p) => p.id === id && p.to === to && !(p as { used?: boolean }).used), { what: `${to} published` });
      (pub as { used?: boolean }).used = true;
      const change = await eventually(async () => ((await page.evaluate('window.__changes')) as { t: number; id: string; st: string }[]).find((c) => c.id === id && c.st === to && c.t >= pub.t - 50), {
        timeoutMs: 5000,
        intervalMs: 10,
        what: `${to} on the page`,
      });
      delays.push(change.t - pub.t);
    };
    for (let c = 0; c < STATUS_CYCLES; c++) {
      const id = ids[(c * 7) % ids.length]!;
      await rt.api('POST', `/api/destinations/${id}/start`);
      await seen(id, 'starting');
      await reportChannelState(rt, id, 'RUNNING');
      await seen(id, 'running');
      await rt.api('POST', `/api/destinations/${id}/stop`);
      await seen(id, 'stopping');
      await reportChannelState(rt, id, 'IDLE');
      await seen(id, 'idle');
    }
    unsubscribe();
    const sseToDom = { n: delays.length, p50Ms: r1(pct(delays, 50)), p95Ms: r1(pct(delays, 95)), maxMs: r1(Math.max(...delays)) };
    log(`dashboard SSE status → DOM: p50 ${sseToDom.p50Ms} ms, p95 ${sseToDom.p95Ms} ms (n ${sseToDom.n})`);
    return { js, firstRender50: { runsMs, p50Ms: r1(pct(runsMs, 50)), cards }, sseToDom };
  } finally {
    await browser.close();
    await rt.close();
  }
}

if (process.argv[1]?.endsWith('test/bench/dashboard.ts')) {
  const figures = await benchDashboard();
  console.log(JSON.stringify(figures, null, 2));
}
