/**
 * Micro-benchmark of the RTMP fan-out: CPU per passthrough destination, 10 destinations of a
 * 6 Mbps 1080p30 H.264/AAC feed on one nginx-rtmp sink (loopback), three ways:
 *
 *   node     ONE ffmpeg `-re -stream_loop -1 -i feed.ts -c copy -f flv pipe:1` → RtmpFanout (this
 *            process) → 10 RtmpPublisher; measured: this Node process + the muxing ffmpeg
 *   ffmpeg   10 × ffmpeg `-re -stream_loop -1 -i feed.ts -c copy -f flv rtmp://…` (today's pushers,
 *            without the flow hub that feeds them); measured: the 10 ffmpeg
 *   nginx    nginx-rtmp `push` ×10 of one stream published by an ffmpeg (test/bench/nginx-push.ts);
 *            measured: the nginx process, and its source ffmpeg separately
 *
 * CPU is utime + stime from /proc (test/bench/proc.ts) over a window (BENCH_CPU_SECONDS, default
 * 20), after the sink shows every stream live. The sink nginx, the machine and the bitrate each
 * stream reaches at the sink are printed alongside (a path that cannot keep up would look cheap).
 *
 * Run: `npx tsx shared/media-engine/local/rtmp/bench.ts` (prints a table and one `BENCH_JSON` line).
 * Env: BENCH_CPU_SECONDS, BENCH_FANOUT (default 10), BENCH_SKIP (comma list of node,ffmpeg,nginx).
 * (No RTMPS figure: the sink's TLS terminator runs in this process and would be counted as ours.)
 */
import { FEED, feedFile } from '../../../../test/bench/feed.ts';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { NginxPush } from '../../../../test/bench/nginx-push.ts';
import { CLK_TCK, machineTicks, readStat } from '../../../../test/bench/proc.ts';
import { NginxRtmp } from '../../../../test/support/nginx-rtmp.ts';
import { RtmpFanout } from './rtmp-fanout.ts';

const CPU_SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 20);
const BASE_SECONDS = Math.max(5, Math.round(CPU_SECONDS / 2));
const FANOUT = Number(process.env.BENCH_FANOUT ?? 10);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
const WARMUP_MS = 5000;
const HARD_LIMIT_MS = 10 * 60_000;

