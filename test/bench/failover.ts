/**
 * The failover gap (issue 15, ADR 0023), measured where a platform sees it: two test encoders feed
 * the main and the backup SRT inputs, `BENCH_FAILOVER_PASSTHROUGH` (default 3) passthrough
 * destinations and one transcoded one publish to the loopback nginx-rtmp, and one receiver per
 * destination reads its stream back from nginx and timestamps every decoded frame in wall time.
 *
 *   main encoder   ─ SRT ─► Fanout main input   ─┐                ┌─ passthrough ×3 ─► nginx ─► receivers
 *   backup encoder ─ SRT ─► Fanout backup input ─┴─ on air (hub) ─┤                              (ffmpeg, one
 *                                                                 └─ 180p15 encoder ─► nginx ─►  16×9 grey frame
 *                                                                                                per frame)
 *
 * Each of `BENCH_FAILOVER_KILLS` (default 5) rounds: the main on air, every receiver getting
 * frames; the main encoder is SIGKILLed (its SRT caller: no goodbye, media just stops); the engine
 * sees the loss after `inputLossThresholdMs` (default 1000 ms) and puts the backup on air; the
 * main encoder is started again, and after `errorClearTimeMs` (`BENCH_FAILOVER_CLEAR_MS`, default
 * 5000 ms here, 10 s in production) clean the engine reverts to it.
 *
 * Figures, per destination and kill:
 * - **gap**: the longest time between two frames arriving at the receiver around the kill (the
 *   last frame of the main to the first of the backup), and **beyond detection** = gap − the
 *   threshold (what the switch itself costs); p50/p95 over the kills, per kind of destination.
 * - where it goes: kill → the engine's switch (`lastSwitch.at` in the inputs health), switch →
 *   first new frame at the receiver; and the burst: frames that arrived in the 500 ms after the
 *   first new frame (a live 30 fps stream brings 15).
 * - **revert gap**: the longest time between two frames around the switch back to the main (both
 *   inputs live: make-before-break, no detection time).
 * - **reconnects**: a destination whose nginx client id changed, or which stopped publishing,
 *   between the start and the end of a round. Receivers that ended (and were started again) are
 *   counted too: a receiver only ends when its stream did.
 * - **unexpected switches**: switches in a round besides the kill's and the revert (the engine
 *   saw an input lost that the bench did not kill); the next round waits for the main on air.
 * - the floor: the longest time between two frames in a quiet 3 s before each kill (the jitter
 *   of the receivers themselves).
 *
 * Targets: gap beyond detection ≤ 500 ms (p95, every kind), revert gap ≤ 500 ms (p95), 0
 * reconnects.
 *
 * `npm run bench` runs it (`BENCH_FAILOVER=0` leaves it out, `-- --failover` runs it alone); alone
 * through tsx: `flock /tmp/fanout-media.lock npx tsx test/bench/failover.ts`. About 2 minutes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { spawnTestSource } from '../../shared/engines/local/index.ts';
import { FEED_PICTURE, startTestFeed, type TestFeed } from '../support/feed.ts';
import { eventually } from '../support/local.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';
import { type Dist, dist } from './start-live.ts';
import { tableLines } from './stats.ts';

const KILLS = Number(process.env.BENCH_FAILOVER_KILLS ?? 5);
const PASSTHROUGH = Number(process.env.BENCH_FAILOVER_PASSTHROUGH ?? 3);
const THRESHOLD_MS = Number(process.env.BENCH_FAILOVER_THRESHOLD_MS ?? 1000);
const CLEAR_MS = Number(process.env.BENCH_FAILOVER_CLEAR_MS ?? 5000);
const BITRATE = 1_200_000;
export const FAILOVER_TARGETS = { beyondDetectionP95Ms: 500, revertGapP95Ms: 500, reconnects: 0 } as const;
/** The transcoded destination's preset: small, so that two encoders (old and new) fit two cores. */
const PRESET = { presetId: 'bench-failover-180p15', name: '180p15', platform: 'custom', video: { codec: 'h264', resolution: '320x180', frameRate: 15, bitrate: 300_000 }, audio: { codec: 'aac', bitrate: 64_000 } };
const W = 16;
const H = 9;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Wall time in ms with sub-ms precision: comparable with the engine's `lastSwitch.at`. */
const wall = (): number => performance.timeOrigin + performance.now();

