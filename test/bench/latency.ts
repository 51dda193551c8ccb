/**
 * The latency Fanout adds (issue 16, §3), measured as a user would: one live encoder feeds, through
 * FFmpeg's `tee`, both Fanout (SRT, latency 120 ms) and the loopback nginx-rtmp directly, and
 * identical receivers read each stream back from nginx and time a white flash that recurs every 3 s.
 *
 *   encoder (lavfi, -re, x264 zerolatency, 2 s GOP) ─tee─┬─ FLV ──────────────────────────────► nginx live/direct
 *                                                        ├─ MPEG-TS ─ fanout-srt call ─ SRT ─► Fanout ─┬─ passthrough ─► nginx live/pt
 *                                                        │                                            └─ generic-720p30 ─► nginx live/tc
 *                                                        └─ MPEG-TS ─ SRT ─► srt-live-transmit ─ ffmpeg -c copy -f flv ─► nginx live/relay
 *
 * Receivers (one per stream, plus a second on `direct`: the calibration, which must read ~0 ms):
 * `ffmpeg -threads 1 -i rtmp://… -vf scale=16:9:area,format=gray -f rawvideo pipe:1`, one 144-byte
 * frame per frame, timestamped in this process as it arrives (`performance.now()`). A flash is a
 * frame whose top eight rows average above 200; its bottom row carries the flash's number (eight
 * bits, black or white cells), so the same flash is matched on every path however late it is.
 * Figure: Fanout arrival − direct arrival, per flash, p50/p95, for each bitrate.
 *
 * The feed is 1280x720p30 (a 1080p encoder and five decoders do not fit two shared cores) at 6 and
 * at 1 Mbit/s: what depends on the bitrate (blocks of bytes filling up) shows as a difference
 * between the two.
 *
 * Targets: passthrough ≤ the SRT latency + 100 ms at either bitrate and never behind the simple
 * relay (p50); transcode ≤ the SRT latency + the encoder's own look-ahead + 150 ms (the look-ahead
 * of x264 as Fanout runs it: 0 under `-tune zerolatency`, which Fanout's encoders use; otherwise
 * rc-lookahead or B-frames, whichever is more, plus one frame per frame thread past the first, at
 * 30 fps).
 *
 * `npm run bench` runs it first (`BENCH_LATENCY=0` leaves it out); alone:
 * `flock /tmp/fanout-media.lock npx tsx test/bench/latency.ts`. Environment:
 * BENCH_LATENCY_SECONDS (default 30 per bitrate), BENCH_LATENCY_JOINS (default 4), BENCH_LATENCY_FIRST_JOINS (default 2), BENCH_LATENCY_BITRATES (default 6000000,1000000).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ingestBinary } from '../../shared/engines/local/engine/index.ts';
import { eventually, startTestRuntime, type TestRuntime } from '../support/local.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';
import { tableLines } from './stats.ts';

const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 30);
const BITRATES = (process.env.BENCH_LATENCY_BITRATES ?? '6000000,1000000').split(',').map(Number);
const SRT_LATENCY_MS = 120;
const FPS = 30;
const FLASH_EVERY_FRAMES = 90;
const TRANSCODE_PRESET = 'generic-720p30';
const X264_PRESET = process.env.FANOUT_X264_PRESET ?? 'ultrafast';
/** Joins measured per bitrate (`BENCH_LATENCY_JOINS`), each watched for `JOIN_SECONDS`. */
const JOINS = Number(process.env.BENCH_LATENCY_JOINS ?? 4);
const JOIN_SECONDS = 10;
/** Joins as the flow's first passthrough destination (`BENCH_LATENCY_FIRST_JOINS`). */
const FIRST_JOINS = Number(process.env.BENCH_LATENCY_FIRST_JOINS ?? 2);
const W = 16;
const H = 9;

/** x264's look-ahead by preset: [rc-lookahead, B-frames] (x264 --fullhelp). */
const X264_LOOKAHEAD: Record<string, [number, number]> = {
  ultrafast: [0, 0],
  superfast: [0, 3],
  veryfast: [10, 3],
  faster: [20, 3],
  fast: [30, 3],
  medium: [40, 3],
};

