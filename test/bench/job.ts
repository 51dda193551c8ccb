/**
 * The whole job against the peer stack (issue 16, §1) and scale on two cores (§2).
 *
 * The job: one encrypted SRT feed in (the 6 Mbit/s 1080p30 bench feed, AES-128, latency 120 ms),
 * the primary HLS out, N passthrough RTMP destinations out. Three ways of doing it run at once on
 * the same machine, each fed by its own SRT sender (`fanout-srt call` copying the same file in
 * real time), all pushing to one sink nginx on loopback, and are measured in the same windows:
 *
 *   Fanout     fanout-srt (listener) → Node flow hub → primary HLS ffmpeg + passthrough mux ffmpeg
 *              → RtmpFanout (Node) → N publishers
 *   peer stack srt-live-transmit (listener, the same passphrase and latency) | ffmpeg -c copy -f flv
 *              → nginx-rtmp with `push` ×N and its own `hls on` (one process)
 *   per-dest.  (Restreamer-like, N = 1 and 10) srt-live-transmit | ffmpeg -c copy, two outputs
 *              (HLS, and FLV to an internal nginx-rtmp relay) → one `ffmpeg -c copy` per destination
 *
 * CPU is time on CPU per thread (/proc/<pid>/task/<tid>/schedstat, ns) of every process of each
 * stack, summed and by role, over `BENCH_JOB_WINDOWS` windows of `BENCH_JOB_SECONDS` at each N
 * (N = 1, 10, 100), after a settle. Fanout's Node process is this process (the runtime runs in
 * it, as in `npm run bench`): the bench keeps still during a window. Excluded from every figure:
 * the senders and the sink.
 *
 * §2 (scale), on the same Fanout: 100 passthrough destinations for `BENCH_SCALE_SECONDS` (60):
 * each one's bytes at the sink against a reference stream (the same file published straight to
 * the sink by `ffmpeg -re -c copy`, over the same window), Fanout's dropped frames (the
 * publishers' counters, through the API's metrics) and reconnects (the sink's client id of each
 * stream); memory per destination (RSS and PSS from /proc/<pid>/smaps_rollup of Fanout's
 * processes, 100 running against 0); with 100 running, one more started and stopped (time to live
 * at the sink, and to gone) against the same with 1 running, the others watched over it; the knee:
 * the first N of `BENCH_KNEE_STEPS` at which a destination receives under 99 % of the reference,
 * for Fanout and for the peer stack's nginx `push` (one at a time: the sink carries one of them).
 *
 * Run: `flock /tmp/fanout-media.lock npm run bench -- --job` (this alone, compiled; `--quick` for a
 * short run: 1 window of 10 s per N, 20 s at 100 destinations, knee steps 200 only), or as part of
 * `npm run bench` (`BENCH_JOB=0` leaves it out). Env: BENCH_JOB_SECONDS (default 15),
 * BENCH_JOB_WINDOWS (3), BENCH_JOB_SETTLE_SECONDS (10), BENCH_JOB_NS (1,10,100),
 * BENCH_SCALE_SECONDS (60), BENCH_KNEE_STEPS (150,200,300,400; empty: no knee), BENCH_SCALE=0 (§1 only),
 * BENCH_JOB_CPU_PROF=<dir>: a V8 CPU profile of this process (Fanout's Node) over each N's windows,
 * `<dir>/job-N<n>.cpuprofile` (the profiler costs CPU of its own: not for figures; read them with
 * `npx tsx test/bench/cpuprofile.ts <file>`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ingestBinary } from '../../shared/engines/local/engine/index.ts';
import { eventually, startTestRuntime, type TestRuntime } from '../support/local.ts';
import { freeTcpPort, freeUdpPort, portOpen, RTMP_MODULE } from '../support/nginx-rtmp.ts';
import { FEED, feedFile, loopedFeedCallerArgs } from './feed.ts';
import { cmdline, measureCpu, type ProcStat, pssOf, rssOf, runNs, tree } from './proc.ts';
import { parseSinkStreams, type SinkStream, untilLive } from './sink.ts';
import { meanSe, median } from './stats.ts';

const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const envNum = (k: string, d: number, q: number): number => Number(process.env[k] ?? (QUICK ? q : d));
const SECONDS = envNum('BENCH_JOB_SECONDS', 15, 10);
const WINDOWS = envNum('BENCH_JOB_WINDOWS', 3, 1);
const SETTLE_MS = envNum('BENCH_JOB_SETTLE_SECONDS', 10, 6) * 1000;
const NS = (process.env.BENCH_JOB_NS ?? '1,10,100')
  .split(',')
  .filter((s) => s.trim() !== '')
  .map(Number);
/** The one-FFmpeg-per-destination design is measured up to this N. */
const PER_DEST_MAX = 10;
const SCALE_N = 100;
const SCALE_SECONDS = envNum('BENCH_SCALE_SECONDS', 60, 20);
const KNEE_STEPS = (process.env.BENCH_KNEE_STEPS ?? (QUICK ? '200' : '150,200,300,400'))
  .split(',')
  .filter((s) => s.trim() !== '')
  .map(Number);
const KNEE_SECONDS = QUICK ? 8 : 12;
const SRT_LATENCY_MS = 120;
/** A destination receiving less than this share of the reference's bytes is behind. */
const RATE_FLOOR = 0.99;
const STARTS = QUICK ? 2 : 3;

const CPU_PROF_DIR = process.env.BENCH_JOB_CPU_PROF ?? '';

/** Starts V8's sampling profiler on this thread; the returned function stops it and writes the profile. */
async function startCpuProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(CPU_PROF_DIR, { recursive: true });
    writeFileSync(join(CPU_PROF_DIR, file), JSON.stringify(profile));
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();
const r2 = (v: number): number => Math.round(v * 100) / 100;
const r3 = (v: number): number => Math.round(v * 1000) / 1000;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

