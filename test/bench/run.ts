/**
 * `npm run bench`: figures of the local media engine, measured end to end on loopback. It asserts
 * nothing; it prints a table, a warning line for each target missed, and one `BENCH_JSON {...}`
 * line at the end.
 *
 *   1. start-to-live: POST /start → media arriving at the RTMP server (nginx-rtmp's stat shows the
 *      stream publishing and its bytes_in growing; polled every 20 ms), passthrough and transcode,
 *      with where the time goes (API answer, process spawned, RTMP publish, media, status running)
 *   2. stop latency (POST /stop → publisher gone at nginx) and delete latency (DELETE → GET 404,
 *      publisher gone and its process gone)
 *   3. CPU per passthrough destination (a 6 Mbps 1080p30 feed) against nginx-rtmp's own `push`
 *      fan-out of the same file: each with 1 and with 10 destinations, so the cost of each added
 *      destination (the slope) is apart from the fixed cost of the fan-out itself. One pair of
 *      windows differs by less than windows taken apart in time do on a shared machine, so the
 *      slope is measured in rounds (`BENCH_SLOPE_ROUNDS`, default 10, of `BENCH_SLOPE_SECONDS`,
 *      default 10 s, windows) in the order 10,1 / 1,10 / 10,1 ... (a linear drift cancels), with
 *      both fan-outs running and measured in the same windows; the means of the rounds' slopes
 *      are compared, with their standard errors and the ratio's upper bound
 *   4. shared encode: N transcoded destinations on one preset (one encoder) against the same on N
 *      identical presets (N encoders)
 *   5. RSS of the Fanout process (the Node process alone and with its children) with 20 destinations
 *   0. the SRT ingest alone (test/bench/ingest.ts, first): CPU of fanout-srt against
 *      srt-live-transmit for the same 6 Mbit/s feed, measured side by side (`BENCH_INGEST=0`
 *      leaves it out)
 *   7. the latency Fanout adds (test/bench/latency.ts, first, on its own Fanout): a flash every 3 s
 *      timed at receivers of the direct path, of passthrough and transcode destinations, and of a
 *      simple relay, at 6 and 1 Mbit/s (`BENCH_LATENCY=0` leaves it out)
 *   8. start-to-live hop by hop (test/bench/start-live.ts, first, on its own Fanout): a passthrough
 *      destination joining the running feed, alone and with 100 passthrough destinations running,
 *      from POST /start to its first keyframe at nginx: the API, each event hop (the bus's trace),
 *      the engine call, the RTMP session, p50/p95 over 20 starts each (`BENCH_START_LIVE=0` leaves
 *      it out; `BENCH_START_LIVE_STARTS`, `BENCH_START_LIVE_RUNNING`)
 *   9. the whole job against the peer stack, and scale (test/bench/job.ts, first, on its own
 *      Fanout): one SRT feed in, the primary HLS and N passthrough destinations out, for Fanout,
 *      srt-live-transmit | ffmpeg -c copy | nginx-rtmp push+hls, and one FFmpeg per destination,
 *      side by side at N = 1, 10, 100; then 100 destinations for 60 s, memory per destination,
 *      one more started and stopped, and the knee (`BENCH_JOB=0` leaves it out; `--job` runs it
 *      alone, `--quick` keeps it short)
 *  10. the control plane at 1,000 destinations (test/bench/control-plane.ts, first, on its own
 *      Fanout and sink): GET /api/destinations p50/p95 by 1 and by 8 clients, create throughput,
 *      the event stream fanned out to 50 clients, restart until the 20 running are live again
 *      (`BENCH_CONTROL_PLANE=0` leaves it out; CP_DESTINATIONS, CP_RUNNING change its size)
 *  11. the failover gap (test/bench/failover.ts, first, on its own Fanout): two test encoders on the
 *      main and backup SRT inputs, 3 passthrough and 1 transcoded destination at nginx, the main
 *      killed 5 times (and reverted to): ms without new video at each destination beyond the
 *      detection time, the revert gap, reconnects (`BENCH_FAILOVER=0` leaves it out; `--failover`
 *      runs it alone; BENCH_FAILOVER_KILLS, BENCH_FAILOVER_PASSTHROUGH, BENCH_FAILOVER_CLEAR_MS)
 *   6. the dashboards (test/bench/dashboard.ts, first, before any media runs): their JavaScript
 *      gzipped without the lazily loaded preview, first render with 50 destinations, and the delay
 *      from an SSE status event to the DOM (p50/p95), in Debian's Chromium (`BENCH_DASHBOARD=0`
 *      leaves them out)
 *
 * `npm run bench` runs this file compiled, like `npm start` (ADR 0010): running it through tsx would
 * add the loader's own constant CPU to Fanout's figures.
 *
 * Fanout runs in this process (`startTestRuntime(..., { engine: 'local' })`), so its CPU is this
 * process plus its descendants (fanout-srt, FFmpeg), leaving out the bench's own helpers
 * (the SRT test sender, both nginx). The test feed is encoded once to a file (cached in the temp
 * dir) and sent with `-c copy`, so the sender costs little; its CPU is in neither figure.
 *
 * Environment: FANOUT_X264_PRESET (default ultrafast, as the engine recommends for benchmarks),
 * BENCH_STARTS (default 10 starts per kind), BENCH_CPU_SECONDS (default 20), BENCH_SLOPE_ROUNDS (default 10),
 * BENCH_SLOPE_SECONDS (default 10), BENCH_SETTLE_SECONDS (default 10). It runs with the V8 flags of `npm start` (ADR 0011).
 */
import { FEED, feedFile, loopedFeedCallerArgs } from './feed.ts';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventually, startTestRuntime, type TestRuntime } from '../support/local.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';
import { NginxPush } from './nginx-push.ts';
import { meanSe, median, tableLines } from './stats.ts';
import { benchDashboard, type DashboardFigures } from './dashboard.ts';
import { benchControlPlane, type ControlPlaneFigures, controlPlaneRows } from './control-plane.ts';
import { benchIngest, type IngestFigures } from './ingest.ts';
import { benchLatency, latencyReport, type LatencyFigures } from './latency.ts';
import { benchStartLive, startLiveReport, type StartLiveFigures } from './start-live.ts';
import { benchJob, jobReport, type JobFigures } from './job.ts';
import { benchFailover, failoverReport, type FailoverFigures } from './failover.ts';
import { ingestBinary } from '../../shared/engines/local/engine/index.ts';
import { alive, cmdline, descendants, measureCpu, measureCpuOf, pssOf, rssOf, tree, type CpuWindow, type ProcStat } from './proc.ts';

// ------------------------------------------------------------------------------------------------
// One section alone, instead of the rest: its figures, its warnings, BENCH_JSON, and the exit code.