/**
 * The encoder's own delay at `preset`, ms: look-ahead frames plus frame threads past the first.
 * Fanout's encoders run `-tune zerolatency` (argv.ts): no look-ahead, no B-frames, sliced threads
 * (no frame-thread delay), so 0 whatever the preset.
 */
export function x264LookaheadMs(preset: string, cores = cpus().length, fps = FPS, tune: string | null = 'zerolatency'): number {
  if (tune === 'zerolatency') return 0;
  const [rc, b] = X264_LOOKAHEAD[preset] ?? [40, 3];
  const frameThreads = Math.max(1, Math.floor(cores * 1.5));
  return Math.round(((Math.max(rc, b) + frameThreads - 1) * 1000) / fps);
}

export interface LatencyDist {
  n: number;
  p50: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
}

export interface LatencyRun {
  bitrate: number;
  seconds: number;
  /** Flashes seen on the direct path. */
  flashes: number;
  /** ms after the direct path, per path. */
  passthrough: LatencyDist;
  transcode: LatencyDist;
  relay: LatencyDist;
  calibration: LatencyDist;
  samples: Record<string, number[]>;
  /** A passthrough destination joining the running feed, seen by a paced receiver (see `measureJoins`). */
  join?: JoinFigures;
  /** The same for the flow's first passthrough destination (it starts the mux). */
  firstJoin?: JoinFigures;
}

export interface JoinFigures {
  joins: number;
  /** Per join: the paced receiver's delay after the direct path (median over the join's flashes). */
  lagMs: LatencyDist;
  /** POST /start → first frame at the paced receiver. */
  firstFrameMs: LatencyDist;
  samples: { lagMs: number; firstFrameMs: number }[];
}