/**
 * One receiver: `ffmpeg -i rtmp://… → 16×9 grey rawvideo`, one 144-byte frame per decoded video
 * frame, each timestamped as it arrives. Started again if it ends (counted: its stream ended).
 */
class FrameReceiver {
  #child: ChildProcess | null = null;
  #pending = Buffer.alloc(0);
  #stopped = false;
  /** Arrival (wall ms) of every frame. */
  readonly arrivals: number[] = [];
  restarts = 0;

  constructor(
    readonly name: string,
    readonly url: string,
  ) {
    this.#start();
  }

  #start(): void {
    // prettier-ignore
    const child = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-fflags',
        'nobuffer',
        '-threads',
        '1',
        '-i',
        this.url,
        '-an',
        '-vf',
        `scale=${W}:${H}:flags=area,format=gray`,
        // Every decoded frame once (no frame-rate conversion: a gap stays a gap).
        '-fps_mode',
        'passthrough',
        '-f',
        'rawvideo',
        '-flush_packets',
        '1',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'], detached: true },
    );
    this.#child = child;
    this.#pending = Buffer.alloc(0);
    child.stdout!.on('data', (b: Buffer) => {
      const at = wall();
      let buf = this.#pending.length ? Buffer.concat([this.#pending, b]) : b;
      while (buf.length >= W * H) {
        this.arrivals.push(at);
        buf = buf.subarray(W * H);
      }
      this.#pending = Buffer.from(buf);
    });
    child.once('exit', () => {
      if (this.#stopped) return;
      this.restarts += 1;
      setTimeout(() => !this.#stopped && this.#start(), 200);
    });
  }

  /** Frames that arrived in [from, to). */
  between(from: number, to: number): number[] {
    return this.arrivals.filter((t) => t >= from && t < to);
  }

  /** The longest interval between two consecutive frames whose later frame is in (from, to]: [earlier, later]. */
  longestGap(from: number, to: number): [number, number] | null {
    let best: [number, number] | null = null;
    for (let i = 1; i < this.arrivals.length; i++) {
      const a = this.arrivals[i - 1]!;
      const b = this.arrivals[i]!;
      if (b <= from || b > to) continue;
      if (!best || b - a > best[1] - best[0]) best = [a, b];
    }
    return best;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#child?.pid) {
      try {
        process.kill(-this.#child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

type Kind = 'passthrough' | 'transcode';

export interface FailoverKill {
  /** Kill → the engine's switch to the backup (its `lastSwitch.at`). */
  detectMs: number;
  /** Per destination. */
  destinations: { name: string; kind: Kind; gapMs: number | null; beyondDetectionMs: number | null; switchToFirstFrameMs: number | null; burstFrames: number; revertGapMs: number | null; floorMs: number | null }[];
  /** Main connected again → the engine's switch back. */
  revertAfterConnectMs: number | null;
  reconnects: number;
  /** Switches in the round besides the kill's and the revert (an input lost that the bench did not kill). */
  unexpectedSwitches: number;
}

export interface FailoverFigures {
  kills: number;
  passthroughDestinations: number;
  settings: { inputLossThresholdMs: number; errorClearTimeMs: number };
  loadAverage: { before: number[]; after: number[] };
  /** Over every kill and destination of the kind. */
  gapMs: Record<Kind, Dist>;
  beyondDetectionMs: Record<Kind, Dist>;
  switchToFirstFrameMs: Record<Kind, Dist>;
  burstFrames: Record<Kind, Dist>;
  revertGapMs: Record<Kind, Dist>;
  floorMs: Record<Kind, Dist>;
  detectMs: Dist;
  reconnects: number;
  unexpectedSwitches: number;
  receiverRestarts: number;
  rounds: FailoverKill[];
  targets: typeof FAILOVER_TARGETS;
  warnings: string[];
}

type Health = {
  active: string | null;
  lastSwitch: { from: string | null; to: string; reason: string; at: string } | null;
  inputs: Record<'main' | 'backup', { connected: boolean; connectedSince: string | null }>;
};

export async function benchFailover(log: (msg: string) => void): Promise<FailoverFigures> {
  const sink = await NginxRtmp.start();
  const passphrase = `bench-${randomBytes(12).toString('hex')}`;
  const backupPort = await freeUdpPort();
  const loadBefore = loadavg().map((v) => Math.round(v * 100) / 100);
  let feed: TestFeed | null = null;
  let backup: ChildProcess | null = null;
  const receivers: { r: FrameReceiver; kind: Kind; key: string }[] = [];
  try {
    feed = await startTestFeed({
      passphrase,
      bitrate: BITRATE,
      env: { FANOUT_SRT_BACKUP_PORT: String(backupPort), FANOUT_RATE_LIMIT_PER_MINUTE: '1000000', FANOUT_LOG_LEVEL: 'WARN' },
    });
    const { rt } = feed;
    let main: ChildProcess = feed.encoder;
    const health = async (): Promise<Health> => (await rt.api('GET', '/api/mediaconnect/inputs/health')).json as Health;
    const put = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: { mode: 'automatic', inputLossThresholdMs: THRESHOLD_MS, errorClearTimeMs: CLEAR_MS, slateTimeoutMs: 300_000 } });
    if (put.status !== 200) throw new Error(`PUT failover: ${put.status} ${put.text}`);
    const pr = await rt.api('POST', '/api/admin/presets', { body: PRESET });
    if (pr.status !== 201) throw new Error(`preset: ${pr.status} ${pr.text}`);

    const tag = randomBytes(3).toString('hex');
    const wanted: { name: string; kind: Kind; key: string; preset: string }[] = [
      ...Array.from({ length: PASSTHROUGH }, (_, i) => ({ name: `pt${i + 1}`, kind: 'passthrough' as const, key: `fo-pt${i + 1}-${tag}`, preset: 'passthrough' })),
      { name: 'tc', kind: 'transcode', key: `fo-tc-${tag}`, preset: PRESET.presetId },
    ];
    const ids: string[] = [];
    for (const d of wanted) {
      const r = await rt.api('POST', '/api/destinations', { body: { name: `failover ${d.name}`, platform: 'custom', rtmpUrl: sink.url('live'), streamKey: d.key, preset: d.preset } });
      if (r.status !== 201) throw new Error(`create ${d.name}: ${r.status} ${r.text}`);
      ids.push((r.json as { destinationId: string }).destinationId);
    }
    for (const id of ids) await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json?.status === 'idle', { timeoutMs: 20_000, what: 'destination idle' });
    for (const id of ids) if ((await rt.api('POST', `/api/destinations/${id}/start`)).status !== 202) throw new Error('start');
    for (const id of ids) await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json?.status === 'running', { timeoutMs: 30_000, what: 'destination running' });
    await eventually(async () => (await Promise.all(wanted.map((d) => sink.hasPublisher(d.key)))).every((p) => p?.publishing), { timeoutMs: 30_000, what: 'every stream at nginx' });

    const spawnBackup = (): ChildProcess => {
      const c = spawnTestSource({ host: '127.0.0.1', port: backupPort, passphrase, keyLength: 16, ...FEED_PICTURE, bitrate: BITRATE, detached: false });
      c.stdout!.resume();
      c.stderr!.resume();
      return c;
    };
    backup = spawnBackup();
    await eventually(
      async () => {
        if (backup && (backup.exitCode !== null || backup.signalCode !== null)) backup = spawnBackup();
        return (await health()).inputs.backup.connected;
      },
      { timeoutMs: 20_000, what: 'the backup encoder connected' },
    );
    for (const d of wanted) receivers.push({ r: new FrameReceiver(d.name, `${sink.url('live')}/${d.key}`), kind: d.kind, key: d.key });
    // Warm-up: every receiver decoding, the backup's hub holding a GOP.
    await eventually(() => receivers.every(({ r }) => r.between(wall() - 1000, wall()).length >= 10), { timeoutMs: 20_000, what: 'frames at every receiver' });
    await sleep(3000);
    log(`failover: ${wanted.length} destinations live (${PASSTHROUGH} passthrough, 1 transcoded), backup connected; ${KILLS} kills`);

    const clientIds = async (): Promise<(number | null)[]> => Promise.all(receivers.map(async ({ key }) => ((await sink.hasPublisher(key))?.publishing ? ((await sink.hasPublisher(key))?.clientId ?? null) : null)));
    const kill = async (c: ChildProcess): Promise<void> => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    };
    const rounds: FailoverKill[] = [];
    const switches = () => rt.published.filter((e) => e.DetailType === 'InputSwitched').map((e) => (JSON.parse(e.Detail) as { data: { from: string | null; to: string; reason: string; switchedAt: string } }).data);
    for (let k = 0; k < KILLS; k++) {
      // The main on air (after an unexpected switch, once the engine has reverted again).
      await eventually(async () => (await health()).active === 'main', { timeoutMs: CLEAR_MS + 30_000, what: `the main on air before round ${k + 1}` });
      const ids0 = await clientIds();
      const restarts0 = receivers.map(({ r }) => r.restarts);
      const quietFrom = wall() - 3000;
      const tKill = wall();
      await kill(main);
      const sw = await eventually(
        async () => {
          const h = await health();
          return h.active === 'backup' && h.lastSwitch?.to === 'backup' ? h.lastSwitch : null;
        },
        { timeoutMs: 10_000, intervalMs: 20, what: 'the backup on air' },
      );
      const switchAt = Date.parse(sw.at);
      await sleep(4000);
      const failover = receivers.map(({ r }) => {
        const g = r.longestGap(tKill, switchAt + 4000);
        const floor = r.longestGap(quietFrom, tKill);
        return { gap: g, floorMs: floor ? floor[1] - floor[0] : null, burst: g ? r.between(g[1], g[1] + 500).length : 0 };
      });
      // The main comes back; the engine reverts after the clean time.
      main = feed.spawnSource();
      const connectedAt = await eventually(
        async () => {
          if (main.exitCode !== null || main.signalCode !== null) main = feed!.spawnSource();
          const h = await health();
          return h.inputs.main.connected && h.inputs.main.connectedSince ? Date.parse(h.inputs.main.connectedSince) : null;
        },
        { timeoutMs: 20_000, what: 'the main encoder back' },
      );
      const back = await eventually(
        async () => {
          const h = await health();
          return h.active === 'main' && h.lastSwitch?.to === 'main' ? h.lastSwitch : null;
        },
        { timeoutMs: CLEAR_MS + 20_000, intervalMs: 50, what: 'the main on air again' },
      );
      const revertAt = Date.parse(back.at);
      await sleep(4000);
      const ids1 = await clientIds();
      let reconnects = 0;
      const destinations = receivers.map(({ r, kind }, i) => {
        const f = failover[i]!;
        const rev = r.longestGap(revertAt - 1000, revertAt + 4000);
        if (ids0[i] === null || ids1[i] === null || ids0[i] !== ids1[i] || r.restarts !== restarts0[i]) reconnects += 1;
        const gapMs = f.gap ? Math.round(f.gap[1] - f.gap[0]) : null;
        return {
          name: r.name,
          kind,
          gapMs,
          beyondDetectionMs: gapMs === null ? null : gapMs - THRESHOLD_MS,
          switchToFirstFrameMs: f.gap ? Math.round(f.gap[1] - switchAt) : null,
          burstFrames: f.burst,
          revertGapMs: rev ? Math.round(rev[1] - rev[0]) : null,
          floorMs: f.floorMs === null ? null : Math.round(f.floorMs),
        };
      });
      // The round's switches (by when the engine made them: an event of the round before may be
      // published late): the kill's main → backup and the revert; any other is the engine's own.
      const mine = switches().filter((e) => Date.parse(e.switchedAt) >= tKill);
      const extra = mine.filter((e) => Date.parse(e.switchedAt) !== switchAt && Date.parse(e.switchedAt) !== revertAt);
      for (const e of extra) log(`failover round ${k + 1}: unexpected switch ${e.from} → ${e.to} (${e.reason}) at ${e.switchedAt}, ${Math.round(Date.parse(e.switchedAt) - revertAt)} ms after the revert`);
      const round: FailoverKill = { detectMs: Math.round(switchAt - tKill), destinations, revertAfterConnectMs: Math.round(revertAt - connectedAt), reconnects, unexpectedSwitches: extra.length };
      rounds.push(round);
      const cell = (d: (typeof destinations)[number]): string => `${d.name} ${d.gapMs ?? '-'}/${d.revertGapMs ?? '-'}`;
      log(`failover kill ${k + 1}/${KILLS}: switch ${round.detectMs} ms after the kill; gap/revert gap (ms) ${destinations.map(cell).join(', ')}; burst ${destinations.map((d) => d.burstFrames).join('/')} frames; reconnects ${reconnects}`);
      await sleep(1000);
    }

    const by = (kind: Kind, f: (d: FailoverKill['destinations'][number]) => number | null): Dist => dist(rounds.flatMap((r) => r.destinations.filter((d) => d.kind === kind).map(f)));
    const per = (f: (d: FailoverKill['destinations'][number]) => number | null): Record<Kind, Dist> => ({ passthrough: by('passthrough', f), transcode: by('transcode', f) });
    const figures: FailoverFigures = {
      kills: rounds.length,
      passthroughDestinations: PASSTHROUGH,
      settings: { inputLossThresholdMs: THRESHOLD_MS, errorClearTimeMs: CLEAR_MS },
      loadAverage: { before: loadBefore, after: loadavg().map((v) => Math.round(v * 100) / 100) },
      gapMs: per((d) => d.gapMs),
      beyondDetectionMs: per((d) => d.beyondDetectionMs),
      switchToFirstFrameMs: per((d) => d.switchToFirstFrameMs),
      burstFrames: per((d) => d.burstFrames),
      revertGapMs: per((d) => d.revertGapMs),
      floorMs: per((d) => d.floorMs),
      detectMs: dist(rounds.map((r) => r.detectMs)),
      reconnects: rounds.reduce((s, r) => s + r.reconnects, 0),
      unexpectedSwitches: rounds.reduce((s, r) => s + r.unexpectedSwitches, 0),
      receiverRestarts: receivers.reduce((s, { r }) => s + r.restarts, 0),
      rounds,
      targets: FAILOVER_TARGETS,
      warnings: [],
    };
    for (const kind of ['passthrough', 'transcode'] as const) {
      const b = figures.beyondDetectionMs[kind];
      if (b.p95 === null) figures.warnings.push(`failover ${kind}: no gap measured`);
      else if (b.p95 > FAILOVER_TARGETS.beyondDetectionP95Ms)
        figures.warnings.push(`failover ${kind}: gap beyond detection p95 ${b.p95} ms > target ${FAILOVER_TARGETS.beyondDetectionP95Ms} ms (gap p95 ${figures.gapMs[kind].p95} ms, threshold ${THRESHOLD_MS} ms)`);
      const rv = figures.revertGapMs[kind];
      if (rv.p95 !== null && rv.p95 > FAILOVER_TARGETS.revertGapP95Ms) figures.warnings.push(`failover ${kind}: revert gap p95 ${rv.p95} ms > target ${FAILOVER_TARGETS.revertGapP95Ms} ms`);
    }
    if (figures.unexpectedSwitches > 0) figures.warnings.push(`failover: ${figures.unexpectedSwitches} switch(es) the bench did not cause (an input seen lost that was not killed: see the log)`);
    if (figures.reconnects > 0) figures.warnings.push(`failover: ${figures.reconnects} reconnect(s) at nginx (client id changed, stream gone, or a receiver's stream ended) > target 0`);
    return figures;
  } finally {
    for (const { r } of receivers) r.stop();
    if (backup && backup.exitCode === null) backup.kill('SIGKILL');
    await feed?.close().catch(() => undefined);
    await sink.close().catch(() => undefined);
  }
}

