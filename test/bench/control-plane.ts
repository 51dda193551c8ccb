/**
 * The control plane at 1,000 destinations (issue 16 §5), for `npm run bench` (run.ts calls
 * `benchControlPlane()`, first, before the media figures; `BENCH_CONTROL_PLANE=0` leaves it out).
 *
 * Fanout runs in this process with the real local engine (`engine: 'local'`: fanout-srt, FFmpeg,
 * RTMP publishers in Node) on an on-disk dynalite in a temp data dir, fed by the bench's looped SRT
 * sender; a loopback nginx-rtmp is the sink. It stores `CP_DESTINATIONS` (default 1,000)
 * destinations, starts `CP_RUNNING` (default 20) of them (passthrough, to the sink) and measures:
 *
 *   1. create throughput: POST /api/destinations by 8 clients at once, answers per second, and the
 *      time until every one of them is idle (its saga done: output added, channel created);
 *   2. `GET /api/destinations` as the dashboards read it (no parameters), by one client and by 8 at
 *      once: p50 / p95, requests per second, bytes per answer; and the whole list by following
 *      `nextCursor` (what the dashboard and the CLI do to show 1,000 destinations);
 *   3. the event stream fanned out to 50 clients (`GET /api/events`, each its own connection, read
 *      in this process): for each status change, the delay from the server publishing it to the
 *      50th client reading it (p50 / p95 over the changes of a few start/stop cycles);
 *   4. restart: Fanout stopped (its processes end, as at a crash of the host process) and started
 *      again on the same data dir: the time until its API answers, and until every destination
 *      that wants to run is live again at the sink (publishing, bytes growing) and `running`.
 *
 * Alone: `npx tsx test/bench/control-plane.ts` (prints the figures as JSON; under tsx the numbers
 * are a little higher than `npm run bench`'s, which runs compiled). Run it under the media lock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ingestBinary } from '../../shared/engines/local/engine/index.ts';
import { reportChannelState } from '../support/engine-events.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from '../support/local.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';
import { feedFile, loopedFeedCallerArgs } from './feed.ts';
import { parseSinkStreams, untilLive } from './sink.ts';

const DESTINATIONS = Number(process.env.CP_DESTINATIONS ?? 1000);
const RUNNING = Number(process.env.CP_RUNNING ?? 20);
const LIST_REQUESTS = Number(process.env.CP_LIST_REQUESTS ?? 60);
const CLIENTS = 8;
/** How long the bench waits for every saga to finish before it measures on regardless (CP_IDLE_TIMEOUT_S). */
const IDLE_TIMEOUT_MS = Number(process.env.CP_IDLE_TIMEOUT_S ?? 600) * 1000;
const SSE_CLIENTS = 50;
const SSE_CYCLES = 5;
/**
 * `local` (default): the real engine, the 20 fed over SRT and pushing to nginx-rtmp. `memory`
 * (CP_ENGINE=memory): the AWS-like state machines without media, "live" = status running: the
 * control plane's own figures on a machine (or a run) where media cannot be had; say so with them.
 * `none` (CP_ENGINE=none): the destination service alone, nothing started, no restart: the list,
 * create and event-stream figures only.
 */
const ENGINE = process.env.CP_ENGINE === 'memory' ? 'memory' : process.env.CP_ENGINE === 'none' ? 'none' : 'local';

export const CONTROL_PLANE_TARGETS = { listP95AloneMs: 50, listP95EightMs: 150, restartAllLiveMs: 5000 };