export interface LatencyFigures {
  srtLatencyMs: number;
  x264Preset: string;
  lookaheadMs: number;
  targets: { passthroughMs: number; transcodeMs: number };
  runs: LatencyRun[];
  warnings: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(v: number[], p: number): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function dist(v: number[]): LatencyDist {
  const r = v.map(Math.round);
  return { n: r.length, p50: pct(r, 50), p95: pct(r, 95), min: r.length ? Math.min(...r) : null, max: r.length ? Math.max(...r) : null };
}

/** A child whose process group is killed at the end (srt callers run FFmpeg below them). */
function run(bin: string, args: string[], stdin: string | null = null): ChildProcess {
  const child = spawn(bin, args, { stdio: [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
  if (stdin !== null) {
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(stdin);
  }
  child.stderr!.on('data', () => undefined);
  return child;
}

function killGroup(c: ChildProcess | null | undefined): void {
  if (!c?.pid) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/**
 * A receiver: reads `url` back, one 16x9 grey frame per frame on stdout, and records when each
 * flash arrived (by its number).
 */
class Receiver {
  readonly child: ChildProcess;
  readonly flashes = new Map<number, number>();
  frames = 0;
  #pending = Buffer.alloc(0);
  #lastBright = false;

  constructor(
    readonly name: string,
    url: string,
    paced = false,
  ) {
    // prettier-ignore
    this.child = run('ffmpeg', [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      // paced: reads at the media's own rate from its first frame on, as a player plays it (or a
      // platform's live transcoder): whatever it was given ahead of now stays its delay.
      // It starts at once on what it gets first (no probing of its own: that would add its own
      // wall time to the delay whatever Fanout sent).
      ...(paced ? ['-re', '-probesize', '32', '-analyzeduration', '0'] : []),
      '-fflags',
      'nobuffer',
      '-threads',
      '1',
      '-i',
      url,
      '-an',
      '-vf',
      `scale=${W}:${H}:flags=area,format=gray`,
      '-f',
      'rawvideo',
      '-flush_packets',
      '1',
      'pipe:1',
    ]);
    this.child.stdout!.on('data', (b: Buffer) => this.#onData(b, performance.now()));
  }

  #onData(b: Buffer, at: number): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, b]) : b;
    const size = W * H;
    while (buf.length >= size) {
      this.#frame(buf.subarray(0, size), at);
      buf = buf.subarray(size);
    }
    this.#pending = Buffer.from(buf);
  }

  firstFrameAt: number | null = null;

  #frame(f: Buffer, at: number): void {
    this.frames++;
    this.firstFrameAt ??= at;
    let sum = 0;
    for (let i = 0; i < W * (H - 1); i++) sum += f[i]!;
    const bright = sum / (W * (H - 1)) > 200;
    if (bright && !this.#lastBright) {
      let k = 0;
      for (let bit = 0; bit < 8; bit++) {
        const cell = (f[(H - 1) * W + 2 * bit]! + f[(H - 1) * W + 2 * bit + 1]!) / 2;
        if (cell > 128) k |= 1 << bit;
      }
      if (!this.flashes.has(k)) this.flashes.set(k, at);
    }
    this.#lastBright = bright;
  }

  /** Flash number → arrival, for flashes that arrived in [from, to). */
  between(from: number, to: number): Map<number, number> {
    return new Map([...this.flashes].filter(([, t]) => t >= from && t < to));
  }
}

/** The live encoder's filter: testsrc2, and every 3 s one white frame whose bottom row numbers it. */
function flashFilter(): string {
  const on = `eq(mod(n\\,${FLASH_EVERY_FRAMES})\\,0)`;
  const bits = Array.from({ length: 8 }, (_, i) => `drawbox=x=${160 * i}:y=640:w=160:h=80:c=black:t=fill:enable='${on}*eq(mod(floor(n/${FLASH_EVERY_FRAMES * 2 ** i})\\,2)\\,0)'`);
  return [`drawbox=x=0:y=0:w=iw:h=ih:c=white:t=fill:enable='${on}'`, ...bits].join(',');
}

async function measureBitrate(o: { rt: TestRuntime; sink: NginxRtmp; srtPort: number; passphrase: string; bitrate: number; log: (m: string) => void }): Promise<LatencyRun> {
  const { rt, sink, bitrate, log } = o;
  const tag = randomBytes(3).toString('hex');
  const keys = { direct: `lat-direct-${tag}`, pt: `lat-pt-${tag}`, tc: `lat-tc-${tag}`, relay: `lat-relay-${tag}` };
  const relayPort = await freeUdpPort();
  const children: ChildProcess[] = [];
  const receivers: Receiver[] = [];
  const dests: string[] = [];
  try {
    // The simple relay: srt-live-transmit → FFmpeg -c copy → nginx.
    const relay = spawn(
      'bash',
      ['-c', `srt-live-transmit -q "srt://127.0.0.1:${relayPort}?mode=listener&latency=${SRT_LATENCY_MS}" file://con | ffmpeg -hide_banner -nostdin -loglevel error -f mpegts -i pipe:0 -c copy -f flv "${sink.url('live')}/${keys.relay}"`],
      { stdio: 'ignore', detached: true },
    );
    children.push(relay);
    await sleep(300);
    const b = String(bitrate);
    const caller = ingestBinary();
    if (caller.problem) throw new Error(caller.problem);
    // The encoder: fanout-srt call runs it and sends its stdout (MPEG-TS) to Fanout over SRT; the tee
    // also writes FLV to nginx (direct) and MPEG-TS over SRT to the relay.
    // prettier-ignore
    const encoder = run(
      caller.path,
      [
        'call',
        '--host',
        '127.0.0.1',
        '--port',
        String(o.srtPort),
        '--pbkeylen',
        '16',
        '--latency',
        String(SRT_LATENCY_MS),
        '--',
        'ffmpeg',
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=1280x720:rate=${FPS}`,
        '-re',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=1000:sample_rate=48000',
        '-vf',
        flashFilter(),
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-b:v',
        b,
        '-maxrate',
        b,
        '-bufsize',
        b,
        '-g',
        '60',
        '-keyint_min',
        '60',
        '-sc_threshold',
        '0',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-b:a',
        '128k',
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-f',
        'tee',
        '-flags',
        '+global_header',
        `[f=flv:onfail=ignore]${sink.url('live')}/${keys.direct}|[f=mpegts:onfail=ignore]srt://127.0.0.1:${relayPort}?mode=caller&latency=${SRT_LATENCY_MS * 1000}&pkt_size=1316|[f=mpegts]pipe:1`,
      ],
      `${o.passphrase}\n`,
    );
    children.push(encoder);
    await eventually(
      async () => {
        const h = (await rt.api('GET', '/api/mediaconnect/inputs/health')).json as { connected?: boolean; bitrateInKbps?: number | null } | undefined;
        return h?.connected === true && (h.bitrateInKbps ?? 0) > bitrate / 2000;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the encoder at Fanout' },
    );
    for (const [name, preset] of [
      ['pt', 'passthrough'],
      ['tc', TRANSCODE_PRESET],
    ] as const) {
      const r = await rt.api('POST', '/api/destinations', { body: { name: `latency ${name}`, platform: 'custom', rtmpUrl: sink.url('live'), streamKey: keys[name], preset } });
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.json)}`);
      const id = (r.json as { destinationId: string }).destinationId;
      dests.push(id);
      await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json?.status === 'idle', { timeoutMs: 20_000, what: 'destination idle' });
      const s = await rt.api('POST', `/api/destinations/${id}/start`);
      if (s.status !== 202) throw new Error(`start ${name}: ${s.status}`);
    }
    await eventually(async () => (await Promise.all(Object.values(keys).map((k) => sink.hasPublisher(k)))).every(Boolean), { timeoutMs: 30_000, intervalMs: 200, what: 'every stream at nginx' });
    const names = ['direct', 'calibration', 'pt', 'tc', 'relay'] as const;
    for (const n of names) receivers.push(new Receiver(n, `${sink.url('live')}/${n === 'calibration' ? keys.direct : keys[n]}`));
    // Warm-up: the receivers start, and any join-time burst is past.
    await sleep(6000);
    const from = performance.now();
    await sleep(SECONDS * 1000);
    const to = performance.now();
    // Late flashes of the window still count: a path behind by up to 5 s.
    await sleep(5000);
    const join = JOINS > 0 ? await measureJoins({ rt, sink, direct: receivers[0]!, log, joins: JOINS }) : undefined;
    // The first passthrough destination of the flow: with no other running, it starts the mux,
    // which gets the flow hub's GOP replay (its output is live for the fan-out).
    let firstJoin: JoinFigures | undefined;
    if (FIRST_JOINS > 0) {
      const ptId = dests[0]!;
      await rt.api('POST', `/api/destinations/${ptId}/stop`);
      await eventually(async () => (await rt.api('GET', `/api/destinations/${ptId}`)).json?.status === 'idle', { timeoutMs: 20_000, what: 'passthrough idle' });
      firstJoin = await measureJoins({ rt, sink, direct: receivers[0]!, log, joins: FIRST_JOINS });
    }
    const [direct, ...rest] = receivers.map((r) => r.between(from - 5000, to + 5000));
    const inWindow = [...direct!].filter(([, t]) => t >= from && t < to);
    const delta = (m: Map<number, number>): number[] => inWindow.flatMap(([k, t]) => (m.has(k) ? [m.get(k)! - t] : []));
    const samples = Object.fromEntries(rest.map((m, i) => [names[i + 1]!, delta(m)]));
    const frames = receivers.map((r) => `${r.name} ${r.frames}`).join(', ');
    log(`latency ${bitrate / 1e6} Mbit/s: ${inWindow.length} flashes direct; frames ${frames}`);
    return {
      bitrate,
      seconds: SECONDS,
      flashes: inWindow.length,
      passthrough: dist(samples.pt ?? []),
      transcode: dist(samples.tc ?? []),
      relay: dist(samples.relay ?? []),
      calibration: dist(samples.calibration ?? []),
      samples: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map(Math.round)])),
      ...(join ? { join } : {}),
      ...(firstJoin ? { firstJoin } : {}),
    };
  } finally {
    for (const r of receivers) killGroup(r.child);
    for (const id of dests) await rt.api('DELETE', `/api/destinations/${id}`).catch(() => undefined);
    for (const c of children) killGroup(c);
  }
}

/**
 * What a joining destination gets first, as seen by a receiver that plays in real time: a paced
 * receiver waits on a new key at nginx, the passthrough destination starts (the feed and the mux
 * already running: another passthrough destination is live), and the receiver's delay after the
 * direct path is read from the next flashes. A join that starts with media from the past (a
 * cached GOP replayed as a burst) leaves such a receiver that far behind for the whole session.
 */
async function measureJoins(o: { rt: TestRuntime; sink: NginxRtmp; direct: Receiver; log: (m: string) => void; joins: number }): Promise<JoinFigures> {
  const { rt, sink, direct } = o;
  const samples: { lagMs: number; firstFrameMs: number }[] = [];
  for (let i = 0; i < o.joins; i++) {
    const key = `lat-join-${randomBytes(3).toString('hex')}`;
    const receiver = new Receiver('join', `${sink.url('live')}/${key}`, true);
    let id: string | null = null;
    try {
      await sleep(1000 + ((i * 617) % 2000)); // spread the joins over the GOP
      const r = await rt.api('POST', '/api/destinations', { body: { name: `latency join ${i}`, platform: 'custom', rtmpUrl: sink.url('live'), streamKey: key, preset: 'passthrough' } });
      if (r.status !== 201) throw new Error(`create join: ${r.status}`);
      id = (r.json as { destinationId: string }).destinationId;
      await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json?.status === 'idle', { timeoutMs: 20_000, what: 'destination idle' });
      const t0 = performance.now();
      if ((await rt.api('POST', `/api/destinations/${id}/start`)).status !== 202) throw new Error('start join');
      await sleep(JOIN_SECONDS * 1000);
      const lags = [...receiver.flashes].flatMap(([k, t]) => (direct.flashes.has(k) && t > t0 + 500 ? [t - direct.flashes.get(k)!] : []));
      const lag = pct(lags, 50);
      if (lag !== null && receiver.firstFrameAt !== null) samples.push({ lagMs: Math.round(lag), firstFrameMs: Math.round(receiver.firstFrameAt - t0) });
      o.log(`join ${i + 1}/${o.joins}: paced receiver ${lag === null ? 'saw no flash' : `${Math.round(lag)} ms behind direct`}, first frame ${receiver.firstFrameAt === null ? '-' : Math.round(receiver.firstFrameAt - t0)} ms after start`);
    } finally {
      killGroup(receiver.child);
      if (id) await rt.api('DELETE', `/api/destinations/${id}`).catch(() => undefined);
    }
  }
  return { joins: samples.length, lagMs: dist(samples.map((s) => s.lagMs)), firstFrameMs: dist(samples.map((s) => s.firstFrameMs)), samples };
}

export async function benchLatency(log: (msg: string) => void): Promise<LatencyFigures> {
  const sink = await NginxRtmp.start();
  const srtPort = await freeUdpPort();
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  let rt: TestRuntime | null = null;
  try {
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
    const runs: LatencyRun[] = [];
    for (const bitrate of BITRATES) {
      runs.push(await measureBitrate({ rt, sink, srtPort, passphrase, bitrate, log }));
      await sleep(2000);
    }
    const lookaheadMs = x264LookaheadMs(X264_PRESET);
    const targets = { passthroughMs: SRT_LATENCY_MS + 100, transcodeMs: SRT_LATENCY_MS + lookaheadMs + 150 };
    const warnings: string[] = [];
    for (const r of runs) {
      const mb = `${r.bitrate / 1e6} Mbit/s`;
      if (r.passthrough.p50 === null) warnings.push(`latency ${mb}: no flash matched on the passthrough path`);
      else {
        if (r.passthrough.p50 > targets.passthroughMs) warnings.push(`latency ${mb}: passthrough p50 ${r.passthrough.p50} ms > target ${targets.passthroughMs} ms (SRT latency + 100 ms)`);
        if (r.relay.p50 !== null && r.passthrough.p50 > r.relay.p50) warnings.push(`latency ${mb}: passthrough p50 ${r.passthrough.p50} ms is behind the simple relay (${r.relay.p50} ms)`);
      }
      if (r.transcode.p50 === null) warnings.push(`latency ${mb}: no flash matched on the transcode path`);
      else if (r.transcode.p50 > targets.transcodeMs) warnings.push(`latency ${mb}: transcode p50 ${r.transcode.p50} ms > target ${targets.transcodeMs} ms (SRT latency + look-ahead ${lookaheadMs} ms + 150 ms)`);
      if (r.join?.lagMs.p50 != null && r.join.lagMs.p50 > targets.passthroughMs)
        warnings.push(`latency ${mb}: a joining passthrough destination stays ${r.join.lagMs.p50} ms behind (p50, paced receiver) > target ${targets.passthroughMs} ms`);
      if (r.firstJoin?.lagMs.p50 != null && r.firstJoin.lagMs.p50 > targets.passthroughMs)
        warnings.push(`latency ${mb}: the flow's first passthrough destination stays ${r.firstJoin.lagMs.p50} ms behind (p50, paced receiver) > target ${targets.passthroughMs} ms`);
      if (r.calibration.p50 === null || Math.abs(r.calibration.p50) > 30) warnings.push(`latency ${mb}: the calibration (two receivers on one stream) reads ${r.calibration.p50} ms, not ~0: the figures are not to be trusted`);
    }
    return { srtLatencyMs: SRT_LATENCY_MS, x264Preset: X264_PRESET, lookaheadMs, targets, runs, warnings };
  } finally {
    await rt?.close().catch(() => undefined);
    await sink.close().catch(() => undefined);
  }
}

/** The table `npm run bench` prints. */
export function latencyReport(f: LatencyFigures): string[] {
  const ms = (v: number | null): string => (v === null ? '-' : `${v} ms`);
  const cell = (d: LatencyDist): string => `${ms(d.p50)} / ${ms(d.p95)} (n ${d.n})`;
  const verdict = (ok: boolean | null): string => (ok === null ? '-' : ok ? 'met' : 'MISSED');
  const rows = f.runs.flatMap((r) => {
    const mb = `${r.bitrate / 1e6} Mbit/s`;
    const pt = r.passthrough.p50 === null ? null : r.passthrough.p50 <= f.targets.passthroughMs && (r.relay.p50 === null || r.passthrough.p50 <= r.relay.p50);
    const tc = r.transcode.p50 === null ? null : r.transcode.p50 <= f.targets.transcodeMs;
    return [
      [`${mb} passthrough`, cell(r.passthrough), `<= ${f.targets.passthroughMs} ms and <= relay: ${verdict(pt)}`],
      [`${mb} transcode (${TRANSCODE_PRESET}, x264 ${f.x264Preset})`, cell(r.transcode), `<= ${f.targets.transcodeMs} ms: ${verdict(tc)}`],
      [`${mb} simple relay (srt-live-transmit → ffmpeg -c copy)`, cell(r.relay), ''],
      [`${mb} calibration (2nd receiver, same stream)`, cell(r.calibration), '~0 ms'],
      ...(r.join
        ? [
            [`${mb} passthrough joining, paced receiver: delay for the session`, cell(r.join.lagMs), `<= ${f.targets.passthroughMs} ms: ${verdict(r.join.lagMs.p50 === null ? null : r.join.lagMs.p50 <= f.targets.passthroughMs)}`],
            [`${mb} passthrough joining: start → first frame there`, cell(r.join.firstFrameMs), ''],
          ]
        : []),
      ...(r.firstJoin
        ? [
            [
              `${mb} first passthrough of the flow (starts the mux), paced receiver: delay`,
              cell(r.firstJoin.lagMs),
              `<= ${f.targets.passthroughMs} ms: ${verdict(r.firstJoin.lagMs.p50 === null ? null : r.firstJoin.lagMs.p50 <= f.targets.passthroughMs)}`,
            ],
            [`${mb} first passthrough of the flow: start → first frame there`, cell(r.firstJoin.firstFrameMs), ''],
          ]
        : []),
    ];
  });
  return tableLines(
    `Latency Fanout adds: arrival of a flash at a receiver of each path minus at a receiver of the direct path (encoder → nginx), 720p30, SRT latency ${f.srtLatencyMs} ms, x264 look-ahead ${f.lookaheadMs} ms`,
    ['path', 'after direct p50 / p95', 'target (p50)'],
    rows,
  );
}

if (process.argv[1]?.endsWith('test/bench/latency.ts')) {
  const t0 = performance.now();
  const figures = await benchLatency((m) => console.log(`[latency ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}`));
  console.log(latencyReport(figures).join('\n'));
  for (const w of figures.warnings) console.log(`WARNING: ${w}`);
  console.log(`BENCH_JSON ${JSON.stringify({ latency: figures })}`);
  process.exit(0);
}
