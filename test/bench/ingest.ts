/**
 * Micro-benchmark of the SRT ingest alone (ADR 0020): the CPU of `fanout-srt listen` against
 * srt-live-transmit (as the engine ran it before: `-a:yes -s:200 -pf:json -statsout … -ll:note
 * srt://…?mode=listener&passphrase=… file://con`) receiving the same 6 Mbit/s 1080p30 feed
 * (test/bench/feed.ts) over AES-128 SRT on loopback, each read on its stdout by this process as
 * the flow hub reads it.
 *
 *   sender (one per listener, the same): fanout-srt call -- ffmpeg -re -stream_loop -1 -i feed.ts
 *                                         -c copy -f mpegts -flush_packets 1 pipe:1
 *   listener A: fanout-srt listen … → stdout → this process (counts bytes and reads)
 *   listener B: srt-live-transmit … → stdout → this process
 *
 * Both run at once and are measured over the same windows (`BENCH_INGEST_ROUNDS` ×
 * `BENCH_INGEST_SECONDS`, default 3 × 10 s, after 5 s of warm-up), so the machine's other load
 * weighs on both alike. CPU is time on CPU of every thread of the listener, in ns, from
 * /proc/<pid>/task/<tid>/schedstat. Also: the reads a second it costs the Node reader (fewer,
 * bigger writes are cheaper to read) and the bytes a second delivered.
 *
 * `npm run bench` runs it first (`BENCH_INGEST=0` leaves it out); alone: `npx tsx test/bench/ingest.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ingestArgs, ingestBinary } from '../../shared/engines/local/engine/index.ts';
import { freeUdpPort } from '../support/nginx-rtmp.ts';
import { feedFile, loopedFeedCallerArgs } from './feed.ts';
import { runNs } from './proc.ts';
import { meanSe } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 10);
const WARMUP_MS = 5000;

export interface IngestFigures {
  seconds: number;
  rounds: number;
  /** Percent of one core, mean ± standard error over the rounds. */
  fanoutSrt: ListenerFigures;
  srtLiveTransmit: ListenerFigures;
  /** fanout-srt / srt-live-transmit (mean CPU). */
  ratio: number;
}

export interface ListenerFigures {
  corePercent: number;
  corePercentSe: number;
  readsPerSecond: number;
  mbitPerSecond: number;
}

interface Listener {
  name: string;
  child: ChildProcess;
  bytes: number;
  reads: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function listen(name: string, bin: string, args: string[], stdinText: string | null): Listener {
  const child = spawn(bin, args, { stdio: [stdinText === null ? 'ignore' : 'pipe', 'pipe', 'ignore', 'ignore'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (stdinText !== null) child.stdin!.end(stdinText);
  const l: Listener = { name, child, bytes: 0, reads: 0 };
  child.stdout!.on('data', (b: Buffer) => {
    l.bytes += b.length;
    l.reads += 1;
  });
  return l;
}

function sender(bin: string, port: number, passphrase: string, file: string): ChildProcess {
  // prettier-ignore
  const child = spawn(bin, loopedFeedCallerArgs(port, file), { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  child.stdin!.end(`${passphrase}\n`);
  return child;
}

const killGroup = (c: ChildProcess | null): void => {
  if (!c?.pid) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
};

export async function benchIngest(log: (msg: string) => void): Promise<IngestFigures> {
  const built = ingestBinary();
  if (built.problem) throw new Error(built.problem);
  const src = await feedFile();
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  const [pA, pB] = [await freeUdpPort(), await freeUdpPort()];
  const a = listen('fanout-srt', built.path, ingestArgs({ port: pA, bindAddress: '127.0.0.1', keyLength: 16 }), `${passphrase}\n`);
  // The command line the engine gave srt-live-transmit (its stats to /dev/null here: nothing reads them).
  const b = listen('srt-live-transmit', 'srt-live-transmit', ['-a:yes', '-s:200', '-pf:json', '-statsout:/dev/null', '-ll:note', `srt://127.0.0.1:${pB}?mode=listener&passphrase=${passphrase}&pbkeylen=16&latency=120`, 'file://con'], null);
  const senders: ChildProcess[] = [];
  try {
    await sleep(300);
    senders.push(sender(built.path, pA, passphrase, src.path), sender(built.path, pB, passphrase, src.path));
    const deadline = Date.now() + 20_000;
    while (a.bytes < 1_000_000 || b.bytes < 1_000_000) {
      if (Date.now() > deadline) throw new Error(`the feed did not arrive (fanout-srt ${a.bytes} B, srt-live-transmit ${b.bytes} B)`);
      await sleep(100);
    }
    await sleep(WARMUP_MS);
    const rounds: { a: number; b: number; readsA: number; readsB: number; bytesA: number; bytesB: number; s: number }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = process.hrtime.bigint();
      const [na, nb, ra, rb, ba, bb] = [runNs(a.child.pid!), runNs(b.child.pid!), a.reads, b.reads, a.bytes, b.bytes];
      await sleep(SECONDS * 1000);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const [na2, nb2] = [runNs(a.child.pid!), runNs(b.child.pid!)];
      if (na === null || nb === null || na2 === null || nb2 === null) throw new Error('a listener ended during the benchmark');
      const r = { a: ((na2 - na) / 1e9 / s) * 100, b: ((nb2 - nb) / 1e9 / s) * 100, readsA: (a.reads - ra) / s, readsB: (b.reads - rb) / s, bytesA: (a.bytes - ba) / s, bytesB: (b.bytes - bb) / s, s };
      rounds.push(r);
      log(`ingest round ${i + 1}/${ROUNDS}: fanout-srt ${r.a.toFixed(2)}% of a core (${Math.round(r.readsA)} reads/s), srt-live-transmit ${r.b.toFixed(2)}% (${Math.round(r.readsB)} reads/s)`);
    }
    const fig = (cpu: number[], reads: number[], bytes: number[]): ListenerFigures => {
      const m = meanSe(cpu);
      const avg = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
      return { corePercent: round2(m.mean), corePercentSe: round2(m.se), readsPerSecond: Math.round(avg(reads)), mbitPerSecond: round2((avg(bytes) * 8) / 1e6) };
    };
    const fa = fig(
      rounds.map((r) => r.a),
      rounds.map((r) => r.readsA),
      rounds.map((r) => r.bytesA),
    );
    const fb = fig(
      rounds.map((r) => r.b),
      rounds.map((r) => r.readsB),
      rounds.map((r) => r.bytesB),
    );
    return { seconds: SECONDS, rounds: ROUNDS, fanoutSrt: fa, srtLiveTransmit: fb, ratio: round2(fa.corePercent / fb.corePercent) };
  } finally {
    for (const s of senders) killGroup(s);
    for (const l of [a, b]) l.child.kill('SIGKILL');
  }
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

if (process.argv[1]?.endsWith('test/bench/ingest.ts')) {
  const figures = await benchIngest((m) => console.log(`[ingest bench] ${m}`));
  console.log(`fanout-srt ${figures.fanoutSrt.corePercent}% ± ${figures.fanoutSrt.corePercentSe} of a core, srt-live-transmit ${figures.srtLiveTransmit.corePercent}% ± ${figures.srtLiveTransmit.corePercentSe} (ratio ${figures.ratio})`);
  console.log(`BENCH_JSON ${JSON.stringify({ ingest: figures })}`);
}
