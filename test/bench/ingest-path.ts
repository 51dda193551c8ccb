/**
 * Micro-benchmark of Fanout's ingest path, two settings side by side (issue 16, §1: what the Node
 * ingest path costs, and what a change saves). Each side is a child Node process that runs the
 * engine's own parts as the engine wires them:
 *
 *   sender → SRT (AES-128) → fanout-srt listen [--flush-bytes A|B] → stdout → TsHub (Node, GOP cache)
 *            → stdin of a primary-HLS FFmpeg (hlsArgs) and of a passthrough mux FFmpeg (muxArgs; its FLV to /dev/null)
 *
 * Both sides get the same 6 Mbit/s bench feed (test/bench/feed.ts) and are measured over the same
 * windows (CPU per thread from schedstat, ns, per process of each side's tree: node, fanout-srt,
 * hls, mux), so the machine's other load weighs on both alike. Env: BENCH_PATH_A / BENCH_PATH_B
 * (fanout-srt --flush-bytes of each side; default 8192 and 32768), BENCH_PATH_ROUNDS (6),
 * BENCH_PATH_SECONDS (10).
 *
 * Run: `flock /tmp/fanout-media.lock npx tsx test/bench/ingest-path.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hlsArgs, muxArgs } from '../../shared/engines/local/engine/argv.ts';
import { ingestArgs, ingestBinary } from '../../shared/engines/local/engine/index.ts';
import { TsHub } from '../../shared/engines/local/engine/ts-hub.ts';
import { freeUdpPort } from '../support/nginx-rtmp.ts';
import { feedFile, loopedFeedCallerArgs } from './feed.ts';
import { type ProcStat, runNs, tree } from './proc.ts';
import { meanSe } from './stats.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

if (process.argv[2] === '--child') {
  // One side: fanout-srt → TsHub → HLS + mux FFmpegs. Passphrase on stdin, then runs until killed.
  const [, , , port, flush] = process.argv;
  const passphrase = await new Promise<string>((resolve) => {
    let s = '';
    process.stdin.on('data', (b: Buffer) => {
      s += b.toString();
      if (s.includes('\n')) resolve(s.split('\n')[0]!);
    });
  });
  const bin = ingestBinary();
  const ingest = spawn(bin.path, [...ingestArgs({ port: Number(port), bindAddress: '127.0.0.1', keyLength: 16 }), '--flush-bytes', String(flush)], { stdio: ['pipe', 'pipe', 'ignore', 'ignore'] });
  ingest.stdin!.end(`${passphrase}\n`);
  const hub = new TsHub({ name: 'bench', gopCache: true });
  hub.input(ingest.stdout!);
  const dir = mkdtempSync(join(tmpdir(), 'fanout-bench-path-'));
  const hls = spawn('ffmpeg', hlsArgs({ dir }), { stdio: ['pipe', 'ignore', 'ignore', 'ignore'] });
  const mux = spawn('ffmpeg', muxArgs(), { stdio: ['pipe', 'ignore', 'ignore', 'ignore'] });
  hub.attach('hls', hls.stdin!);
  hub.attach('mux', mux.stdin!);
  const end = (): void => {
    for (const c of [ingest, hls, mux]) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', end);
  setInterval(() => process.stdout.write(`${JSON.stringify({ reads: hub.stats().reads, bytes: hub.stats().bytesIn })}\n`), 1000);
} else {
  const A = Number(process.env.BENCH_PATH_A ?? 8192);
  const B = Number(process.env.BENCH_PATH_B ?? 32768);
  const ROUNDS = Number(process.env.BENCH_PATH_ROUNDS ?? 6);
  const SECONDS = Number(process.env.BENCH_PATH_SECONDS ?? 10);
  const bin = ingestBinary();
  if (bin.problem) throw new Error(bin.problem);
  const file = (await feedFile()).path;
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  const procs: ChildProcess[] = [];
  const sides: { name: string; child: ChildProcess; reads: number }[] = [];
  try {
    for (const flush of [A, B]) {
      const port = await freeUdpPort();
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--child', String(port), String(flush)], { stdio: ['pipe', 'pipe', 'inherit'] });
      child.stdin!.end(`${passphrase}\n`);
      const side = { name: `flush ${flush}`, child, reads: 0 };
      child.stdout!.on('data', (b: Buffer) => {
        const last = b.toString().trim().split('\n').at(-1);
        if (last) side.reads = (JSON.parse(last) as { reads: number }).reads;
      });
      procs.push(child);
      sides.push(side);
      await sleep(1500);
      procs.push(spawn(bin.path, loopedFeedCallerArgs(port, file), { stdio: ['pipe', 'ignore', 'ignore'], detached: true }));
      procs.at(-1)!.stdin!.end(`${passphrase}\n`);
    }
    await sleep(10_000);
    const role = (p: ProcStat, root: number): string => (p.pid === root ? 'node' : p.comm === 'ffmpeg' ? 'ffmpeg' : p.comm);
    const results = sides.map(() => ({ total: [] as number[], byRole: {} as Record<string, number[]>, reads: [] as number[] }));
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      const before = sides.map((s) => {
        const t = [...tree(s.child.pid!, () => false).values()];
        return { procs: t.map((p) => ({ pid: p.pid, role: role(p, s.child.pid!), ns: runNs(p.pid) })), reads: s.reads };
      });
      await sleep(SECONDS * 1000);
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      const line: string[] = [];
      sides.forEach((s, i) => {
        const res = results[i]!;
        let total = 0;
        const roles: Record<string, number> = {};
        for (const p of before[i]!.procs) {
          const ns = runNs(p.pid);
          if (ns === null || p.ns === null) continue;
          const c = ((ns - p.ns) / 1e9 / sec) * 100;
          // hls vs mux by their command line is not needed: both FFmpegs together.
          roles[p.role] = (roles[p.role] ?? 0) + c;
          total += c;
        }
        res.total.push(total);
        for (const [k, v] of Object.entries(roles)) {
          const list = res.byRole[k] ?? [];
          list.push(v);
          res.byRole[k] = list;
        }
        res.reads.push((s.reads - before[i]!.reads) / sec);
        line.push(
          `${s.name}: ${total.toFixed(2)}% (${Object.entries(roles)
            .map(([k, v]) => `${k} ${v.toFixed(2)}`)
            .join(', ')}), ${Math.round((s.reads - before[i]!.reads) / sec)} reads/s`,
        );
      });
      console.log(`[ingest-path] round ${r + 1}/${ROUNDS}: ${line.join('; ')}; load ${loadavg()[0]!.toFixed(2)}`);
    }
    const out = sides.map((s, i) => {
      const res = results[i]!;
      const m = meanSe(res.total);
      return {
        side: s.name,
        corePercent: Math.round(m.mean * 100) / 100,
        se: Math.round(m.se * 100) / 100,
        byRole: Object.fromEntries(Object.entries(res.byRole).map(([k, v]) => [k, Math.round(meanSe(v).mean * 100) / 100])),
        readsPerSecond: Math.round(meanSe(res.reads).mean),
      };
    });
    const diff = meanSe(results[1]!.total.map((b, i) => b - results[0]!.total[i]!));
    for (const o of out) console.log(`${o.side}: ${o.corePercent}% ± ${o.se} of a core (${JSON.stringify(o.byRole)}), ${o.readsPerSecond} reads/s in Node`);
    console.log(`B − A per round: ${diff.mean.toFixed(2)}% ± ${diff.se.toFixed(2)}`);
    console.log(`BENCH_JSON ${JSON.stringify({ ingestPath: out, diffCorePercent: diff })}`);
  } finally {
    for (const c of sides) c.child.kill('SIGTERM');
    for (const c of procs) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }
  }
  process.exit(0);
}
