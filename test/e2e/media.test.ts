/**
 * End to end with real media: an encoder (FFmpeg) sends an encrypted SRT feed; Fanout fans it out
 * through the API to two YouTube destinations and one Twitch destination, each pointed at a private
 * nginx-rtmp on loopback standing in for the platform; ffprobe checks what arrived.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FEED_PICTURE, primaryPlaylist, startTestFeed, type TestFeed } from '../support/feed.ts';
import { NginxRtmp } from '../support/nginx-rtmp.ts';
import { ADMIN_TOKEN, eventually, type TestRuntime } from '../support/local.ts';
import { openSse } from '../support/sse.ts';

const PASSPHRASE = 'e2e-passphrase-0123456789';
const KEYS = { ytPass: 'yt-pass-key-000111222333', ytMobile: 'yt-mobile-key-444555666777', twitch: 'live_twitch_888999000111' };

let nginx: NginxRtmp;
let flaky: NginxRtmp;
let feed: TestFeed;
let rt: TestRuntime;
let encoder: ChildProcess;
const ids: Record<keyof typeof KEYS, string> = { ytPass: '', ytMobile: '', twitch: '' };

type Dest = { status: string; lastError: { code: string; hint: string } | null; mediaLiveChannelId: string | null };
const get = async (id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as Dest;
const waitStatus = (id: string, want: string, timeoutMs = 30_000) => eventually(async () => (await get(id)).status === want, { timeoutMs, what: `${id} ${want}` });
const frames = async (id: string) => ((await rt.api('GET', `/api/destinations/${id}/metrics`)).json.metrics?.frames as number | null) ?? 0;
const processes = async () => (await rt.api('GET', '/api/admin/engine/processes')).json.processes as { role: string; channelIds: string[]; pid: number | null; restarts: number; command: string[] }[];

/** What /proc shows of a process: its file (/proc/<pid>/cmdline, '' once gone). */
const procFile = (pid: string, file: 'cmdline' | 'environ'): string => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};
const pids = (): string[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p));

function cmdlines(): string[] {
  return pids().map((p) => procFile(p, 'cmdline'));
}