export interface Dist {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export interface ControlPlaneFigures {
  destinations: number;
  running: number;
  engine: string;
  create: { clients: number; n: number; perSecond: number; answer: Dist; cpuMsEach: number; allIdleMs: number | null };
  list: {
    /** What the plain GET answered: how many destinations and whether it said there is more. */
    items: number;
    paged: boolean;
    bytes: number;
    /** cpuMsEach: this process's CPU (server, dynalite and the client's fetch) per request: less sensitive than times to a loaded machine. */
    alone: Dist & { perSecond: number; cpuMsEach: number };
    eight: Dist & { perSecond: number; cpuMsEach: number };
    /** The whole list by following nextCursor (one client). */
    whole: (Dist & { pages: number; bytes: number }) | null;
  };
  sse: { clients: number; events: number; toLastClient: Dist; toFirstClient: Dist };
  restart: { apiUpMs: number; allLiveMs: number; allRunningMs: number } | null;
  warnings: string[];
}

const now = (): number => performance.now();
const r1 = (v: number): number => Math.round(v * 10) / 10;

export function dist(values: number[]): Dist {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
  return { n: s.length, p50: r1(at(50)), p95: r1(at(95)), max: r1(s.at(-1) ?? Number.NaN) };
}

/** The SRT sender (fanout-srt call running FFmpeg on the looped file), run again 300 ms after it exits. */
class Sender {
  #child: ChildProcess | null = null;
  #stopped = false;
  constructor(
    private readonly binary: string,
    private readonly args: string[],
    private readonly passphrase: string,
  ) {}
  start(): void {
    const child = spawn(this.binary, this.args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(`${this.passphrase}\n`);
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = null;
      if (!this.#stopped) setTimeout(() => !this.#stopped && this.start(), 300);
    });
  }
  async stop(): Promise<void> {
    this.#stopped = true;
    const c = this.#child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(killer);
  }
}

/** Resolves (ms after `t0`) once every key is publishing at the sink with bytes_in growing. */
async function allLive(sink: NginxRtmp, keys: string[], t0: number, timeoutMs: number): Promise<number> {
  await untilLive(async () => parseSinkStreams(await sink.stat()), keys, { timeoutMs, intervalMs: 50 });
  return now() - t0;
}

/** `n` requests by `clients` loops at once; each request's time in ms, and the whole wall time. */
async function load(clients: number, n: number, one: () => Promise<void>): Promise<{ times: number[]; wallMs: number; cpuMsEach: number }> {
  const times: number[] = [];
  let left = n;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (left > 0) {
        left--;
        const t = now();
        await one();
        times.push(now() - t);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { times, wallMs: now() - t0, cpuMsEach: r1((cpu.user + cpu.system) / 1000 / n) };
}

/** One raw GET with the admin token: status and body length (the body read, not parsed). */
async function rawGet(url: string): Promise<{ status: number; bytes: number; text: string }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(text), text };
}

/** A minimal SSE reader: calls `onId` with each frame's id and the time it was read. */
async function sseClient(url: string, onId: (id: string, at: number) => void): Promise<() => void> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` }, signal: controller.signal });
  if (res.status !== 200) throw new Error(`GET /api/events: ${res.status}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const at = performance.timeOrigin + now();
        for (const m of decoder.decode(value, { stream: true }).matchAll(/^id: ?(.+)$/gm)) onId(m[1]!, at);
      }
    } catch {
      // aborted
    }
  })();
  return () => controller.abort();
}

function listWarnings(list: ControlPlaneFigures['list']): string[] {
  const T = CONTROL_PLANE_TARGETS;
  const w: string[] = [];
  if (list.alone.p95 > T.listP95AloneMs) w.push(`GET /api/destinations alone p95 ${list.alone.p95} ms > ${T.listP95AloneMs} ms at ${DESTINATIONS} destinations`);
  if (list.eight.p95 > T.listP95EightMs) w.push(`GET /api/destinations with ${CLIENTS} clients p95 ${list.eight.p95} ms > ${T.listP95EightMs} ms at ${DESTINATIONS} destinations`);
  return w;
}

