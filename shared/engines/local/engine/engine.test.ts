/**
 * End to end, with real media and real processes on loopback: an FFmpeg test source calls the
 * engine's SRT listener with the passphrase; the engine fans it out to a private nginx-rtmp
 * (test/support/nginx-rtmp.ts) through passthrough and transcoded channels, and to the primary
 * HLS. Every check polls with a deadline; nothing sleeps for a state.
 *
 * The steps share one engine and run in order (each leaves the world as the next expects it).
 *
 * @media FFmpeg, srt-live-transmit, nginx-rtmp, ffprobe (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeUdpPort, type NginxRtmp as NginxRtmpT, NginxRtmp } from '../../../../test/support/nginx-rtmp.ts';
import { Secret } from '../../../secrets/secret.ts';
import type { ChannelSpec, EncodeSpec, NativeEngineEvent } from '../../port/ports.ts';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { isAlive, readCmdline } from '../process/proc.ts';
import { type EngineProcess, LocalMediaEngine } from './local-media-engine.ts';
import { alertsFor as alertsIn, exited, killGroup, mediaProcessesInProc, nativeSchemaProblems, startTestSource, statesFor as statesIn } from './testing.ts';
import { DEFAULT_FAILOVER } from '../../port/failover.ts';

const PASSPHRASE = 'correct-horse-SECRETPASS-42';
const WRONG_PASSPHRASE = 'wrong-horse-SECRETWRONG-42';
const KEYS = {
  pass: 'pass-SECRETKEY-aaaa1111',
  tx1: 'tx1-SECRETKEY-bbbb2222',
  tx2: 'tx2-SECRETKEY-cccc3333',
  bad: 'bad-SECRETKEY-dddd4444',
  tls: 'tls-SECRETKEY-eeee5555',
};
const SECRETS = [PASSPHRASE, WRONG_PASSPHRASE, ...Object.values(KEYS)];
const SOURCE = { width: 480, height: 270, fps: 25, bitrate: 600_000 };
const P240: EncodeSpec = {
  video: { width: 320, height: 240, frameRate: 15, bitrate: 300_000, profile: 'main', level: 'auto', keyframeInterval: 2 },
  audio: { bitrate: 64_000, sampleRate: 44_100, channels: 2 },
};
/** Fast but real backoff, so recovery fits the test budget (the default is 1 s doubling to 60 s). */
const RETRY = { initialIntervalMs: 300, backoffCoefficient: 2, maximumIntervalMs: 2000, resetAfterStableMs: 60_000 };

let nginx: NginxRtmpT;
let engine: LocalMediaEngine;
let dataDir: string;
let srtPort: number;
let source: ChildProcess | null = null;
const events: NativeEngineEvent[] = [];
const logLines: string[] = [];
/** Everything the engine showed: scanned for secrets at the end. */
const shown: unknown[] = [];
/** Every pid of an engine process ever seen: none may survive close(). */
const seenPids = new Set<number>();
const ids: Record<'pass' | 'tx1' | 'tx2' | 'bad' | 'tls', string> = { pass: '', tx1: '', tx2: '', bad: '', tls: '' };
const outputs: Record<string, string> = {};
const timings: Record<string, number> = {};

function procs(): EngineProcess[] {
  const list = engine.processes();
  for (const p of list) {
    if (p.pid) seenPids.add(p.pid);
  }
  shown.push(list);
  return list;
}

/** The channel's publisher (in the engine's process: a synthetic entry without a pid). */
const publisherOf = (channelId: string): EngineProcess | undefined => procs().find((p) => p.role === 'pusher' && p.channelIds.includes(channelId));
/** The shared encoder (transcode) and the passthrough mux, both FFmpeg processes feeding RtmpFanouts. */
const encoderProc = (): EngineProcess | undefined => procs().find((p) => p.role === 'encoder' && p.name.startsWith('encoder-'));
const muxProc = (): EngineProcess | undefined => procs().find((p) => p.role === 'encoder' && p.name === 'mux-passthrough');

async function metrics(channelId: string) {
  const m = engine.channelMetrics(channelId);
  shown.push(m);
  return m;
}

async function describe_(channelId: string) {
  const d = await engine.describeChannel(channelId);
  shown.push(d);
  return d;
}

function startSource(passphrase: string, extra: { durationSeconds?: number } = {}): ChildProcess {
  return startTestSource({ host: '127.0.0.1', port: srtPort, passphrase, keyLength: 16, ...SOURCE, ...extra });
}