describe('real media through the API', { timeout: 300_000 }, () => {
  before(async () => {
    nginx = await NginxRtmp.start();
    flaky = await NginxRtmp.start();
    feed = await startTestFeed({ passphrase: PASSPHRASE });
    ({ rt, encoder } = feed);
  });

  after(async () => {
    await feed?.close();
    await nginx?.close();
    await flaky?.close();
  });

  it('adds two YouTube and one Twitch destination with different presets; all go live with their preset', async () => {
    const preset = await rt.api('POST', '/api/admin/presets', {
      body: { presetId: 'twitch-360p15', name: 'Twitch 360p15', platform: 'twitch', video: { codec: 'h264', resolution: '640x360', frameRate: 15, bitrate: 600_000 }, audio: { codec: 'aac', bitrate: 96_000 } },
    });
    assert.equal(preset.status, 201, preset.text);
    const add = async (name: string, platform: string, url: string, streamKey: string, presetId: string) => {
      const res = await rt.api('POST', '/api/destinations', { body: { name, platform, rtmpUrl: url, streamKey, preset: presetId } });
      assert.equal(res.status, 201, res.text);
      return res.json.destinationId as string;
    };
    ids.ytPass = await add('YouTube main', 'youtube', nginx.url('live'), KEYS.ytPass, 'passthrough');
    ids.ytMobile = await add('YouTube mobile', 'youtube', nginx.url('live'), KEYS.ytMobile, 'youtube-720p30-mobile');
    ids.twitch = await add('Twitch', 'twitch', flaky.url('live'), KEYS.twitch, 'twitch-360p15');
    for (const id of Object.values(ids)) await waitStatus(id, 'idle');
    for (const id of Object.values(ids)) assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    for (const id of Object.values(ids)) await waitStatus(id, 'running');

    const pass = await nginx.probe('live', KEYS.ytPass);
    assert.deepEqual([pass.videoCodec, pass.width, pass.height, pass.frameRate, pass.audioCodec], ['h264', FEED_PICTURE.width, FEED_PICTURE.height, FEED_PICTURE.fps, 'aac']);
    const mobile = await nginx.probe('live', KEYS.ytMobile);
    assert.deepEqual([mobile.videoCodec, mobile.width, mobile.height, mobile.frameRate, mobile.audioCodec], ['h264', 1280, 720, 30, 'aac']);
    const twitch = await flaky.probe('live', KEYS.twitch);
    assert.deepEqual([twitch.videoCodec, twitch.width, twitch.height, twitch.frameRate, twitch.audioCodec], ['h264', 640, 360, 15, 'aac']);
  });

  it('live metrics reach the event stream', async () => {
    const sse = await openSse(`${rt.url}/api/events?access_token=${ADMIN_TOKEN}`);
    try {
      const frame = await eventually(() => sse.frames.find((f) => f.event === 'destination.metrics' && (JSON.parse(f.data) as { destinationId: string }).destinationId === ids.ytPass), { timeoutMs: 10_000, what: 'a metrics event' });
      const m = JSON.parse(frame.data) as { frames: number; bitrateKbps: number; fps: number };
      assert.ok(m.frames > 0 && m.bitrateKbps > 0 && m.fps > 0);
      assert.equal(frame.id, undefined, 'metrics are ephemeral: no id, not replayed on resume');
    } finally {
      await sse.close();
    }
  });

  it('the primary HLS playlist is valid and its segments decode', async () => {
    const playlist = await primaryPlaylist(rt);
    assert.match(playlist, /^#EXTM3U/);
    assert.match(playlist, /#EXT-X-TARGETDURATION:\d+/);
    const segment = playlist.split('\n').find((l) => l.endsWith('.ts'))!;
    const res = await fetch(`${rt.url}/hls/primary/${segment}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'video/mp2t');
    // Asynchronously: the server ffprobe reads from runs in this process.
    const probe = await promisify(execFile)('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', `${rt.url}/hls/primary/${segment}`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const stream = (JSON.parse(probe.stdout) as { streams: { codec_name: string; nb_read_frames: string }[] }).streams[0]!;
    assert.equal(stream.codec_name, 'h264');
    assert.ok(Number(stream.nb_read_frames) > 10, 'the segment decodes to frames');
  });

  it('stopping one destination does not interrupt the others', async () => {
    const before = { pass: await nginx.hasPublisher(KEYS.ytPass), twitch: await flaky.hasPublisher(KEYS.twitch) };
    const framesBefore = { pass: await frames(ids.ytPass), twitch: await frames(ids.twitch) };
    assert.equal((await rt.api('POST', `/api/destinations/${ids.ytMobile}/stop`)).status, 202);
    await waitStatus(ids.ytMobile, 'idle');
    await eventually(async () => !(await nginx.hasPublisher(KEYS.ytMobile))?.publishing, { what: 'the stopped stream to leave nginx' });
    await eventually(async () => (await frames(ids.ytPass)) > framesBefore.pass + 60 && (await frames(ids.twitch)) > framesBefore.twitch + 30, { timeoutMs: 15_000, what: 'the others to keep counting frames' });
    const afterStop = { pass: await nginx.hasPublisher(KEYS.ytPass), twitch: await flaky.hasPublisher(KEYS.twitch) };
    // Same connection (its uptime kept growing, it never restarted) and more bytes.
    assert.ok(afterStop.pass?.publishing && afterStop.twitch?.publishing);
    assert.ok(afterStop.pass!.uptimeMs! > before.pass!.uptimeMs!, 'the passthrough connection stayed up');
    assert.ok(afterStop.twitch!.uptimeMs! > before.twitch!.uptimeMs!, 'the twitch connection stayed up');
    assert.ok(afterStop.pass!.bytesIn > before.pass!.bytesIn && afterStop.twitch!.bytesIn > before.twitch!.bytesIn);
    assert.equal((await get(ids.ytPass)).status, 'running');
    assert.equal((await get(ids.twitch)).status, 'running');
  });

  it('deleting it removes its output, channel and process', async () => {
    const channelId = (await get(ids.ytMobile)).mediaLiveChannelId!;
    const outputsBefore = (await rt.engine!.describeFlow()).outputs.length;
    assert.equal((await rt.api('DELETE', `/api/destinations/${ids.ytMobile}`)).status, 202);
    await eventually(async () => (await rt.api('GET', `/api/destinations/${ids.ytMobile}`)).status === 404, { timeoutMs: 15_000, what: 'deletion' });
    assert.equal(await rt.engine!.describeChannel(channelId), null, 'channel gone');
    assert.equal((await rt.engine!.describeFlow()).outputs.length, outputsBefore - 1, 'output gone');
    assert.ok(!(await processes()).some((p) => p.channelIds.includes(channelId)), 'no process serves it');
    assert.ok(!cmdlines().some((c) => c.includes(KEYS.ytMobile)), 'no OS process carries its key');
  });

  it('a channel whose FFmpeg is killed -9 comes back by itself; the other destinations are unaffected', async () => {
    const channelId = (await get(ids.ytPass)).mediaLiveChannelId!;
    // The passthrough channel is served by the flow's mux FFmpeg (publishers run in the engine).
    const mux = (await processes()).find((p) => p.role === 'encoder' && p.channelIds.includes(channelId))!;
    assert.ok(mux.pid);
    const pushers = (await processes()).filter((p) => p.role === 'pusher');
    assert.ok(pushers.length > 0 && pushers.every((p) => p.pid === null), `publishers run in the engine, not as processes: ${JSON.stringify(pushers)}`);
    const twitch = { frames: await frames(ids.twitch), conn: await flaky.hasPublisher(KEYS.twitch) };
    process.kill(mux.pid, 'SIGKILL');
    await eventually(
      async () => {
        const p = (await processes()).find((x) => x.role === 'encoder' && x.channelIds.includes(channelId));
        return p && p.pid !== null && p.pid !== mux.pid && p.restarts > mux.restarts;
      },
      { timeoutMs: 20_000, what: 'the mux to restart' },
    );
    const passFrames = await frames(ids.ytPass);
    await eventually(async () => (await nginx.hasPublisher(KEYS.ytPass))?.publishing && (await frames(ids.ytPass)) > passFrames + 30, { timeoutMs: 20_000, what: 'publishing again' });
    await waitStatus(ids.ytPass, 'running');
    assert.ok((await frames(ids.twitch)) > twitch.frames, 'the other destination kept going');
    const after_ = await flaky.hasPublisher(KEYS.twitch);
    assert.ok(after_?.publishing && after_.uptimeMs! > twitch.conn!.uptimeMs!, 'the other destination kept its connection');
  });

  it('a target that goes away shows an error with a hint, then recovers by itself', async () => {
    await flaky.stop();
    const failing = await eventually(
      async () => {
        const d = await get(ids.twitch);
        return d.status === 'error' && d.lastError ? d : null;
      },
      { timeoutMs: 30_000, what: 'status error with lastError' },
    );
    assert.match(failing.lastError!.code, /RTMP_/);
    assert.ok(failing.lastError!.hint.length > 10);
    const m = (await rt.api('GET', `/api/destinations/${ids.twitch}/metrics`)).json.metrics;
    assert.ok(m.attempt >= 1 && m.nextRetryAt, 'retry attempt and next retry time are visible');
    assert.equal((await get(ids.ytPass)).status, 'running', 'the other destination is unaffected');
    await flaky.restart();
    await waitStatus(ids.twitch, 'running', 90_000);
    assert.equal((await get(ids.twitch)).lastError, null);
    await eventually(async () => (await flaky.hasPublisher(KEYS.twitch))?.publishing, { timeoutMs: 20_000, what: 'publishing to the restored target' });
  });

  it('the input reports its SRT statistics: bitrate, RTT, loss, retransmits', async () => {
    const h = await eventually(
      async () => {
        const x = (await rt.api('GET', '/api/mediaconnect/inputs/health')).json;
        return x.connected && typeof x.rttMs === 'number' && typeof x.packetLossPercent === 'number' && (x.bitrateInKbps ?? 0) > 500 ? x : null;
      },
      { timeoutMs: 20_000, what: 'SRT stats in input health' },
    );
    assert.match(h.sourceAddress, /^127\.0\.0\.1:\d+$/);
    assert.ok(h.rttMs >= 0 && h.rttMs < 100, `rtt ${h.rttMs} ms on loopback`);
    assert.equal(h.packetLossPercent, 0);
    assert.equal(typeof h.retransmits, 'number');
    assert.equal(typeof h.packetsLost, 'number');
  });

  it('no process has the SRT passphrase or a stream key in its command line or environment, the ingest and the test source included', () => {
    const secrets = [PASSPHRASE, ...Object.values(KEYS)];
    const seen = { listener: 0, caller: 0, sourceFfmpeg: 0 };
    for (const pid of pids()) {
      const cmd = procFile(pid, 'cmdline');
      const env = procFile(pid, 'environ');
      for (const s of secrets) {
        assert.ok(!cmd.includes(s), `pid ${pid} has a secret in its cmdline: ${cmd.slice(0, 60)}…`);
        assert.ok(!env.includes(s), `pid ${pid} has a secret in its environment: ${cmd.slice(0, 60)}…`);
      }
      if (/fanout-srt listen /.test(cmd)) seen.listener += 1;
      if (/fanout-srt call .*-- ffmpeg /.test(cmd)) seen.caller += 1;
      if (/^ffmpeg .*testsrc2/.test(cmd)) seen.sourceFfmpeg += 1;
    }
    assert.ok(seen.listener >= 1 && seen.caller >= 1 && seen.sourceFfmpeg >= 1, `the scan saw the ingest and the test source: ${JSON.stringify(seen)}`);
  });

  it('an encoder with the wrong passphrase is refused and reported; an encoder that drops and comes back is picked up', async () => {
    encoder.kill('SIGKILL');
    await eventually(async () => (await rt.api('GET', '/api/mediaconnect/inputs/health')).json.connected === false, { timeoutMs: 20_000, what: 'the drop to be seen' });
    const intruder = feed.spawnSource('wrong-passphrase-9876543210');
    try {
      const health = await eventually(
        async () => {
          const h = (await rt.api('GET', '/api/mediaconnect/inputs/health')).json;
          return h.lastError?.code === 'SRT_PASSPHRASE_REJECTED' ? h : null;
        },
        { timeoutMs: 20_000, what: 'the wrong passphrase to be reported' },
      );
      assert.equal(health.connected, false, 'the intruder is not connected');
      assert.ok(health.lastError.hint.length > 10);
    } finally {
      intruder.kill('SIGKILL');
    }
    encoder = await feed.reconnect();
    const before = await frames(ids.ytPass);
    await eventually(async () => (await frames(ids.ytPass)) > before + 30, { timeoutMs: 60_000, what: 'media flowing to the destination again' });
    await waitStatus(ids.ytPass, 'running', 60_000);
  });

  it('no stream key or passphrase in any response, event or process listing', async () => {
    const secrets = [...Object.values(KEYS), PASSPHRASE];
    const haystack = [...rt.responses, ...rt.published.map((e) => JSON.stringify(e)), JSON.stringify(await processes())].join('\n');
    for (const s of secrets) assert.ok(!haystack.includes(s), `secret leaked: ${s.slice(0, 4)}…`);
  });
});
