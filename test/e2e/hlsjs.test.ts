/**
 * The primary HLS output plays in a real browser: Debian's Chromium (headless, driven by
 * playwright-core) loads a player page from its own origin, as an organisation's site would, and
 * plays /hls/primary/index.m3u8 from Fanout with hls.js in a muted autoplaying <video>, fed by an
 * encrypted SRT test source through the real local engine. It checks with a deadline that hls.js
 * reports no fatal error, the video's clock advances by several seconds, the picture is the feed's
 * size, fragments load, and both tracks (H.264, AAC) reach the media buffers.
 *
 * No network: hls.js comes from node_modules through a player server on loopback, and the page's
 * every request is checked to go to loopback (any other is aborted and fails the test).
 *
 * Without /usr/bin/chromium the test is skipped, except under CI (CI=true or 1), where it fails:
 * .ci/run installs Chromium, so a missing one there is a broken CI, not a machine without a
 * browser. If this Chromium cannot play H.264/AAC through Media Source Extensions (a build without
 * the proprietary codecs), the test is skipped and says so: hls.js cannot play there at all.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FEED_PICTURE, primaryPlaylist, startTestFeed, type TestFeed } from '../support/feed.ts';
import { eventually } from '../support/local.ts';

const CHROMIUM = '/usr/bin/chromium';
const IN_CI = /^(1|true)$/i.test(process.env.CI ?? '');
/** H.264 and AAC-LC in fragmented MP4, what hls.js turns the MPEG-TS segments into for MSE. */
const MSE_TYPE = 'video/mp4; codecs="avc1.42E01E,mp4a.40.2"';
/** How far the video's clock must advance once playing, seconds. */
const ADVANCE_S = 4;

const skip = !existsSync(CHROMIUM) && !IN_CI ? `no ${CHROMIUM} (install it with: apt-get install chromium); under CI=true this fails instead` : false;

/**
 * The player page, its origin distinct from Fanout's: the HLS responses must allow it (CORS). It
 * plays `?src=` and offers `snapshot()`, the state the test polls (see PlayerState).
 */
const PLAYER_HTML = `<!doctype html>
<meta charset="utf-8">
<title>Fanout primary output</title>
<video id="video" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById('video');
  const src = new URLSearchParams(location.search).get('src');
  const state = { hlsSupported: Hls.isSupported(), fatal: null, errors: [], fragments: 0, codecs: {}, playError: null };
  window.snapshot = () => ({
    ...state,
    currentTime: video.currentTime,
    videoWidth: video.videoWidth,
    videoHeight: video.videoHeight,
    decodedFrames: video.getVideoPlaybackQuality().totalVideoFrames,
  });
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_e, d) => {
    state.errors.push(d.details);
    if (d.fatal) state.fatal = d.type + '/' + d.details;
  });
  hls.on(Hls.Events.FRAG_LOADED, () => state.fragments++);
  hls.on(Hls.Events.BUFFER_CODECS, (_e, tracks) => {
    for (const [kind, t] of Object.entries(tracks)) state.codecs[kind] = t.codec;
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => (state.playError = String(e))));
  if (src) {
    hls.loadSource(src);
    hls.attachMedia(video);
  }
</script>
`;

/** Serves the player page and hls.js (from node_modules) on a loopback port of its own. */
async function startPlayerServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://player').pathname;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PLAYER_HTML);
    else if (path === '/hls.min.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface PlayerState {
  hlsSupported: boolean;
  fatal: string | null;
  errors: string[];
  fragments: number;
  codecs: Record<string, string>;
  playError: string | null;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  decodedFrames: number;
}

// Page-side code is given as strings: this project's TypeScript has Node's types, not the DOM's.
const sample = (page: Page) => page.evaluate('window.snapshot()') as Promise<PlayerState>;

let browser: Browser | undefined;
let feed: TestFeed | undefined;
let player: Awaited<ReturnType<typeof startPlayerServer>> | undefined;
after(async () => {
  await browser?.close();
  await player?.close();
  await feed?.close();
});

test("hls.js in Chromium plays the primary HLS output from another origin: no fatal error, time advances, the feed's size", { timeout: 90_000, skip }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing; CI must install it (.ci/run: apt-get install chromium)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  const page = await browser.newPage();
  const offLoopback: string[] = [];
  await page.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]') return route.continue();
    offLoopback.push(route.request().url());
    return route.abort();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));

  player = await startPlayerServer();
  await page.goto(`${player.origin}/`);
  if (!(await page.evaluate(`MediaSource.isTypeSupported(${JSON.stringify(MSE_TYPE)})`))) {
    const version = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    t.skip(`${version} at ${CHROMIUM} has no H.264/AAC in Media Source Extensions (isTypeSupported('${MSE_TYPE}') is false), so hls.js cannot play the output in it`);
    return;
  }

  feed = await startTestFeed({ passphrase: 'hlsjs-e2e-passphrase-0123456789' });
  await primaryPlaylist(feed.rt);
  assert.notEqual(new URL(feed.rt.url).origin, player.origin, 'the player is on another origin than Fanout');
  await page.goto(`${player.origin}/?src=${encodeURIComponent(`${feed.rt.url}/hls/primary/index.m3u8`)}`);

  // Poll until playing or failed: a fatal error ends the wait at once rather than at the deadline.
  const started = await eventually(
    async () => {
      const s = await sample(page);
      return s.fatal || s.currentTime > 0 ? s : null;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: 'the video to start playing' },
  );
  assert.equal(started.fatal, null, `hls.js fatal error before playing (errors: ${started.errors.join(', ')})`);
  assert.ok(started.hlsSupported, 'Hls.isSupported()');

  const playing = await eventually(
    async () => {
      const s = await sample(page);
      return s.fatal || s.currentTime >= started.currentTime + ADVANCE_S ? s : null;
    },
    { timeoutMs: (ADVANCE_S + 10) * 1000, intervalMs: 100, what: `currentTime to advance ${ADVANCE_S} s from ${started.currentTime}` },
  );
  assert.equal(playing.fatal, null, `hls.js fatal error while playing (errors: ${playing.errors.join(', ')})`);
  assert.equal(playing.playError, null, 'video.play() was allowed (muted autoplay)');
  assert.deepEqual([playing.videoWidth, playing.videoHeight], [FEED_PICTURE.width, FEED_PICTURE.height], "the picture is the feed's size");
  assert.ok(playing.fragments >= 2, `fragments loaded: ${playing.fragments}`);
  assert.match(playing.codecs.video ?? '', /^avc1\./, `video track buffered: ${JSON.stringify(playing.codecs)}`);
  assert.match(playing.codecs.audio ?? '', /^mp4a\./, `audio track buffered: ${JSON.stringify(playing.codecs)}`);
  assert.ok(playing.decodedFrames >= ADVANCE_S * FEED_PICTURE.fps * 0.5, `frames decoded: ${playing.decodedFrames}`);
  assert.deepEqual(pageErrors, [], 'no script error on the page');
  assert.deepEqual(offLoopback, [], 'the page requested nothing beyond loopback');
});
