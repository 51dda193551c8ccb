/**
 * `npm run bench -- --soak [seconds]` (default 3600): the primary output runs 24/7, so Fanout must
 * not grow. 20 passthrough destinations and one transcoded one on a looped 6 Mbit/s 1080p30 feed,
 * for `seconds`; every `BENCH_SOAK_INTERVAL_SECONDS` (default 30) it samples the Fanout process's
 * RSS and V8 heap, its open file descriptors, its child processes and every destination's RTMP
 * session at the sink (nginx-rtmp's client id: a new id is a reconnect).
 *
 * Figures: the RSS slope in MiB per hour (least squares over the samples after the warm-up, the
 * first quarter of the run up to 5 minutes), the heap slope, the spread of file descriptors and of
 * processes after the warm-up (how far their floor rose: a leak raises it, periodic work only
 * spikes), reconnects and engine restarts. Targets (issue 16, §6): RSS slope
 * under 10 MiB/h, descriptors and processes flat, no reconnect. Like the rest of the bench it
 * asserts nothing: it prints, warns for each target missed, and ends with one `BENCH_JSON {...}` line.
 *
 * Fanout runs in this process (as in run.ts), so its memory is this process's; the bench's own
 * sender and the sink nginx are left out of the process count.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ingestBinary } from '../../shared/engines/local/engine/index.ts';
import { countLevelResources, unpatchDynaliteIterators } from '../support/level-resources.ts';
import { eventually, startTestRuntime, type TestRuntime } from '../support/local.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';
import { FEED, feedFile, loopedFeedCallerArgs } from './feed.ts';
import { descendants, rssOf } from './proc.ts';

const PASSTHROUGH = 20;
const TRANSCODE_PRESET = 'generic-720p30';
const INTERVAL_MS = Number(process.env.BENCH_SOAK_INTERVAL_SECONDS ?? 30) * 1000;
/** Diagnostics (BENCH_SOAK_DETAIL=1): every sample also logs each table's item count and size, the bus's queues and the runtime's kept events. */
const DETAIL = process.env.BENCH_SOAK_DETAIL === '1';
/** Where the database lives: `disk` (LevelDB in the data dir, as `npm start` runs it; the default) or `memory` (the tests' in-memory store). */
const DB = process.env.BENCH_SOAK_DB === 'memory' ? 'memory' : 'disk';
/** Diagnostics: a directory to write V8 heap snapshots to (after the warm-up, half-way, at the end). */
const SNAPSHOTS = process.env.BENCH_SOAK_HEAPSNAPSHOTS || null;
/** Diagnostics (BENCH_SOAK_UNPATCHED=1): dynalite's iterators as it ships them, never closed (the "before" of ADR 0029). */
const UNPATCHED = process.env.BENCH_SOAK_UNPATCHED === '1';
const TARGETS = { rssSlopeMiBPerHour: 10, fdFloorRise: 0, processFloorRise: 0, reconnects: 0 };

export interface SoakSample {
  /** Seconds since the destinations went live. */
  t: number;
  rssMiB: number;
  heapMiB: number;
  /** V8's external memory (Buffers and the like: dynalite's in-memory store lives there). */
  externalMiB: number;
  /** The part of external memory that is ArrayBuffers (Buffers). */
  arrayBuffersMiB: number;
  fds: number;
  processes: number;
  /** Destinations publishing at the sink with bytes growing since the last sample. */
  live: number;
  /** LevelDB iterators and snapshots the database holds open (ADR 0029: each Query or Scan left one open). */
  levelOpen: number;
}

export interface SoakFigures {
  seconds: number;
  destinations: { passthrough: number; transcode: number };
  warmupSeconds: number;
  /** BENCH_SOAK_UNPATCHED: dynalite's iterators left open, as before ADR 0029. */
  unpatched: boolean;
  samples: SoakSample[];
  rssSlopeMiBPerHour: number | null;
  heapSlopeMiBPerHour: number | null;
  externalSlopeMiBPerHour: number | null;
  /** Open descriptors after the warm-up: lowest, highest, and how far the floor rose (last quarter's lowest minus the first quarter's). */
  fds: { min: number; max: number; floorRise: number };
  processes: { min: number; max: number; floorRise: number };
  reconnects: number;
  engineRestarts: number;
  /** Samples in which a destination was not live. */
  stalls: number;
  targets: typeof TARGETS;
  warnings: string[];
}

