/**
 * The source grace of the local engine, with real media on loopback (an FFmpeg test source over
 * SRT, the engine's passthrough mux and a shared x264 encoder, a private nginx-rtmp): when a
 * source FFmpeg ends, its publishers stay connected for `sourceGraceMs` waiting for its next run;
 * past that they are closed with INPUT_STALLED and re-added when media returns.
 *
 *   within the grace   mux SIGKILLed ─ backoff ─ new mux running (< GRACE_MS): same RTMP connection
 *   past the grace     feed stops ─ stall watchdog ends mux and encoder (STALL_MS) ─ GRACE_MS ─
 *                      publishers closed, INPUT_STALLED; the new runs wait for input
 *   media returns      feed back ─ mux and encoder running ─ publishers re-added ─ alert CLEARED
 *   platform drop      as "past the grace", but the platform drops the publishers during the
 *                      grace: INPUT_STALLED all the same once it is over, then back with the media
 *
 * The steps share one engine and run in order. Every check polls with a deadline.
 *
 * @media FFmpeg, srt-live-transmit, nginx-rtmp (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeUdpPort, NginxRtmp } from '../../../../test/support/nginx-rtmp.ts';
import { Secret } from '../../../secrets/secret.ts';
import type { ChannelSpec, EncodeSpec, NativeEngineEvent } from '../../port/ports.ts';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { isAlive } from '../process/proc.ts';
import { type EngineProcess, LocalMediaEngine } from './local-media-engine.ts';
import { alertsFor, exited, killGroup, mediaProcessesInProc, nativeSchemaProblems, startTestSource, statesFor, tcpConnectionsTo } from './testing.ts';
import { DEFAULT_FAILOVER } from '../../port/failover.ts';

const PASSPHRASE = 'grace-horse-SECRETPASS-42';
const GRACE_MS = 2000;
/** How soon the stall watchdog ends a source whose feed stopped. */
const STALL_MS = 1500;
/** A source restart (backoff + spawn + probe of the replayed GOP) takes well under GRACE_MS. */
const RETRY = { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 2000, resetAfterStableMs: 1000 };
const P240: EncodeSpec = {
  video: { width: 320, height: 240, frameRate: 15, bitrate: 300_000, profile: 'main', level: 'auto', keyframeInterval: 2 },
  audio: { bitrate: 64_000, sampleRate: 44_100, channels: 2 },
};

let nginx: NginxRtmp;
let engine: LocalMediaEngine;
let dataDir: string;
let srtPort: number;
let feed: ChildProcess | null = null;
const events: NativeEngineEvent[] = [];
/** Every pid of an engine process seen: none may survive close(). */
const seenPids = new Set<number>();

interface Dest {
  name: string;
  key: string;
  encode: EncodeSpec | null;
  /** `processes()` name of its source. */
  source: (p: EngineProcess) => boolean;
  /** How the grace's INPUT_STALLED names the source. */
  sourceLabel: string;
  id: string;
}
const pass: Dest = { name: 'grace-pass', key: 'gpass-SECRETKEY-aaaa1111', encode: null, source: (p) => p.name === 'mux-passthrough', sourceLabel: 'passthrough mux', id: '' };
const tx: Dest = { name: 'grace-tx', key: 'gtx-SECRETKEY-bbbb2222', encode: P240, source: (p) => p.name.startsWith('encoder-'), sourceLabel: 'shared encoder', id: '' };
const DESTS = [pass, tx];

function procs(): EngineProcess[] {
  const list = engine.processes();
  for (const p of list) {
    if (p.pid) seenPids.add(p.pid);
  }
  return list;
}
const sourceOf = (d: Dest): EngineProcess | undefined => procs().find((p) => p.role === 'encoder' && d.source(p));
const publisherOf = (d: Dest): EngineProcess | undefined => procs().find((p) => p.role === 'pusher' && p.channelIds.includes(d.id));

/** This test's ffmpeg and fanout-srt processes (children of this process, or by what their command lines mention). */
const mediaProcesses = (): number[] => mediaProcessesInProc([dataDir, `:${srtPort}?`]);

function startFeed(): ChildProcess {
  return startTestSource({ host: '127.0.0.1', port: srtPort, passphrase: PASSPHRASE, keyLength: 16, width: 480, height: 270, fps: 25, bitrate: 600_000 });
}