async function alone<F extends { warnings: string[] }>(name: string, key: string, run: (log: (msg: string) => void) => Promise<F>, lines: (f: F) => string[]): Promise<never> {
  const sectionLog = (msg: string): void => console.log(`[${name} ${new Date().toISOString().slice(11, 19)}] ${msg}`);
  try {
    const f = await run(sectionLog);
    console.log(lines(f).join('\n'));
    for (const w of f.warnings) console.log(`WARNING: ${w}`);
    console.log(`BENCH_JSON ${JSON.stringify({ [key]: f })}`);
    process.exit(0);
  } catch (err) {
    console.error(`${name === 'soak' ? 'soak' : `${name} bench`} failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  }
}

// `npm run bench -- --soak [seconds]`: the soak alone (test/bench/soak.ts)
const soakAt = process.argv.indexOf('--soak');
if (soakAt >= 0) {
  const { runSoak, soakReport } = await import('./soak.ts');
  const arg = process.argv[soakAt + 1];
  const seconds = arg && /^\d+$/.test(arg) ? Number(arg) : 3600;
  await alone(
    'soak',
    'soak',
    (log) => runSoak(seconds, log),
    (f) => ['', ...soakReport(f)],
  );
}
// `npm run bench -- --job [--quick]`: the whole job against the peer stack, and scale (test/bench/job.ts)
if (process.argv.includes('--job')) await alone('job', 'job', benchJob, (f) => ['', ...jobReport(f)]);
// `npm run bench -- --failover`: the failover gap (test/bench/failover.ts)
if (process.argv.includes('--failover')) await alone('failover', 'failover', benchFailover, failoverReport);
// `npm run bench -- --control-plane`: the control plane at 1,000 destinations (test/bench/control-plane.ts)
if (process.argv.includes('--control-plane')) {
  await alone('control-plane', 'controlPlane', benchControlPlane, (f) => controlPlaneRows(f).map(([measure, value, target]) => `${measure}: ${value}${target ? ` (target ${target})` : ''}`));
}

// ------------------------------------------------------------------------------------------------
// Settings

const STARTS = Number(process.env.BENCH_STARTS ?? 10);
const CPU_SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 20);
const BASELINE_SECONDS = 10;
/** Rounds of the slope measurement (each: one window with 1 destination, one with 10). */
const SLOPE_ROUNDS = Number(process.env.BENCH_SLOPE_ROUNDS ?? 10);
const SLOPE_SECONDS = Number(process.env.BENCH_SLOPE_SECONDS ?? 10);
/**
 * After a toggle (9 destinations started or stopped, or nginx's source switched), before a window.
 * With 3 s, the window right after starting or stopping nine destinations read about 1 % of a core
 * higher than the same state a round later (their events, store writes and garbage): measured.
 */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_SECONDS ?? 10) * 1000;
const FANOUT = 10;
const RSS_DESTINATIONS = 20;
const SHARED_N = 3;
const X264_PRESET = process.env.FANOUT_X264_PRESET ?? 'ultrafast';
const TRANSCODE_PRESET = 'generic-720p30';
/** generic-720p30's settings, for the N identical presets that cannot share an encoder. */
const PRESET_720P = {
  platform: 'generic',
  video: { codec: 'h264', resolution: '1280x720', frameRate: 30, bitrate: 3_000_000, profile: 'high', level: '3.1', keyframeInterval: 2 },
  audio: { codec: 'aac', bitrate: 128_000, sampleRate: 48000, channels: 2 },
};
const TARGETS = { startToLivePassthroughP50Ms: 1000, stopP50Ms: 500, deleteP50Ms: 500, cpuRatio: 3 };
/** "A change made anywhere shows within a second" (issue 13): the stream's share of it. */
const DASHBOARD_EVENT_TARGET_MS = 1000;
/** Whole run; past it the bench cleans up and exits 2. */
const HARD_LIMIT_MS = 35 * 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();
const log = (msg: string): void => console.log(`[bench ${((now() - T0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
const T0 = now();

// ------------------------------------------------------------------------------------------------
// Helper processes (not Fanout's): the SRT sender, the push baseline's source

/** Pids of the bench's own processes: left out of Fanout's tree. */
const helperPids = new Set<number>();
/** Fanout's tree = this process and its descendants, without nginx and the bench's helpers. */
const notFanout = (p: ProcStat): boolean => p.comm === 'nginx' || helperPids.has(p.pid);

/** A helper (FFmpeg, or the SRT caller running one) run again 500 ms after it exits, until stopped. */
class Looping {
  #child: ChildProcess | null = null;
  #stopped = false;
  #stderr = '';
  restarts = 0;
  constructor(
    readonly name: string,
    readonly args: string[],
    /** Another program than ffmpeg, and what to write to its stdin (the SRT passphrase). */
    readonly via: { binary: string; stdin: string } | null = null,
  ) {}

  start(): this {
    const child = spawn(this.via?.binary ?? 'ffmpeg', this.args, { stdio: [this.via ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    if (this.via) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(this.via.stdin);
    }
    this.#child = child;
    if (child.pid) helperPids.add(child.pid);
    child.stderr?.on('data', (c: Buffer) => (this.#stderr = (this.#stderr + c.toString()).slice(-2000)));
    child.on('error', (err) => (this.#stderr += `\n${err.message}`));
    child.once('exit', () => {
      if (child.pid) helperPids.delete(child.pid);
      if (this.#child === child) this.#child = null;
      if (this.#stopped) return;
      this.restarts += 1;
      setTimeout(() => {
        if (!this.#stopped) this.start();
      }, 500);
    });
    return this;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  get lastError(): string {
    return this.#stderr.trim().split('\n').slice(-3).join(' | ');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(killer);
  }
}

/** The test feed, encoded once (cached in the temp dir): 1080p30 testsrc2 + tone, 6 Mbps, 2 s GOP. */
const sourceFile = () => feedFile((pid) => helperPids.add(pid));

// ------------------------------------------------------------------------------------------------
// The sink's view (nginx-rtmp stat)

interface StreamInfo {
  publishing: boolean;
  bytesIn: number;
  bwIn: number;
}

function tag(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? (m[1] ?? null) : null;
}

/** Every stream of the sink's `live` application, by name. */
async function sinkStreams(): Promise<Map<string, StreamInfo>> {
  const xml = await sink!.stat();
  const out = new Map<string, StreamInfo>();
  for (const app of xml.matchAll(/<application>([\s\S]*?)<\/application>/g)) {
    const a = app[1] ?? '';
    if (tag(a, 'name') !== 'live') continue;
    for (const st of a.matchAll(/<stream>([\s\S]*?)<\/stream>/g)) {
      const s = st[1] ?? '';
      const name = tag(s, 'name');
      if (!name) continue;
      out.set(name, {
        publishing: /<publishing\/>/.test(s.replace(/<client>[\s\S]*?<\/client>/g, '')),
        bytesIn: Number(tag(s, 'bytes_in') ?? 0),
        bwIn: Number(tag(s, 'bw_in') ?? 0),
      });
    }
  }
  return out;
}

/** bytes_in summed over `keys` at the sink. */
async function sinkBytes(keys: string[]): Promise<{ bytes: number; at: number }> {
  const s = await sinkStreams();
  return { bytes: keys.reduce((sum, k) => sum + (s.get(k)?.bytesIn ?? 0), 0), at: now() };
}

/** Average Mbps per key received by the sink between two `sinkBytes`. */
const mbpsEach = (a: { bytes: number; at: number }, b: { bytes: number; at: number }, n: number): number => r2(((b.bytes - a.bytes) * 8) / ((b.at - a.at) / 1000) / n / 1e6);

/** Resolves once every key is publishing with bytes_in growing between two polls. */
async function waitAllLive(keys: string[], timeoutMs: number): Promise<void> {
  const last = new Map<string, number>();
  const live = new Set<string>();
  await eventually(
    async () => {
      const s = await sinkStreams();
      for (const k of keys) {
        const i = s.get(k);
        if (!i?.publishing) continue;
        const prev = last.get(k);
        if (prev !== undefined && i.bytesIn > prev) live.add(k);
        last.set(k, i.bytesIn);
      }
      return live.size === keys.length;
    },
    { timeoutMs, intervalMs: 100, what: `${keys.length} streams live at the sink (${live.size} are)` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; live: ${live.size}/${keys.length}`);
  });
}

// ------------------------------------------------------------------------------------------------
// Fanout through its API

let rt: TestRuntime | null = null;
let sink: NginxRtmp | null = null;
let push: NginxPush | null = null;
const loops: Looping[] = [];

interface Dest {
  id: string;
  key: string;
  preset: string;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return rt!.api(method, path, body === undefined ? {} : { body });
}

async function status(id: string): Promise<{ status: string; lastError: unknown } | null> {
  const r = await api('GET', `/api/destinations/${id}`);
  return r.status === 200 ? (r.json as { status: string; lastError: unknown }) : null;
}

async function waitStatus(id: string, want: string, timeoutMs = 20_000, intervalMs = 25): Promise<number> {
  const t = now();
  let last = '';
  await eventually(
    async () => {
      const s = await status(id);
      last = s ? `${s.status}${s.lastError ? ` ${JSON.stringify(s.lastError)}` : ''}` : 'gone';
      return s?.status === want;
    },
    { timeoutMs, intervalMs, what: `destination ${want}` },
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${last})`);
  });
  return now() - t;
}

async function createDest(name: string, preset: string): Promise<Dest> {
  const key = `bench-${name}-${randomBytes(4).toString('hex')}`;
  const r = await api('POST', '/api/destinations', { name: `bench ${name}`, platform: 'custom', rtmpUrl: sink!.url('live'), streamKey: key, preset });
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.json)}`);
  const d = { id: (r.json as { destinationId: string }).destinationId, key, preset };
  await waitStatus(d.id, 'idle');
  return d;
}

/** Fanout's processes (descendants of this process that are not the bench's helpers). */
function engineProcs(): ProcStat[] {
  return [...tree(process.pid, notFanout).values()].filter((p) => p.pid !== process.pid);
}

function pidsOf(key: string): number[] {
  return engineProcs()
    .filter((p) => cmdline(p.pid).some((a) => a.includes(key)))
    .map((p) => p.pid);
}

/** The passthrough mux: FFmpeg writing FLV to stdout without encoding (publishers run in Node). */
function muxPids(): number[] {
  return engineProcs()
    .filter((p) => p.comm === 'ffmpeg' && cmdline(p.pid).includes('pipe:1') && !cmdline(p.pid).includes('libx264'))
    .map((p) => p.pid);
}

function encoderPids(): number[] {
  return engineProcs()
    .filter((p) => cmdline(p.pid).includes('libx264'))
    .map((p) => p.pid);
}

function role(p: ProcStat): string {
  if (p.pid === process.pid) return 'node';
  if (p.comm === 'ffmpeg') {
    const a = cmdline(p.pid);
    const f = a.lastIndexOf('-f');
    const fmt = f >= 0 ? a[f + 1] : '';
    if (a.includes('libx264')) return 'encoder';
    if (fmt === 'hls') return 'hls';
    if (fmt === 'flv') return 'mux';
    return 'ffmpeg';
  }
  return p.comm;
}

/** The sink nginx's pid (the one whose command line names its temp dir). */
function sinkPid(): number[] {
  return descendants(process.pid)
    .filter((p) => p.comm === 'nginx' && cmdline(p.pid).some((a) => a.startsWith(sink!.dir)))
    .map((p) => p.pid);
}

/** Processes watched next to the measured ones: the sink and the test source. */
function others(source: Looping | null): Record<string, number[]> {
  return { sink: sinkPid(), source: source?.pid ? [source.pid] : [] };
}

let sender: Looping | null = null;

async function cpuOfFanout(seconds: number): Promise<CpuWindow> {
  return measureCpu(process.pid, notFanout, role, seconds, others(sender));
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Memory {
  /** VmRSS of this (the Fanout Node) process. */
  nodeMiB: number;
  /** V8 heap in use after a full GC. */
  heapUsedMiB: number;
  /** RSS summed over the process and its children (shared library pages counted once per process). */
  totalMiB: number;
  /** PSS summed over the same: shared pages split between the processes mapping them. */
  totalPssMiB: number;
  children: number;
  /** Entries the runtime keeps in `published` (every bus event since start). */
  publishedEvents: number;
}

function rssOfFanout(): Memory {
  // The test harness keeps every response body; that is the bench's memory, not Fanout's.
  rt!.responses.length = 0;
  gc();
  const procs = [...tree(process.pid, notFanout).values()];
  const self = rssOf(process.pid) ?? 0;
  const total = procs.reduce((s, p) => s + (p.pid === process.pid ? self : (rssOf(p.pid) ?? p.rssBytes)), 0);
  const pss = procs.reduce((s, p) => s + (pssOf(p.pid) ?? 0), 0);
  return {
    nodeMiB: mib(self),
    heapUsedMiB: mib(process.memoryUsage().heapUsed),
    totalMiB: mib(total),
    totalPssMiB: mib(pss),
    children: procs.length - 1,
    publishedEvents: rt!.published.length,
  };
}

const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;

// ------------------------------------------------------------------------------------------------
// Timed operations

interface StartSample {
  apiMs: number;
  firstBytesMs: number;
  encoderSpawnMs: number | null;
  pusherSpawnMs: number;
  publishMs: number;
  liveMs: number;
  runningMs: number;
  pids: number[];
}

async function timedStart(d: Dest, transcode: boolean): Promise<StartSample> {
  const known = new Set(engineProcs().map((p) => p.pid));
  const t0 = now();
  const since = (): number => now() - t0;
  const res = await api('POST', `/api/destinations/${d.id}/start`);
  if (res.status !== 202) throw new Error(`start: ${res.status} ${JSON.stringify(res.json)}`);
  const apiMs = since();

  const atSink = (async () => {
    let publishMs: number | null = null;
    let firstBytesMs: number | null = null;
    let prev: number | null = null;
    const liveMs = await eventually(
      async () => {
        const i = (await sinkStreams()).get(d.key);
        if (!i?.publishing) return false;
        publishMs ??= since();
        if (i.bytesIn > 0) firstBytesMs ??= since();
        const grew = prev !== null && i.bytesIn > prev;
        prev = i.bytesIn;
        return grew ? since() : false;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'media at the sink' },
    );
    return { publishMs: publishMs ?? liveMs, firstBytesMs: firstBytesMs ?? liveMs, liveMs };
  })();

  const spawned = (async () => {
    const found: { pusher?: { pid: number; ms: number }; encoder?: { pid: number; ms: number } } = {};
    await eventually(
      () => {
        for (const p of engineProcs()) {
          if (known.has(p.pid) || p.comm !== 'ffmpeg') continue;
          const a = cmdline(p.pid);
          // The channel's FFmpeg: the passthrough mux, or the encoder (both feed RtmpFanouts in
          // Node; the RTMP publishers are not processes).
          if (!transcode && !found.pusher && a.includes('pipe:1') && !a.includes('libx264')) found.pusher = { pid: p.pid, ms: since() };
          else if (transcode && !found.encoder && a.includes('libx264')) found.encoder = { pid: p.pid, ms: since() };
        }
        if (transcode && found.encoder) found.pusher ??= found.encoder;
        return found.pusher !== undefined && (!transcode || found.encoder !== undefined);
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'processes spawned' },
    );
    return { pusher: found.pusher!, encoder: found.encoder ?? null };
  })();

  const running = (async () => {
    await waitStatus(d.id, 'running', 30_000, 50);
    return since();
  })();

  const [sinkT, procs, runningMs] = await Promise.all([atSink, spawned, running]);
  const enc = procs.encoder;
  return {
    apiMs,
    encoderSpawnMs: enc?.ms ?? null,
    pusherSpawnMs: procs.pusher.ms,
    publishMs: sinkT.publishMs,
    firstBytesMs: sinkT.firstBytesMs,
    liveMs: sinkT.liveMs,
    runningMs,
    pids: enc ? [enc.pid] : [procs.pusher.pid],
  };
}

interface StopSample {
  sinkGoneMs: number;
  processGoneMs: number;
  pusherGoneMs: number;
  encoderGoneMs: number | null;
  idleMs: number;
}

/** Resolves with when (ms after t0) each pid was seen gone. */
async function goneTimes(pids: number[], t0: number): Promise<number[]> {
  const at: (number | undefined)[] = pids.map(() => undefined);
  await eventually(
    () => {
      pids.forEach((p, i) => {
        if (at[i] === undefined && !alive(p)) at[i] = now() - t0;
      });
      return at.every((x) => x !== undefined);
    },
    { timeoutMs: 20_000, intervalMs: 20, what: 'processes gone' },
  );
  return at.map((x) => x ?? Number.NaN);
}

async function timedStop(d: Dest, pids: number[]): Promise<StopSample> {
  const t0 = now();
  const since = (): number => now() - t0;
  const res = await api('POST', `/api/destinations/${d.id}/stop`);
  if (res.status !== 202) throw new Error(`stop: ${res.status} ${JSON.stringify(res.json)}`);
  const [sinkGoneMs, gone, idleMs] = await Promise.all([
    eventually(async () => (!(await sinkStreams()).get(d.key)?.publishing ? since() : false), { timeoutMs: 20_000, intervalMs: 20, what: 'publisher gone' }),
    goneTimes(pids, t0),
    (async () => {
      await waitStatus(d.id, 'idle', 20_000, 20);
      return since();
    })(),
  ]);
  return { sinkGoneMs, processGoneMs: Math.max(...gone), pusherGoneMs: gone[0]!, encoderGoneMs: gone[1] ?? null, idleMs };
}

interface DeleteSample {
  notFoundMs: number;
  sinkGoneMs: number;
  processGoneMs: number;
  totalMs: number;
}

async function timedDelete(d: Dest): Promise<DeleteSample> {
  const pids = pidsOf(d.key);
  const t0 = now();
  const since = (): number => now() - t0;
  const res = await api('DELETE', `/api/destinations/${d.id}`);
  if (res.status !== 202) throw new Error(`delete: ${res.status} ${JSON.stringify(res.json)}`);
  const [notFoundMs, sinkGoneMs, processGoneMs] = await Promise.all([
    eventually(async () => ((await api('GET', `/api/destinations/${d.id}`)).status === 404 ? since() : false), { timeoutMs: 20_000, intervalMs: 20, what: 'GET 404' }),
    eventually(async () => (!(await sinkStreams()).get(d.key)?.publishing ? since() : false), { timeoutMs: 20_000, intervalMs: 20, what: 'publisher gone' }),
    eventually(() => (pids.every((p) => !alive(p)) ? since() : false), { timeoutMs: 20_000, intervalMs: 20, what: 'processes gone' }),
  ]);
  return { notFoundMs, sinkGoneMs, processGoneMs, totalMs: Math.max(notFoundMs, sinkGoneMs, processGoneMs) };
}

async function deleteAndWait(d: Dest): Promise<void> {
  const r = await api('DELETE', `/api/destinations/${d.id}`);
  if (r.status !== 202 && r.status !== 404) throw new Error(`delete: ${r.status} ${JSON.stringify(r.json)}`);
  await eventually(async () => (await api('GET', `/api/destinations/${d.id}`)).status === 404, { timeoutMs: 20_000, what: 'destination deleted' });
}

async function startAll(ds: Dest[]): Promise<void> {
  for (const d of ds) {
    const r = await api('POST', `/api/destinations/${d.id}/start`);
    if (r.status !== 202) throw new Error(`start: ${r.status} ${JSON.stringify(r.json)}`);
  }
  await waitAllLive(
    ds.map((d) => d.key),
    45_000,
  );
  await Promise.all(ds.map((d) => waitStatus(d.id, 'running', 30_000, 100)));
}

async function metricsOf(ds: Dest[]): Promise<{ speedAvg: number | null; restarts: number; droppedFrames: number }> {
  let speedSum = 0;
  let speedN = 0;
  let restarts = 0;
  let dropped = 0;
  for (const d of ds) {
    const m = (await api('GET', `/api/destinations/${d.id}/metrics`)).json?.metrics as { speed?: number | null; restarts?: number; droppedFrames?: number | null } | null;
    if (typeof m?.speed === 'number') {
      speedSum += m.speed;
      speedN++;
    }
    restarts += m?.restarts ?? 0;
    dropped += m?.droppedFrames ?? 0;
  }
  return { speedAvg: speedN ? Math.round((speedSum / speedN) * 100) / 100 : null, restarts, droppedFrames: dropped };
}

// ------------------------------------------------------------------------------------------------
// The slope: CPU per added destination, in rounds

interface SlopeRound {
  one: CpuWindow;
  ten: CpuWindow;
  /** Cores per added destination: (ten - one) / (FANOUT - 1). */
  slope: number;
}

type SlopeWindows = { fanout: CpuWindow; nginx: CpuWindow };

/**
 * `SLOPE_ROUNDS` rounds of two windows, one with 1 destination and one with `FANOUT`, in the order
 * 10,1 / 1,10 / 10,1 ...: a drift of the machine that is linear in time cancels over two rounds,
 * and the first round starts where the caller left off (10 running). `measure(n)` sets n
 * destinations up on both fan-outs and measures one window of each, at the same time: what the
 * shared machine does to one, it does to the other.
 */
async function slopeRounds(measure: (n: 1 | typeof FANOUT) => Promise<SlopeWindows>): Promise<{ fanout: SlopeRound[]; nginx: SlopeRound[] }> {
  const out = { fanout: [] as SlopeRound[], nginx: [] as SlopeRound[] };
  for (let r = 0; r < SLOPE_ROUNDS; r++) {
    const w = new Map<number, SlopeWindows>();
    for (const n of r % 2 === 0 ? ([FANOUT, 1] as const) : ([1, FANOUT] as const)) w.set(n, await measure(n));
    const line: string[] = [];
    for (const side of ['fanout', 'nginx'] as const) {
      const one = w.get(1)![side];
      const ten = w.get(FANOUT)![side];
      const slope = (ten.cores - one.cores) / (FANOUT - 1);
      out[side].push({ one, ten, slope });
      line.push(`${side} ${pctCore(one.cores)} → ${pctCore(ten.cores)}, ${(slope * 100).toFixed(3)}% per added destination`);
    }
    log(`slope round ${r + 1}/${SLOPE_ROUNDS} (1 → ${FANOUT} dest.): ${line.join('; ')}`);
  }
  return out;
}

/**
 * The rounds' slopes summed up: mean ± standard error (the rounds are independent pairs, so the
 * standard error shrinks with their number), median and range, and the same per process (which of
 * them grows with the destinations). `resolved`: the mean is positive and at least twice its
 * standard error (a cost told apart from zero). `upper`: the mean plus two standard errors, what
 * the cost is below with about 97 % confidence, resolved or not.
 */
function slopeStats(rounds: SlopeRound[]) {
  const slopes = rounds.map((r) => r.slope);
  const { mean, se } = meanSe(slopes);
  const roles = [...new Set(rounds.flatMap((r) => [...Object.keys(r.one.byRole), ...Object.keys(r.ten.byRole)]))];
  const byRole = Object.fromEntries(
    roles.map((k) => {
      const v = meanSe(rounds.map((r) => ((r.ten.byRole[k] ?? 0) / r.ten.seconds - (r.one.byRole[k] ?? 0) / r.one.seconds) / (FANOUT - 1)));
      return [k, { meanCorePercent: r3(v.mean * 100), standardErrorCorePercent: r3(v.se * 100) }];
    }),
  );
  const one = median(rounds.map((r) => r.one.cores));
  return {
    mean,
    se,
    upper: mean + 2 * (Number.isFinite(se) ? se : Infinity),
    resolved: mean > 0 && Number.isFinite(se) && mean >= 2 * se,
    summary: {
      rounds: rounds.length,
      meanCorePercent: r3(mean * 100),
      standardErrorCorePercent: r3(se * 100),
      medianCorePercent: r3(median(slopes) * 100),
      minCorePercent: r3(Math.min(...slopes) * 100),
      maxCorePercent: r3(Math.max(...slopes) * 100),
      oneMedianCorePercent: r2(one * 100),
      tenMedianCorePercent: r2(median(rounds.map((r) => r.ten.cores)) * 100),
      fixedCorePercent: r2((one - mean) * 100),
      byRole,
      roundsCorePercent: rounds.map((r) => ({ one: r2(r.one.cores * 100), ten: r2(r.ten.cores * 100), slope: r3(r.slope * 100) })),
    },
  };
}

/**
 * Fanout's slope against nginx's: the ratio of the means, and its upper bound (Fanout's upper
 * bound over nginx's mean less two standard errors). The target is met when the upper bound is
 * within it: then the cost is below the target even where the windows cannot tell it from zero.
 */
function slopeVerdict(f: ReturnType<typeof slopeStats>, n: ReturnType<typeof slopeStats>) {
  const nLow = n.mean - 2 * n.se;
  const ratio = n.resolved ? f.mean / n.mean : Number.NaN;
  const upperRatio = n.resolved && nLow > 0 ? Math.max(0, f.upper) / nLow : Number.NaN;
  return {
    ratio,
    upperRatio,
    met: Number.isFinite(upperRatio) && upperRatio <= TARGETS.cpuRatio,
    missed: f.resolved && n.resolved && f.mean - 2 * f.se > TARGETS.cpuRatio * (n.mean + 2 * n.se),
  };
}

// ------------------------------------------------------------------------------------------------
// Statistics and printing

function pct(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

interface Dist {
  n: number;
  p50: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
}

function dist(values: (number | null)[]): Dist {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).map((x) => Math.round(x));
  return { n: v.length, p50: pct(v, 50), p95: pct(v, 95), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null };
}

const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);
const pctCore = (cores: number): string => `${(cores * 100).toFixed(1)}%`;

const table = (title: string, header: string[], rows: string[][]): string => tableLines(title, header, rows).join('\n');

// ------------------------------------------------------------------------------------------------
// The run

const results: Record<string, unknown> = { x264Preset: X264_PRESET, cores: cpus().length };
const warnings: string[] = [];
const notes: string[] = [];

async function main(): Promise<void> {
  if (process.env.BENCH_CONTROL_PLANE !== '0') {
    try {
      const cp = await benchControlPlane(log);
      results.controlPlane = cp;
      warnings.push(...cp.warnings);
    } catch (err) {
      notes.push(`control-plane figures not measured: ${(err as Error).message}`);
    }
  }
  if (process.env.BENCH_DASHBOARD !== '0') {
    try {
      results.dashboard = await benchDashboard(log);
    } catch (err) {
      notes.push(`dashboard figures not measured: ${(err as Error).message}`);
    }
  }
  if (process.env.BENCH_LATENCY !== '0') {
    try {
      const lat = await benchLatency(log);
      results.latency = lat;
      warnings.push(...lat.warnings);
    } catch (err) {
      notes.push(`latency figures not measured: ${(err as Error).message}`);
    }
  }
  if (process.env.BENCH_START_LIVE !== '0') {
    try {
      const sl = await benchStartLive(log);
      results.startLive = sl;
      warnings.push(...sl.warnings);
      notes.push(...sl.notes);
    } catch (err) {
      notes.push(`start-to-live breakdown not measured: ${(err as Error).message}`);
    }
  }
  if (process.env.BENCH_FAILOVER !== '0') {
    try {
      const fo = await benchFailover(log);
      results.failover = fo;
      warnings.push(...fo.warnings);
    } catch (err) {
      notes.push(`failover figures not measured: ${(err as Error).message}`);
    }
  }
  if (process.env.BENCH_JOB !== '0') {
    try {
      const job = await benchJob(log);
      results.job = job;
      warnings.push(...job.warnings);
      notes.push(...job.notes);
    } catch (err) {
      notes.push(`whole-job and scale figures not measured: ${(err as Error).message}`);
    }
  }
  if (process.env.BENCH_INGEST !== '0') {
    try {
      const ing = await benchIngest(log);
      results.ingest = ing;
      if (ing.fanoutSrt.corePercent > ing.srtLiveTransmit.corePercent) warnings.push(`the SRT ingest uses more CPU than srt-live-transmit: ${ing.fanoutSrt.corePercent}% vs ${ing.srtLiveTransmit.corePercent}% of a core`);
    } catch (err) {
      notes.push(`ingest figures not measured: ${(err as Error).message}`);
    }
  }
  const src = await sourceFile();
  results.feed = { ...FEED, file: src.path, cached: src.cached, encodeSeconds: Math.round(src.encodeSeconds * 10) / 10 };
  log(`test feed ${src.cached ? 'cached' : `encoded in ${src.encodeSeconds.toFixed(1)} s`}: ${src.path}`);

  sink = await NginxRtmp.start();
  const srtPort = await freeUdpPort();
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  rt = await startTestRuntime(
    {
      FANOUT_SRT_HOST: '127.0.0.1',
      FANOUT_SRT_PORT: String(srtPort),
      FANOUT_SRT_PASSPHRASE: passphrase,
      FANOUT_LOG_LEVEL: 'WARN',
      FANOUT_RATE_LIMIT_PER_MINUTE: '1000000',
      FANOUT_X264_PRESET: X264_PRESET,
    },
    { engine: 'local' },
  );
  log(`Fanout at ${rt.url}, SRT listener 127.0.0.1:${srtPort}, sink ${sink.url('live')}`);

  // The SRT caller (fanout-srt call, the passphrase on its stdin) running FFmpeg, which copies the file.
  const caller = ingestBinary();
  if (caller.problem) throw new Error(caller.problem);
  sender = new Looping('srt-sender', loopedFeedCallerArgs(srtPort, src.path), { binary: caller.path, stdin: `${passphrase}\n` }).start();
  loops.push(sender);
  const feed = sender;
  await eventually(
    async () => {
      const h = (await api('GET', '/api/mediaconnect/inputs/health')).json as { connected?: boolean; bitrateInKbps?: number | null } | undefined;
      return h?.connected === true && (h.bitrateInKbps ?? 0) > 1000;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `the SRT feed at Fanout (sender: ${sender?.lastError || 'no error'})` },
  );
  await sleep(2000); // the primary HLS starts with the media
  log('feed connected');

  // -- 0. Idle baseline: the feed in, primary HLS, no destination ----------------------------------
  const rssIdle = rssOfFanout();
  const cpuIdle = await cpuOfFanout(BASELINE_SECONDS);
  results.baseline = { rss: rssIdle, cpu: cpuSummary(cpuIdle) };
  log(`baseline: ${pctCore(cpuIdle.cores)} of a core (${fmtRoles(cpuIdle)}), RSS node ${rssIdle.nodeMiB} MiB`);

  // -- 1+2. Start-to-live and stop, passthrough then transcode ----------------------------------------
  const startRuns: Record<string, { starts: StartSample[]; stops: StopSample[]; failures: string[] }> = {};
  const pt0 = await createDest('pt-0', 'passthrough');
  const tc0 = await createDest('tc-0', TRANSCODE_PRESET);
  for (const [kind, d, transcode] of [
    ['passthrough', pt0, false],
    [TRANSCODE_PRESET, tc0, true],
  ] as const) {
    const run = { starts: [] as StartSample[], stops: [] as StopSample[], failures: [] as string[] };
    startRuns[kind] = run;
    for (let i = 0; i < STARTS; i++) {
      await sleep(randomInt(0, 700)); // decorrelate from the feed's GOP
      try {
        const s = await timedStart(d, transcode);
        run.starts.push(s);
        await sleep(300);
        run.stops.push(await timedStop(d, s.pids));
      } catch (err) {
        run.failures.push((err as Error).message);
        log(`${kind} start ${i + 1} failed: ${(err as Error).message}`);
        await api('POST', `/api/destinations/${d.id}/stop`);
        await waitStatus(d.id, 'idle', 20_000).catch(() => undefined);
      }
      // The next start begins from scratch: nothing of this one may still run (cold encoder too).
      await eventually(() => pidsOf(d.key).length === 0 && muxPids().length === 0 && (!transcode || encoderPids().length === 0), { timeoutMs: 10_000, what: 'processes gone' });
    }
    const l = dist(run.starts.map((s) => s.liveMs));
    log(`${kind}: start-to-live p50 ${ms(l.p50)} p95 ${ms(l.p95)} over ${l.n}`);
  }
  results.startToLive = Object.fromEntries(
    Object.entries(startRuns).map(([k, r]) => [
      k,
      {
        liveMs: dist(r.starts.map((s) => s.liveMs)),
        milestones: {
          apiAnswerMs: dist(r.starts.map((s) => s.apiMs)),
          encoderSpawnedMs: dist(r.starts.map((s) => s.encoderSpawnMs)),
          pusherSpawnedMs: dist(r.starts.map((s) => s.pusherSpawnMs)),
          rtmpPublishMs: dist(r.starts.map((s) => s.publishMs)),
          firstBytesMs: dist(r.starts.map((s) => s.firstBytesMs)),
          mediaMs: dist(r.starts.map((s) => s.liveMs)),
          statusRunningMs: dist(r.starts.map((s) => s.runningMs)),
        },
        samples: r.starts.map((s) => Math.round(s.liveMs)),
        failures: r.failures,
      },
    ]),
  );
  results.stop = Object.fromEntries(
    Object.entries(startRuns).map(([k, r]) => [
      k,
      {
        sinkGoneMs: dist(r.stops.map((s) => s.sinkGoneMs)),
        processGoneMs: dist(r.stops.map((s) => s.processGoneMs)),
        pusherGoneMs: dist(r.stops.map((s) => s.pusherGoneMs)),
        encoderGoneMs: dist(r.stops.map((s) => s.encoderGoneMs)),
        idleMs: dist(r.stops.map((s) => s.idleMs)),
        samples: r.stops.map((s) => ({ sink: Math.round(s.sinkGoneMs), pusher: Math.round(s.pusherGoneMs), encoder: s.encoderGoneMs === null ? null : Math.round(s.encoderGoneMs), idle: Math.round(s.idleMs) })),
      },
    ]),
  );

  // -- 4. Shared encode: N on one preset vs N on identical presets --------------------------------------
  const shared = [tc0, ...(await Promise.all(Array.from({ length: SHARED_N - 1 }, (_, i) => createDest(`tc-${i + 1}`, TRANSCODE_PRESET))))];
  await startAll(shared);
  await sleep(5000);
  const sharedEncoders = encoderPids().length;
  // What the engine really runs (FANOUT_X264_PRESET is only a request: an engine without the setting uses its default).
  const encArgs = cmdline(encoderPids()[0] ?? -1);
  const presetSeen = encArgs[encArgs.indexOf('-preset') + 1] ?? 'unknown';
  results.x264PresetSeen = presetSeen;
  if (presetSeen !== X264_PRESET) notes.push(`asked for x264 preset ${X264_PRESET}, the engine's encoders run ${presetSeen}`);
  const cpuShared = await cpuOfFanout(CPU_SECONDS);
  const mShared = await metricsOf(shared);
  log(`shared encode (${SHARED_N} on ${TRANSCODE_PRESET}, ${sharedEncoders} encoder): ${pctCore(cpuShared.cores)} (${fmtRoles(cpuShared)}), pusher speed ${mShared.speedAvg}`);
  await Promise.all(shared.map(deleteAndWait));

  const separate: Dest[] = [];
  for (let i = 0; i < SHARED_N; i++) {
    const presetId = `bench-720p-${String.fromCharCode(97 + i)}`;
    const r = await api('POST', '/api/admin/presets', { presetId, name: `bench 720p ${i}`, ...PRESET_720P });
    if (r.status !== 201) throw new Error(`create preset ${presetId}: ${r.status} ${JSON.stringify(r.json)}`);
    separate.push(await createDest(`sep-${i}`, presetId));
  }
  await startAll(separate);
  await sleep(5000);
  const separateEncoders = encoderPids().length;
  const cpuSeparate = await cpuOfFanout(CPU_SECONDS);
  const mSeparate = await metricsOf(separate);
  log(`separate encodes (${SHARED_N} presets, ${separateEncoders} encoders): ${pctCore(cpuSeparate.cores)} (${fmtRoles(cpuSeparate)}), pusher speed ${mSeparate.speedAvg}`);
  await Promise.all(separate.map(deleteAndWait));
  results.sharedEncode = {
    n: SHARED_N,
    preset: TRANSCODE_PRESET,
    shared: { encoders: sharedEncoders, cpu: cpuSummary(cpuShared), ...mShared },
    separate: { encoders: separateEncoders, cpu: cpuSummary(cpuSeparate), ...mSeparate },
    savingPercent: Math.round((1 - cpuShared.cores / cpuSeparate.cores) * 1000) / 10,
    encoderSavingPercent: Math.round((1 - (cpuShared.byRole.encoder ?? 0) / (cpuSeparate.byRole.encoder ?? Number.NaN)) * 1000) / 10,
  };
  if ((mSeparate.speedAvg ?? 1) < 0.95 || (mShared.speedAvg ?? 1) < 0.95)
    warnings.push(`shared-encode run not realtime (pusher speed shared ${mShared.speedAvg}, separate ${mSeparate.speedAvg}): the machine is saturated, the saving is understated`);

  // -- 3. CPU of passthrough destinations: 10 running, then the slope in rounds ------------------------
  const pts = [pt0, ...(await Promise.all(Array.from({ length: FANOUT - 1 }, (_, i) => createDest(`pt-${i + 1}`, 'passthrough'))))];
  const ptKeys = pts.map((d) => d.key);
  await startAll(pts);
  // Longer than the other settles: the mux has just started (probe, JIT of the fan-out path), and a
  // window right after it reads higher than the same work later.
  await sleep(10_000);
  const s10a = await sinkBytes(ptKeys);
  const cpu10 = await cpuOfFanout(CPU_SECONDS);
  const s10b = await sinkBytes(ptKeys);
  const bw10 = mbpsEach(s10a, s10b, pts.length);
  const rss10 = rssOfFanout();
  const m10 = await metricsOf(pts);
  log(
    `${FANOUT} passthrough: ${pctCore(cpu10.cores)} (${fmtRoles(cpu10)}), machine ${pctCore(cpu10.machine.cores)} (irq ${pctCore(cpu10.machine.irq)}), sink ${pctCore(cpu10.others.sink ?? 0)}, ${bw10} Mbps each at the sink, restarts ${m10.restarts}`,
  );
  // The slope, Fanout and nginx `push` side by side. The first destination stays up throughout (it
  // keeps the mux); the other nine start and stop. nginx's source publishes to `one` (one push) or
  // `live` (ten); both of nginx's sets of keys go to the same sink.
  push = await NginxPush.start({ sinkUrl: sink.url('live'), count: FANOUT, prefix: 'push-' });
  const pushKeys = Array.from({ length: FANOUT }, (_, n) => `push-${n}`);
  const flvSource = (app: 'live' | 'one' | 'nopush'): Looping =>
    new Looping(`flv-source-${app}`, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', src.path, '-c', 'copy', '-f', 'flv', `${push!.url(app)}/src`]).start();
  let running = FANOUT;
  let nginxSource: Looping | null = null;
  const rounds = await slopeRounds(async (n) => {
    if (n !== running || !nginxSource) {
      await nginxSource?.stop();
      nginxSource = flvSource(n === 1 ? 'one' : 'live');
      loops.push(nginxSource);
      if (n === 1) {
        for (const d of pts.slice(1)) await api('POST', `/api/destinations/${d.id}/stop`);
        await Promise.all(pts.slice(1).map((d) => waitStatus(d.id, 'idle', 20_000, 100)));
      } else if (running !== FANOUT) {
        await startAll(pts.slice(1));
      }
      await waitAllLive(n === 1 ? ['push-one'] : pushKeys, 30_000);
      running = n;
      await sleep(SETTLE_MS);
    }
    const [fanout, nginx] = await Promise.all([cpuOfFanout(SLOPE_SECONDS), measureCpuOf(push!.pid, 'nginx', SLOPE_SECONDS)]);
    return { fanout, nginx };
  });
  await (nginxSource as Looping | null)?.stop();
  if (running !== FANOUT) await startAll(pts.slice(1));

  // -- 5. RSS with 20 destinations running ---------------------------------------------------------------
  const more = await Promise.all(Array.from({ length: RSS_DESTINATIONS - FANOUT }, (_, i) => createDest(`pt-${FANOUT + i}`, 'passthrough')));
  const all = [...pts, ...more];
  let running20 = true;
  try {
    await startAll(more);
  } catch (err) {
    running20 = false;
    notes.push(`not all ${RSS_DESTINATIONS} went live: ${(err as Error).message}`);
  }
  await sleep(3000);
  const liveNow = [...(await sinkStreams()).entries()].filter(([k, v]) => v.publishing && all.some((d) => d.key === k)).length;
  const rss20 = rssOfFanout();
  const cpu20 = await cpuOfFanout(BASELINE_SECONDS);
  const m20 = await metricsOf(all);
  log(`${RSS_DESTINATIONS} added, ${liveNow} publishing: RSS node ${rss20.nodeMiB} MiB, total ${rss20.totalMiB} MiB (PSS ${rss20.totalPssMiB} MiB); CPU ${pctCore(cpu20.cores)} (${fmtRoles(cpu20)}), pusher speed ${m20.speedAvg}`);
  results.cpuRunning20 = { ...cpuSummary(cpu20), publishing: liveNow, perDestinationCorePercent: r2((cpu20.cores / Math.max(1, liveNow)) * 100), pusherSpeed: m20.speedAvg };
  results.rss = {
    idle: rssIdle,
    running10: rss10,
    [`added${RSS_DESTINATIONS}`]: { ...rss20, publishing: liveNow, allRunning: running20 && liveNow === RSS_DESTINATIONS },
    nodePerDestinationMiB: Math.round(((rss20.nodeMiB - rssIdle.nodeMiB) / RSS_DESTINATIONS) * 100) / 100,
    totalPerDestinationMiB: Math.round(((rss20.totalMiB - rssIdle.totalMiB) / RSS_DESTINATIONS) * 100) / 100,
    pssPerDestinationMiB: Math.round(((rss20.totalPssMiB - rssIdle.totalPssMiB) / RSS_DESTINATIONS) * 100) / 100,
  };

  // -- 2b. Delete latency (each deleted while the others keep running) ----------------------------
  const deletes: DeleteSample[] = [];
  for (const d of all) deletes.push(await timedDelete(d));
  results.delete = {
    totalMs: dist(deletes.map((d) => d.totalMs)),
    notFoundMs: dist(deletes.map((d) => d.notFoundMs)),
    sinkGoneMs: dist(deletes.map((d) => d.sinkGoneMs)),
    processGoneMs: dist(deletes.map((d) => d.processGoneMs)),
  };
  log(`delete: p50 ${ms(dist(deletes.map((d) => d.totalMs)).p50)} over ${deletes.length}`);

  // -- 3b. The same fan-out by nginx-rtmp `push` -------------------------------------------------
  // Fanout's feed stops first, so that the machine-wide figure of this window compares with its own.
  await feed.stop();
  await sleep(3000);
  /** nginx with the file published to `app`: its CPU once every key is live at the sink, and each key's Mbps there. */
  const nginxWindow = async (app: 'live' | 'one' | 'nopush', keys: string[], seconds: number): Promise<{ cpu: CpuWindow; mbpsEach: number }> => {
    const source = flvSource(app);
    loops.push(source);
    if (keys.length > 0) await waitAllLive(keys, 30_000);
    await sleep(SETTLE_MS);
    const a = await sinkBytes(keys);
    const cpu = await measureCpuOf(push!.pid, 'nginx', seconds, others(source));
    const b = await sinkBytes(keys);
    await source.stop();
    return { cpu, mbpsEach: keys.length > 0 ? mbpsEach(a, b, keys.length) : 0 };
  };
  const nginxIdle = (await nginxWindow('nopush', [], BASELINE_SECONDS)).cpu;
  const { cpu: nginxPush, mbpsEach: bwPush } = await nginxWindow('live', pushKeys, CPU_SECONDS);
  log(
    `nginx push x${FANOUT}: ${pctCore(nginxPush.cores)} (receiving only: ${pctCore(nginxIdle.cores)}), machine ${pctCore(nginxPush.machine.cores)} (irq ${pctCore(nginxPush.machine.irq)}), sink ${pctCore(nginxPush.others.sink ?? 0)}, ${bwPush} Mbps each at the sink`,
  );
  const fanoutPer = cpu10.cores / FANOUT;
  const fanoutMarginal = (cpu10.cores - cpuIdle.cores) / FANOUT;
  const fanoutSlope = slopeStats(rounds.fanout);
  const nginxPer = nginxPush.cores / FANOUT;
  const nginxMarginal = (nginxPush.cores - nginxIdle.cores) / FANOUT;
  const nginxSlope = slopeStats(rounds.nginx);
  const verdict = slopeVerdict(fanoutSlope, nginxSlope);
  results.cpuPassthrough = {
    destinations: FANOUT,
    windowSeconds: CPU_SECONDS,
    slopeRounds: SLOPE_ROUNDS,
    slopeWindowSeconds: SLOPE_SECONDS,
    fanout: {
      cpu: cpuSummary(cpu10),
      baseline: cpuSummary(cpuIdle),
      perDestinationCorePercent: r2(fanoutPer * 100),
      marginalPerDestinationCorePercent: r2(fanoutMarginal * 100),
      perAddedDestination: fanoutSlope.summary,
      sinkMbpsPerDestination: bw10,
      pusherSpeed: m10.speedAvg,
      restarts: m10.restarts,
    },
    nginxPush: {
      cpu: cpuSummary(nginxPush),
      receiveOnly: cpuSummary(nginxIdle),
      perDestinationCorePercent: r2(nginxPer * 100),
      marginalPerDestinationCorePercent: r2(nginxMarginal * 100),
      perAddedDestination: nginxSlope.summary,
      sinkMbpsPerDestination: bwPush,
    },
    ratio: r2(fanoutPer / nginxPer),
    marginalRatio: r2(fanoutMarginal / nginxMarginal),
    perAddedDestinationRatio: r2(verdict.ratio),
    perAddedDestinationRatioUpperBound: r2(verdict.upperRatio),
    targetMet: verdict.met,
    resolved: fanoutSlope.resolved && nginxSlope.resolved,
    includes:
      'Fanout: this Node process (API, bus, flow hub, RTMP publishers) + fanout-srt (SRT/AES in) + primary HLS ffmpeg + the passthrough mux ffmpeg; nginx: the one nginx process (RTMP in + pushes). The test sender and the sink are in neither.',
  };
  const slopeText = (x: ReturnType<typeof slopeStats>): string => `${x.summary.meanCorePercent}% ± ${x.summary.standardErrorCorePercent}%`;
  if (!nginxSlope.resolved) notes.push(`nginx's per-added-destination cost is not resolved (${slopeText(nginxSlope)}): no ratio; more rounds or longer windows (BENCH_SLOPE_ROUNDS, BENCH_SLOPE_SECONDS)`);
  else if (!fanoutSlope.resolved)
    notes.push(`Fanout's per-added-destination cost is not told apart from zero (${slopeText(fanoutSlope)}); it is below ${r3(fanoutSlope.upper * 100)}% (two standard errors), ${r2(verdict.upperRatio)}x nginx's`);
  if (verdict.missed) warnings.push(`CPU per added passthrough destination Fanout/nginx = ${r2(verdict.ratio)}x > target ${TARGETS.cpuRatio}x (Fanout ${slopeText(fanoutSlope)}, nginx ${slopeText(nginxSlope)})`);
  else if (!verdict.met && nginxSlope.resolved)
    notes.push(`CPU per added passthrough destination: ${r2(verdict.ratio)}x nginx, but up to ${r2(verdict.upperRatio)}x at two standard errors: the target (${TARGETS.cpuRatio}x) is not shown met; more rounds (BENCH_SLOPE_ROUNDS)`);
  if (fanoutPer / nginxPer > TARGETS.cpuRatio) notes.push(`all-in CPU / ${FANOUT} destinations, fixed costs included (SRT decryption, primary HLS, the mux), Fanout/nginx = ${r2(fanoutPer / nginxPer)}x`);
  const ptLive = dist(startRuns.passthrough?.starts.map((s) => s.liveMs) ?? []);
  if ((ptLive.p50 ?? Infinity) > TARGETS.startToLivePassthroughP50Ms) warnings.push(`start-to-live passthrough p50 ${ms(ptLive.p50)} > target ${TARGETS.startToLivePassthroughP50Ms} ms`);
  for (const [k, r] of Object.entries(startRuns)) {
    const s = dist(r.stops.map((x) => x.sinkGoneMs));
    if ((s.p50 ?? Infinity) > TARGETS.stopP50Ms) warnings.push(`stop latency ${k} p50 ${ms(s.p50)} > target ${TARGETS.stopP50Ms} ms`);
  }
  const del = dist(deletes.map((d) => d.totalMs));
  if ((del.p50 ?? Infinity) > TARGETS.deleteP50Ms) warnings.push(`delete latency p50 ${ms(del.p50)} > target ${TARGETS.deleteP50Ms} ms`);
  if (feed.restarts > 0) notes.push(`the SRT test sender was restarted ${feed.restarts} time(s)`);
}

const r2 = (v: number): number => Math.round(v * 100) / 100;
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

interface WindowSummary {
  seconds: number;
  cpuSeconds: number;
  corePercent: number;
  machineCorePercent: { total: number; user: number; system: number; irq: number };
  othersCorePercent: Record<string, number>;
  byRoleCorePercent: Record<string, number>;
  born: number;
  ended: number;
}

const machineCell = (w: WindowSummary): string => `${w.machineCorePercent.total}% (${w.machineCorePercent.user}/${w.machineCorePercent.system}/${w.machineCorePercent.irq})`;

function cpuSummary(w: CpuWindow): WindowSummary {
  return {
    seconds: r2(w.seconds),
    cpuSeconds: r2(w.cpuSeconds),
    corePercent: r2(w.cores * 100),
    machineCorePercent: { total: r2(w.machine.cores * 100), user: r2(w.machine.user * 100), system: r2(w.machine.system * 100), irq: r2(w.machine.irq * 100) },
    othersCorePercent: Object.fromEntries(Object.entries(w.others).map(([k, v]) => [k, r2(v * 100)])),
    byRoleCorePercent: Object.fromEntries(Object.entries(w.byRole).map(([k, v]) => [k, r2((v / w.seconds) * 100)])),
    born: w.born,
    ended: w.ended,
  };
}

function fmtRoles(w: CpuWindow): string {
  return Object.entries(w.byRole)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${pctCore(v / w.seconds)}`)
    .join(', ');
}

// ------------------------------------------------------------------------------------------------
// Report

function report(): void {
  const out: string[] = [];
  const st = results.startToLive as Record<string, { liveMs: Dist; milestones: Record<string, Dist>; failures: string[] }> | undefined;
  if (st) {
    const rows: string[][] = [];
    for (const [k, v] of Object.entries(st)) {
      const target = k === 'passthrough' ? `<= ${TARGETS.startToLivePassthroughP50Ms} ms ${(v.liveMs.p50 ?? Infinity) <= TARGETS.startToLivePassthroughP50Ms ? 'met' : 'MISSED'}` : '-';
      rows.push([`start-to-live ${k}`, String(v.liveMs.n), ms(v.liveMs.p50), ms(v.liveMs.p95), `${ms(v.liveMs.min)}..${ms(v.liveMs.max)}`, target]);
    }
    const sp = results.stop as Record<string, { sinkGoneMs: Dist; processGoneMs: Dist; pusherGoneMs: Dist; encoderGoneMs: Dist; idleMs: Dist }> | undefined;
    for (const [k, v] of Object.entries(sp ?? {})) {
      rows.push([
        `stop ${k} (publisher gone)`,
        String(v.sinkGoneMs.n),
        ms(v.sinkGoneMs.p50),
        ms(v.sinkGoneMs.p95),
        `${ms(v.sinkGoneMs.min)}..${ms(v.sinkGoneMs.max)}`,
        `<= ${TARGETS.stopP50Ms} ms ${(v.sinkGoneMs.p50 ?? Infinity) <= TARGETS.stopP50Ms ? 'met' : 'MISSED'}`,
      ]);
      rows.push([`  stop ${k}: pusher gone`, String(v.pusherGoneMs.n), ms(v.pusherGoneMs.p50), ms(v.pusherGoneMs.p95), `${ms(v.pusherGoneMs.min)}..${ms(v.pusherGoneMs.max)}`, '']);
      if (v.encoderGoneMs.n > 0) rows.push([`  stop ${k}: encoder gone`, String(v.encoderGoneMs.n), ms(v.encoderGoneMs.p50), ms(v.encoderGoneMs.p95), `${ms(v.encoderGoneMs.min)}..${ms(v.encoderGoneMs.max)}`, '']);
      rows.push([`  stop ${k}: status idle`, String(v.idleMs.n), ms(v.idleMs.p50), ms(v.idleMs.p95), `${ms(v.idleMs.min)}..${ms(v.idleMs.max)}`, '']);
    }
    const dl = results.delete as { totalMs: Dist; notFoundMs: Dist; sinkGoneMs: Dist; processGoneMs: Dist } | undefined;
    if (dl) {
      rows.push([
        'delete (404 + publisher + process gone)',
        String(dl.totalMs.n),
        ms(dl.totalMs.p50),
        ms(dl.totalMs.p95),
        `${ms(dl.totalMs.min)}..${ms(dl.totalMs.max)}`,
        `<= ${TARGETS.deleteP50Ms} ms ${(dl.totalMs.p50 ?? Infinity) <= TARGETS.deleteP50Ms ? 'met' : 'MISSED'}`,
      ]);
      rows.push(['  delete: GET 404', String(dl.notFoundMs.n), ms(dl.notFoundMs.p50), ms(dl.notFoundMs.p95), '', '']);
      rows.push(['  delete: publisher gone', String(dl.sinkGoneMs.n), ms(dl.sinkGoneMs.p50), ms(dl.sinkGoneMs.p95), '', '']);
      rows.push(['  delete: process gone', String(dl.processGoneMs.n), ms(dl.processGoneMs.p50), ms(dl.processGoneMs.p95), '', '']);
    }
    out.push(table('Latency (from the API call)', ['measure', 'n', 'p50', 'p95', 'min..max', 'target (p50)'], rows));

    const mrows: string[][] = [];
    const names: Record<string, string> = {
      apiAnswerMs: 'API answered 202',
      encoderSpawnedMs: 'encoder ffmpeg spawned',
      pusherSpawnedMs: 'pusher ffmpeg spawned',
      rtmpPublishMs: 'RTMP publish seen at nginx',
      firstBytesMs: 'bytes_in > 0 at nginx',
      mediaMs: 'media at nginx (bytes_in grows) = live',
      statusRunningMs: 'API status running',
    };
    for (const m of Object.keys(names)) {
      mrows.push([names[m]!, ...Object.values(st).map((v) => `${ms(v.milestones[m]?.p50 ?? null)} / ${ms(v.milestones[m]?.p95 ?? null)}`)]);
    }
    out.push(table('Where start-to-live goes (milestones after POST /start, p50 / p95)', ['milestone', ...Object.keys(st)], mrows));
  }

  type Slope = {
    rounds: number;
    meanCorePercent: number;
    standardErrorCorePercent: number;
    minCorePercent: number;
    maxCorePercent: number;
    oneMedianCorePercent: number;
    tenMedianCorePercent: number;
    fixedCorePercent: number;
    byRole: Record<string, { meanCorePercent: number; standardErrorCorePercent: number }>;
  };
  type CpuSide = { cpu: WindowSummary; perDestinationCorePercent: number; marginalPerDestinationCorePercent: number; perAddedDestination: Slope; sinkMbpsPerDestination: number };
  const cpu = results.cpuPassthrough as
    | {
        fanout: CpuSide & { baseline: WindowSummary };
        nginxPush: CpuSide & { receiveOnly: WindowSummary };
        ratio: number;
        marginalRatio: number;
        perAddedDestinationRatio: number;
        perAddedDestinationRatioUpperBound: number;
        targetMet: boolean;
        resolved: boolean;
      }
    | undefined;
  if (cpu) {
    const f = cpu.fanout;
    const n = cpu.nginxPush;
    const slopeCell = (s: Slope): string => `${s.meanCorePercent}% ± ${s.standardErrorCorePercent} (${s.minCorePercent}..${s.maxCorePercent})`;
    // The ratio with its bound at two standard errors; a slope not told apart from zero is said so.
    const bound = Number.isFinite(cpu.perAddedDestinationRatioUpperBound) ? `, at most ${cpu.perAddedDestinationRatioUpperBound}x` : '';
    const ratioCell = Number.isFinite(cpu.perAddedDestinationRatio) ? `${cpu.perAddedDestinationRatio}x${bound}${cpu.resolved ? '' : ' (Fanout not told apart from 0)'}` : 'nginx not resolved';
    const verdict = `${ratioCell}: target <= ${TARGETS.cpuRatio}x ${cpu.targetMet ? 'met' : 'not shown met'}`;
    out.push(
      table(
        `CPU per passthrough destination, a 6 Mbps 1080p30 feed (% of one core; per added dest.: mean of ${f.perAddedDestination.rounds} rounds of ${SLOPE_SECONDS} s windows, both fan-outs measured at the same time, ± standard error, (min..max))`,
        ['', 'feed in, 0 dest.', '1 dest. (median)', `${FANOUT} dest. (median)`, `per added dest. (1 to ${FANOUT})`, 'fixed (1 dest. minus slope)', `all-in / ${FANOUT} (${CPU_SECONDS} s)`, 'Mbps each at sink'],
        [
          [
            'Fanout (node + fanout-srt + ffmpeg)',
            `${f.baseline.corePercent}%`,
            `${f.perAddedDestination.oneMedianCorePercent}%`,
            `${f.perAddedDestination.tenMedianCorePercent}%`,
            slopeCell(f.perAddedDestination),
            `${f.perAddedDestination.fixedCorePercent}%`,
            `${f.perDestinationCorePercent}%`,
            String(f.sinkMbpsPerDestination),
          ],
          [
            'nginx-rtmp push (one nginx process)',
            `${n.receiveOnly.corePercent}%`,
            `${n.perAddedDestination.oneMedianCorePercent}%`,
            `${n.perAddedDestination.tenMedianCorePercent}%`,
            slopeCell(n.perAddedDestination),
            `${n.perAddedDestination.fixedCorePercent}%`,
            `${n.perDestinationCorePercent}%`,
            String(n.sinkMbpsPerDestination),
          ],
          ['ratio Fanout/nginx', '', '', '', verdict, '', `${cpu.ratio}x`, ''],
        ],
      ),
    );
    out.push(
      `Machine during the ${FANOUT}-destination ${CPU_SECONDS} s windows (all users, user/sys/irq): Fanout run ${machineCell(f.cpu)}, sink ${f.cpu.othersCorePercent.sink ?? '-'}%, SRT sender ${f.cpu.othersCorePercent.source ?? '-'}%; nginx run ${machineCell(n.cpu)}, sink ${n.cpu.othersCorePercent.sink ?? '-'}%, FLV sender ${n.cpu.othersCorePercent.source ?? '-'}%.`,
    );
    out.push(
      `Fanout by process, ${FANOUT} dest.: ${Object.entries(f.cpu.byRoleCorePercent)
        .map(([k, v]) => `${k} ${v}%`)
        .join(', ')}; per added destination (mean ± standard error): ${Object.entries(f.perAddedDestination.byRole)
        .map(([k, v]) => `${k} ${v.meanCorePercent}% ± ${v.standardErrorCorePercent}`)
        .join(', ')}`,
    );
    out.push(
      "Per added destination = (CPU with 10 - CPU with 1) / 9, what each destination costs, measured in rounds of two windows (10,1 / 1,10 / ...) with Fanout and nginx side by side in each window. The target is met when the ratio is within it even at its upper bound (Fanout's mean plus two standard errors over nginx's mean less two). Fixed = what the fan-out costs before its first destination: for Fanout SRT decryption (fanout-srt), the primary HLS and the passthrough mux, none of which nginx does (it receives plain RTMP); all-in / 10 divides both among 10. Included: Fanout = this Node process (API, bus, flow hub, RTMP publishers) + fanout-srt + primary HLS ffmpeg + the mux; nginx = its one process. Excluded from both: the test senders (SRT resp. FLV, both -c copy from the file), the sink.",
    );
    const c20 = results.cpuRunning20 as { corePercent: number; publishing: number; perDestinationCorePercent: number; seconds: number } | undefined;
    if (c20) out.push(`Fanout with ${c20.publishing} passthrough destinations publishing: ${c20.corePercent}% of a core over ${c20.seconds} s = ${c20.perDestinationCorePercent}% per destination.`);
  }

  const se = results.sharedEncode as
    | {
        shared: { encoders: number; cpu: { corePercent: number; byRoleCorePercent: Record<string, number> }; speedAvg: number | null };
        separate: { encoders: number; cpu: { corePercent: number; byRoleCorePercent: Record<string, number> }; speedAvg: number | null };
        savingPercent: number;
        encoderSavingPercent: number;
      }
    | undefined;
  if (se) {
    const enc = (c: { byRoleCorePercent: Record<string, number> }): string => `${c.byRoleCorePercent.encoder ?? 0}%`;
    out.push(
      table(
        `Shared encode: ${SHARED_N} destinations transcoding 1080p30 to 720p30 (x264 ${String(results.x264PresetSeen ?? X264_PRESET)}; ${CPU_SECONDS} s window; % of one core)`,
        ['', 'encoders', 'total CPU', 'encoder CPU', 'pusher speed'],
        [
          [`one preset (${TRANSCODE_PRESET})`, String(se.shared.encoders), `${se.shared.cpu.corePercent}%`, enc(se.shared.cpu), String(se.shared.speedAvg ?? '-')],
          [`${SHARED_N} identical presets`, String(se.separate.encoders), `${se.separate.cpu.corePercent}%`, enc(se.separate.cpu), String(se.separate.speedAvg ?? '-')],
          ['saving', '', `${se.savingPercent}%`, `${se.encoderSavingPercent}%`, ''],
        ],
      ),
    );
  }

  const rss = results.rss as (Record<string, (Memory & { publishing?: number }) | undefined> & { nodePerDestinationMiB?: number; totalPerDestinationMiB?: number; pssPerDestinationMiB?: number }) | undefined;
  if (rss) {
    const row = (label: string, r: Memory | undefined): string[] =>
      r ? [label, `${r.nodeMiB} MiB`, `${r.heapUsedMiB} MiB`, `${r.totalMiB} MiB`, `${r.totalPssMiB} MiB`, String(r.children), String(r.publishedEvents)] : [label, '-', '-', '-', '-', '-', '-'];
    const k20 = `added${RSS_DESTINATIONS}`;
    out.push(
      table(
        'Memory of Fanout (node = this process; total = with its children)',
        ['', 'node RSS', 'node heap (after GC)', 'total RSS', 'total PSS', 'children', 'rt.published'],
        [
          row('feed in, 0 destinations', rss.idle),
          row(`${FANOUT} passthrough running`, rss.running10),
          row(`${RSS_DESTINATIONS} added, ${rss[k20]?.publishing ?? '?'} running`, rss[k20]),
          [`per destination (${RSS_DESTINATIONS} vs 0)`, `${rss.nodePerDestinationMiB} MiB`, '', `${rss.totalPerDestinationMiB} MiB`, `${rss.pssPerDestinationMiB} MiB`, '', ''],
        ],
      ),
    );
  }
  const ing = results.ingest as IngestFigures | undefined;
  if (ing) {
    const cell = (f: IngestFigures['fanoutSrt']): string[] => [`${f.corePercent}% ± ${f.corePercentSe}`, String(f.readsPerSecond), String(f.mbitPerSecond)];
    out.push(
      table(
        `SRT ingest alone: the same 6 Mbit/s feed (AES-128) into each, side by side, ${ing.rounds} × ${ing.seconds} s (CPU of the listener process, % of one core, mean ± SE)`,
        ['listener', 'CPU', 'stdout reads/s (Node)', 'Mbit/s out'],
        [
          ['fanout-srt (ADR 0020)', ...cell(ing.fanoutSrt)],
          ['srt-live-transmit', ...cell(ing.srtLiveTransmit)],
          ['ratio fanout-srt / srt-live-transmit', String(ing.ratio), '', ''],
        ],
      ),
    );
  }
  const lat = results.latency as LatencyFigures | undefined;
  if (lat) out.push(...latencyReport(lat));
  const sl = results.startLive as StartLiveFigures | undefined;
  if (sl) out.push(...startLiveReport(sl));
  const fo = results.failover as FailoverFigures | undefined;
  if (fo) out.push(...failoverReport(fo));
  const job = results.job as JobFigures | undefined;
  if (job) out.push(...jobReport(job));
  const cp = results.controlPlane as ControlPlaneFigures | undefined;
  if (cp) out.push(table(`The control plane at ${cp.destinations} destinations, ${cp.running} running (engine: ${cp.engine})`, ['measure', 'value', 'target'], controlPlaneRows(cp)));
  const dash = results.dashboard as DashboardFigures | undefined;
  if (dash) {
    const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
    out.push(
      table(
        'Dashboards (Chromium headless; Fanout with the destination service alone)',
        ['measure', 'value', 'target'],
        [
          ['JS loaded at once, gzipped (without the lazy preview)', `${kib(dash.js.initialGzipBytes)} (${kib(dash.js.initialBytes)} raw, ${dash.js.files.length} files; CSS ${kib(dash.js.cssGzipBytes)})`, '-'],
          ...Object.entries(dash.js.lazyGzipBytes).map(([k, v]) => [`  loaded later: ${k}, gzipped`, kib(v), '-']),
          ['first render, 50 destinations (navigation to cards on screen), p50', dash.firstRender50 ? `${dash.firstRender50.p50Ms} ms (runs ${dash.firstRender50.runsMs.join(', ')})` : (dash.skipped ?? '-'), '-'],
          [
            'SSE status event → DOM, p50 / p95',
            dash.sseToDom ? `${dash.sseToDom.p50Ms} / ${dash.sseToDom.p95Ms} ms (n ${dash.sseToDom.n}, max ${dash.sseToDom.maxMs})` : (dash.skipped ?? '-'),
            `p95 <= ${DASHBOARD_EVENT_TARGET_MS} ms ${dash.sseToDom ? (dash.sseToDom.p95Ms <= DASHBOARD_EVENT_TARGET_MS ? 'met' : 'MISSED') : ''}`,
          ],
        ],
      ),
    );
    if (dash.sseToDom && dash.sseToDom.p95Ms > DASHBOARD_EVENT_TARGET_MS) warnings.push(`SSE status → DOM p95 ${dash.sseToDom.p95Ms} ms > ${DASHBOARD_EVENT_TARGET_MS} ms`);
  }
  console.log(out.join('\n'));
  for (const n of notes) console.log(`NOTE: ${n}`);
  for (const w of warnings) console.log(`WARNING: ${w}`);
}

// ------------------------------------------------------------------------------------------------
// Cleanup: every process this run started dies, on success, failure, signal or time-out

let cleaning: Promise<void> | null = null;
async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    const step = async (what: string, p: () => Promise<unknown>): Promise<void> => {
      try {
        await Promise.race([p(), sleep(15_000).then(() => Promise.reject(new Error('timed out')))]);
      } catch (err) {
        console.error(`cleanup: ${what}: ${(err as Error).message}`);
      }
    };
    for (const l of loops) await step(`stop ${l.name}`, () => l.stop());
    await step('Fanout', async () => rt?.close());
    await step('nginx push', async () => push?.close());
    await step('nginx sink', async () => sink?.close());
    killLeftovers('cleanup');
  })();
  return cleaning;
}

/** SIGKILLs whatever this process still has below it (esbuild's service dies with us on its own). */
function killLeftovers(when: string): number {
  const left = descendants(process.pid).filter((p) => p.comm !== 'esbuild' && p.state !== 'Z');
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (left.length > 0 && when !== 'exit') console.error(`cleanup: killed ${left.length} leftover process(es): ${left.map((p) => `${p.comm}[${p.pid}]`).join(', ')}`);
  return left.length;
}

process.on('exit', () => killLeftovers('exit'));
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`bench: ${sig}, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
const hardLimit = setTimeout(() => {
  console.error(`bench: over ${HARD_LIMIT_MS / 1000} s, giving up`);
  void cleanup().finally(() => process.exit(2));
}, HARD_LIMIT_MS);
hardLimit.unref();

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  results.error = (err as Error).message;
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
}
await cleanup();
const leftovers = descendants(process.pid).filter((p) => p.comm !== 'esbuild' && p.state !== 'Z');
results.leftoverProcesses = leftovers.length;
results.durationSeconds = Math.round((now() - T0) / 100) / 10;
results.warnings = warnings;
results.notes = notes;
report();
console.log(`\nbench took ${results.durationSeconds} s`);
console.log(`BENCH_JSON ${JSON.stringify(results)}`);
process.exit(exitCode);