/** What the runtime keeps that could grow: per table, items and bytes (a full Scan: diagnostics only). */
async function detail(rt: TestRuntime): Promise<Record<string, unknown>> {
  const dynamo = new DynamoDBClient({ region: rt.config.awsRegion, endpoint: rt.config.dynamoEndpoint, credentials: { accessKeyId: 'soak', secretAccessKey: 'soak' } });
  const tables: Record<string, string> = {};
  try {
    for (const name of (await dynamo.send(new ListTablesCommand({}))).TableNames ?? []) {
      let items = 0;
      let bytes = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await dynamo.send(new ScanCommand({ TableName: name, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
        items += page.Count ?? 0;
        bytes += JSON.stringify(page.Items ?? []).length;
        start = page.LastEvaluatedKey;
      } while (start);
      tables[name.replace(/^fanout-local-/, '')] = `${items}/${Math.round(bytes / 1024)}K`;
    }
  } finally {
    dynamo.destroy();
  }
  const queues = Object.fromEntries(Object.entries(rt.bus.queueStats()).filter(([, q]) => Object.values(q).some((v) => typeof v === 'number' && v > 0)));
  return { tables, dbDiskKiB: duKiB(join(rt.dataDir, 'db')), queues, published: rt.published.length, history: rt.bus.publishedEvents().length };
}

function duKiB(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else total += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  if (existsSync(dir)) walk(dir);
  return Math.round(total / 1024);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
const r1 = (n: number): number => Math.round(n * 10) / 10;

/** Least-squares slope of y over x; null with fewer than three points. */
export function slope(points: readonly { x: number; y: number }[]): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

/**
 * A leak raises the floor; periodic work (a reconcile, an HTTP poll) makes short spikes that are not
 * leaks. So: the lowest value of the last quarter of the samples against the lowest of the first.
 */
export function floor(v: readonly number[]): { min: number; max: number; floorRise: number } {
  if (v.length === 0) return { min: 0, max: 0, floorRise: 0 };
  const q = Math.max(1, Math.floor(v.length / 4));
  return { min: Math.min(...v), max: Math.max(...v), floorRise: Math.min(...v.slice(-q)) - Math.min(...v.slice(0, q)) };
}

export async function runSoak(seconds: number, log: (msg: string) => void): Promise<SoakFigures> {
  const helperPids = new Set<number>();
  const feed = await feedFile((pid) => helperPids.add(pid));
  const sink = await NginxRtmp.start();
  const srtPort = await freeUdpPort();
  const passphrase = `soak-${randomBytes(12).toString('hex')}`;
  let rt: TestRuntime | null = null;
  let sender: ChildProcess | null = null;
  const level = countLevelResources();
  try {
    rt = await startTestRuntime(
      {
        FANOUT_SRT_HOST: '127.0.0.1',
        FANOUT_SRT_PORT: String(srtPort),
        FANOUT_SRT_PASSPHRASE: passphrase,
        FANOUT_LOG_LEVEL: 'WARN',
        FANOUT_RATE_LIMIT_PER_MINUTE: '1000000',
        FANOUT_X264_PRESET: process.env.FANOUT_X264_PRESET ?? 'ultrafast',
      },
      { engine: 'local', inMemory: DB === 'memory' },
    );
    const runtime = rt;
    if (UNPATCHED) unpatchDynaliteIterators();
    const caller = ingestBinary();
    if (caller.problem) throw new Error(caller.problem);
    sender = spawn(caller.path, loopedFeedCallerArgs(srtPort, feed.path), { stdio: ['pipe', 'ignore', 'ignore'] });
    sender.stdin?.on('error', () => undefined);
    sender.stdin?.end(`${passphrase}\n`);
    if (sender.pid) helperPids.add(sender.pid);
    const senderExit = new Promise<never>((_, reject) => sender?.once('exit', (code) => reject(new Error(`the SRT sender exited (${code})`))));
    senderExit.catch(() => undefined);
    await eventually(async () => ((await runtime.api('GET', '/api/mediaconnect/inputs/health')).json as { connected?: boolean })?.connected === true, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'the SRT feed at Fanout',
    });
    log(`soak: feed ${FEED.width}x${FEED.height}@${FEED.fps} ${FEED.videoBitrate / 1e6} Mbit/s connected; starting ${PASSTHROUGH} passthrough + 1 ${TRANSCODE_PRESET} (database ${DB}${UNPATCHED ? ', dynalite iterators unpatched' : ''})`);

    const dests: { id: string; key: string }[] = [];
    for (let i = 0; i < PASSTHROUGH + 1; i++) {
      const key = `soak-${i}-${randomBytes(4).toString('hex')}`;
      const preset = i < PASSTHROUGH ? 'passthrough' : TRANSCODE_PRESET;
      const r = await runtime.api('POST', '/api/destinations', { body: { name: `soak ${i}`, platform: 'custom', rtmpUrl: sink.url('live'), streamKey: key, preset } });
      if (r.status !== 201) throw new Error(`create soak ${i}: ${r.status} ${r.text}`);
      dests.push({ id: (r.json as { destinationId: string }).destinationId, key });
    }
    for (const d of dests) await eventually(async () => (await runtime.api('GET', `/api/destinations/${d.id}`)).json?.status === 'idle', { timeoutMs: 20_000, what: `${d.id} idle` });
    for (const d of dests) await runtime.api('POST', `/api/destinations/${d.id}/start`);
    await eventually(async () => (await Promise.all(dests.map(async (d) => (await sink.hasPublisher(d.key))?.publishing))).every(Boolean), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'every soak destination publishing at the sink',
    });

    const clientIds = new Map<string, number>();
    const bytes = new Map<string, number>();
    let reconnects = 0;
    let stalls = 0;
    const notFanout = (comm: string, pid: number): boolean => comm === 'nginx' || helperPids.has(pid);
    const samples: SoakSample[] = [];
    const t0 = performance.now();
    const take = async (): Promise<SoakSample> => {
      // Memory, descriptors and processes first: the probes below open sockets of their own.
      const rssMiB = mib(rssOf(process.pid) ?? 0);
      const mem = process.memoryUsage();
      const heapMiB = mib(mem.heapUsed);
      const externalMiB = mib(mem.external);
      const arrayBuffersMiB = mib(mem.arrayBuffers);
      const fds = readdirSync('/proc/self/fd').length;
      const processes = descendants(process.pid).filter((p) => p.state !== 'Z' && !notFanout(p.comm, p.pid)).length;
      const levelOpen = level.open();
      let live = 0;
      for (const d of dests) {
        const p = await sink.hasPublisher(d.key);
        const prevId = clientIds.get(d.key);
        if (p?.clientId && prevId && p.clientId !== prevId) reconnects++;
        if (p?.clientId) clientIds.set(d.key, p.clientId);
        if (p?.publishing && p.bytesIn > (bytes.get(d.key) ?? -1)) live++;
        bytes.set(d.key, p?.bytesIn ?? 0);
      }
      const s: SoakSample = {
        t: Math.round((performance.now() - t0) / 1000),
        rssMiB,
        heapMiB,
        externalMiB,
        arrayBuffersMiB,
        fds,
        processes,
        live,
        levelOpen,
      };
      if (samples.length > 0 && live < dests.length) stalls++;
      samples.push(s);
      if (DETAIL) log(`soak t=${String(s.t).padStart(5)} s  detail ${JSON.stringify(await detail(runtime))}`);
      log(
        `soak t=${String(s.t).padStart(5)} s  RSS ${s.rssMiB} MiB  heap ${s.heapMiB} MiB  external ${s.externalMiB} MiB (arrayBuffers ${s.arrayBuffersMiB})  fds ${s.fds}  processes ${s.processes}  LevelDB open ${s.levelOpen}  live ${live}/${dests.length}  reconnects ${reconnects}`,
      );
      return s;
    };
    await take();
    const end = t0 + seconds * 1000;
    const snapshotAt = SNAPSHOTS ? [Math.min(300, seconds / 4), seconds / 2, seconds - INTERVAL_MS / 1000] : [];
    while (performance.now() < end) {
      await Promise.race([sleep(Math.min(INTERVAL_MS, Math.max(0, end - performance.now()))), senderExit]);
      const s = await take();
      if (snapshotAt.length > 0 && s.t >= snapshotAt[0]!) {
        snapshotAt.shift();
        log(`soak t=${String(s.t).padStart(5)} s  heap snapshot ${writeHeapSnapshot(join(SNAPSHOTS!, `soak-${s.t}.heapsnapshot`))}`);
      }
    }

    let engineRestarts = 0;
    for (const d of dests) engineRestarts += ((await runtime.api('GET', `/api/destinations/${d.id}/metrics`)).json?.metrics as { restarts?: number } | null)?.restarts ?? 0;
    const warmupSeconds = Math.min(300, Math.round(seconds / 4));
    const steady = samples.filter((s) => s.t >= warmupSeconds);
    const perHour = (y: (s: SoakSample) => number): number | null => {
      const m = slope(steady.map((s) => ({ x: s.t / 3600, y: y(s) })));
      return m === null ? null : r1(m);
    };
    const figures: SoakFigures = {
      seconds,
      destinations: { passthrough: PASSTHROUGH, transcode: 1 },
      warmupSeconds,
      unpatched: UNPATCHED,
      samples,
      rssSlopeMiBPerHour: perHour((s) => s.rssMiB),
      heapSlopeMiBPerHour: perHour((s) => s.heapMiB),
      externalSlopeMiBPerHour: perHour((s) => s.externalMiB),
      fds: floor(steady.map((s) => s.fds)),
      processes: floor(steady.map((s) => s.processes)),
      reconnects,
      engineRestarts,
      stalls,
      targets: TARGETS,
      warnings: [],
    };
    const w = figures.warnings;
    if (figures.rssSlopeMiBPerHour === null) w.push(`soak too short for an RSS slope (${steady.length} samples after a ${warmupSeconds} s warm-up)`);
    else if (figures.rssSlopeMiBPerHour >= TARGETS.rssSlopeMiBPerHour) w.push(`RSS grows ${figures.rssSlopeMiBPerHour} MiB/h (target < ${TARGETS.rssSlopeMiBPerHour})`);
    if (figures.fds.floorRise > TARGETS.fdFloorRise) w.push(`open file descriptors: the floor rose by ${figures.fds.floorRise} after the warm-up (target: flat)`);
    if (figures.processes.floorRise > TARGETS.processFloorRise) w.push(`child processes: the floor rose by ${figures.processes.floorRise} after the warm-up (target: flat)`);
    if (reconnects > TARGETS.reconnects) w.push(`${reconnects} RTMP reconnect(s) at the sink (target 0)`);
    if (engineRestarts > 0) w.push(`${engineRestarts} engine restart(s) of a destination's process`);
    if (stalls > 0) w.push(`${stalls} sample(s) with a destination not live`);
    if (seconds < 3600) w.push(`a ${seconds} s soak; the target is for an hour (npm run bench -- --soak 3600)`);
    return figures;
  } finally {
    sender?.kill('SIGKILL');
    await rt?.close();
    await sink.close();
    level.restore();
  }
}

/** The summary lines `npm run bench -- --soak` prints. */
export function soakReport(f: SoakFigures): string[] {
  return [
    `Soak: ${f.destinations.passthrough} passthrough + ${f.destinations.transcode} transcoded for ${f.seconds} s (warm-up ${f.warmupSeconds} s, ${f.samples.length} samples)`,
    `  RSS    ${f.samples[0]?.rssMiB ?? '?'} → ${f.samples.at(-1)?.rssMiB ?? '?'} MiB, slope ${f.rssSlopeMiBPerHour ?? 'n/a'} MiB/h (target < ${f.targets.rssSlopeMiBPerHour})`,
    `  heap   ${f.samples[0]?.heapMiB ?? '?'} → ${f.samples.at(-1)?.heapMiB ?? '?'} MiB, slope ${f.heapSlopeMiBPerHour ?? 'n/a'} MiB/h; external ${f.samples[0]?.externalMiB ?? '?'} → ${f.samples.at(-1)?.externalMiB ?? '?'} MiB, slope ${f.externalSlopeMiBPerHour ?? 'n/a'} MiB/h`,
    `  fds    ${f.fds.min}–${f.fds.max} after the warm-up, floor rose ${f.fds.floorRise}; processes ${f.processes.min}–${f.processes.max}, floor rose ${f.processes.floorRise} (target: flat)`,
    `  RTMP   ${f.reconnects} reconnects, ${f.engineRestarts} engine restarts, ${f.stalls} samples with a destination not live (target 0)`,
  ];
}