/** The table `npm run bench` prints. */
export function failoverReport(f: FailoverFigures): string[] {
  const ms = (v: number | null): string => (v === null ? '-' : `${v} ms`);
  const cell = (d: Dist, unit = ms): string => `${unit(d.p50)} / ${unit(d.p95)} (n ${d.n}, max ${unit(d.max)})`;
  const n = (v: number | null): string => (v === null ? '-' : String(v));
  const verdict = (ok: boolean | null): string => (ok === null ? '-' : ok ? 'met' : 'MISSED');
  const rows: string[][] = [['kill → engine switch (detection)', cell(f.detectMs), `threshold ${f.settings.inputLossThresholdMs} ms`]];
  for (const kind of ['passthrough', 'transcode'] as const) {
    const label = kind === 'passthrough' ? `passthrough ×${f.passthroughDestinations}` : 'transcoded (180p15)';
    const b = f.beyondDetectionMs[kind];
    const rv = f.revertGapMs[kind];
    rows.push(
      [`${label}: gap without new video`, cell(f.gapMs[kind]), ''],
      [`${label}: gap beyond detection`, cell(b), `p95 <= ${f.targets.beyondDetectionP95Ms} ms: ${verdict(b.p95 === null ? null : b.p95 <= f.targets.beyondDetectionP95Ms)}`],
      [`${label}: engine switch → first new frame`, cell(f.switchToFirstFrameMs[kind]), ''],
      [`${label}: frames in the 500 ms after it`, cell(f.burstFrames[kind], n), 'live: 15 at 30 fps, 8 at 15'],
      [`${label}: revert gap (both inputs live)`, cell(rv), `p95 <= ${f.targets.revertGapP95Ms} ms: ${verdict(rv.p95 === null ? null : rv.p95 <= f.targets.revertGapP95Ms)}`],
      [`${label}: floor (longest frame interval, quiet 3 s)`, cell(f.floorMs[kind]), ''],
    );
  }
  rows.push(['reconnects (nginx client id, stream, receivers)', String(f.reconnects), `0: ${verdict(f.reconnects === 0)}`]);
  rows.push(['switches the bench did not cause', String(f.unexpectedSwitches), '0']);
  return tableLines(
    `Failover gap: main encoder killed ${f.kills} times (backup live, automatic, clean time ${f.settings.errorClearTimeMs} ms), ${f.passthroughDestinations} passthrough + 1 transcoded destination at nginx; load average ${f.loadAverage.before.join(' ')} → ${f.loadAverage.after.join(' ')}`,
    ['measure', 'p50 / p95', 'target'],
    rows,
  );
}

if (process.argv[1]?.endsWith('test/bench/failover.ts')) {
  const t0 = performance.now();
  const figures = await benchFailover((m) => console.log(`[failover ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}`));
  console.log(failoverReport(figures).join('\n'));
  for (const w of figures.warnings) console.log(`WARNING: ${w}`);
  console.log(`BENCH_JSON ${JSON.stringify({ failover: figures })}`);
  process.exit(0);
}
