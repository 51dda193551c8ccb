/**
 * Start-to-live, hop by hop (issue 16, §4): a passthrough destination joining a running source,
 * from `POST /start` to its first frame at the loopback nginx-rtmp, with where the time goes.
 *
 *   POST /start ─► API: auth, read, conditional write + outbox ─► DestinationStartRequested published
 *     ─► ChannelProvisionerQueue ─► channelProvisionerInbox received ─► engine.startChannel called
 *     ─► returned ─► TCP to nginx ─► RTMP handshake + connect + publish (NetStream.Publish.Start)
 *     ─► first media written (metadata + sequence headers) ─► first keyframe written = live
 *
 * How each instant is seen, in this process (Fanout runs in it: `startTestRuntime`):
 * - the API: the client's own clock around the request; the event's publication from the bus's
 *   trace (`LocalEventBus.onTrace`, bus/trace.ts: published / received / completed per message);
 * - the engine call: `startChannel` of the runtime's engine, wrapped for the run (a timer around
 *   the call, nothing else changed);
 * - the RTMP session: `node:diagnostics_channel` `net.client.socket` hands over each client socket
 *   Node creates; the ones that connect to the sink's port are the publishers. Their `connect`,
 *   the server message carrying `NetStream.Publish.Start`, and their writes (a shadowing
 *   `write` that notes the time and passes the bytes on) are timed. On loopback a written byte is
 *   in nginx's socket buffer at once, so "first keyframe written" stands for the first frame at
 *   nginx; nginx's own stat (polled every 25 ms, coarser) confirms it received bytes.
 *
 * Cases: the destination alone (the feed in, no other destination: its start also starts the
 * passthrough mux, a cold FFmpeg), then with 1 and with `BENCH_START_LIVE_RUNNING` (default 100)
 * passthrough destinations running (the mux warm: the joiner gets the cached GOP, caught up, ADR
 * 0005). Each start begins with the bus drained (the previous stop's events handled).
 * `BENCH_START_LIVE_STARTS` (default 20) starts each (`BENCH_START_LIVE_CASES`, default `0,1,100`, the
 * numbers of destinations running); between two starts the destination is stopped
 * and (alone) the mux is gone. Targets: p50 ≤ 300 ms, p95 ≤ 800 ms in every case.
 *
 * `npm run bench` runs it on its own Fanout (`BENCH_START_LIVE=0` leaves it out); alone:
 * `flock /tmp/fanout-media.lock npx tsx test/bench/start-live.ts` (through tsx: its loader adds a
 * little CPU, the figures are within the noise of the compiled run's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import { loadavg } from 'node:os';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ingestBinary } from '../../shared/engines/local/engine/index.ts';
import type { BusTrace } from '../../shared/runtimes/local/bus.ts';
import { eventually, startTestRuntime, type TestRuntime } from '../support/local.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';
import { feedFile, loopedFeedCallerArgs } from './feed.ts';
import { cmdline, descendants } from './proc.ts';
import { tableLines } from './stats.ts';

const STARTS = Number(process.env.BENCH_START_LIVE_STARTS ?? 20);
const RUNNING = Number(process.env.BENCH_START_LIVE_RUNNING ?? 100);
const VERBOSE = process.env.BENCH_START_LIVE_VERBOSE === '1';
/** The cases, as numbers of destinations already running (0: the joiner alone, its start starts the mux). */
const CASES = (process.env.BENCH_START_LIVE_CASES ?? `0,1,${RUNNING}`)
  .split(',')
  .map(Number)
  .filter((n, i, all) => Number.isInteger(n) && n >= 0 && all.indexOf(n) === i)
  .sort((a, b) => a - b);
export const START_LIVE_TARGETS = { p50Ms: 300, p95Ms: 800 } as const;

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Dist {
  n: number;
  p50: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
}

function pct(v: number[], p: number): number | null {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function dist(values: (number | null | undefined)[]): Dist {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).map((x) => Math.round(x * 10) / 10);
  return { n: v.length, p50: pct(v, 50), p95: pct(v, 95), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null };
}