export async function benchControlPlane(log: (m: string) => void = console.log): Promise<ControlPlaneFigures> {
  const warnings: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-bench-cp-'));
  const media = ENGINE === 'local';
  const sink = media ? await NginxRtmp.start() : null;
  const srtPort = await freeUdpPort();
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  const env = {
    FANOUT_SRT_HOST: '127.0.0.1',
    FANOUT_SRT_PORT: String(srtPort),
    FANOUT_SRT_PASSPHRASE: passphrase,
    FANOUT_LOG_LEVEL: 'ERROR',
    FANOUT_RATE_LIMIT_PER_MINUTE: '100000000',
    FANOUT_SSE_STREAMS_PER_TOKEN: String(SSE_CLIENTS + 10),
  };
  const start = (): Promise<TestRuntime> => startTestRuntime(env, { engine: ENGINE, inMemory: false, dataDir, ssePingMs: 60_000 });
  let rt: TestRuntime | null = null;
  let sender: Sender | null = null;
  try {
    rt = await start();
    const api = (method: string, path: string, body?: unknown) => rt!.api(method, path, body === undefined ? {} : { body });
    if (media) {
      const src = await feedFile();
      const caller = ingestBinary();
      if (caller.problem) throw new Error(caller.problem);
      sender = new Sender(caller.path, loopedFeedCallerArgs(srtPort, src.path), passphrase);
      sender.start();
      await eventually(async () => (await api('GET', '/api/mediaconnect/inputs/health')).json?.connected === true, { timeoutMs: 30_000, intervalMs: 200, what: 'the SRT feed at Fanout' });
    }
    /** Every wanted-running destination live: media growing at the sink, or (memory engine) status running. */
    const running = (t0: number): Promise<number> =>
      sink
        ? allLive(sink, runKeys, t0, 120_000)
        : eventually(async () => ((await Promise.all(ids.slice(0, RUNNING).map(async (id) => (await api('GET', `/api/destinations/${id}`)).json?.status))).every((st) => st === 'running') ? now() - t0 : false), {
            timeoutMs: 120_000,
            intervalMs: 50,
            what: `${RUNNING} running`,
          });
    rt.responses.length = 0;

    // -- 1. Create: 8 clients at once -------------------------------------------------------------
    const ids: string[] = [];
    const keys: string[] = [];
    const runKeys: string[] = [];
    let made = 0;
    const createTimes = await load(CLIENTS, DESTINATIONS, async () => {
      const i = made++;
      const key = `cp-${i}-${randomBytes(4).toString('hex')}`;
      // The first RUNNING go to the sink; the others point at it too but are never started.
      const r = await api('POST', '/api/destinations', { name: `cp ${i}`, platform: 'custom', rtmpUrl: sink ? sink.url('live') : 'rtmp://127.0.0.1:1/live', streamKey: key, preset: 'passthrough' });
      if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.text}`);
      ids[i] = r.json.destinationId as string;
      keys[i] = key;
      if (i < RUNNING) runKeys[i] = key;
    });
    rt.responses.length = 0;
    const createAnswered = now();
    // Every saga done: each destination idle (paging with the largest page, whatever the default).
    const allIdleMs: number | null =
      ENGINE === 'none'
        ? null
        : await eventually(
            async () => {
              let cursor: string | null = null;
              let idle = 0;
              do {
                const r = await api('GET', `/api/destinations?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
                idle += (r.json.destinations as { status: string }[]).filter((d) => d.status === 'idle').length;
                cursor = r.json.nextCursor ?? null;
              } while (cursor);
              rt!.responses.length = 0;
              return idle === DESTINATIONS ? now() - createAnswered + createTimes.wallMs : false;
            },
            { timeoutMs: IDLE_TIMEOUT_MS, intervalMs: 2000, what: `${DESTINATIONS} destinations idle` },
          ).catch(() => {
            warnings.push(`not every destination idle ${IDLE_TIMEOUT_MS / 1000} s after the last create: measured on`);
            return null;
          });
    const create = {
      clients: CLIENTS,
      n: DESTINATIONS,
      perSecond: r1(DESTINATIONS / (createTimes.wallMs / 1000)),
      answer: dist(createTimes.times),
      cpuMsEach: createTimes.cpuMsEach,
      allIdleMs: allIdleMs === null ? null : Math.round(allIdleMs),
    };
    log(`control plane: ${DESTINATIONS} created by ${CLIENTS} clients at ${create.perSecond}/s (answer p50 ${create.answer.p50} ms, p95 ${create.answer.p95} ms), all idle after ${create.allIdleMs ?? '(not all idle)'} ms`);

    // -- 2. Start RUNNING ---------------------------------------------------------------------------
    const run = ENGINE === 'none' ? 0 : RUNNING;
    const t0 = now();
    for (const id of ids.slice(0, run)) {
      const r = await api('POST', `/api/destinations/${id}/start`);
      if (r.status !== 202) throw new Error(`start: ${r.status} ${r.text}`);
    }
    const liveMs = run === 0 ? 0 : await running(t0);
    log(`control plane: ${RUNNING} destinations live after ${Math.round(liveMs)} ms`);

    // -- 3. The list ----------------------------------------------------------------------------------
    const listUrl = `${rt.url}/api/destinations`;
    const first = await rawGet(listUrl);
    if (first.status !== 200) throw new Error(`GET /api/destinations: ${first.status}`);
    const firstJson = JSON.parse(first.text) as { destinations: unknown[]; nextCursor?: string | null };
    for (let i = 0; i < 5; i++) await rawGet(listUrl); // warm-up
    const one = async (): Promise<void> => {
      const r = await rawGet(listUrl);
      if (r.status !== 200) throw new Error(`GET /api/destinations: ${r.status}`);
    };
    const alone = await load(1, LIST_REQUESTS, one);
    const eight = await load(CLIENTS, LIST_REQUESTS * 2, one);
    let whole: ControlPlaneFigures['list']['whole'] = null;
    if (firstJson.nextCursor) {
      const times: number[] = [];
      let pages = 0;
      let bytes = 0;
      for (let i = 0; i < 10; i++) {
        const t = now();
        let cursor: string | null = null;
        pages = 0;
        bytes = 0;
        do {
          const r = await rawGet(`${listUrl}${cursor ? `?cursor=${cursor}` : ''}`);
          const j = JSON.parse(r.text) as { nextCursor?: string | null };
          pages++;
          bytes += r.bytes;
          cursor = j.nextCursor ?? null;
        } while (cursor);
        times.push(now() - t);
      }
      whole = { ...dist(times), pages, bytes };
    }
    const list = {
      items: firstJson.destinations.length,
      paged: typeof firstJson.nextCursor === 'string',
      bytes: first.bytes,
      alone: { ...dist(alone.times), perSecond: r1(alone.times.length / (alone.wallMs / 1000)), cpuMsEach: alone.cpuMsEach },
      eight: { ...dist(eight.times), perSecond: r1(eight.times.length / (eight.wallMs / 1000)), cpuMsEach: eight.cpuMsEach },
      whole,
    };
    log(
      `control plane: GET /api/destinations (${list.items} items${list.paged ? ', a page' : ''}, ${(list.bytes / 1024).toFixed(1)} KiB): alone p50 ${list.alone.p50} ms p95 ${list.alone.p95} ms; ${CLIENTS} clients p50 ${list.eight.p50} ms p95 ${list.eight.p95} ms, ${list.eight.perSecond} req/s${whole ? `; whole list in ${whole.pages} pages p50 ${whole.p50} ms` : ''}`,
    );

    // -- 4. SSE fan-out to 50 clients -----------------------------------------------------------------
    const arrivals = new Map<string, number[]>();
    const closers: (() => void)[] = [];
    for (let i = 0; i < SSE_CLIENTS; i++) closers.push(await sseClient(`${rt.url}/api/events`, (id, at) => arrivals.set(id, [...(arrivals.get(id) ?? []), at])));
    await eventually(() => rt!.sse.subscriberCount >= SSE_CLIENTS, { what: `${SSE_CLIENTS} streams open` });
    const published = new Map<string, number>();
    const unsubscribe = rt.sse.subscribe((e) => {
      if (e.event === 'destination.status') published.set(e.id, performance.timeOrigin + now());
    });
    const probe = ids[RUNNING]!; // a stopped one
    // Engine-less, channel-provisioner's reports are put on the bus by hand, as dashboard.ts does.
    const report = async (state: 'IDLE' | 'RUNNING'): Promise<void> => {
      if (ENGINE === 'none') await reportChannelState(rt!, probe, state);
    };
    await report('IDLE');
    await eventually(async () => (await api('GET', `/api/destinations/${probe}`)).json.status === 'idle', { timeoutMs: 30_000, what: 'probe idle' });
    for (let c = 0; c < SSE_CYCLES; c++) {
      await api('POST', `/api/destinations/${probe}/start`);
      await report('RUNNING');
      await eventually(async () => (await api('GET', `/api/destinations/${probe}`)).json.status === 'running', { timeoutMs: 30_000, what: 'probe running' });
      await api('POST', `/api/destinations/${probe}/stop`);
      await report('IDLE');
      await eventually(async () => (await api('GET', `/api/destinations/${probe}`)).json.status === 'idle', { timeoutMs: 30_000, what: 'probe idle' });
    }
    await eventually(() => [...published.keys()].every((id) => (arrivals.get(id)?.length ?? 0) >= SSE_CLIENTS), { timeoutMs: 10_000, what: 'every event at every client' });
    unsubscribe();
    for (const c of closers) c();
    const toLast: number[] = [];
    const toFirst: number[] = [];
    for (const [id, t] of published) {
      const a = arrivals.get(id)!;
      toLast.push(Math.max(...a) - t);
      toFirst.push(Math.min(...a) - t);
    }
    const sse = { clients: SSE_CLIENTS, events: published.size, toLastClient: dist(toLast), toFirstClient: dist(toFirst) };
    log(`control plane: SSE to ${SSE_CLIENTS} clients, ${sse.events} status events: to the last client p50 ${sse.toLastClient.p50} ms p95 ${sse.toLastClient.p95} ms (first client p50 ${sse.toFirstClient.p50} ms)`);
    rt.responses.length = 0;

    // -- 5. Restart ------------------------------------------------------------------------------------
    if (ENGINE === 'none') return { destinations: DESTINATIONS, running: 0, engine: 'none (the destination service alone: no sagas, no restart figure)', create, list, sse, restart: null, warnings: listWarnings(list) };
    await rt.close();
    rt = null;
    const r0 = now();
    rt = await start();
    const apiUpMs = now() - r0;
    const [allLiveMs, allRunningMs] = await Promise.all([
      running(r0),
      eventually(
        async () => {
          const states = await Promise.all(ids.slice(0, RUNNING).map(async (id) => (await api('GET', `/api/destinations/${id}`)).json?.status));
          return states.every((s) => s === 'running') ? now() - r0 : false;
        },
        { timeoutMs: 120_000, intervalMs: 100, what: `${RUNNING} running again` },
      ),
    ]);
    const restart = { apiUpMs: Math.round(apiUpMs), allLiveMs: Math.round(allLiveMs), allRunningMs: Math.round(allRunningMs) };
    log(`control plane: restart: start-up returned after ${restart.apiUpMs} ms, all ${RUNNING} live after ${restart.allLiveMs} ms, running after ${restart.allRunningMs} ms`);

    const T = CONTROL_PLANE_TARGETS;
    warnings.push(...listWarnings(list));
    if (restart.allLiveMs > T.restartAllLiveMs) warnings.push(`restart to all ${RUNNING} live ${restart.allLiveMs} ms > ${T.restartAllLiveMs} ms`);
    return { destinations: DESTINATIONS, running: RUNNING, engine: media ? 'local (FFmpeg + fanout-srt, nginx-rtmp sink)' : 'memory (no media: live = status running)', create, list, sse, restart, warnings };
  } finally {
    await sender?.stop();
    await rt?.close();
    await sink?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The figures as the bench's table rows: [measure, value, target]. */
export function controlPlaneRows(f: ControlPlaneFigures): string[][] {
  const T = CONTROL_PLANE_TARGETS;
  const verdict = (v: number, t: number): string => `${v <= t ? 'met' : 'MISSED'}`;
  const d = (x: Dist): string => `${x.p50} / ${x.p95} ms`;
  return [
    [
      `create, ${f.create.clients} clients at once`,
      `${f.create.perSecond}/s (answer p50/p95 ${d(f.create.answer)}); all ${f.create.n} idle after ${f.create.allIdleMs === null ? '(not all)' : `${(f.create.allIdleMs / 1000).toFixed(1)} s`}`,
      '-',
    ],
    [`GET /api/destinations, 1 client, p50 / p95`, `${d(f.list.alone)} (${f.list.alone.perSecond} req/s, ${f.list.alone.cpuMsEach} ms CPU each)`, `p95 <= ${T.listP95AloneMs} ms ${verdict(f.list.alone.p95, T.listP95AloneMs)}`],
    [`GET /api/destinations, ${CLIENTS} clients, p50 / p95`, `${d(f.list.eight)} (${f.list.eight.perSecond} req/s, ${f.list.eight.cpuMsEach} ms CPU each)`, `p95 <= ${T.listP95EightMs} ms ${verdict(f.list.eight.p95, T.listP95EightMs)}`],
    [`  answer`, `${f.list.items} destinations${f.list.paged ? ' (first page)' : ''}, ${(f.list.bytes / 1024).toFixed(1)} KiB`, '-'],
    ...(f.list.whole ? [[`  whole list by nextCursor (${f.list.whole.pages} pages), p50 / p95`, `${d(f.list.whole)}, ${(f.list.whole.bytes / 1024).toFixed(1)} KiB`, '-']] : []),
    [`SSE status event → ${f.sse.clients}th client, p50 / p95`, `${d(f.sse.toLastClient)} (first client ${d(f.sse.toFirstClient)}; ${f.sse.events} events)`, '-'],
    f.restart
      ? [
          `restart → all ${f.running} wanted-running live`,
          `${f.restart.allLiveMs} ms (start-up returned ${f.restart.apiUpMs} ms, all running ${f.restart.allRunningMs} ms)`,
          `<= ${T.restartAllLiveMs} ms ${verdict(f.restart.allLiveMs, T.restartAllLiveMs)}`,
        ]
      : ['restart', 'not measured (engine none)', `<= ${T.restartAllLiveMs} ms`],
  ];
}

if (process.argv[1]?.endsWith('test/bench/control-plane.ts')) {
  const figures = await benchControlPlane();
  console.log(JSON.stringify(figures, null, 2));
  process.exit(0);
}