function spec(dest: string, key: string, encode: EncodeSpec | null): ChannelSpec {
  return {
    destinationId: dest,
    name: dest,
    outputArn: outputs[dest] ?? '',
    presetId: encode ? 'p240' : 'passthrough',
    encode,
    // A trailing slash on purpose: the engine must not produce "live//key".
    target: { url: `${nginx.url('live')}/`, streamKey: new Secret(key) },
  };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message} ${stderr}`)) : resolve(stdout))));
}

/** ffmpeg / fanout-srt processes of this test (children of this process, or by what their command lines mention). */
const engineProcessesInProc = (): number[] => mediaProcessesInProc([dataDir, `:${nginx.rtmpPort}/`]);

/** An assert.rejects check for a typed error, keeping what it says for the secret scan. */
const typed =
  (code: string) =>
  (e: unknown): boolean => {
    shown.push(String(e), (e as { hint?: string }).hint);
    return (e as { code?: string }).code === code;
  };

const alertsFor = (channelId: string) => alertsIn(events, channelId);
const statesFor = (channelId: string) => statesIn(events, channelId);

describe('LocalMediaEngine, end to end on loopback', { timeout: 150_000 }, () => {
  before(async () => {
    nginx = await NginxRtmp.start({ rejectKeys: [KEYS.bad], tls: true });
    dataDir = mkdtempSync(join(tmpdir(), 'fanout-engine-'));
    srtPort = await freeUdpPort();
    const log = (level: string) => (message: string, extra?: Record<string, unknown>) => logLines.push(`${level} ${message} ${JSON.stringify(extra ?? {})}`);
    engine = new LocalMediaEngine({
      dataDir,
      srtPort,
      srtPassphrase: new Secret(PASSPHRASE),
      srtKeyLength: 16,
      sink: (e) => events.push(e),
      logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      x264Preset: 'ultrafast',
      retryPolicy: RETRY,
      // No slate (slateTimeoutMs 0): these tests are about the outputs without media (the
      // sources' grace, INPUT_STALLED, the HLS stopping); the slate has test/failover-media.test.ts.
      failover: { ...DEFAULT_FAILOVER, slateTimeoutMs: 0 },
      stallTimeoutMs: 5000,
      // The test server's certificate is self-signed.
      rtmpsVerify: false,
    });
    await engine.start();
  });

  after(async () => {
    killGroup(source);
    await engine?.close();
    await nginx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the flow: STANDBY → STARTING → ACTIVE, listener up', async () => {
    await engine.startFlow();
    const flow = await engine.describeFlow();
    shown.push(flow);
    assert.equal(flow.state, 'ACTIVE');
    assert.equal(flow.flowArn, 'arn:aws:mediaconnect:local:000000000000:flow:1-local-primary:fanout-ingest');
    assert.deepEqual(
      events.filter((e) => e.detailType === 'MediaConnect Flow Status Change').map((e) => [e.detail['previousStatus'], e.detail['currentStatus']]),
      [
        ['STANDBY', 'STARTING'],
        ['STARTING', 'ACTIVE'],
      ],
    );
    const ingest = procs().find((p) => p.role === 'ingest');
    assert.ok(ingest?.pid);
    // The passphrase goes in on the ingest's stdin: neither its real argv nor its environment has it.
    assert.ok(!readCmdline(ingest.pid)?.join(' ').includes(PASSPHRASE), 'not in /proc/<pid>/cmdline');
    assert.ok(!readFileSync(`/proc/${ingest.pid}/environ`, 'utf8').includes(PASSPHRASE), 'not in /proc/<pid>/environ');
    assert.equal(ingest.command[1], 'listen');
  });

  it('refuses a caller with the wrong passphrase and reports it in input health', async () => {
    const wrong = startSource(WRONG_PASSPHRASE, { durationSeconds: 3 });
    const health = await waitFor(
      'a rejection in input health',
      async () => {
        const h = await engine.inputHealth();
        shown.push(h);
        return h.lastError?.code === 'SRT_PASSPHRASE_REJECTED' && h;
      },
      { timeoutMs: 8000, intervalMs: 50 },
    );
    assert.equal(health.connected, false);
    assert.ok(health.lastError?.hint);
    const code = await exited(wrong);
    assert.notEqual(code, 0, 'the wrong caller must fail');
  });

  it('accepts the right caller: connected, address, bitrate; media reaches the flow hub', async () => {
    source = startSource(PASSPHRASE);
    const health = await waitFor(
      'the source connected with a bitrate',
      async () => {
        const h = await engine.inputHealth();
        shown.push(h);
        return h.connected && (h.bitrateInKbps ?? 0) > 100 && h;
      },
      { timeoutMs: 8000, intervalMs: 50 },
    );
    assert.match(health.sourceAddress ?? '', /^127\.0\.0\.1:\d+$/);
    assert.ok(health.connectedSince);
    const hub = await waitFor('TS packets through the flow hub', () => {
      const st = engine.flowHubStats();
      return st && st.packetsIn > 100 && st;
    });
    assert.equal(hub.discardedBytes, 0, "the ingest's stdout is pure MPEG-TS (its events go to fd 3)");
    // The ingest reports SRT stats every second.
    await waitFor('SRT stats (fd 3) in input health', async () => (await engine.inputHealth()).rttMs !== null, { timeoutMs: 10_000, intervalMs: 100 });
    const sh = events.filter((e) => e.detailType === 'MediaConnect Source Health');
    assert.equal(sh.at(-1)?.detail['unhealthy'], false);
  });

  it('creates, starts and publishes three channels: passthrough and two sharing one encode', async () => {
    for (const d of ['dest-pass', 'dest-tx1', 'dest-tx2', 'dest-bad']) {
      const { outputArn } = await engine.addOutput(d);
      assert.equal(outputArn, `arn:aws:mediaconnect:local:000000000000:output:1-local-${d}:dest-${d}`);
      assert.deepEqual(await engine.addOutput(d), { outputArn }, 'addOutput is idempotent');
      outputs[d] = outputArn;
    }
    ids.pass = (await engine.createChannel(spec('dest-pass', KEYS.pass, null))).channelId;
    ids.tx1 = (await engine.createChannel(spec('dest-tx1', KEYS.tx1, P240))).channelId;
    ids.tx2 = (await engine.createChannel(spec('dest-tx2', KEYS.tx2, P240))).channelId;
    assert.equal((await engine.createChannel(spec('dest-pass', KEYS.pass, null))).channelId, ids.pass, 'createChannel is idempotent per destination');
    for (const id of [ids.pass, ids.tx1, ids.tx2]) {
      assert.match(id, /^\d{7}$/);
      assert.deepEqual(statesFor(id), ['CREATING', 'IDLE']);
    }

    const t0 = Date.now();
    await Promise.all([ids.pass, ids.tx1, ids.tx2].map((id) => engine.startChannel(id)));
    const firstMedia = async (key: string, name: string) => {
      await waitFor(`${name} at nginx`, async () => ((await nginx.hasPublisher(key))?.bytesIn ?? 0) > 0, { timeoutMs: 15_000, intervalMs: 25 });
      timings[`${name}: startChannel → first bytes at nginx (ms)`] = Date.now() - t0;
    };
    const running = async (id: string, name: string) => {
      await waitFor(`${name} RUNNING`, async () => (await describe_(id))?.state === 'RUNNING', { timeoutMs: 15_000, intervalMs: 25 });
      timings[`${name}: startChannel → RUNNING (ms)`] = Date.now() - t0;
    };
    await Promise.all([firstMedia(KEYS.pass, 'passthrough'), firstMedia(KEYS.tx1, 'transcode'), running(ids.pass, 'passthrough'), running(ids.tx1, 'transcode'), running(ids.tx2, 'transcode (2nd)')]);
    for (const id of [ids.pass, ids.tx1, ids.tx2]) assert.deepEqual(statesFor(id), ['CREATING', 'IDLE', 'STARTING', 'RUNNING']);

    const pass = await nginx.probe('live', KEYS.pass);
    assert.deepEqual(pass, { videoCodec: 'h264', width: SOURCE.width, height: SOURCE.height, frameRate: SOURCE.fps, audioCodec: 'aac' });
    for (const key of [KEYS.tx1, KEYS.tx2]) {
      const tx = await nginx.probe('live', key);
      assert.deepEqual(tx, { videoCodec: 'h264', width: 320, height: 240, frameRate: 15, audioCodec: 'aac' });
    }
  });

  it('runs exactly one encoder for the two channels sharing the preset', async () => {
    const encoders = procs().filter((p) => p.role === 'encoder' && p.name.startsWith('encoder-'));
    assert.equal(encoders.length, 1);
    assert.deepEqual(muxProc()?.channelIds, [ids.pass], 'one passthrough mux');
    const pushers = procs().filter((p) => p.role === 'pusher');
    assert.equal(pushers.length, 3, 'one publisher per channel in the view');
    assert.ok(
      pushers.every((p) => p.pid === null),
      'publishers run in the engine, not as processes',
    );
    assert.deepEqual([...(encoders[0]?.channelIds ?? [])].sort(), [ids.tx1, ids.tx2].sort());
    const inProc = engineProcessesInProc().filter((pid) => (readCmdline(pid) ?? []).some((a) => a.startsWith('scale=320:240')));
    assert.equal(inProc.length, 1, 'one x264 process for the preset in /proc');
    const m = await metrics(ids.tx1);
    assert.ok(m && (m.frames ?? 0) > 0 && (m.bytesSent ?? 0) > 0 && (m.fps ?? 0) > 0);
    assert.equal(m.attempt, 0);
  });

  it('writes the primary HLS: a playlist and a decodable segment', async () => {
    const playlist = engine.primaryHls().playlistPath;
    const segment = await waitFor(
      'an HLS segment in the playlist',
      () => {
        try {
          const text = readFileSync(playlist, 'utf8');
          const segs = text.split('\n').filter((l) => l.endsWith('.ts'));
          return segs.length >= 1 && segs[0];
        } catch {
          return null;
        }
      },
      { timeoutMs: 12_000, intervalMs: 100 },
    );
    const text = readFileSync(playlist, 'utf8');
    assert.match(text, /#EXT-X-TARGETDURATION/);
    assert.match(text, /#EXT-X-INDEPENDENT-SEGMENTS/);
    assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
    const out = JSON.parse(await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', join(playlist, '..', segment)])) as {
      streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[];
    };
    const v = out.streams[0];
    assert.equal(v?.codec_name, 'h264');
    assert.equal(v?.width, SOURCE.width);
    assert.ok(Number(v?.nb_read_frames) > 0, 'frames decoded from the segment');
  });

  it('refuses a second caller while the first keeps streaming', async () => {
    const before_ = await engine.inputHealth();
    const bytesBefore = engine.flowHubStats()?.bytesIn ?? 0;
    const intruder = startSource(WRONG_PASSPHRASE, { durationSeconds: 6 });
    // The listener's refusal is what is under test. A refused caller exits at once; one that does
    // not within 15 s is killed (seen once in many runs: the test source's caller hung after the
    // refusal), and the checks below still say whether the first caller kept its connection.
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited(intruder),
      new Promise<'hung'>((resolve) => {
        timer = setTimeout(() => {
          intruder.kill('SIGKILL');
          resolve('hung');
        }, 15_000);
      }),
    ]);
    clearTimeout(timer);
    assert.notEqual(code, 0, 'the second caller is refused');
    const now = await engine.inputHealth();
    shown.push(now);
    assert.equal(now.connected, true);
    assert.equal(now.connectedSince, before_.connectedSince, 'the first caller was never dropped');
    // The refusal can take less than one read of the first caller's stream: wait for the next.
    await waitFor("the first caller's media still reaching the flow hub", () => (engine.flowHubStats()?.bytesIn ?? 0) > bytesBefore, { timeoutMs: 5000, intervalMs: 25 });
  });

  it('stops one transcoded channel; the other two keep publishing on the same connections', async () => {
    const encoderPid = encoderProc()?.pid;
    const muxPid = muxProc()?.pid;
    const keep = [
      { id: ids.pass, key: KEYS.pass },
      { id: ids.tx2, key: KEYS.tx2 },
    ];
    const before_ = await Promise.all(keep.map(async (k) => ({ pub: await nginx.hasPublisher(k.key), frames: (await metrics(k.id))?.frames ?? 0 })));
    assert.ok(publisherOf(ids.tx1));
    await engine.stopChannel(ids.tx1);
    assert.deepEqual(statesFor(ids.tx1).slice(-2), ['STOPPING', 'IDLE']);
    assert.equal((await describe_(ids.tx1))?.state, 'IDLE');
    assert.ok(!publisherOf(ids.tx1), 'the stopped publisher is gone');
    assert.deepEqual(encoderProc()?.channelIds, [ids.tx2]);
    await waitFor('tx1 gone from nginx', async () => (await nginx.hasPublisher(KEYS.tx1))?.publishing === false, { timeoutMs: 5000 });
    // The others: frames keep growing, same process, same RTMP connection.
    await waitFor(
      'the other channels progress',
      async () => {
        const m = await Promise.all(keep.map((k) => metrics(k.id)));
        return m.every((x, i) => (x?.frames ?? 0) > (before_[i]?.frames ?? 0) + 20);
      },
      { timeoutMs: 8000, intervalMs: 100 },
    );
    for (const [i, k] of keep.entries()) {
      const pub = await nginx.hasPublisher(k.key);
      assert.equal(pub?.publishing, true);
      assert.equal(pub?.clientId, before_[i]?.pub?.clientId, 'same RTMP connection');
      assert.ok((pub?.bytesIn ?? 0) > (before_[i]?.pub?.bytesIn ?? 0));
    }
    assert.equal(encoderProc()?.pid, encoderPid, 'the shared encoder kept running');
    assert.equal(muxProc()?.pid, muxPid, 'the passthrough mux kept running');
  });

  it('deletes the stopped channel: no process left, output removed', async () => {
    await assert.rejects(engine.deleteChannel(ids.pass), typed('CHANNEL_NOT_IDLE'));
    await assert.rejects(engine.updateChannel(ids.pass, spec('dest-pass', KEYS.pass, null)), typed('CHANNEL_NOT_IDLE'));
    await engine.deleteChannel(ids.tx1);
    await engine.deleteChannel(ids.tx1); // idempotent
    assert.deepEqual(statesFor(ids.tx1).slice(-2), ['DELETING', 'DELETED']);
    assert.equal(await engine.describeChannel(ids.tx1), null);
    assert.equal(engine.channelMetrics(ids.tx1), null);
    assert.ok(!procs().some((p) => p.channelIds.includes(ids.tx1)));
    await engine.removeOutput(outputs['dest-tx1'] ?? '');
    await engine.removeOutput(outputs['dest-tx1'] ?? ''); // idempotent
    const flow = await engine.describeFlow();
    assert.ok(!flow.outputs.some((o) => o.destinationId === 'dest-tx1'));
    assert.equal(flow.outputs.length, 3);
  });

  it('restarts the passthrough mux killed with SIGKILL: its channel comes back on the same connection, the others never notice', async () => {
    const victim = muxProc()?.pid;
    assert.ok(victim);
    const others = { encoder: encoderProc()?.pid, hls: engine.primaryHls().pid };
    const tx2Conn = (await nginx.hasPublisher(KEYS.tx2))?.clientId;
    const passConn = (await nginx.hasPublisher(KEYS.pass))?.clientId;
    const alertsBefore = alertsFor(ids.pass).length;
    process.kill(victim, 'SIGKILL');
    const replacement = await waitFor(
      'a new passthrough mux',
      () => {
        const pid = muxProc()?.pid ?? null;
        return pid !== null && pid !== victim && pid;
      },
      { timeoutMs: 8000, intervalMs: 25 },
    );
    const before_ = (await metrics(ids.pass))?.frames ?? 0;
    await waitFor(
      'passthrough publishing again, alert cleared',
      async () => {
        const pub = await nginx.hasPublisher(KEYS.pass);
        return pub?.publishing && ((await metrics(ids.pass))?.frames ?? 0) > before_ + 10 && (await describe_(ids.pass))?.error === null && alertsFor(ids.pass).at(-1)?.detail['alarm_state'] === 'CLEARED';
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.ok(isAlive(replacement));
    assert.equal((await nginx.hasPublisher(KEYS.pass))?.clientId, passConn, 'the publisher kept its RTMP connection through the mux restart');
    assert.equal((await describe_(ids.pass))?.state, 'RUNNING');
    assert.equal(encoderProc()?.pid, others.encoder);
    assert.equal(engine.primaryHls().pid, others.hls);
    assert.equal((await nginx.hasPublisher(KEYS.tx2))?.clientId, tx2Conn, 'the transcoded channel kept its connection');
    // The crash was an alert, cleared once publishing again.
    assert.equal(
      alertsFor(ids.pass)
        .slice(alertsBefore)
        .find((e) => e.detail['alarm_state'] === 'SET')?.detail['alert_type'],
      'Process Failed',
    );
  });

  it('restarts a shared encoder killed with SIGKILL; its channel keeps its connection, the others never notice', async () => {
    const encoder = encoderProc();
    assert.ok(encoder?.pid);
    const untouched = { mux: muxProc()?.pid, hls: engine.primaryHls().pid };
    const passConn = (await nginx.hasPublisher(KEYS.pass))?.clientId;
    const conn = (await nginx.hasPublisher(KEYS.tx2))?.clientId;
    const alertsBefore = alertsFor(ids.tx2).length;
    process.kill(encoder.pid, 'SIGKILL');
    await waitFor(
      'a new encoder, and the alert cleared',
      async () => {
        const e = encoderProc();
        const last = alertsFor(ids.tx2).at(-1);
        return e?.pid && e.pid !== encoder.pid && e.state === 'running' && alertsFor(ids.tx2).length > alertsBefore && last?.detail['alarm_state'] === 'CLEARED';
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.equal(
      alertsFor(ids.tx2)
        .slice(alertsBefore)
        .find((e) => e.detail['alarm_state'] === 'SET')?.detail['alert_type'],
      'Process Failed',
    );
    const before_ = (await metrics(ids.tx2))?.frames ?? 0;
    await waitFor('tx2 frames growing again', async () => ((await metrics(ids.tx2))?.frames ?? 0) > before_ + 10, { timeoutMs: 8000, intervalMs: 50 });
    assert.equal((await nginx.hasPublisher(KEYS.tx2))?.clientId, conn, 'the pusher kept its RTMP connection through the encoder restart');
    assert.deepEqual({ mux: muxProc()?.pid, hls: engine.primaryHls().pid }, untouched);
    assert.equal((await nginx.hasPublisher(KEYS.pass))?.clientId, passConn, 'the passthrough channel kept its connection');
    assert.equal((await describe_(ids.tx2))?.error, null);
  });

  it('publishes over RTMPS (TLS) just the same', async () => {
    const { outputArn } = await engine.addOutput('dest-tls');
    outputs['dest-tls'] = outputArn;
    ids.tls = (await engine.createChannel({ ...spec('dest-tls', KEYS.tls, null), target: { url: nginx.rtmpsUrl('live'), streamKey: new Secret(KEYS.tls) } })).channelId;
    await engine.startChannel(ids.tls);
    await waitFor('RTMPS channel RUNNING and at nginx', async () => (await describe_(ids.tls))?.state === 'RUNNING' && (await nginx.hasPublisher(KEYS.tls))?.publishing, {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    assert.equal(publisherOf(ids.tls)?.command.at(-1), `rtmps://127.0.0.1:${nginx.tlsPort}/live/***`);
    await engine.stopChannel(ids.tls);
    await engine.deleteChannel(ids.tls);
    await engine.removeOutput(outputArn);
  });

  it('gives up on a stream key the platform rejects, and says so', async () => {
    ids.bad = (await engine.createChannel(spec('dest-bad', KEYS.bad, null))).channelId;
    await engine.startChannel(ids.bad);
    const failed = await waitFor(
      'the bad key given up',
      () => {
        const p = publisherOf(ids.bad);
        return p?.state === 'failed' && p;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    assert.equal(failed.lastError?.code, 'RTMP_STREAM_KEY_REJECTED');
    const d = await describe_(ids.bad);
    assert.equal(d?.state, 'STARTING', 'it never published');
    assert.equal(d?.error?.code, 'RTMP_STREAM_KEY_REJECTED');
    assert.match(d?.error?.message ?? '', /gave up/);
    const m = await metrics(ids.bad);
    assert.equal(m?.nextRetryAt, null, 'no retry pending');
    const alerts = alertsFor(ids.bad);
    assert.equal(alerts.at(-1)?.detail['alarm_state'], 'SET');
    assert.equal(alerts.at(-1)?.detail['alert_type'], 'RTMP Stream Not Found');
    await engine.stopChannel(ids.bad);
    assert.equal(alertsFor(ids.bad).at(-1)?.detail['alarm_state'], 'CLEARED', 'stopping clears the alert');
    await engine.deleteChannel(ids.bad);
  });

  it('raises an alert with backoff while the platform is away, and clears it when it is back', async () => {
    const watched = [ids.pass, ids.tx2];
    await nginx.stop();
    for (const id of watched) {
      await waitFor(`${id}: connection refused`, async () => (await describe_(id))?.error?.code === 'RTMP_CONNECTION_REFUSED', { timeoutMs: 10_000, intervalMs: 50 });
    }
    const d = await describe_(ids.pass);
    assert.ok(d?.error?.hint.includes('port'), 'an actionable hint');
    const m = await waitFor(
      'backoff visible in metrics',
      async () => {
        const x = await metrics(ids.pass);
        return (x?.attempt ?? 0) >= 2 && x?.nextRetryAt && x;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.ok(Date.parse(m.nextRetryAt ?? '') > Date.now() - 1000);
    for (const id of watched) {
      const set = alertsFor(id).filter((e) => e.detail['alarm_state'] === 'SET');
      const refused = set.find((e) => (e.detail['fanout_error'] as { code?: string } | null)?.code === 'RTMP_CONNECTION_REFUSED');
      assert.ok(refused, `${id}: a SET alert carrying the classified error`);
      assert.equal(refused.detail['alert_type'], 'RTMP Connection Failed');
      assert.ok((refused.detail['fanout_error'] as { hint: string }).hint.length > 0);
      assert.equal((await describe_(id))?.state, 'RUNNING', 'the state stays RUNNING; the alert carries the trouble');
    }

    await nginx.restart();
    for (const [id, key] of [
      [ids.pass, KEYS.pass],
      [ids.tx2, KEYS.tx2],
    ] as const) {
      await waitFor(
        `${id}: publishing again, alert cleared`,
        async () => {
          const pub = await nginx.hasPublisher(key);
          return pub?.publishing && alertsFor(id).at(-1)?.detail['alarm_state'] === 'CLEARED' && (await describe_(id))?.error === null;
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
    }
  });

  it('picks up an encoder that drops and comes back; channels and HLS carry on', async () => {
    const health = () => events.filter((e) => e.detailType === 'MediaConnect Source Health').map((e) => (e.detail['current'] as { source_state: string }).source_state);
    const before_ = health().length;
    const hlsPid = engine.primaryHls().pid;
    const frames = await Promise.all([ids.pass, ids.tx2].map(async (id) => (await metrics(id))?.bytesSent ?? 0));
    const old = source;
    assert.ok(old?.pid);
    process.kill(-old.pid, 'SIGINT'); // a clean SRT shutdown: the listener sees it at once
    await exited(old);
    await waitFor('DISCONNECTED reported', () => health().slice(before_).includes('DISCONNECTED'), { timeoutMs: 8000, intervalMs: 50 });
    assert.equal((await engine.inputHealth()).connected, false);
    source = startSource(PASSPHRASE);
    await waitFor('CONNECTED again', () => health().slice(before_).at(-1) === 'CONNECTED', { timeoutMs: 8000, intervalMs: 50 });
    for (const [i, [id, key]] of (
      [
        [ids.pass, KEYS.pass],
        [ids.tx2, KEYS.tx2],
      ] as const
    ).entries()) {
      await waitFor(
        `${id}: publishing the new session`,
        async () => {
          const m = await metrics(id);
          const d = await describe_(id);
          return (await nginx.hasPublisher(key))?.publishing && d?.error === null && d.state === 'RUNNING' && (m?.bytesSent ?? 0) > (frames[i] ?? 0) + 50_000;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    }
    await waitFor('HLS running on the new session', () => engine.primaryHls().state === 'running' && engine.primaryHls().pid, { timeoutMs: 10_000, intervalMs: 50 });
    console.log(`# reconnect: HLS pid ${hlsPid} → ${engine.primaryHls().pid}; restarts pass=${engine.channelMetrics(ids.pass)?.restarts} tx2=${engine.channelMetrics(ids.tx2)?.restarts}`);
  });

  it('after a long outage: Input Loss alerts and HLS stopped, then everything resumes on its own', async () => {
    const old = source;
    assert.ok(old?.pid);
    process.kill(-old.pid, 'SIGKILL'); // the encoder vanishes: SRT notices only by its peer idle timeout
    await exited(old);
    await waitFor('HLS stopped for want of media', () => engine.primaryHls().state === 'idle', { timeoutMs: 6000, intervalMs: 50 });
    for (const id of [ids.pass, ids.tx2]) {
      await waitFor(`${id}: Input Loss`, async () => (await describe_(id))?.error?.code === 'INPUT_STALLED', { timeoutMs: 12_000, intervalMs: 50 });
      const set = alertsFor(id).at(-1);
      assert.equal(set?.detail['alarm_state'], 'SET');
      assert.equal(set?.detail['alert_type'], 'Input Loss');
    }
    const t0 = Date.now();
    source = startSource(PASSPHRASE);
    for (const [id, key] of [
      [ids.pass, KEYS.pass],
      [ids.tx2, KEYS.tx2],
    ] as const) {
      await waitFor(`${id}: recovered`, async () => (await nginx.hasPublisher(key))?.publishing && alertsFor(id).at(-1)?.detail['alarm_state'] === 'CLEARED' && (await describe_(id))?.error === null, {
        timeoutMs: 15_000,
        intervalMs: 50,
      });
    }
    timings['after an outage: source back → both channels publishing (ms)'] = Date.now() - t0;
    await waitFor('HLS running again', () => engine.primaryHls().state === 'running', { timeoutMs: 10_000, intervalMs: 50 });
  });

  it('the ingest killed -9 is restarted by its supervisor, and media flows again', async () => {
    const ingest = procs().find((p) => p.role === 'ingest');
    assert.ok(ingest?.pid);
    const restartsBefore = ingest.restarts;
    process.kill(ingest.pid, 'SIGKILL'); // libsrt crashing, as far as the engine can tell
    const next = await waitFor(
      'a new ingest running',
      () => {
        const p = procs().find((x) => x.role === 'ingest');
        return p?.pid && p.pid !== ingest.pid && p.state === 'running' && p;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.ok(next.restarts > restartsBefore, 'restarted by the supervisor, not by us');
    assert.equal((await engine.describeFlow()).state, 'ACTIVE', 'the flow stays up');
    assert.ok(!readCmdline(next.pid!)?.join(' ').includes(PASSPHRASE), 'the new run got the passphrase on stdin too');
    // The encoder's connection died with the listener: it calls again (as an encoder would) once
    // it has noticed (SRT's peer idle timeout), and media reaches the flow hub again.
    const bytes0 = engine.flowHubStats()?.bytesIn ?? 0;
    await waitFor(
      'the encoder connected again, media through the flow hub',
      async () => {
        if (source && (source.exitCode !== null || source.signalCode !== null)) source = startSource(PASSPHRASE);
        const h = await engine.inputHealth();
        shown.push(h);
        return h.connected && (engine.flowHubStats()?.bytesIn ?? 0) > bytes0 + 100_000;
      },
      { timeoutMs: 25_000, intervalMs: 100 },
    );
    await waitFor('HLS running again', () => engine.primaryHls().state === 'running', { timeoutMs: 15_000, intervalMs: 50 });
  });

  it('emits only native events that pass the schemas', () => {
    assert.ok(events.length > 20);
    assert.deepEqual(nativeSchemaProblems(events), []);
  });

  it('dropped nothing on the way to the FFmpegs', () => {
    const hub = engine.flowHubStats();
    assert.ok(hub);
    assert.deepEqual([hub.droppedBytes, hub.discardedBytes], [0, 0]);
    assert.ok(hub.consumers.some((c) => c.id === 'tap:hls' && c.bytesOut > 0));
    assert.ok(
      hub.consumers.some((c) => c.id === 'tap:mux' && c.attaches >= 2),
      'the restarted mux got a fresh stdin',
    );
  });

  it('never shows a stream key or the passphrase', async () => {
    shown.push(await engine.describeFlow(), await engine.listChannels(), await engine.inputHealth(), engine.primaryHls(), procs());
    for (const id of [ids.pass, ids.tx2]) shown.push(engine.channelMetrics(id));
    const text = JSON.stringify({ events, shown, logLines });
    for (const s of SECRETS) assert.ok(!text.includes(s), `a secret leaked: …${s.slice(-4)}`);
    assert.doesNotMatch(text, /SECRET(KEY|PASS|WRONG)/);
  });

  it('close() leaves no ffmpeg or fanout-srt behind', async () => {
    for (const pid of engineProcessesInProc()) seenPids.add(pid);
    procs();
    assert.ok(seenPids.size >= 5);
    killGroup(source);
    source = null;
    await engine.close();
    await waitFor('every engine process gone', () => [...seenPids].every((pid) => !isAlive(pid)) && engineProcessesInProc().length === 0, { timeoutMs: 8000, intervalMs: 50 });
    assert.deepEqual(readdirSync(join(dataDir, 'run', 'pids')), [], 'no pidfile left');
    await assert.rejects(engine.startChannel(ids.pass), typed('ENGINE_CLOSED'));
    console.log(`# engine timings: ${JSON.stringify(timings)}`);
  });
});