function spec(d: Dest, outputArn: string): ChannelSpec {
  return { destinationId: d.name, name: d.name, outputArn, presetId: d.encode ? 'p240' : 'passthrough', encode: d.encode, target: { url: nginx.url('live'), streamKey: new Secret(d.key) } };
}

/** Publishing at nginx on a connection, RUNNING without error, its publisher entry `running`. */
async function publishingCleanly(d: Dest): Promise<number | null | false> {
  const pub = await nginx.hasPublisher(d.key);
  const desc = await engine.describeChannel(d.id);
  return pub?.publishing === true && desc?.state === 'RUNNING' && desc.error === null && publisherOf(d)?.state === 'running' && pub.clientId;
}

/** Stops the contribution cleanly (SRT shutdown): no media reaches the flow hub any more. */
async function stopFeed(): Promise<void> {
  const old = feed;
  assert.ok(old?.pid);
  process.kill(-old.pid, 'SIGINT');
  await exited(old);
  feed = null;
}

/** Waits until the stall watchdog has ended the run `pid` of the channel's source; returns when. */
function sourceEnded(d: Dest, pid: number | null | undefined): Promise<number> {
  return waitFor(`${d.sourceLabel} ended`, () => sourceOf(d)?.pid !== pid && Date.now(), { timeoutMs: STALL_MS + 5000, intervalMs: 20 });
}

/**
 * Waits until the channel publishes again with its alert cleared, and bytes keep arriving at
 * nginx on that connection; returns the connection.
 */