const T0 = Date.now();
const log = (m: string): void => console.log(`[rtmp-bench ${((Date.now() - T0) / 1000).toFixed(1).padStart(5)}s] ${m}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number): number => Math.round(x * 100) / 100;
const pct = (cores: number): string => `${(cores * 100).toFixed(2)} %`;

// ------------------------------------------------------------------------------------------------


/** A helper ffmpeg; killed at the end. */
class Ff {
  readonly child: ChildProcess;
  #stderr = '';
  readonly exited: Promise<void>;
  constructor(args: string[], stdout: 'pipe' | 'ignore' = 'ignore') {
    this.child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], { stdio: ['ignore', stdout, 'pipe'] });
    this.child.stderr?.on('data', (c: Buffer) => (this.#stderr = (this.#stderr + c.toString()).slice(-2000)));
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    running.add(this);
  }
  get pid(): number {
    return this.child.pid ?? -1;
  }
  get stderr(): string {
    return this.#stderr.trim();
  }
  async stop(): Promise<void> {
    running.delete(this);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
const running = new Set<Ff>();

/** The source side of every scenario: loop the file in real time, stream copy. */
const loopArgs = (file: string): string[] => ['-re', '-stream_loop', '-1', '-i', file, '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy', '-f', 'flv', '-flvflags', 'no_duration_filesize'];

// ------------------------------------------------------------------------------------------------
// Measuring

interface Window {
  seconds: number;
  /** Cores used by each labelled pid set. */
  cores: Record<string, number>;
  machineCores: number;
  machineIrqCores: number;
}

/** CPU (utime+stime, /proc) of each labelled set of pids over `seconds`; the bench does nothing meanwhile. */
async function measure(seconds: number, pids: Record<string, number[]>): Promise<Window> {
  const snap = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const [label, list] of Object.entries(pids)) for (const pid of list) {
      const st = readStat(pid);
      if (st) m.set(`${label}/${pid}/${st.start}`, st.ticks);
    }
    return m;
  };
  const a = snap();
  const m0 = machineTicks();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const b = snap();
  const m1 = machineTicks();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cores: Record<string, number> = {};
  for (const label of Object.keys(pids)) cores[label] = 0;
  for (const [k, after] of b) {
    const before = a.get(k);
    if (before === undefined) continue; // a process that restarted: not counted
    const label = k.split('/')[0] as string;
    cores[label] = (cores[label] ?? 0) + (after - before) / CLK_TCK / secs;
  }
  const mc = (k: 'user' | 'system' | 'irq'): number => (m1[k] - m0[k]) / CLK_TCK / secs;
  return { seconds: secs, cores, machineCores: mc('user') + mc('system') + mc('irq'), machineIrqCores: mc('irq') };
}

/** Sum of bytes_in at the sink for keys, and when. */
async function sinkBytes(sink: NginxRtmp, keys: string[]): Promise<{ bytes: number; at: number }> {
  const infos = await Promise.all(keys.map((k) => sink.hasPublisher(k)));
  return { bytes: infos.reduce((s, i) => s + (i?.bytesIn ?? 0), 0), at: Date.now() };
}

const mbpsEach = (a: { bytes: number; at: number }, b: { bytes: number; at: number }, n: number): number => r2(((b.bytes - a.bytes) * 8) / ((b.at - a.at) / 1000) / n / 1e6);

/** Waits until every key publishes at the sink with bytes_in growing. */
async function waitLive(sink: NginxRtmp, keys: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, number>();
  const live = new Set<string>();
  while (live.size < keys.length) {
    if (Date.now() > deadline) throw new Error(`only ${live.size}/${keys.length} streams live at the sink`);
    for (const k of keys) {
      const i = await sink.hasPublisher(k);
      if (!i?.publishing) continue;
      const prev = last.get(k);
      if (prev !== undefined && i.bytesIn > prev) live.add(k);
      last.set(k, i.bytesIn);
    }
    await sleep(200);
  }
}

function nginxPidOf(dir: string): number {
  // The sink nginx is our child; find it by its prefix dir in its argv.
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (argv.startsWith('nginx') && argv.includes(dir)) return Number(e);
    } catch {
      /* gone */
    }
  }
  return -1;
}

// ------------------------------------------------------------------------------------------------

interface Result {
  scenario: string;
  destinations: number;
  cores: Record<string, number>;
  measuredCores: number;
  perDestinationCores: number;
  sinkMbpsEach: number;
  sinkCores: number;
  machineCores: number;
  notes: string[];
}

/** A scenario's result from its window; `destinations` and `sinkMbpsEach` default to 0 (a base). */
function result(scenario: string, w: Window, measuredCores: number, o: { destinations?: number; sinkMbpsEach?: number; notes?: string[] } = {}): Result {
  const destinations = o.destinations ?? 0;
  return {
    scenario,
    destinations,
    cores: w.cores,
    measuredCores,
    perDestinationCores: destinations > 0 ? measuredCores / destinations : 0,
    sinkMbpsEach: o.sinkMbpsEach ?? 0,
    sinkCores: w.cores['sink'] ?? 0,
    machineCores: w.machineCores,
    notes: o.notes ?? [],
  };
}

async function nodePath(file: string, sink: NginxRtmp, sinkPid: number): Promise<{ idle: Result; base: Result; full: Result }> {
  const label = 'node';
  // This process alone, before it does anything (its floor: timers, GC, the bench itself), once
  // the start-up (module compilation, JIT) has settled.
  await sleep(10_000);
  const wi = await measure(BASE_SECONDS, { node: [process.pid] });
  const idle = result('node: this process idle (floor)', wi, wi.cores['node'] ?? 0);
  const mux = new Ff([...loopArgs(file), 'pipe:1'], 'pipe');
  const fan = new RtmpFanout();
  const closed: string[] = [];
  fan.attach(mux.child.stdout!);
  // Base: the mux and the parse, no destination.
  await sleep(WARMUP_MS);
  const w0 = await measure(BASE_SECONDS, { node: [process.pid], mux: [mux.pid], sink: [sinkPid] });
  const base = result(`${label}: mux + parse, 0 destinations`, w0, (w0.cores['node'] ?? 0) + (w0.cores['mux'] ?? 0), {
    notes: [`node ${pct(w0.cores['node'] ?? 0)}, mux ffmpeg ${pct(w0.cores['mux'] ?? 0)}`],
  });
  const keys = Array.from({ length: FANOUT }, (_, i) => `${label}-${i}`);
  for (const k of keys) {
    const p = fan.add(k, { url: sink.url('live'), streamKey: k });
    void p.closed.then((e) => e && closed.push(`${k}: ${e.code} ${e.message}`));
  }
  await waitLive(sink, keys);
  await sleep(WARMUP_MS);
  const s0 = fan.stats();
  const a = await sinkBytes(sink, keys);
  const w = await measure(CPU_SECONDS, { node: [process.pid], mux: [mux.pid], sink: [sinkPid] });
  const b = await sinkBytes(sink, keys);
  const s1 = fan.stats();
  const dropped = Object.values(s1.destinations).reduce((s, d) => s + d.droppedVideoFrames + d.droppedAudioFrames, 0);
  const measured = (w.cores['node'] ?? 0) + (w.cores['mux'] ?? 0);
  const notes = [
    `node ${pct(w.cores['node'] ?? 0)}, mux ffmpeg ${pct(w.cores['mux'] ?? 0)}`,
    `messages ${s1.messages - s0.messages}, chunkings ${s1.chunkings - s0.chunkings}, socket writes ${s1.writes - s0.writes}`,
    `dropped frames ${dropped}, node rss ${Math.round(process.memoryUsage().rss / 1048576)} MiB`,
  ];
  if (closed.length > 0) notes.push(`failed: ${closed.join('; ')}`);
  await fan.close();
  await mux.stop();
  return {
    idle,
    base,
    full: result(`${label}: 1 mux ffmpeg + Node fan-out`, w, measured, { destinations: FANOUT, sinkMbpsEach: mbpsEach(a, b, FANOUT), notes }),
  };
}

async function ffmpegPath(file: string, sink: NginxRtmp, sinkPid: number): Promise<Result> {
  const keys = Array.from({ length: FANOUT }, (_, i) => `ffmpeg-${i}`);
  const pushers = keys.map((k) => new Ff([...loopArgs(file), `${sink.url('live')}/${k}`]));
  await waitLive(sink, keys);
  await sleep(WARMUP_MS);
  const a = await sinkBytes(sink, keys);
  const w = await measure(CPU_SECONDS, { pushers: pushers.map((p) => p.pid), sink: [sinkPid], node: [process.pid] });
  const b = await sinkBytes(sink, keys);
  const dead = pushers.filter((p) => p.child.exitCode !== null).map((p) => p.stderr);
  await Promise.all(pushers.map((p) => p.stop()));
  const measured = w.cores['pushers'] ?? 0;
  return result(`ffmpeg: ${FANOUT} pusher ffmpeg (today, without the flow hub)`, w, measured, {
    destinations: FANOUT,
    sinkMbpsEach: mbpsEach(a, b, FANOUT),
    notes: dead.length ? [`${dead.length} pushers died: ${dead[0]}`] : [],
  });
}

async function nginxPath(file: string, sink: NginxRtmp, sinkPid: number): Promise<{ base: Result; full: Result }> {
  const push = await NginxPush.start({ sinkUrl: sink.url('live'), count: FANOUT, prefix: 'nginx-' });
  try {
    const idleSrc = new Ff([...loopArgs(file), `${push.url('nopush')}/src`]);
    await sleep(WARMUP_MS);
    const w0 = await measure(BASE_SECONDS, { nginx: [push.pid], source: [idleSrc.pid] });
    await idleSrc.stop();
    const base = result('nginx: receiving only (no push)', w0, w0.cores['nginx'] ?? 0);
    const src = new Ff([...loopArgs(file), `${push.url('live')}/src`]);
    const keys = Array.from({ length: FANOUT }, (_, i) => `nginx-${i}`);
    await waitLive(sink, keys);
    await sleep(WARMUP_MS);
    const a = await sinkBytes(sink, keys);
    const w = await measure(CPU_SECONDS, { nginx: [push.pid], source: [src.pid], sink: [sinkPid] });
    const b = await sinkBytes(sink, keys);
    await src.stop();
    const measured = w.cores['nginx'] ?? 0;
    return {
      base,
      full: result(`nginx: push x${FANOUT} (nginx process; its source ffmpeg apart)`, w, measured, {
        destinations: FANOUT,
        sinkMbpsEach: mbpsEach(a, b, FANOUT),
        notes: [`source ffmpeg (publishing to nginx) ${pct(w.cores['source'] ?? 0)}`],
      }),
    };
  } finally {
    await push.close();
  }
}

async function main(): Promise<void> {
  const hard = setTimeout(() => {
    console.error('rtmp-bench: hard time limit reached');
    for (const f of running) f.child.kill('SIGKILL');
    process.exit(2);
  }, HARD_LIMIT_MS);
  hard.unref();
  log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${FANOUT} destinations, ${CPU_SECONDS} s windows, feed ${FEED.width}x${FEED.height}p${FEED.fps} ${FEED.videoBitrate / 1e6} Mbps`);
  // The same cached feed as `npm run bench`, encoded once.
  const file = (await feedFile()).path;
  const sink = await NginxRtmp.start();
  const sinkPid = nginxPidOf(sink.dir);
  const results: Result[] = [];
  try {
    if (!SKIP.has('node')) {
      const r = await nodePath(file, sink, sinkPid);
      results.push(r.idle, r.base, r.full);
      log(`${r.full.scenario}: ${pct(r.full.measuredCores)} (node ${pct(r.full.cores['node'] ?? 0)}, mux ${pct(r.full.cores['mux'] ?? 0)}); base ${pct(r.base.measuredCores)}; idle node ${pct(r.idle.measuredCores)}; ${r.full.sinkMbpsEach} Mbps each`);
    }
    if (!SKIP.has('ffmpeg')) {
      const r = await ffmpegPath(file, sink, sinkPid);
      results.push(r);
      log(`${r.scenario}: ${pct(r.measuredCores)}; ${r.sinkMbpsEach} Mbps each`);
    }
    if (!SKIP.has('nginx')) {
      const r = await nginxPath(file, sink, sinkPid);
      results.push(r.base, r.full);
      log(`${r.full.scenario}: ${pct(r.full.measuredCores)}; receiving only ${pct(r.base.measuredCores)}; ${r.full.sinkMbpsEach} Mbps each`);
    }
  } finally {
    for (const f of [...running]) await f.stop();
    await sink.close();
  }

  console.log('');
  console.log('scenario'.padEnd(62) + 'measured'.padStart(10) + 'per dest'.padStart(10) + 'Mbps/dest'.padStart(11) + 'sink'.padStart(9) + 'machine'.padStart(9));
  for (const r of results) {
    console.log(r.scenario.padEnd(62) + pct(r.measuredCores).padStart(10) + (r.destinations ? pct(r.perDestinationCores) : '-').padStart(10) + (r.destinations ? String(r.sinkMbpsEach) : '-').padStart(11) + pct(r.sinkCores).padStart(9) + pct(r.machineCores).padStart(9));
    for (const n of r.notes) console.log(`    ${n}`);
  }
  const find = (prefix: string, dest: boolean): Result | undefined => results.find((r) => r.scenario.startsWith(prefix) && (r.destinations > 0) === dest);
  const node = find('node:', true);
  const nodeBase = results.find((r) => r.scenario.startsWith('node: mux'));
  const ff = find('ffmpeg:', true);
  const ng = find('nginx:', true);
  const ngBase = find('nginx:', false);
  const ratios: Record<string, number> = {};
  if (node && ff) ratios['ffmpegPerDest / nodePerDest'] = r2(ff.perDestinationCores / node.perDestinationCores);
  if (node && ng) ratios['nodePerDest / nginxPerDest'] = r2(node.perDestinationCores / ng.perDestinationCores);
  if (ff && ng) ratios['ffmpegPerDest / nginxPerDest'] = r2(ff.perDestinationCores / ng.perDestinationCores);
  if (node && nodeBase && ng && ngBase) {
    const nodeMarginal = (node.measuredCores - nodeBase.measuredCores) / FANOUT;
    const ngMarginal = (ng.measuredCores - ngBase.measuredCores) / FANOUT;
    ratios['node marginal per dest, % core'] = r2(nodeMarginal * 100);
    ratios['nginx marginal per dest, % core'] = r2(ngMarginal * 100);
    ratios['nodeMarginal / nginxMarginal'] = r2(nodeMarginal / ngMarginal);
  }
  console.log('');
  for (const [k, v] of Object.entries(ratios)) console.log(`${k.padEnd(40)} ${v}`);
  console.log(`BENCH_JSON ${JSON.stringify({ cpuSeconds: CPU_SECONDS, fanout: FANOUT, feed: FEED, results, ratios })}`);
  clearTimeout(hard);
}

await main();
