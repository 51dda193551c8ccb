/**
 * Input failover and the slate with real media (issue 15, ADR 0023): two test encoders, one on the
 * main SRT input and one on the backup, a passthrough and an encoded destination publishing to a
 * loopback nginx-rtmp standing in for the platform. What the platform sees is checked there: the
 * same RTMP client (nginx's client id) through every switch, its bytes growing, timestamps that
 * only go forward (ffprobe reading the stream from nginx), the slate's colour in its frames.
 *
 * @media FFmpeg, fanout-srt, nginx-rtmp (npm run test:unit leaves this file out); run under the lock.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnTestSource } from '../shared/engines/local/index.ts';
import { FEED_PICTURE, primaryPlaylist, startTestFeed, type TestFeed } from './support/feed.ts';
import { eventually, type TestRuntime } from './support/local.ts';
import { freeUdpPort, NginxRtmp } from './support/nginx-rtmp.ts';

const PASSPHRASE = 'failover-passphrase-0123456789';
const KEYS = { pass: 'failover-pass-key-000111222', enc: 'failover-enc-key-333444555' };
const FAILOVER = { mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 4000, slateTimeoutMs: 60_000 };

let nginx: NginxRtmp;
let feed: TestFeed;
let rt: TestRuntime;
let backupPort: number;
let main: ChildProcess;
let backup: ChildProcess | null = null;
const ids = { pass: '', enc: '' };

type Health = {
  active: string | null;
  lastSwitch: { from: string | null; to: string; reason: string; at: string } | null;
  inputs: Record<'main' | 'backup', { connected: boolean; connectedSince: string | null; lastError: { code: string } | null; configured: boolean }>;
  slate: { since: string; stopsAt: string } | null;
};
const health = async () => (await rt.api('GET', '/api/mediaconnect/inputs/health')).json as Health;
const waitActive = (want: string, timeoutMs = 20_000) => eventually(async () => ((await health()).active === want ? await health() : null), { timeoutMs, what: `${want} on air` });
const switched = () => rt.published.filter((e) => e.DetailType === 'InputSwitched').map((e) => (JSON.parse(e.Detail) as { data: { from: string | null; to: string; reason: string } }).data);

function spawnBackup(passphrase = PASSPHRASE): ChildProcess {
  const child = spawnTestSource({ host: '127.0.0.1', port: backupPort, passphrase, keyLength: 16, ...FEED_PICTURE, bitrate: 1_200_000, detached: false });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

/** Kills a test encoder and waits for it to be gone. */
async function kill(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** Both destinations are published to nginx: their client ids and byte counts now. */
async function sessions(): Promise<Record<keyof typeof KEYS, { clientId: number; bytesIn: number; uptimeMs: number }>> {
  const out = {} as Record<keyof typeof KEYS, { clientId: number; bytesIn: number; uptimeMs: number }>;
  for (const k of Object.keys(KEYS) as (keyof typeof KEYS)[]) {
    const p = await nginx.hasPublisher(KEYS[k]);
    assert.ok(p?.publishing && p.clientId !== null, `${k} is published to nginx`);
    out[k] = { clientId: p.clientId!, bytesIn: p.bytesIn, uptimeMs: p.uptimeMs ?? 0 };
  }
  return out;
}

/** The same RTMP sessions as `before`, each having received more bytes since. */
async function sameSessionsGrowing(before: Awaited<ReturnType<typeof sessions>>, what: string): Promise<void> {
  await eventually(
    async () => {
      const now = await sessions();
      for (const k of Object.keys(KEYS) as (keyof typeof KEYS)[]) {
        assert.equal(now[k].clientId, before[k].clientId, `${what}: ${k} is the same nginx client (no reconnect)`);
        if (!(now[k].bytesIn > before[k].bytesIn + 50_000 && now[k].uptimeMs > before[k].uptimeMs)) return false;
      }
      return true;
    },
    { timeoutMs: 20_000, what: `${what}: bytes growing on the same sessions` },
  );
}

/**
 * Reads `key` from nginx with ffprobe while `during` runs: every video packet's DTS (ms) as the
 * platform would see it.
 */
async function videoDtsDuring(key: string, during: () => Promise<void>): Promise<number[]> {
  const probe = spawn('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=dts', '-of', 'csv=p=0', `${nginx.url('live')}/${key}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  probe.stdout.on('data', (d: Buffer) => (out += d.toString()));
  probe.stderr.resume();
  try {
    await eventually(() => out.split('\n').length > 30, { timeoutMs: 15_000, what: `ffprobe reading ${key.slice(-4)}` });
    await during();
    const n = out.split('\n').length;
    await eventually(() => out.split('\n').length > n + 60, { timeoutMs: 15_000, what: 'frames after the switch' });
  } finally {
    probe.kill('SIGKILL');
  }
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^-?\d+$/.test(l))
    .map(Number);
}

function assertMonotonic(dts: number[], what: string): void {
  for (let i = 1; i < dts.length; i++) assert.ok(dts[i]! > dts[i - 1]!, `${what}: DTS goes back or repeats at packet ${i}: ${dts[i - 1]} → ${dts[i]}`);
}

/** The colour of the top-left 16×16 pixels of a frame of `key` at nginx (the slate's text is in the middle). */
async function cornerColour(key: string): Promise<[number, number, number]> {
  const args = ['-v', 'error', '-i', `${nginx.url('live')}/${key}`, '-frames:v', '1', '-vf', 'crop=16:16:0:0,scale=1:1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  ff.stdout.on('data', (d: Buffer) => chunks.push(d));
  const timer = setTimeout(() => ff.kill('SIGKILL'), 10_000);
  await new Promise((r) => ff.once('exit', r));
  clearTimeout(timer);
  const px = Buffer.concat(chunks);
  return [px[0] ?? -1, px[1] ?? -1, px[2] ?? -1];
}
const isSlateColour = ([r, g, b]: [number, number, number]) => Math.abs(r - 0x30) < 24 && Math.abs(g - 0x20) < 24 && Math.abs(b - 0xa0) < 24;

describe('input failover and the slate with real media', { timeout: 540_000 }, () => {
  before(async () => {
    nginx = await NginxRtmp.start();
    backupPort = await freeUdpPort();
    // The test polls the API often: the rate limit is not what it is about.
    feed = await startTestFeed({ passphrase: PASSPHRASE, env: { FANOUT_SRT_BACKUP_PORT: String(backupPort), FANOUT_RATE_LIMIT_PER_MINUTE: '1000000' } });
    ({ rt, encoder: main } = feed);
    const put = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: FAILOVER });
    assert.equal(put.status, 200, put.text);
    const preset = await rt.api('POST', '/api/admin/presets', {
      body: { presetId: 'failover-180p15', name: '180p15', platform: 'custom', video: { codec: 'h264', resolution: '320x180', frameRate: 15, bitrate: 300_000 }, audio: { codec: 'aac', bitrate: 64_000 } },
    });
    assert.equal(preset.status, 201, preset.text);
    for (const [k, presetId] of [
      ['pass', 'passthrough'],
      ['enc', 'failover-180p15'],
    ] as const) {
      const res = await rt.api('POST', '/api/destinations', { body: { name: `Failover ${k}`, platform: 'custom', rtmpUrl: nginx.url('live'), streamKey: KEYS[k], preset: presetId } });
      assert.equal(res.status, 201, res.text);
      ids[k] = res.json.destinationId as string;
    }
    for (const id of Object.values(ids)) await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { timeoutMs: 20_000, what: 'idle' });
    for (const id of Object.values(ids)) assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    for (const id of Object.values(ids)) await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'running', { timeoutMs: 30_000, what: 'running' });
    backup = spawnBackup();
    await eventually(async () => (await health()).inputs.backup.connected, { timeoutMs: 20_000, what: 'the backup encoder connected' });
  });

  after(async () => {
    await kill(backup);
    await feed?.close();
    await nginx?.close();
  });

  it('both inputs are monitored; the main is on air; the backup test passes while the main is active', async () => {
    const h = await waitActive('main');
    assert.equal(h.inputs.main.connected, true);
    assert.equal(h.inputs.backup.connected, true);
    assert.equal(h.inputs.backup.configured, true);
    assert.equal(h.lastSwitch, null);
    // Connected comes before media: the backup encoder sends a moment after its SRT handshake.
    const t = await eventually(
      async () => {
        const r = await rt.api('POST', '/api/mediaconnect/inputs/backup/test');
        return r.json?.decodable === true ? r : null;
      },
      { timeoutMs: 15_000, what: 'the backup test decodable' },
    );
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.connected, true);
    assert.equal(t.json.decodable, true, t.text);
    assert.deepEqual([t.json.video.codec, t.json.video.width, t.json.video.height], ['h264', FEED_PICTURE.width, FEED_PICTURE.height]);
    assert.equal(t.json.audio.codec, 'aac');
    assert.deepEqual(t.json.problems, []);
    assert.equal((await health()).active, 'main', 'the test switched nothing');
  });

  it('kill the main encoder: the backup goes on air; same RTMP sessions, bytes growing, DTS monotonic, an InputSwitched', async () => {
    const before = await sessions();
    const dts = await videoDtsDuring(KEYS.pass, async () => {
      await kill(main);
      await waitActive('backup');
    });
    assertMonotonic(dts, 'passthrough at nginx');
    const h = await health();
    assert.deepEqual([h.lastSwitch?.from, h.lastSwitch?.to, h.lastSwitch?.reason], ['main', 'backup', 'input-loss']);
    await eventually(() => switched().some((s) => s.from === 'main' && s.to === 'backup' && s.reason === 'input-loss'), { timeoutMs: 10_000, what: 'InputSwitched main→backup' });
    await sameSessionsGrowing(before, 'after the failover');
    for (const id of Object.values(ids)) assert.equal((await rt.api('GET', `/api/destinations/${id}`)).json.status, 'running');
  });

  it('the main comes back: on air again after the clean time (revertive), the same sessions', async () => {
    const before = await sessions();
    main = await feed.reconnect();
    const h = await waitActive('main', 30_000);
    assert.equal(h.lastSwitch?.reason, 'recovered');
    const since = Date.parse(h.inputs.main.connectedSince!);
    assert.ok(Date.parse(h.lastSwitch!.at) - since >= FAILOVER.errorClearTimeMs - 200, `reverted ${Date.parse(h.lastSwitch!.at) - since} ms after the main connected (clean time ${FAILOVER.errorClearTimeMs})`);
    await sameSessionsGrowing(before, 'after the revert');
    const playlist = await primaryPlaylist(rt);
    assert.match(playlist, /#EXT-X-DISCONTINUITY/, 'the primary HLS marks the switches');
  });

  it('manual switch both ways; non-revertive stays on the backup', async () => {
    const before = await sessions();
    // Manual switches and the revert rule are what this is about, not loss detection: a longer
    // loss threshold keeps a test encoder's stall on a loaded machine (a second without output was
    // seen) from making an automatic switch in the middle.
    const MANUAL = { ...FAILOVER, inputLossThresholdMs: 3000 };
    assert.equal((await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: MANUAL })).status, 200);
    const toBackup = await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'backup' } });
    assert.equal(toBackup.status, 200, toBackup.text);
    assert.equal((await waitActive('backup')).lastSwitch?.reason, 'manual');
    // Automatic and revertive: the manual switch to the backup is undone after the clean time.
    await waitActive('main', 20_000);
    const nonRevertive = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: { ...MANUAL, errorClearTimeMs: null } });
    assert.equal(nonRevertive.status, 200, nonRevertive.text);
    await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'backup' } });
    await waitActive('backup');
    // Twice the clean time on the backup with a clean main: still the backup (polled all along).
    const until = Date.now() + 2 * FAILOVER.errorClearTimeMs;
    while (Date.now() < until) {
      assert.equal((await health()).active, 'backup', 'non-revertive: no switch back');
      await new Promise((r) => setTimeout(r, 250));
    }
    const toMain = await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'main' } });
    assert.equal(toMain.status, 200, toMain.text);
    assert.equal((await waitActive('main')).lastSwitch?.reason, 'manual');
    await sameSessionsGrowing(before, 'after the manual switches');
    assert.equal((await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: FAILOVER })).status, 200);
  });

  it('a wrong passphrase on the backup shows on the backup only; a switch to a silent backup is refused', async () => {
    await kill(backup);
    // A caller is refused while the last one still looks connected: call once the backup is free.
    await eventually(async () => !(await health()).inputs.backup.connected, { timeoutMs: 20_000, what: 'the backup encoder gone' });
    backup = spawnBackup('wrong-passphrase-9876543210');
    const h = await eventually(
      async () => {
        // The SRT caller gives up after a rejection: an encoder calls again.
        if (backup && (backup.exitCode !== null || backup.signalCode !== null)) backup = spawnBackup('wrong-passphrase-9876543210');
        const now = await health();
        return now.inputs.backup.lastError?.code === 'SRT_PASSPHRASE_REJECTED' ? now : null;
      },
      { timeoutMs: 20_000, what: 'the backup rejection' },
    );
    assert.equal(h.inputs.main.lastError, null);
    assert.equal(h.inputs.main.connected, true);
    assert.equal(h.active, 'main');
    const sw = await rt.api('POST', '/api/mediaconnect/inputs/switch', { body: { to: 'backup' } });
    assert.equal(sw.json.code, 'INPUT_NOT_CONNECTED', sw.text);
    await kill(backup);
    backup = null;
  });

  it('no input: the slate goes on air (its colour at the platform), the sessions stay; the main returns without a reconnect', async () => {
    const before = await sessions();
    await kill(main);
    const h = await waitActive('slate');
    assert.equal(h.lastSwitch?.reason, 'input-loss');
    assert.ok(h.slate && Date.parse(h.slate.stopsAt) - Date.parse(h.slate.since) === FAILOVER.slateTimeoutMs);
    await eventually(async () => isSlateColour(await cornerColour(KEYS.pass)), { timeoutMs: 20_000, what: 'the slate colour in the passthrough stream' });
    await eventually(async () => isSlateColour(await cornerColour(KEYS.enc)), { timeoutMs: 20_000, what: 'the slate colour in the encoded stream' });
    await sameSessionsGrowing(before, 'on the slate');
    main = await feed.reconnect();
    assert.equal((await waitActive('main', 30_000)).lastSwitch?.reason, 'recovered');
    await eventually(async () => !isSlateColour(await cornerColour(KEYS.pass)), { timeoutMs: 20_000, what: 'the real feed back' });
    await sameSessionsGrowing(before, 'after the slate');
  });

  it('past the slate time the destinations stop, saying why (INPUT_STALLED)', async () => {
    const put = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: { ...FAILOVER, slateTimeoutMs: 3000 } });
    assert.equal(put.status, 200, put.text);
    await kill(main);
    await waitActive('slate');
    await eventually(() => switched().some((s) => s.reason === 'slate-timeout'), { timeoutMs: 20_000, what: 'InputSwitched slate-timeout' });
    for (const id of Object.values(ids)) {
      await eventually(
        async () => {
          const d = (await rt.api('GET', `/api/destinations/${id}`)).json as { desired: string; status: string; lastError: { code: string } | null };
          return d.desired === 'stopped' && d.lastError?.code === 'INPUT_STALLED' && (d.status === 'stopped' || d.status === 'idle');
        },
        { timeoutMs: 30_000, what: `${id} stopped for the slate timeout` },
      );
    }
    await eventually(async () => (await nginx.hasPublisher(KEYS.pass))?.publishing !== true, { timeoutMs: 20_000, what: 'the platform session ended' });
  });
});