/** One start's instants, ms after the request left (null: not seen). */
export interface StartTimeline {
  published: number | null;
  answered: number;
  received: number | null;
  engineCalled: number | null;
  engineReturned: number | null;
  handlerDone: number | null;
  socketCreated: number | null;
  tcpConnected: number | null;
  publishStart: number | null;
  firstWrite: number | null;
  firstKeyframe: number | null;
  nginxBytes: number | null;
  statusRunning: number | null;
  /** Batches channelProvisionerInbox ran between the publication and this start's batch (queued ahead of it). */
  batchesAhead: number;
}

/** The hops: [label, from, to]. Each row is the difference of two instants of the same start. */
const HOPS: [string, keyof StartTimeline | 't0', keyof StartTimeline][] = [
  ['API: request → DestinationStartRequested published (auth, read, write + outbox)', 't0', 'published'],
  ['API: published → 202 answered (outbox cleared)', 'published', 'answered'],
  ['hop: published → channelProvisionerInbox received', 'published', 'received'],
  ['channel-provisioner: received → engine.startChannel (idempotency, record, describe)', 'received', 'engineCalled'],
  ['engine: startChannel call', 'engineCalled', 'engineReturned'],
  ['channel-provisioner: engine returned → batch done (idempotency record)', 'engineReturned', 'handlerDone'],
  ['engine: called → publisher socket created', 'engineCalled', 'socketCreated'],
  ['RTMP: TCP connect', 'socketCreated', 'tcpConnected'],
  ['RTMP: handshake + connect + createStream + publish', 'tcpConnected', 'publishStart'],
  ['RTMP: Publish.Start → first media written (headers)', 'publishStart', 'firstWrite'],
  ['RTMP: Publish.Start → first keyframe written', 'publishStart', 'firstKeyframe'],
];

const MILESTONES: [string, keyof StartTimeline][] = [
  ['DestinationStartRequested published', 'published'],
  ['202 answered', 'answered'],
  ['channel-provisioner received', 'received'],
  ['engine.startChannel called', 'engineCalled'],
  ['engine.startChannel returned', 'engineReturned'],
  ['RTMP socket created', 'socketCreated'],
  ['NetStream.Publish.Start', 'publishStart'],
  ['first keyframe written = live', 'firstKeyframe'],
  ['nginx stat: bytes in (25 ms polls)', 'nginxBytes'],
  ['status running (DestinationStatusChanged published)', 'statusRunning'],
];

export interface StartLiveCase {
  label: string;
  running: number;
  liveMs: Dist;
  milestones: Record<string, Dist>;
  hops: Record<string, Dist>;
  samples: number[];
  failures: string[];
  loadAverage: number[];
}

export interface StartLiveFigures {
  targets: typeof START_LIVE_TARGETS;
  starts: number;
  cases: StartLiveCase[];
  notes: string[];
  warnings: string[];
}

