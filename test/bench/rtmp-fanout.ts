/**
 * Micro-benchmark of the RTMP fan-out alone: what each added passthrough destination costs Node's
 * `RtmpFanout` against nginx-rtmp's own `push`, for a 6 Mbps 1080p30 H.264/AAC feed, both pushing
 * to one sink nginx on loopback. Without SRT, the flow hub or the primary HLS: `npm run bench`
 * measures the whole engine; this isolates the part that grows with the destinations.
 *
 *   node   ffmpeg `-re -stream_loop -1 -i feed.ts -c copy -f flv pipe:1` → RtmpFanout (this process)
 *          → 1 or N RtmpPublisher → sink
 *   nginx  ffmpeg publishing the same file to nginx-rtmp's `one` (1 push) or `live` (N pushes)
 *          (test/bench/nginx-push.ts) → sink
 *
 * Both run at once and are measured over the same windows, in rounds of two windows (1 and N
 * destinations, the order alternating so that a linear drift cancels), after a warm-up (the
 * fan-out path's JIT: the first minute reads higher). CPU is time on CPU, in nanoseconds, from
 * /proc/<pid>/task/<tid>/schedstat: this process's threads (the fan-out, plus the bench's own
 * constant work) and nginx's one process. Per added destination = (N window − 1 window) / (N − 1),
 * mean ± standard error over the rounds.
 *
 * Run: `npx tsx test/bench/rtmp-fanout.ts` (prints each round, a summary and one
 * `BENCH_JSON` line). Env: BENCH_ROUNDS (default 12), BENCH_CPU_SECONDS (default 10),
 * BENCH_SETTLE_SECONDS (default 5), BENCH_FANOUT (default 10).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { FEED, feedFile } from './feed.ts';
import { NginxPush } from './nginx-push.ts';
import { runNs } from './proc.ts';
import { meanSe } from './stats.ts';
import { NginxRtmp } from '../support/nginx-rtmp.ts';
import { RtmpFanout } from '../../shared/engines/local/rtmp/rtmp-fanout.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const CPU_SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 10);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_SECONDS ?? 5) * 1000;
const FANOUT = Number(process.env.BENCH_FANOUT ?? 10);
/** The fan-out path's CPU falls for about a minute after it starts (JIT tiers, heap growth): measured. */
const WARMUP_MS = 60_000;
const HARD_LIMIT_MS = 15 * 60_000;