// ------------------------------------------------------------------------------------------------
// Processes the bench runs (not Fanout's)

/** Pids of the bench's helpers: their subtrees are left out of Fanout's tree. */
const helperPids = new Set<number>();
const children = new Set<ChildProcess>();

/** A helper in its own process group (killed as a group), restarted 500 ms after it exits until stopped. */
class Helper {
  #child: ChildProcess | null = null;
  #stopped = false;
  #stderr = '';
  restarts = 0;
  constructor(
    readonly name: string,
    readonly bin: string,
    readonly args: string[],
    readonly stdin: string | null = null,
  ) {}

  start(): this {
    const child = spawn(this.bin, this.args, { stdio: [this.stdin === null ? 'ignore' : 'pipe', 'ignore', 'pipe'], detached: true });
    if (this.stdin !== null) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(this.stdin);
    }
    this.#child = child;
    children.add(child);
    if (child.pid) helperPids.add(child.pid);
    child.stderr?.on('data', (c: Buffer) => (this.#stderr = (this.#stderr + c.toString()).slice(-2000)));
    child.on('error', (err) => (this.#stderr += `\n${err.message}`));
    child.once('exit', () => {
      children.delete(child);
      if (child.pid) helperPids.delete(child.pid);
      if (this.#child === child) this.#child = null;
      if (this.#stopped) return;
      this.restarts++;
      setTimeout(() => {
        if (!this.#stopped) this.start();
      }, 500);
    });
    return this;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** The helper and every process below it (a shell pipeline's members). */
  procs(): ProcStat[] {
    const pid = this.pid;
    if (!pid) return [];
    return [...tree(pid, () => false).values()];
  }

  get lastError(): string {
    return this.#stderr.trim().split('\n').slice(-3).join(' | ');
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const child = this.#child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await exited;
  }
}

/** A private nginx-rtmp (one process, foreground), from a config body. */
class Nginx {
  readonly helper: Helper;
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly httpPort: number,
  ) {
    this.helper = new Helper(`nginx ${dir}`, 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  }

  static async start(name: string, rtmpBody: (dir: string) => string, withStat: boolean): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), `fanout-bench-${name}-`));
    mkdirSync(join(dir, 'tmp'));
    const port = await freeTcpPort();
    const httpPort = withStat ? await freeTcpPort() : 0;
    const tmp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/tmp/${k};`).join('\n');
    const http = withStat ? `http {\n  access_log off;\n${tmp}\n  server { listen 127.0.0.1:${httpPort}; location /stat { rtmp_stat all; } }\n}\n` : '';
    writeFileSync(
      join(dir, 'nginx.conf'),
      `load_module ${RTMP_MODULE};
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
${http}rtmp {
  server {
    listen 127.0.0.1:${port};
    chunk_size 4096;
${rtmpBody(dir)}
  }
}
`,
    );
    const n = new Nginx(dir, port, httpPort);
    n.helper.start();
    const deadline = Date.now() + 5000;
    while (!(await portOpen(port)) || (withStat && !(await portOpen(httpPort)))) {
      if (Date.now() > deadline) {
        await n.close();
        throw new Error(`nginx ${name} did not start: ${n.errorLog()}`);
      }
      await sleep(20);
    }
    return n;
  }

  get pid(): number | null {
    return this.helper.pid;
  }

  url(app: string): string {
    return `rtmp://127.0.0.1:${this.port}/${app}`;
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('\n').slice(-10).join('\n');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    await this.helper.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------
// The sink's view

async function sinkStreams(sink: Nginx): Promise<Map<string, SinkStream>> {
  return parseSinkStreams(await (await fetch(`http://127.0.0.1:${sink.httpPort}/stat`)).text());
}

interface Snapshot {
  at: number;
  streams: Map<string, SinkStream>;
}

const snapshot = async (sink: Nginx): Promise<Snapshot> => ({ streams: await sinkStreams(sink), at: now() });

/** Per key: bytes received between two snapshots over the reference's, and whether its connection changed. */
function rates(a: Snapshot, b: Snapshot, keys: string[], ref: string): { ratios: number[]; min: number; median: number; refMbps: number; reconnects: number; missing: number } {
  const bytes = (k: string): number | null => {
    const x = a.streams.get(k);
    const y = b.streams.get(k);
    return x && y && y.publishing ? y.bytesIn - x.bytesIn : null;
  };
  const refBytes = bytes(ref) ?? Number.NaN;
  let reconnects = 0;
  let missing = 0;
  const ratios: number[] = [];
  for (const k of keys) {
    const v = bytes(k);
    if (v === null) {
      missing++;
      ratios.push(0);
      continue;
    }
    if (a.streams.get(k)?.clientId !== b.streams.get(k)?.clientId) reconnects++;
    ratios.push(v / refBytes);
  }
  return { ratios, min: ratios.length ? Math.min(...ratios) : Number.NaN, median: median(ratios), refMbps: r2((refBytes * 8) / ((b.at - a.at) / 1000) / 1e6), reconnects, missing };
}

function waitLive(sink: Nginx, keys: string[], timeoutMs: number): Promise<void> {
  return untilLive(() => sinkStreams(sink), keys, { timeoutMs, intervalMs: 250 });
}

// ------------------------------------------------------------------------------------------------
// CPU windows

interface Window {
  seconds: number;
  cores: number;
  byRole: Record<string, number>;
}

/** Samples `procs` (pid, role) now; the returned function gives their CPU since. Processes born or ended in between are left out (steady states only). */
function startPids(procs: { pid: number; role: string; start: number }[]): () => Window {
  const t0 = process.hrtime.bigint();
  const a = procs.map((p) => ({ ...p, ns: runNs(p.pid) }));
  return () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const byRole: Record<string, number> = {};
    let total = 0;
    for (const p of a) {
      const ns = runNs(p.pid);
      if (ns === null || p.ns === null) continue;
      const c = (ns - p.ns) / 1e9 / seconds;
      byRole[p.role] = (byRole[p.role] ?? 0) + c;
      total += c;
    }
    return { seconds, cores: total, byRole };
  };
}

const byRole = (w: Window): string =>
  Object.entries(w.byRole)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v * 100).toFixed(2)}`)
    .join(', ');

const notFanout = (p: ProcStat): boolean => p.comm === 'nginx' || helperPids.has(p.pid);

function fanoutRole(p: ProcStat): string {
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

/** Fanout's processes (this one and its descendants, the bench's helpers left out). */
const fanoutProcs = (): ProcStat[] => [...tree(process.pid, notFanout).values()];

// ------------------------------------------------------------------------------------------------
// Figures

export interface StackCpu {
  /** % of one core, mean ± SE over the windows, with each role's mean. */
  corePercent: number;
  corePercentSe: number;
  byRoleCorePercent: Record<string, number>;
  /** Of each destination at the sink against the reference: the lowest and median share. */
  minRate: number;
  medianRate: number;
  processes: number;
}

export interface JobPoint {
  n: number;
  fanout: StackCpu;
  peer: StackCpu;
  perDestination?: StackCpu;
  loadAverage: string;
  /** Fanout ≤ peer stack (mean). */
  met: boolean;
}

export interface ScaleFigures {
  n: number;
  seconds: number;
  refMbps: number;
  minRate: number;
  medianRate: number;
  below99: number;
  droppedFrames: number;
  restarts: number;
  reconnects: number;
  missing: number;
  cpuCorePercent: number;
  byRoleCorePercent: Record<string, number>;
  memory: { zero: Memory; one: Memory; hundred: Memory; perDestination: { nodeRssMiB: number; totalRssMiB: number; totalPssMiB: number }; nginxPush?: { onePssMiB: number; hundredPssMiB: number; perDestinationPssKiB: number } };
  startStop: { with1: { startMs: number[]; stopMs: number[] }; with100: { startMs: number[]; stopMs: number[] }; othersDisturbed: { reconnects: number; droppedFrames: number; minRate: number } };
  knee: { fanout: KneeResult; nginxPush: KneeResult };
  loadAverage: string;
  met: boolean;
}

export interface KneeResult {
  /** The first N at which a destination fell behind; null: none up to `maxTried`. */
  knee: number | null;
  maxTried: number;
  steps: { n: number; minRate: number; medianRate: number; droppedFrames?: number; loadAverage: string; corePercent: number }[];
}

export interface Memory {
  nodeRssMiB: number;
  heapUsedMiB: number;
  totalRssMiB: number;
  totalPssMiB: number;
  processes: number;
}

export interface JobFigures {
  feed: typeof FEED;
  windows: number;
  seconds: number;
  quick: boolean;
  points: JobPoint[];
  scale: ScaleFigures | null;
  warnings: string[];
  notes: string[];
}

// ------------------------------------------------------------------------------------------------
// The run

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;

export async function benchJob(log: (m: string) => void): Promise<JobFigures> {
  const warnings: string[] = [];
  const notes: string[] = [];
  const caller = ingestBinary();
  if (caller.problem) throw new Error(caller.problem);
  const file = (await feedFile((pid) => helperPids.add(pid))).path;
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  const tagId = randomBytes(3).toString('hex');
  const helpers: Helper[] = [];
  const nginxes: Nginx[] = [];
  let rt: TestRuntime | null = null;
  const figures: JobFigures = { feed: FEED, windows: WINDOWS, seconds: SECONDS, quick: QUICK, points: [], scale: null, warnings, notes };
  try {
    const sink = await Nginx.start('sink', () => '    application live { live on; record off; }', true);
    nginxes.push(sink);
    const steps = [...new Set([...NS, SCALE_N, ...KNEE_STEPS])].sort((a, b) => a - b);
    // The peer stack's nginx: an application per N, each with N pushes and its own HLS.
    const peer = await Nginx.start(
      'peer',
      (dir) =>
        steps
          .map((n) => {
            const pushes = Array.from({ length: n }, (_, i) => `      push ${sink.url('live')}/peer-${tagId}-${i};`).join('\n');
            return `    application p${n} {\n      live on;\n      record off;\n      hls on;\n      hls_path ${dir}/hls-${n};\n      hls_fragment 2s;\n      hls_playlist_length 12s;\n${pushes}\n    }`;
          })
          .join('\n'),
      false,
    );
    nginxes.push(peer);
    // The one-FFmpeg-per-destination design's internal relay (Restreamer's own RTMP server).
    const relay = await Nginx.start('relay', () => '    application relay { live on; record off; }', false);
    nginxes.push(relay);
    const relayHls = mkdtempSync(join(tmpdir(), 'fanout-bench-perdest-hls-'));

    const srtPort = await freeUdpPort();
    rt = await startTestRuntime({ FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_PORT: String(srtPort), FANOUT_SRT_PASSPHRASE: passphrase, FANOUT_LOG_LEVEL: 'WARN', FANOUT_RATE_LIMIT_PER_MINUTE: '1000000' }, { engine: 'local' });
    const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => rt!.api(method, path, body === undefined ? {} : { body });
    const sender = (port: number, name: string): Helper => {
      const h = new Helper(name, caller.path, loopedFeedCallerArgs(port, file), `${passphrase}\n`).start();
      helpers.push(h);
      return h;
    };
    sender(srtPort, 'srt-sender fanout');
    // The reference: the same file, straight to the sink.
    const refKey = `ref-${tagId}`;
    helpers.push(
      new Helper('reference', 'ffmpeg', [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        file,
        '-map',
        '0:v:0',
        '-map',
        '0:a:0',
        '-c',
        'copy',
        '-f',
        'flv',
        '-flvflags',
        'no_duration_filesize',
        `${sink.url('live')}/${refKey}`,
      ]).start(),
    );

    // The peer stack: a listener like Fanout's, piped into one FFmpeg that publishes to nginx's application for N.
    const peerPort = await freeUdpPort();
    const srtUrl = (port: number): string => `srt://127.0.0.1:${port}?mode=listener&passphrase=${passphrase}&pbkeylen=16&latency=${SRT_LATENCY_MS}`;
    let peerPipe: Helper | null = null;
    let peerSender: Helper | null = null;
    const setPeer = async (n: number): Promise<void> => {
      await peerSender?.stop();
      await peerPipe?.stop();
      peerPipe = new Helper('peer pipeline', 'bash', [
        '-c',
        `srt-live-transmit -q "${srtUrl(peerPort)}" file://con | ffmpeg -hide_banner -nostdin -loglevel error -f mpegts -i pipe:0 -map 0:v:0 -map 0:a:0 -c copy -f flv -flvflags no_duration_filesize ${peer.url(`p${n}`)}/src`,
      ]).start();
      helpers.push(peerPipe);
      await sleep(300);
      peerSender = sender(peerPort, 'srt-sender peer');
    };
    const peerKeys = (n: number): string[] => Array.from({ length: n }, (_, i) => `peer-${tagId}-${i}`);
    const peerProcs = (): { pid: number; role: string; start: number }[] => [
      ...(peerPipe?.procs() ?? []).filter((p) => p.comm !== 'bash').map((p) => ({ pid: p.pid, role: p.comm === 'ffmpeg' ? 'ffmpeg' : p.comm, start: p.start })),
      ...(peer.pid ? [{ pid: peer.pid, role: 'nginx', start: 0 }] : []),
    ];

    // The one-FFmpeg-per-destination design.
    const pdPort = await freeUdpPort();
    let pdIngest: Helper | null = null;
    let pdSender: Helper | null = null;
    const pdEgress: Helper[] = [];
    const pdKeys = (n: number): string[] => Array.from({ length: n }, (_, i) => `perdest-${tagId}-${i}`);
    const setPerDest = async (n: number): Promise<void> => {
      if (n > 0 && !pdIngest) {
        pdIngest = new Helper('per-destination ingest', 'bash', [
          '-c',
          `srt-live-transmit -q "${srtUrl(pdPort)}" file://con | ffmpeg -hide_banner -nostdin -loglevel error -f mpegts -i pipe:0 -map 0:v:0 -map 0:a:0 -c copy -f hls -hls_time 2 -hls_list_size 6 -hls_flags delete_segments ${relayHls}/index.m3u8 -map 0:v:0 -map 0:a:0 -c copy -f flv -flvflags no_duration_filesize ${relay.url('relay')}/src`,
        ]).start();
        helpers.push(pdIngest);
        await sleep(300);
        pdSender = sender(pdPort, 'srt-sender per-destination');
        await sleep(3000);
      }
      while (pdEgress.length < n) {
        const h = new Helper(`egress ${pdEgress.length}`, 'ffmpeg', [
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'error',
          '-i',
          `${relay.url('relay')}/src`,
          '-c',
          'copy',
          '-f',
          'flv',
          '-flvflags',
          'no_duration_filesize',
          `${sink.url('live')}/perdest-${tagId}-${pdEgress.length}`,
        ]).start();
        helpers.push(h);
        pdEgress.push(h);
      }
      while (pdEgress.length > n) await pdEgress.pop()!.stop();
      if (n === 0) {
        await pdSender?.stop();
        await pdIngest?.stop();
        pdIngest = pdSender = null;
      }
    };
    const pdProcs = (): { pid: number; role: string; start: number }[] =>
      pdIngest
        ? [
            ...pdIngest
              .procs()
              .filter((p) => p.comm !== 'bash')
              .map((p) => ({ pid: p.pid, role: p.comm === 'ffmpeg' ? 'ingest ffmpeg' : p.comm, start: p.start })),
            ...(relay.pid ? [{ pid: relay.pid, role: 'nginx relay', start: 0 }] : []),
            ...pdEgress.flatMap((h) => (h.pid ? [{ pid: h.pid, role: 'ffmpeg per destination', start: 0 }] : [])),
          ]
        : [];

    await eventually(
      async () => {
        const h = (await api('GET', '/api/mediaconnect/inputs/health')).json as { connected?: boolean; bitrateInKbps?: number | null } | undefined;
        return h?.connected === true && (h.bitrateInKbps ?? 0) > 1000;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the SRT feed at Fanout' },
    );
    log(`job: Fanout at ${rt.url}, feed connected; load ${load()}`);

    // Fanout's destinations, created as needed.
    interface Dest {
      id: string;
      key: string;
    }
    const dests: Dest[] = [];
    let made = 0;
    const createDests = async (n: number): Promise<void> => {
      while (dests.length < n) {
        const batch = Array.from({ length: Math.min(10, n - dests.length) }, () => made++);
        const created = await Promise.all(
          batch.map(async (i) => {
            const key = `fanout-${tagId}-${i}`;
            const r = await api('POST', '/api/destinations', { name: `job ${i}`, platform: 'custom', rtmpUrl: sink.url('live'), streamKey: key, preset: 'passthrough' });
            if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${JSON.stringify(r.json)}`);
            return { id: (r.json as { destinationId: string }).destinationId, key };
          }),
        );
        dests.push(...created);
        // Each batch idle before the next: more at once left one `creating` for minutes on a loaded machine.
        await Promise.all(created.map((d) => waitStatus(d.id, 'idle')));
      }
      rt!.responses.length = 0;
    };
    const lastStatus = new Map<string, string>();
    const status = async (id: string): Promise<string | null> => {
      const r = await api('GET', `/api/destinations/${id}`);
      const st = r.status === 200 ? (r.json as { status: string }).status : null;
      lastStatus.set(id, `${st} ${r.status === 200 ? JSON.stringify((r.json as { lastError?: unknown }).lastError ?? null) : r.status}`);
      return st;
    };
    /** Waits for `want` (the control plane is slow on a loaded machine: a minute). */
    const waitStatus = (id: string, want: string): Promise<unknown> =>
      eventually(async () => (await status(id)) === want, { timeoutMs: 60_000, intervalMs: 200, what: `destination ${want}` }).catch((err: Error) => {
        throw new Error(`${err.message} (last: ${lastStatus.get(id)})`);
      });
    let running = 0;
    const setFanout = async (n: number): Promise<void> => {
      await createDests(n);
      // Ten at a time: one after the other, a loaded machine's control plane took ~7 s a start (a
      // hundred did not fit a lock hold of ten minutes).
      for (let i = running; i < n; i += 10) {
        await Promise.all(
          dests.slice(i, Math.min(n, i + 10)).map(async (d) => {
            await waitStatus(d.id, 'idle');
            const r = await api('POST', `/api/destinations/${d.id}/start`);
            if (r.status !== 202) throw new Error(`start: ${r.status} ${JSON.stringify(r.json)}`);
          }),
        );
      }
      for (let i = n; i < running; i++) await api('POST', `/api/destinations/${dests[i]!.id}/stop`);
      if (n < running) await Promise.all(dests.slice(n, running).map((d) => waitStatus(d.id, 'idle')));
      running = n;
      rt!.responses.length = 0;
    };
    const fanoutKeys = (n: number): string[] => dests.slice(0, n).map((d) => d.key);
    const metrics = async (ds: Dest[]): Promise<{ dropped: number; restarts: number }> => {
      let dropped = 0;
      let restarts = 0;
      for (const d of ds) {
        const m = (await api('GET', `/api/destinations/${d.id}/metrics`)).json?.metrics as { restarts?: number; droppedFrames?: number | null } | null;
        dropped += m?.droppedFrames ?? 0;
        restarts += m?.restarts ?? 0;
      }
      rt!.responses.length = 0;
      return { dropped, restarts };
    };

    /** One window of every stack at once; the sink read before and after it (outside it). */
    const windowAll = async (withPerDest: boolean): Promise<{ fanout: Window; peer: Window; perDest: Window | null; a: Snapshot; b: Snapshot }> => {
      const a = await snapshot(sink);
      const pp = startPids(peerProcs());
      const pd = withPerDest ? startPids(pdProcs()) : null;
      const f = await measureCpu(process.pid, notFanout, fanoutRole, SECONDS);
      const peerW = pp();
      const pdW = pd ? pd() : null;
      const b = await snapshot(sink);
      return { fanout: { seconds: f.seconds, cores: f.cores, byRole: Object.fromEntries(Object.entries(f.byRole).map(([k, v]) => [k, v / f.seconds])) }, peer: peerW, perDest: pdW, a, b };
    };
    const summarise = (ws: Window[], rate: { min: number; median: number }, processes: number): StackCpu => {
      const m = meanSe(ws.map((w) => w.cores * 100));
      const roles = [...new Set(ws.flatMap((w) => Object.keys(w.byRole)))];
      return {
        corePercent: r2(m.mean),
        corePercentSe: r2(m.se),
        byRoleCorePercent: Object.fromEntries(roles.map((k) => [k, r2((ws.reduce((s, w) => s + (w.byRole[k] ?? 0), 0) / ws.length) * 100)])),
        minRate: r3(rate.min),
        medianRate: r3(rate.median),
        processes,
      };
    };

    // ---- §1: the whole job at each N ---------------------------------------------------------
    for (const n of NS) {
      const withPd = n <= PER_DEST_MAX;
      log(`job N=${n}: setting up (Fanout ${n} destinations, peer stack push x${n}${withPd ? `, ${n} FFmpeg per destination` : ''})`);
      await setPeer(n);
      await setPerDest(withPd ? n : 0);
      await setFanout(n);
      await waitLive(sink, [...fanoutKeys(n), ...peerKeys(n), ...(withPd ? pdKeys(n) : []), refKey], 60_000);
      await sleep(SETTLE_MS);
      const ws: { fanout: Window; peer: Window; perDest: Window | null }[] = [];
      const rateF: number[] = [];
      const rateP: number[] = [];
      const rateD: number[] = [];
      const loads: string[] = [];
      const stopProfile = CPU_PROF_DIR ? await startCpuProfile() : null;
      for (let w = 0; w < WINDOWS; w++) {
        const x = await windowAll(withPd);
        ws.push(x);
        loads.push(load());
        const rf = rates(x.a, x.b, fanoutKeys(n), refKey);
        const rp = rates(x.a, x.b, peerKeys(n), refKey);
        rateF.push(...rf.ratios);
        rateP.push(...rp.ratios);
        if (withPd) rateD.push(...rates(x.a, x.b, pdKeys(n), refKey).ratios);
        log(
          `job N=${n} window ${w + 1}/${WINDOWS}: Fanout ${(x.fanout.cores * 100).toFixed(2)}% (${byRole(x.fanout)}), peer stack ${(x.peer.cores * 100).toFixed(2)}% (${byRole(x.peer)})${x.perDest ? `, per-destination FFmpegs ${(x.perDest.cores * 100).toFixed(2)}%` : ''} of a core; min rate Fanout ${r3(rf.min)}, peer ${r3(rp.min)} (ref ${rf.refMbps} Mbit/s); load ${loads.at(-1)}`,
        );
      }
      if (stopProfile) {
        await stopProfile(`job-N${n}.cpuprofile`);
        log(`job N=${n}: CPU profile in ${join(CPU_PROF_DIR, `job-N${n}.cpuprofile`)}`);
      }
      const mm = (v: number[]): { min: number; median: number } => ({ min: v.length ? Math.min(...v) : Number.NaN, median: median(v) });
      const point: JobPoint = {
        n,
        fanout: summarise(
          ws.map((w) => w.fanout),
          mm(rateF),
          fanoutProcs().length,
        ),
        peer: summarise(
          ws.map((w) => w.peer),
          mm(rateP),
          peerProcs().length,
        ),
        ...(withPd
          ? {
              perDestination: summarise(
                ws.map((w) => w.perDest!),
                mm(rateD),
                pdProcs().length,
              ),
            }
          : {}),
        loadAverage: loads.join(' / '),
        met: false,
      };
      point.met = point.fanout.corePercent <= point.peer.corePercent;
      figures.points.push(point);
    }
    await setPerDest(0);
    for (const p of figures.points) if (p.n >= 10 && !p.met) warnings.push(`whole job at N=${p.n}: Fanout ${p.fanout.corePercent}% of a core > the peer stack's ${p.peer.corePercent}% (target: at or below)`);

    if (process.env.BENCH_SCALE === '0') return figures;

    // ---- §2: scale ----------------------------------------------------------------------------
    // The peer stack's feed stays; its nginx gets the feed into an application for one push.
    await setPeer(1);
    const startStopOne = async (extra: Dest): Promise<{ startMs: number; stopMs: number }> => {
      await waitStatus(extra.id, 'idle');
      const t0 = now();
      const r = await api('POST', `/api/destinations/${extra.id}/start`);
      if (r.status !== 202) throw new Error(`start: ${r.status}`);
      let prev: number | null = null;
      const startMs = await eventually(
        async () => {
          const i = (await sinkStreams(sink)).get(extra.key);
          const grew = !!i?.publishing && prev !== null && i.bytesIn > prev;
          prev = i?.publishing ? i.bytesIn : null;
          return grew ? now() - t0 : false;
        },
        { timeoutMs: 30_000, intervalMs: 20, what: 'the extra destination live' },
      );
      await sleep(1000);
      const t1 = now();
      await api('POST', `/api/destinations/${extra.id}/stop`);
      const stopMs = await eventually(async () => (!(await sinkStreams(sink)).get(extra.key)?.publishing ? now() - t1 : false), { timeoutMs: 20_000, intervalMs: 20, what: 'the extra destination gone' });
      await waitStatus(extra.id, 'idle');
      return { startMs: Math.round(startMs), stopMs: Math.round(stopMs) };
    };
    const memOf = (): Memory => {
      rt!.responses.length = 0;
      gc();
      const procs = fanoutProcs();
      return {
        nodeRssMiB: mib(rssOf(process.pid) ?? 0),
        heapUsedMiB: mib(process.memoryUsage().heapUsed),
        totalRssMiB: mib(procs.reduce((s, p) => s + (rssOf(p.pid) ?? 0), 0)),
        totalPssMiB: mib(procs.reduce((s, p) => s + (pssOf(p.pid) ?? 0), 0)),
        processes: procs.length,
      };
    };
    await createDests(SCALE_N + 1);
    const extra = dests[SCALE_N]!;
    // The extra one must not be among the first SCALE_N: take it out of the running order.
    dests.splice(SCALE_N, 1);
    await setFanout(0);
    await eventually(() => fanoutProcs().every((p) => fanoutRole(p) !== 'mux'), { timeoutMs: 20_000, what: 'the mux gone' });
    await sleep(3000);
    const mem0 = memOf();
    await setFanout(1);
    await waitLive(sink, fanoutKeys(1), 30_000);
    await sleep(3000);
    const mem1 = memOf();
    const with1: { startMs: number[]; stopMs: number[] } = { startMs: [], stopMs: [] };
    for (let i = 0; i < STARTS; i++) {
      const s = await startStopOne(extra);
      with1.startMs.push(s.startMs);
      with1.stopMs.push(s.stopMs);
    }
    log(`scale: one more with 1 running: start ${with1.startMs.join(', ')} ms, stop ${with1.stopMs.join(', ')} ms`);
    log(`scale: starting ${SCALE_N} destinations; load ${load()}`);
    await setFanout(SCALE_N);
    await waitLive(sink, [...fanoutKeys(SCALE_N), refKey], 90_000);
    await sleep(SETTLE_MS);
    const m0 = await metrics(dests.slice(0, SCALE_N));
    const a = await snapshot(sink);
    const cpu = await measureCpu(process.pid, notFanout, fanoutRole, SCALE_SECONDS);
    const b = await snapshot(sink);
    const m1 = await metrics(dests.slice(0, SCALE_N));
    const rs = rates(a, b, fanoutKeys(SCALE_N), refKey);
    const mem100 = memOf();
    const scaleLoad = load();
    log(
      `scale: ${SCALE_N} for ${SCALE_SECONDS} s: min ${r3(rs.min)} median ${r3(rs.median)} of the reference (${rs.refMbps} Mbit/s), dropped ${m1.dropped - m0.dropped}, restarts ${m1.restarts - m0.restarts}, reconnects ${rs.reconnects}; CPU ${(cpu.cores * 100).toFixed(2)}%; RSS node ${mem100.nodeRssMiB} MiB; load ${scaleLoad}`,
    );
    // One more, started and stopped with 100 running; the others watched over it.
    const c = await snapshot(sink);
    const with100: { startMs: number[]; stopMs: number[] } = { startMs: [], stopMs: [] };
    for (let i = 0; i < STARTS; i++) {
      const s = await startStopOne(extra);
      with100.startMs.push(s.startMs);
      with100.stopMs.push(s.stopMs);
    }
    const d = await snapshot(sink);
    const m2 = await metrics(dests.slice(0, SCALE_N));
    const rd = rates(c, d, fanoutKeys(SCALE_N), refKey);
    log(`scale: one more with ${SCALE_N} running: start ${with100.startMs.join(', ')} ms, stop ${with100.stopMs.join(', ')} ms; the others over it: min rate ${r3(rd.min)}, reconnects ${rd.reconnects}, dropped ${m2.dropped - m1.dropped}`);

    // nginx push's memory per destination: its PSS with 1 and with 100 pushes.
    let nginxMem: ScaleFigures['memory']['nginxPush'];
    if (peer.pid) {
      const one = pssOf(peer.pid) ?? 0;
      await setPeer(SCALE_N);
      await waitLive(sink, peerKeys(SCALE_N), 60_000);
      await sleep(3000);
      const hundred = pssOf(peer.pid) ?? 0;
      nginxMem = { onePssMiB: mib(one), hundredPssMiB: mib(hundred), perDestinationPssKiB: Math.round((hundred - one) / (SCALE_N - 1) / 1024) };
      await setPeer(1);
    }

    // The knee: Fanout alone at the sink (the peer pushes once), then nginx push alone (Fanout at 0).
    const knee = async (side: 'fanout' | 'nginx'): Promise<KneeResult> => {
      const out: KneeResult = { knee: null, maxTried: 0, steps: [] };
      for (const n of KNEE_STEPS) {
        if (side === 'fanout') await setFanout(n);
        else await setPeer(n);
        const keys = side === 'fanout' ? fanoutKeys(n) : peerKeys(n);
        try {
          await waitLive(sink, [...keys, refKey], 120_000);
        } catch (err) {
          out.steps.push({ n, minRate: 0, medianRate: 0, loadAverage: load(), corePercent: Number.NaN });
          out.knee = n;
          out.maxTried = n;
          log(`knee ${side} N=${n}: not all live: ${(err as Error).message}`);
          break;
        }
        await sleep(SETTLE_MS / 2);
        const ma = side === 'fanout' ? await metrics(dests.slice(0, n)) : null;
        const x = await snapshot(sink);
        const pp = side === 'nginx' ? startPids(peerProcs()) : null;
        const fc = side === 'fanout' ? await measureCpu(process.pid, notFanout, fanoutRole, KNEE_SECONDS) : null;
        if (pp) await sleep(KNEE_SECONDS * 1000);
        const y = await snapshot(sink);
        const mb = side === 'fanout' ? await metrics(dests.slice(0, n)) : null;
        const r = rates(x, y, keys, refKey);
        const dropped = ma && mb ? mb.dropped - ma.dropped : undefined;
        const corePercent = r2((fc?.cores ?? pp?.().cores ?? Number.NaN) * 100);
        out.steps.push({ n, minRate: r3(r.min), medianRate: r3(r.median), ...(dropped !== undefined ? { droppedFrames: dropped } : {}), loadAverage: load(), corePercent });
        out.maxTried = n;
        log(`knee ${side} N=${n}: min ${r3(r.min)} median ${r3(r.median)} of the reference, ${corePercent}% of a core${dropped !== undefined ? `, dropped ${dropped}` : ''}; load ${load()}`);
        if (r.min < RATE_FLOOR || (dropped ?? 0) > 0) {
          out.knee = n;
          break;
        }
      }
      return out;
    };
    const kneeFanout = await knee('fanout');
    await setFanout(0);
    const kneeNginx = await knee('nginx');
    await setPeer(1);

    /** Per destination from 1 running to SCALE_N (the mux, started by the first, is not a destination's). */
    const per = (x: number, y: number): number => Math.round(((y - x) / (SCALE_N - 1)) * 1000) / 1000;
    const scale: ScaleFigures = {
      n: SCALE_N,
      seconds: SCALE_SECONDS,
      refMbps: rs.refMbps,
      minRate: r3(rs.min),
      medianRate: r3(rs.median),
      below99: rs.ratios.filter((x) => x < RATE_FLOOR).length,
      droppedFrames: m1.dropped - m0.dropped,
      restarts: m1.restarts - m0.restarts,
      reconnects: rs.reconnects,
      missing: rs.missing,
      cpuCorePercent: r2(cpu.cores * 100),
      byRoleCorePercent: Object.fromEntries(Object.entries(cpu.byRole).map(([k, v]) => [k, r2((v / cpu.seconds) * 100)])),
      memory: {
        zero: mem0,
        one: mem1,
        hundred: mem100,
        perDestination: { nodeRssMiB: per(mem1.nodeRssMiB, mem100.nodeRssMiB), totalRssMiB: per(mem1.totalRssMiB, mem100.totalRssMiB), totalPssMiB: per(mem1.totalPssMiB, mem100.totalPssMiB) },
        ...(nginxMem ? { nginxPush: nginxMem } : {}),
      },
      startStop: { with1, with100, othersDisturbed: { reconnects: rd.reconnects, droppedFrames: m2.dropped - m1.dropped, minRate: r3(rd.min) } },
      knee: { fanout: kneeFanout, nginxPush: kneeNginx },
      loadAverage: scaleLoad,
      met: false,
    };
    const startDelta = median(with100.startMs) - median(with1.startMs);
    scale.met = scale.below99 === 0 && scale.droppedFrames === 0 && scale.restarts === 0 && scale.reconnects === 0 && scale.missing === 0 && rd.reconnects === 0 && m2.dropped === m1.dropped && rd.min >= RATE_FLOOR;
    if (!scale.met)
      warnings.push(
        `scale: ${SCALE_N} destinations not all whole (below 99 %: ${scale.below99}, min ${scale.minRate}, dropped ${scale.droppedFrames}, restarts ${scale.restarts}, reconnects ${scale.reconnects}; over one more start/stop: min ${r3(rd.min)}, reconnects ${rd.reconnects}, dropped ${m2.dropped - m1.dropped})`,
      );
    if (startDelta > Math.max(200, median(with1.startMs))) warnings.push(`scale: starting one more with ${SCALE_N} running takes ${median(with100.startMs)} ms (p50) against ${median(with1.startMs)} ms with 1 running`);
    figures.scale = scale;
    return figures;
  } finally {
    await rt?.close().catch(() => undefined);
    for (const h of helpers) await h.stop();
    for (const n of nginxes) await n.close();
    for (const c of children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Report

const pad = (s: string, n: number): string => s.padEnd(n);

function roles(r: Record<string, number>): string {
  return Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export function jobReport(f: JobFigures): string[] {
  const out: string[] = [];
  out.push(
    `\nThe whole job: one AES-128 SRT feed (${FEED.width}x${FEED.height}p${FEED.fps}, ${FEED.videoBitrate / 1e6} Mbit/s) in, the primary HLS out, N passthrough RTMP destinations out; all stacks at once, ${f.windows} window(s) of ${f.seconds} s per N; % of one core, all-in (mean ± SE), by process`,
  );
  out.push(`| ${pad('N', 4)} | ${pad('Fanout', 16)} | ${pad('peer stack (srt-live-transmit | ffmpeg | nginx push+hls)', 56)} | ${pad('one FFmpeg per destination', 28)} | target (Fanout <= peer) | load average |`);
  out.push(`|------|------------------|${'-'.repeat(58)}|${'-'.repeat(30)}|-------------------------|--------------|`);
  for (const p of f.points) {
    const cell = (s: StackCpu): string => `${s.corePercent}% ± ${s.corePercentSe}`;
    out.push(
      `| ${pad(String(p.n), 4)} | ${pad(cell(p.fanout), 16)} | ${pad(cell(p.peer), 56)} | ${pad(p.perDestination ? cell(p.perDestination) : '-', 28)} | ${pad(p.n >= 10 ? (p.met ? 'met' : 'MISSED') : '(not a target)', 23)} | ${p.loadAverage.split(' / ')[0]} |`,
    );
  }
  for (const p of f.points) {
    out.push(
      `  N=${p.n} by process (% of a core): Fanout ${roles(p.fanout.byRoleCorePercent)}; peer ${roles(p.peer.byRoleCorePercent)}${p.perDestination ? `; per-destination ${roles(p.perDestination.byRoleCorePercent)}` : ''}. Lowest rate at the sink / the reference: Fanout ${p.fanout.minRate}, peer ${p.peer.minRate}${p.perDestination ? `, per-destination ${p.perDestination.minRate}` : ''}`,
    );
  }
  const s = f.scale;
  if (s) {
    out.push(`\nScale: ${s.n} passthrough destinations for ${s.seconds} s (reference ${s.refMbps} Mbit/s at the sink; load ${s.loadAverage})`);
    out.push(
      `  each destination / the reference: min ${s.minRate}, median ${s.medianRate}, below 99 %: ${s.below99}; dropped frames ${s.droppedFrames}; restarts ${s.restarts}; reconnects ${s.reconnects}; Fanout CPU ${s.cpuCorePercent}% of a core (${roles(s.byRoleCorePercent)}): ${s.met ? 'met' : 'MISSED'}`,
    );
    const m = s.memory;
    out.push(
      `  memory (node RSS / total RSS / total PSS): 0 running ${m.zero.nodeRssMiB} / ${m.zero.totalRssMiB} / ${m.zero.totalPssMiB} MiB; 1 running ${m.one.nodeRssMiB} / ${m.one.totalRssMiB} / ${m.one.totalPssMiB} MiB; ${s.n} running ${m.hundred.nodeRssMiB} / ${m.hundred.totalRssMiB} / ${m.hundred.totalPssMiB} MiB; per destination (1 to ${s.n}): node RSS ${m.perDestination.nodeRssMiB} MiB, total RSS ${m.perDestination.totalRssMiB} MiB, PSS ${m.perDestination.totalPssMiB} MiB${m.nginxPush ? `; nginx push: PSS ${m.nginxPush.onePssMiB} MiB with 1, ${m.nginxPush.hundredPssMiB} MiB with ${s.n}: ${m.nginxPush.perDestinationPssKiB} KiB per destination` : ''}`,
    );
    const ss = s.startStop;
    out.push(
      `  one more destination: with 1 running start-to-live ${ss.with1.startMs.join(', ')} ms, stop ${ss.with1.stopMs.join(', ')} ms; with ${s.n} running ${ss.with100.startMs.join(', ')} ms, stop ${ss.with100.stopMs.join(', ')} ms; the ${s.n} others over it: min rate ${ss.othersDisturbed.minRate}, reconnects ${ss.othersDisturbed.reconnects}, dropped ${ss.othersDisturbed.droppedFrames}`,
    );
    const kn = (k: KneeResult): string =>
      `${k.knee === null ? `none up to ${k.maxTried}` : `N=${k.knee}`} (${k.steps.map((x) => `${x.n}: min ${x.minRate}${x.droppedFrames !== undefined ? ` dropped ${x.droppedFrames}` : ''}, ${x.corePercent}% cpu, load ${x.loadAverage.split(' ')[0]}`).join('; ')})`;
    out.push(`  knee (first N with a destination under 99 % of the reference, one stack at a time at the sink): Fanout ${kn(s.knee.fanout)}; nginx push ${kn(s.knee.nginxPush)}`);
  }
  return out;
}

if (process.argv[1]?.endsWith('test/bench/job.ts') || process.argv[1]?.endsWith('bench/job.mjs')) {
  const t0 = now();
  const f = await benchJob((m) => console.log(`[job ${((now() - t0) / 1000).toFixed(1).padStart(5)}s] ${m}`));
  console.log(jobReport(f).join('\n'));
  for (const w of f.warnings) console.log(`WARNING: ${w}`);
  console.log(`BENCH_JSON ${JSON.stringify({ job: f })}`);
  process.exit(0);
}