async function publishingAgain(d: Dest): Promise<{ clientId: number | null; bytesIn: number }> {
  const conn = await waitFor(`${d.name} publishing again`, async () => (await publishingCleanly(d)) && alertsFor(events, d.id).at(-1)?.detail['alarm_state'] === 'CLEARED' && (await nginx.hasPublisher(d.key)), {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
  await waitFor(`${d.name} bytes growing at nginx`, async () => ((await nginx.hasPublisher(d.key))?.bytesIn ?? 0) > conn.bytesIn + 20_000, { timeoutMs: 8000, intervalMs: 50 });
  assert.equal((await nginx.hasPublisher(d.key))?.clientId, conn.clientId, `${d.name}: one connection`);
  return conn;
}

describe('LocalMediaEngine source grace, on loopback', { timeout: 60_000 }, () => {
  before(async () => {
    nginx = await NginxRtmp.start();
    dataDir = mkdtempSync(join(tmpdir(), 'fanout-grace-'));
    srtPort = await freeUdpPort();
    engine = await LocalMediaEngine.create({
      dataDir,
      srtPort,
      srtPassphrase: new Secret(PASSPHRASE),
      srtKeyLength: 16,
      sink: (e) => events.push(e),
      x264Preset: 'ultrafast',
      retryPolicy: RETRY,
      // No slate (slateTimeoutMs 0): these tests are about the outputs without media (the
      // sources' grace, INPUT_STALLED, the HLS stopping); the slate has test/failover-media.test.ts.
      failover: { ...DEFAULT_FAILOVER, slateTimeoutMs: 0 },
      sourceGraceMs: GRACE_MS,
      stallTimeoutMs: STALL_MS,
      startTimeoutMs: 15_000,
      stopGraceMs: 2000,
    });
    await engine.startFlow();
    feed = startFeed();
    for (const d of DESTS) {
      const { outputArn } = await engine.addOutput(d.name);
      d.id = (await engine.createChannel(spec(d, outputArn))).channelId;
      await engine.startChannel(d.id);
    }
    for (const d of DESTS) await waitFor(`${d.name} publishing`, () => publishingCleanly(d), { timeoutMs: 15_000, intervalMs: 50 });
  });

  after(async () => {
    killGroup(feed);
    await engine?.close();
    await nginx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a source back within the grace keeps the RTMP connection: same nginx client, no INPUT_STALLED, no re-add', async () => {
    const victim = sourceOf(pass)?.pid;
    assert.ok(victim);
    const conn = await nginx.hasPublisher(pass.key);
    assert.ok(conn?.clientId);
    const restarts = engine.channelMetrics(pass.id)?.restarts;
    const mark = events.length;
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'a new mux running within the grace',
      () => {
        const m = sourceOf(pass);
        return m?.pid && m.pid !== victim && m.state === 'running';
      },
      { timeoutMs: GRACE_MS - 200, intervalMs: 20 },
    );
    // Watch until well after the grace would have expired: the connection is never replaced.
    await waitFor(
      'the grace deadline passed',
      async () => {
        assert.equal((await nginx.hasPublisher(pass.key))?.clientId, conn.clientId, 'the same RTMP connection throughout');
        assert.notEqual((await engine.describeChannel(pass.id))?.error?.code, 'INPUT_STALLED');
        return Date.now() > killedAt + GRACE_MS + 750;
      },
      { timeoutMs: GRACE_MS + 5000, intervalMs: 50 },
    );
    await waitFor(
      'media flowing on it again, the alert cleared',
      async () => {
        const pub = await nginx.hasPublisher(pass.key);
        return (pub?.bytesIn ?? 0) > conn.bytesIn + 50_000 && (await publishingCleanly(pass)) === conn.clientId && alertsFor(events.slice(mark), pass.id).at(-1)?.detail['alarm_state'] === 'CLEARED';
      },
      { timeoutMs: 8000, intervalMs: 50 },
    );
    const alerts = alertsFor(events.slice(mark), pass.id);
    assert.deepEqual(
      alerts.map((e) => [e.detail['alarm_state'], e.detail['alert_type']]),
      [
        ['SET', 'Process Failed'],
        ['CLEARED', 'Process Failed'],
      ],
      'the crash alerted, nothing said Input Loss',
    );
    assert.equal(engine.channelMetrics(pass.id)?.restarts, restarts, 'the publisher was never re-added');
    assert.deepEqual(statesFor(events.slice(mark), pass.id), [], 'the channel state never moved');
    assert.ok(!isAlive(victim));
  });

  it('past the grace the publishers are closed with INPUT_STALLED (alert and error with a hint); nothing claims to push', async () => {
    const mark = events.length;
    const was = await Promise.all(DESTS.map(async (d) => ({ d, source: sourceOf(d)?.pid, conn: (await nginx.hasPublisher(d.key))?.clientId })));
    await stopFeed();
    await Promise.all(
      was.map(async ({ d, source, conn }) => {
        // The stall watchdog ends the source; its publisher waits out the grace on its connection.
        const endedAt = await sourceEnded(d, source);
        assert.equal((await nginx.hasPublisher(d.key))?.clientId, conn, `${d.name}: connected during the grace`);
        await waitFor(`${d.name} closed at nginx`, async () => (await nginx.hasPublisher(d.key))?.publishing === false, { timeoutMs: GRACE_MS + 3000, intervalMs: 20 });
        assert.ok(Date.now() - endedAt >= GRACE_MS - 250, `${d.name}: closed ${Date.now() - endedAt} ms after its source ended, before the grace was over`);
      }),
    );

    for (const d of DESTS) {
      const desc = await engine.describeChannel(d.id);
      assert.equal(desc?.error?.code, 'INPUT_STALLED', d.name);
      assert.match(desc.error.message, new RegExp(`the ${d.sourceLabel} produced no media for ${GRACE_MS / 1000} s`));
      assert.ok(desc.error.hint.length > 20, 'an actionable hint');
      // MediaLive's contract (channel-lifecycle.ts): the state stays, the alert and the error carry
      // the outage; channel-provisioner reports RUNNING with an error, the destination shows `error`.
      assert.equal(desc.state, 'RUNNING');
      const set = alertsFor(events.slice(mark), d.id);
      assert.deepEqual(
        set.map((e) => e.detail['alarm_state']),
        ['SET'],
        `${d.name}: one alert, still set`,
      );
      assert.equal(set[0]?.detail['alert_type'], 'Input Loss');
      const fe = set[0]?.detail['fanout_error'] as { code: string; hint: string };
      assert.equal(fe.code, 'INPUT_STALLED');
      assert.ok(fe.hint.length > 20);
      // Nothing says it pushes: no state change (no RUNNING again), no running publisher, no uptime.
      assert.deepEqual(statesFor(events.slice(mark), d.id), []);
      const p = publisherOf(d);
      assert.equal(p?.state, 'idle');
      assert.equal(p?.lastError?.code, 'INPUT_STALLED');
      const m = engine.channelMetrics(d.id);
      assert.deepEqual([m?.uptimeSeconds, m?.bitrateKbps, m?.fps], [null, null, null]);
    }

    // Nothing leaked: no connection to nginx, the ended sources are gone, every media process is listed.
    await waitFor('no connection left to nginx', () => tcpConnectionsTo(nginx.rtmpPort) === 0, { timeoutMs: 3000, intervalMs: 20 });
    for (const { d, source } of was) assert.ok(source && !isAlive(source), `${d.sourceLabel}: the ended run is gone`);
    const sorted = (pids: number[]): string => JSON.stringify(pids.sort((a, b) => a - b));
    await waitFor('only the listed processes in /proc', () => sorted(mediaProcesses()) === sorted(procs().flatMap((p) => (p.pid ? [p.pid] : []))), { timeoutMs: 3000, intervalMs: 50 });
  });

  it('when media returns the publishers are re-added: publishing again with bytes growing, alert CLEARED, RUNNING', async () => {
    const mark = events.length;
    const restarts = new Map(DESTS.map((d) => [d, engine.channelMetrics(d.id)?.restarts ?? 0]));
    const setAlarm = new Map(DESTS.map((d) => [d, alertsFor(events, d.id).at(-1)?.detail['alarm_id']]));
    feed = startFeed();
    for (const d of DESTS) {
      await publishingAgain(d);
      const cleared = alertsFor(events.slice(mark), d.id);
      assert.deepEqual(
        cleared.map((e) => [e.detail['alarm_state'], e.detail['alert_type'], e.detail['alarm_id'], e.detail['fanout_error']]),
        [['CLEARED', 'Input Loss', setAlarm.get(d), null]],
      );
      assert.deepEqual(statesFor(events.slice(mark), d.id), [], 'RUNNING all along, never announced twice');
      assert.equal(engine.channelMetrics(d.id)?.restarts, (restarts.get(d) ?? 0) + 1, 're-added once');
      assert.notEqual(engine.channelMetrics(d.id)?.uptimeSeconds ?? null, null, 'pushing again');
    }
    assert.deepEqual(nativeSchemaProblems(events), []);
  });

  it('a publisher the platform dropped during the grace reports INPUT_STALLED too once it is over, and comes back with the media', async () => {
    const mark = events.length;
    const sources = new Map(DESTS.map((d) => [d, sourceOf(d)?.pid]));
    await stopFeed();
    await Promise.all(DESTS.map((d) => sourceEnded(d, sources.get(d))));
    // Within the grace, the platform drops every connection (a restart of its ingest): the
    // publishers fail, and their retries find no media to publish.
    await nginx.restart();
    for (const d of DESTS) {
      // (How the drop is classified depends on how long it had published: any RTMP alert will do.)
      await waitFor(`${d.name}: the drop reported`, () => alertsFor(events.slice(mark), d.id).some((e) => /^RTMP /.test(String(e.detail['alert_type']))), { timeoutMs: GRACE_MS, intervalMs: 10 });
    }
    for (const d of DESTS) {
      // Past the grace the channel waits for media, not for the platform: it says so.
      const error = await waitFor(
        `${d.name}: INPUT_STALLED`,
        async () => {
          const e = (await engine.describeChannel(d.id))?.error;
          return e?.code === 'INPUT_STALLED' && e;
        },
        { timeoutMs: GRACE_MS + 3000, intervalMs: 20 },
      );
      // The grace's message, or the stall watchdog's once the source's next run found no media either.
      assert.match(error.message, new RegExp(`the ${d.sourceLabel} produced no media|^No media has arrived`));
      const last = alertsFor(events.slice(mark), d.id).at(-1);
      assert.deepEqual([last?.detail['alarm_state'], last?.detail['alert_type']], ['SET', 'Input Loss']);
      assert.equal((await nginx.hasPublisher(d.key))?.publishing, false, `${d.name}: not re-added while no media comes`);
    }
    assert.equal(tcpConnectionsTo(nginx.rtmpPort), 0);
    feed = startFeed();
    for (const d of DESTS) await publishingAgain(d);
  });

  it('close() leaves no process, pidfile or connection behind', async () => {
    for (const pid of mediaProcesses()) seenPids.add(pid);
    assert.ok(seenPids.size >= 6);
    killGroup(feed);
    feed = null;
    await engine.close();
    await waitFor('every engine process gone', () => [...seenPids].every((pid) => !isAlive(pid)) && mediaProcesses().length === 0, { timeoutMs: 8000, intervalMs: 50 });
    assert.deepEqual(readdirSync(join(dataDir, 'run', 'pids')), []);
    await waitFor('no connection left to nginx', () => tcpConnectionsTo(nginx.rtmpPort) === 0, { timeoutMs: 3000, intervalMs: 20 });
  });
});