const T0 = Date.now();
const log = (m: string): void => console.log(`[rtmp-bench ${((Date.now() - T0) / 1000).toFixed(1).padStart(5)}s] ${m}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (cores: number, digits = 3): string => `${(cores * 100).toFixed(digits)}%`;

const children = new Set<ChildProcess>();

/** Loops the feed file in real time, stream copy, to `out` (an RTMP URL or pipe:1). */
function loop(file: string, out: string): ChildProcess {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file, '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy', '-f', 'flv', '-flvflags', 'no_duration_filesize', out];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', out === 'pipe:1' ? 'pipe' : 'ignore', 'ignore'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function kill(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Waits until every key publishes at the sink with its bytes growing. */
async function waitLive(sink: NginxRtmp, keys: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, number>();
  const live = new Set<string>();
  while (live.size < keys.length) {
    if (Date.now() > deadline) throw new Error(`only ${live.size}/${keys.length} streams live at the sink`);
    for (const k of keys) {
      const i = await sink.hasPublisher(k);
      if (!i?.publishing) continue;
      if ((last.get(k) ?? Infinity) < i.bytesIn) live.add(k);
      last.set(k, i.bytesIn);
    }
    await sleep(200);
  }
}

interface Side {
  one: number[];
  many: number[];
}

async function main(): Promise<void> {
  const hard = setTimeout(() => {
    console.error('rtmp-bench: hard time limit reached');
    for (const c of children) c.kill('SIGKILL');
    process.exit(2);
  }, HARD_LIMIT_MS);
  hard.unref();
  log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), 1 vs ${FANOUT} destinations, ${ROUNDS} rounds of ${CPU_SECONDS} s windows, feed ${FEED.width}x${FEED.height}p${FEED.fps} ${FEED.videoBitrate / 1e6} Mbps`);
  const file = (await feedFile()).path;
  const sink = await NginxRtmp.start();
  const push = await NginxPush.start({ sinkUrl: sink.url('live'), count: FANOUT, prefix: 'nginx-' });
  const mux = loop(file, 'pipe:1');
  const fan = new RtmpFanout();
  const failed: string[] = [];
  fan.attach(mux.stdout!);
  let nodeCount = 0;
  let nginxSource: ChildProcess | null = null;
  const nodeKeys = (n: number): string[] => Array.from({ length: n }, (_, i) => `node-${i}`);
  const nginxKeys = (n: number): string[] => (n === 1 ? ['nginx-one'] : Array.from({ length: n }, (_, i) => `nginx-${i}`));

  /** Both fan-outs to n destinations, live at the sink. */
  const setDestinations = async (n: number): Promise<void> => {
    for (; nodeCount < n; nodeCount++) {
      const key = `node-${nodeCount}`;
      void fan.add(key, { url: sink.url('live'), streamKey: key }).closed.then((e) => e && failed.push(`${key}: ${e.code} ${e.message}`));
    }
    for (; nodeCount > n; nodeCount--) await fan.remove(`node-${nodeCount - 1}`);
    await kill(nginxSource);
    nginxSource = loop(file, `${push.url(n === 1 ? 'one' : 'live')}/src`);
    await waitLive(sink, [...nodeKeys(n), ...nginxKeys(n)]);
  };

  const node: Side = { one: [], many: [] };
  const nginx: Side = { one: [], many: [] };
  try {
    await setDestinations(FANOUT);
    log(`both fan-outs live to ${FANOUT} destinations; warming up ${WARMUP_MS / 1000} s`);
    await sleep(WARMUP_MS);
    /** Socket writes, and destinations × seconds, inside the windows. */
    let writes = 0;
    let destinationSeconds = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const line: string[] = [];
      for (const n of r % 2 === 0 ? [FANOUT, 1] : [1, FANOUT]) {
        if (n !== nodeCount) {
          await setDestinations(n);
          await sleep(SETTLE_MS);
        }
        const a = { node: runNs(process.pid), nginx: runNs(push.pid), t: process.hrtime.bigint(), writes: fan.stats().writes };
        await sleep(CPU_SECONDS * 1000);
        const b = { node: runNs(process.pid), nginx: runNs(push.pid), t: process.hrtime.bigint(), writes: fan.stats().writes };
        if (a.node === null || b.node === null || a.nginx === null || b.nginx === null) throw new Error('cannot read /proc/<pid>/task/*/schedstat');
        const ns = Number(b.t - a.t);
        writes += b.writes - a.writes;
        destinationSeconds += (n * ns) / 1e9;
        const cores = { node: (b.node - a.node) / ns, nginx: (b.nginx - a.nginx) / ns };
        (n === 1 ? node.one : node.many).push(cores.node);
        (n === 1 ? nginx.one : nginx.many).push(cores.nginx);
        line.push(`${n} dest.: node ${pct(cores.node)}, nginx ${pct(cores.nginx)}`);
      }
      log(`round ${r + 1}/${ROUNDS}: ${line.join('; ')}`);
    }
    log(`socket writes by the fan-out in the windows: ${writes}, ${(writes / destinationSeconds).toFixed(1)} per destination per second`);
  } finally {
    await fan.close();
    for (const c of [...children]) await kill(c);
    await push.close();
    await sink.close();
  }
  if (failed.length > 0) console.log(`publishers that failed: ${failed.join('; ')}`);

  const slope = (s: Side) => meanSe(s.one.map((one, i) => (s.many[i]! - one) / (FANOUT - 1)));
  const fixed = (s: Side) => meanSe(s.one);
  const ns = slope(node);
  const gs = slope(nginx);
  const upper = (ns.mean + 2 * ns.se) / (gs.mean - 2 * gs.se);
  console.log('');
  console.log(`${'per added destination (mean ± standard error)'.padEnd(48)}node ${pct(ns.mean)} ± ${pct(ns.se)}   nginx ${pct(gs.mean)} ± ${pct(gs.se)}`);
  console.log(`${'with 1 destination'.padEnd(48)}node ${pct(fixed(node).mean, 2)}   nginx ${pct(fixed(nginx).mean, 2)}`);
  console.log(`${'ratio node / nginx per added destination'.padEnd(48)}${(ns.mean / gs.mean).toFixed(2)}x (at most ${upper > 0 ? upper.toFixed(2) : '-'}x at two standard errors)`);
  const pcts = (v: number[]): number[] => v.map((x) => Math.round(x * 1e5) / 1e3);
  console.log(
    `BENCH_JSON ${JSON.stringify({
      rounds: ROUNDS,
      windowSeconds: CPU_SECONDS,
      fanout: FANOUT,
      feed: FEED,
      perAddedDestinationCorePercent: { node: { mean: ns.mean * 100, se: ns.se * 100 }, nginx: { mean: gs.mean * 100, se: gs.se * 100 } },
      ratio: ns.mean / gs.mean,
      ratioUpperBound: upper,
      windowsCorePercent: { node: { one: pcts(node.one), many: pcts(node.many) }, nginx: { one: pcts(nginx.one), many: pcts(nginx.many) } },
    })}`,
  );
  clearTimeout(hard);
}

await main();