/** Watches the publishers' sockets (diagnostics_channel), the bus's trace and the engine call during one start. */
class StartProbe {
  t0 = 0;
  traces: BusTrace[] = [];
  engineCalled: number | null = null;
  engineReturned: number | null = null;
  sockets: { created: number; connected: number | null; publishStart: number | null; firstWrite: number | null; firstKeyframe: number | null }[] = [];
  /** DynamoDB commands of the start (BENCH_START_LIVE_VERBOSE): name, table, start and end. */
  calls: { name: string; table: string; start: number; end: number }[] = [];
  #offTrace: () => void;
  #onSocket = (msg: unknown): void => {
    const socket = (msg as { socket: Socket }).socket;
    const rec = { created: now(), connected: null as number | null, publishStart: null as number | null, firstWrite: null as number | null, firstKeyframe: null as number | null };
    socket.once('connect', () => {
      if (socket.remotePort !== this.sinkPort) return;
      rec.connected = now();
      this.sockets.push(rec);
      const onData = (d: Buffer): void => {
        if (rec.publishStart === null && d.includes('NetStream.Publish.Start')) {
          rec.publishStart = now();
          socket.off('data', onData);
        }
      };
      socket.on('data', onData);
      const write = socket.write;
      // Shadows the prototype's write on this one socket: notes when media leaves, passes it on.
      socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
        if (rec.publishStart !== null) {
          const t = now();
          rec.firstWrite ??= t;
          // A keyframe of the 1080p feed is tens of KiB; headers and metadata are a few hundred bytes.
          if (rec.firstKeyframe === null && (chunk as Buffer).length >= 8192) {
            rec.firstKeyframe = t;
            socket.write = write; // done: the socket's own write again
          }
        }
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as Socket['write'];
    });
  };

  constructor(
    private readonly rt: TestRuntime,
    private readonly sinkPort: number,
  ) {
    this.#offTrace = rt.bus.onTrace((t) => this.traces.push(t));
    dc.subscribe('net.client.socket', this.#onSocket);
    if (VERBOSE) {
      rt.infrastructure.dynamo.middlewareStack.add(
        (next, context) => async (args) => {
          const start = now();
          try {
            return await next(args);
          } finally {
            this.calls.push({ name: String(context.commandName), table: String((args.input as { TableName?: string }).TableName ?? ''), start, end: now() });
          }
        },
        { step: 'initialize', name: 'benchTiming' },
      );
    }
    const engine = rt.engine!;
    const start = engine.startChannel.bind(engine);
    engine.startChannel = async (channelId: string) => {
      this.engineCalled ??= now();
      try {
        return await start(channelId);
      } finally {
        this.engineReturned ??= now();
      }
    };
  }

  reset(): void {
    this.t0 = now();
    this.traces = [];
    this.engineCalled = null;
    this.engineReturned = null;
    this.sockets = [];
    this.calls = [];
  }

  /** Everything seen during the last start, in order (BENCH_START_LIVE_VERBOSE). */
  dump(log: (m: string) => void): void {
    const rows: [number, string][] = [];
    const r = (t: number): number => Math.round((t - this.t0) * 10) / 10;
    for (const t of this.traces) {
      if (t.type === 'published') rows.push([r(t.at), `published ${t.detailType} → ${t.messages.map((m) => m.queue).join(', ')}`]);
      else if (t.type === 'received') rows.push([r(t.at), `received by ${t.function} (${t.messageIds.length})`]);
      else rows.push([r(t.at), `completed ${t.function} (${t.messageIds.length}, ${Math.round(t.at - t.startedAt)} ms)`]);
    }
    for (const c of this.calls) rows.push([r(c.start), `dynamo ${c.name} ${c.table} ${Math.round((c.end - c.start) * 10) / 10} ms`]);
    if (this.engineCalled !== null) rows.push([r(this.engineCalled), 'engine.startChannel called']);
    if (this.engineReturned !== null) rows.push([r(this.engineReturned), 'engine.startChannel returned']);
    for (const s of this.sockets) {
      rows.push([r(s.created), 'socket created'], [r(s.connected ?? Number.NaN), 'tcp connected'], [r(s.publishStart ?? Number.NaN), 'Publish.Start'], [r(s.firstKeyframe ?? Number.NaN), 'first keyframe']);
    }
    for (const [t, m] of rows.sort((a, b) => a[0] - b[0])) log(`  ${String(t).padStart(7)} ms  ${m}`);
  }

  close(): void {
    this.#offTrace();
    dc.unsubscribe('net.client.socket', this.#onSocket);
    delete (this.rt.engine as unknown as Record<string, unknown>).startChannel;
  }

  /** The timeline of the start of `destinationId` since `reset()`. */
  timeline(destinationId: string, answered: number, nginxBytes: number | null): StartTimeline {
    const rel = (t: number | null | undefined): number | null => (t === null || t === undefined ? null : t - this.t0);
    const pub = this.traces.find(
      (t): t is Extract<BusTrace, { type: 'published' }> => t.type === 'published' && t.detailType === 'DestinationStartRequested' && (t.detail as { data?: { destinationId?: string } }).data?.destinationId === destinationId,
    );
    const msg = pub?.messages.find((m) => m.queue === 'ChannelProvisionerQueue')?.messageId;
    const recv = msg ? this.traces.find((t): t is Extract<BusTrace, { type: 'received' }> => t.type === 'received' && t.messageIds.includes(msg)) : undefined;
    const done = msg ? this.traces.find((t): t is Extract<BusTrace, { type: 'completed' }> => t.type === 'completed' && t.messageIds.includes(msg)) : undefined;
    const ahead = pub && recv ? this.traces.filter((t) => t.type === 'completed' && t.function === recv.function && t.at > pub.at && t.at <= recv.at).length : 0;
    const running = this.traces.find(
      (t) =>
        t.type === 'published' &&
        t.detailType === 'DestinationStatusChanged' &&
        (t.detail as { data?: { destinationId?: string; to?: string } }).data?.destinationId === destinationId &&
        (t.detail as { data?: { to?: string } }).data?.to === 'running',
    );
    const s = this.sockets[0];
    return {
      published: rel(pub?.at),
      answered,
      received: rel(recv?.at),
      engineCalled: rel(this.engineCalled),
      engineReturned: rel(this.engineReturned),
      handlerDone: rel(done?.at),
      socketCreated: rel(s?.created),
      tcpConnected: rel(s?.connected),
      publishStart: rel(s?.publishStart),
      firstWrite: rel(s?.firstWrite),
      firstKeyframe: rel(s?.firstKeyframe),
      nginxBytes,
      statusRunning: rel(running?.at),
      batchesAhead: ahead,
    };
  }
}

function tag(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? (m[1] ?? null) : null;
}

/** bytes_in of one stream of the sink's `live` application (0 if absent). */
async function sinkBytesOf(sink: NginxRtmp, key: string): Promise<number> {
  const xml = await sink.stat();
  const i = xml.indexOf(`<name>${key}</name>`);
  if (i < 0) return 0;
  return Number(tag(xml.slice(i, i + 2000), 'bytes_in') ?? 0);
}

/** Keys of `live` streams publishing with bytes in. */
async function liveKeys(sink: NginxRtmp): Promise<Set<string>> {
  const xml = await sink.stat();
  const out = new Set<string>();
  for (const st of xml.matchAll(/<stream>([\s\S]*?)<\/stream>/g)) {
    const s = st[1] ?? '';
    const name = tag(s, 'name');
    if (name && Number(tag(s, 'bytes_in') ?? 0) > 0 && /<publishing\/>/.test(s.replace(/<client>[\s\S]*?<\/client>/g, ''))) out.add(name);
  }
  return out;
}

interface Dest {
  id: string;
  key: string;
}

async function createDest(rt: TestRuntime, sink: NginxRtmp, name: string): Promise<Dest> {
  const key = `sl-${name}-${randomBytes(4).toString('hex')}`;
  const r = await rt.api('POST', '/api/destinations', { body: { name: `start-live ${name}`, platform: 'custom', rtmpUrl: sink.url('live'), streamKey: key, preset: 'passthrough' } });
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`);
  const d = { id: (r.json as { destinationId: string }).destinationId, key };
  await eventually(async () => (await rt.api('GET', `/api/destinations/${d.id}`)).json?.status === 'idle', { timeoutMs: 30_000, intervalMs: 50, what: `destination ${name} idle` });
  return d;
}

const statusOf = async (rt: TestRuntime, id: string): Promise<string | undefined> => (await rt.api('GET', `/api/destinations/${id}`)).json?.status as string | undefined;

/** The passthrough mux FFmpeg's pids (FLV to stdout, no encoder). */
function muxPids(): number[] {
  return descendants(process.pid)
    .filter((p) => p.comm === 'ffmpeg' && cmdline(p.pid).includes('pipe:1') && !cmdline(p.pid).includes('libx264') && cmdline(p.pid).includes('flv'))
    .map((p) => p.pid);
}

async function measureCase(o: { rt: TestRuntime; sink: NginxRtmp; probe: StartProbe; d: Dest; label: string; running: number; coldMux: boolean; log: (m: string) => void }): Promise<StartLiveCase> {
  const { rt, sink, probe, d } = o;
  const timelines: StartTimeline[] = [];
  const failures: string[] = [];
  for (let i = 0; i < STARTS; i++) {
    // Each start from a control plane at rest: the previous stop's events (status, notifier,
    // cost tracker) have been handled. Then a random pause, to decorrelate from the feed's 2 s GOP.
    await rt.bus.drain(15_000).catch(() => undefined);
    await sleep(randomInt(200, 900));
    try {
      probe.reset();
      const res = await rt.api('POST', `/api/destinations/${d.id}/start`);
      const answered = now() - probe.t0;
      if (res.status !== 202) throw new Error(`start: ${res.status} ${res.text}`);
      let nginxBytes: number | null = null;
      await eventually(
        async () => {
          if (nginxBytes === null && (await sinkBytesOf(sink, d.key)) > 0) nginxBytes = now() - probe.t0;
          return nginxBytes !== null && probe.sockets[0]?.firstKeyframe != null;
        },
        { timeoutMs: 20_000, intervalMs: 25, what: 'the first keyframe at nginx' },
      );
      // status running follows (two publisher samples of 250 ms): wait for it so the stop is legal.
      await eventually(async () => (await statusOf(rt, d.id)) === 'running', { timeoutMs: 20_000, intervalMs: 50, what: 'status running' });
      const tl = probe.timeline(d.id, answered, nginxBytes);
      timelines.push(tl);
      if (VERBOSE) probe.dump(o.log);
    } catch (err) {
      failures.push((err as Error).message);
      o.log(`${o.label} start ${i + 1} failed: ${(err as Error).message}`);
    }
    const stop = await rt.api('POST', `/api/destinations/${d.id}/stop`);
    if (stop.status !== 202 && stop.status !== 409) throw new Error(`stop: ${stop.status} ${stop.text}`);
    await eventually(async () => (await statusOf(rt, d.id)) === 'idle', { timeoutMs: 20_000, intervalMs: 50, what: 'status idle' });
    await eventually(async () => (await sinkBytesOf(sink, d.key)) === 0, { timeoutMs: 10_000, intervalMs: 50, what: 'publisher gone at nginx' });
    if (o.coldMux) await eventually(() => muxPids().length === 0, { timeoutMs: 10_000, intervalMs: 50, what: 'the mux gone' });
  }
  const live = timelines.map((t) => t.firstKeyframe);
  const hops = Object.fromEntries(HOPS.map(([label, from, to]) => [label, dist(timelines.map((t) => (t[to] === null ? null : (t[to] as number) - (from === 't0' ? 0 : ((t[from] as number | null) ?? Number.NaN)))))]));
  const milestones = Object.fromEntries(MILESTONES.map(([label, k]) => [label, dist(timelines.map((t) => t[k] as number | null))]));
  const c: StartLiveCase = {
    label: o.label,
    running: o.running,
    liveMs: dist(live),
    milestones,
    hops: { ...hops, 'batches of channelProvisionerInbox ahead of this one': dist(timelines.map((t) => t.batchesAhead)) },
    samples: live.map((x) => (x === null ? -1 : Math.round(x))),
    failures,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  o.log(`start-to-live ${o.label}: p50 ${c.liveMs.p50} ms, p95 ${c.liveMs.p95} ms over ${c.liveMs.n} (load ${c.loadAverage.join(' ')})`);
  return c;
}

export async function benchStartLive(log: (msg: string) => void): Promise<StartLiveFigures> {
  const sink = await NginxRtmp.start();
  const srtPort = await freeUdpPort();
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  let rt: TestRuntime | null = null;
  let sender: ChildProcess | null = null;
  let probe: StartProbe | null = null;
  const notes: string[] = [];
  const warnings: string[] = [];
  const cases: StartLiveCase[] = [];
  const all: Dest[] = [];
  try {
    const src = await feedFile();
    rt = await startTestRuntime({ FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_PORT: String(srtPort), FANOUT_SRT_PASSPHRASE: passphrase, FANOUT_LOG_LEVEL: 'WARN', FANOUT_RATE_LIMIT_PER_MINUTE: '1000000' }, { engine: 'local' });
    const caller = ingestBinary();
    if (caller.problem) throw new Error(caller.problem);
    sender = spawn(caller.path, loopedFeedCallerArgs(srtPort, src.path), { stdio: ['pipe', 'ignore', 'ignore'] });
    sender.stdin?.on('error', () => undefined);
    sender.stdin?.end(`${passphrase}\n`);
    const runtime = rt;
    await eventually(
      async () => {
        const h = (await runtime.api('GET', '/api/mediaconnect/inputs/health')).json as { connected?: boolean; bitrateInKbps?: number | null } | undefined;
        return h?.connected === true && (h.bitrateInKbps ?? 0) > 1000;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the SRT feed at Fanout' },
    );
    await sleep(2000);
    log('start-live: feed connected');
    probe = new StartProbe(rt, sink.rtmpPort);

    const d = await createDest(rt, sink, 'joiner');
    all.push(d);
    // The joiner alone, then with 1, then RUNNING passthrough destinations already running (the mux warm).
    const others: Dest[] = [];
    for (const n of CASES) {
      try {
        if (n === 0) {
          cases.push(await measureCase({ rt, sink, probe, d, label: 'alone (starts the mux)', running: 0, coldMux: true, log }));
          continue;
        }
        const more: Dest[] = [];
        for (let i = others.length; i < n; i += 10) more.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, j) => createDest(runtime, sink, `bg${i + j}`)))));
        all.push(...more);
        others.push(...more);
        for (const o of more) {
          const r = await rt.api('POST', `/api/destinations/${o.id}/start`);
          if (r.status !== 202) throw new Error(`start background: ${r.status} ${r.text}`);
        }
        let live = 0;
        await eventually(
          async () => {
            const keys = await liveKeys(sink);
            live = others.filter((o) => keys.has(o.key)).length;
            return live === others.length;
          },
          { timeoutMs: 180_000, intervalMs: 1000, what: `${n} destinations live` },
        ).catch((err: Error) => {
          throw new Error(`${err.message} (${live} are)`);
        });
        // Live at nginx is what the case needs; their status follows (two samples of each publisher).
        let running = 0;
        await eventually(
          async () => {
            running = (await Promise.all(others.map((o) => statusOf(runtime, o.id)))).filter((s) => s === 'running').length;
            return running === others.length;
          },
          { timeoutMs: 180_000, intervalMs: 2000, what: 'background running' },
        ).catch(() => notes.push(`start-live: ${running} of the ${others.length} background destinations showed running before the case (all were live at nginx)`));
        await sleep(5000);
        log(`start-live: ${n} passthrough destination(s) running`);
        cases.push(await measureCase({ rt, sink, probe, d, label: `with ${n} running`, running: n, coldMux: false, log }));
      } catch (err) {
        warnings.push(`start-to-live with ${n} running not measured: ${(err as Error).message}`);
        log(`start-live: case ${n} failed: ${(err as Error).message}`);
        break;
      }
    }
    const restarts = (await Promise.all(others.map(async (o) => (await runtime.api('GET', `/api/destinations/${o.id}/metrics`)).json?.metrics as { restarts?: number } | null))).reduce((s, x) => s + (x?.restarts ?? 0), 0);
    if (restarts > 0) notes.push(`the ${others.length} background destinations restarted ${restarts} time(s) during the run`);
    const keys = await liveKeys(sink);
    const down = others.filter((o) => !keys.has(o.key)).length;
    if (down > 0) warnings.push(`start-live: ${down} of the ${others.length} background destinations were not live at the end`);
    for (const c of cases) {
      if ((c.liveMs.p50 ?? Infinity) > START_LIVE_TARGETS.p50Ms) warnings.push(`start-to-live ${c.label}: p50 ${c.liveMs.p50} ms > target ${START_LIVE_TARGETS.p50Ms} ms`);
      if ((c.liveMs.p95 ?? Infinity) > START_LIVE_TARGETS.p95Ms) warnings.push(`start-to-live ${c.label}: p95 ${c.liveMs.p95} ms > target ${START_LIVE_TARGETS.p95Ms} ms`);
      if (c.failures.length > 0) warnings.push(`start-to-live ${c.label}: ${c.failures.length} start(s) failed: ${c.failures[0]}`);
    }
    return { targets: START_LIVE_TARGETS, starts: STARTS, cases, notes, warnings };
  } finally {
    probe?.close();
    if (rt) for (const d of all) await rt.api('DELETE', `/api/destinations/${d.id}`).catch(() => undefined);
    sender?.kill('SIGTERM');
    await rt?.close().catch(() => undefined);
    await sink.close().catch(() => undefined);
  }
}

/** The tables `npm run bench` prints. */
export function startLiveReport(f: StartLiveFigures): string[] {
  const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);
  const cell = (x: Dist | undefined): string => (x ? `${ms(x.p50)} / ${ms(x.p95)}` : '-');
  const verdict = (c: StartLiveCase): string =>
    `p50 <= ${f.targets.p50Ms} ms ${(c.liveMs.p50 ?? Infinity) <= f.targets.p50Ms ? 'met' : 'MISSED'}, p95 <= ${f.targets.p95Ms} ms ${(c.liveMs.p95 ?? Infinity) <= f.targets.p95Ms ? 'met' : 'MISSED'}`;
  const heads = f.cases.map((c) => c.label);
  return [
    ...tableLines(
      `Start-to-live, passthrough joining a running source (POST /start → first keyframe written to the loopback nginx-rtmp; ${f.starts} starts each; p50 / p95)`,
      ['case', 'n', 'p50', 'p95', 'min..max', 'target'],
      f.cases.map((c) => [c.label, String(c.liveMs.n), ms(c.liveMs.p50), ms(c.liveMs.p95), `${ms(c.liveMs.min)}..${ms(c.liveMs.max)}`, verdict(c)]),
    ),
    ...tableLines(
      'Start-to-live, milestones (ms after the request left, p50 / p95)',
      ['milestone', ...heads],
      MILESTONES.map(([label]) => [label, ...f.cases.map((c) => cell(c.milestones[label]))]),
    ),
    ...tableLines(
      'Start-to-live, each hop (its own p50 / p95: hops overlap, they do not add up exactly)',
      ['hop', ...heads],
      [...HOPS.map(([label]) => label), 'batches of channelProvisionerInbox ahead of this one'].map((label) => [label, ...f.cases.map((c) => cell(c.hops[label]))]),
    ),
    `Load average at the end of each case: ${f.cases.map((c) => `${c.label} ${c.loadAverage.join(' ')}`).join('; ')}`,
  ];
}

if (process.argv[1]?.endsWith('test/bench/start-live.ts')) {
  const t0 = performance.now();
  const figures = await benchStartLive((m) => console.log(`[start-live ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}`));
  console.log(startLiveReport(figures).join('\n'));
  for (const n of figures.notes) console.log(`NOTE: ${n}`);
  for (const w of figures.warnings) console.log(`WARNING: ${w}`);
  console.log(`BENCH_JSON ${JSON.stringify({ startLive: figures })}`);
  process.exit(0);
}
