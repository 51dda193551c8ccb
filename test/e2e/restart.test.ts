/**
 * The control plane crashes (kill -9) while destinations stream: no FFmpeg or fanout-srt
 * outlives it, and after a restart every destination wanted running is live again. It runs the
 * bundle `npm start` runs (`build.ts`), so the compiled form is what is tested.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { spawnTestSource } from '../../shared/engines/local/index.ts';
import { buildLocal, nodeFlags } from '../../shared/runtimes/local/build.ts';
import { FEED_PICTURE } from '../support/feed.ts';
import { ADMIN_TOKEN, eventually } from '../support/local.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';

const PASSPHRASE = 'restart-passphrase-0123456789';

function ourProcesses(marker: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const state = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.[0];
        return state !== 'Z' && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

let bundle: Promise<string> | undefined;

/** The bundle of `npm start`, built once per run (its own file: other runs may build theirs). */
function fanoutBundle(): Promise<string> {
  bundle ??= buildLocal({ outfile: `.build/test-${process.pid}/main.mjs` }).then((b) => b.outfile);
  return bundle;
}

async function startFanout(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [...nodeFlags(), await fanoutBundle()], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await eventually(() => out.match(/Fanout is running at (http:\/\/\S+)/)?.[1], { timeoutMs: 60_000, what: `start-up: ${out}` });
  return { child, url, output: () => out };
}

test('kill -9 of the control plane leaves no orphans; a restart brings wanted-running destinations back', { timeout: 240_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-restart-'));
  const nginx = await NginxRtmp.start();
  const srtPort = await freeUdpPort();
  const env = {
    FANOUT_DATA_DIR: dataDir,
    FANOUT_PORT: '0',
    FANOUT_ADMIN_TOKEN: ADMIN_TOKEN,
    FANOUT_SRT_PORT: String(srtPort),
    FANOUT_SRT_HOST: '127.0.0.1',
    FANOUT_SRT_BACKUP_PORT: '0',
    FANOUT_SRT_PASSPHRASE: PASSPHRASE,
    FANOUT_X264_PRESET: 'ultrafast',
    FANOUT_LOG_LEVEL: 'WARN',
  };
  const source = () => spawnTestSource({ host: '127.0.0.1', port: srtPort, passphrase: PASSPHRASE, keyLength: 16, ...FEED_PICTURE, bitrate: 1_000_000, output: 'ignore', detached: false });
  let fanout = await startFanout(env);
  let encoder: ChildProcess | null = null;
  try {
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${fanout.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, json: (await res.json().catch(() => null)) as any };
    };
    // An SRT caller gives up after 3 s without an answer: the encoder calls once the listener is up.
    await eventually(async () => (await api('GET', '/api/mediaconnect/flow/status')).json?.state === 'ACTIVE', { timeoutMs: 30_000, what: 'the flow ACTIVE' });
    encoder = source();
    const add = async (name: string, key: string, preset: string) => (await api('POST', '/api/destinations', { name, platform: 'custom', rtmpUrl: nginx.url('live'), streamKey: key, preset })).json.destinationId as string;
    const live = await add('Live', 'restart-live-key-000111', 'passthrough');
    const live2 = await add('Live 720', 'restart-live-key-222333', 'generic-720p30');
    const parked = await add('Parked', 'restart-parked-key-444555', 'passthrough');
    for (const id of [live, live2, parked]) await eventually(async () => (await api('GET', `/api/destinations/${id}`)).json.status === 'idle', { timeoutMs: 30_000, what: 'idle' });
    await api('POST', `/api/destinations/${live}/start`);
    await api('POST', `/api/destinations/${live2}/start`);
    for (const key of ['restart-live-key-000111', 'restart-live-key-222333'])
      await eventually(async () => (await nginx.hasPublisher(key))?.publishing, { timeoutMs: 30_000, what: `${key} publishing` }).catch((e) => {
        throw new Error(`${e}\n--- output:\n${fanout.output().slice(-6000)}`);
      });
    assert.ok(ourProcesses(`127.0.0.1:${srtPort}`).length > 0 || ourProcesses(String(srtPort)).length > 0, 'the ingest runs');

    // Crash.
    fanout.child.kill('SIGKILL');
    await new Promise((r) => fanout.child.once('exit', r));
    await eventually(() => ourProcesses('restart-live-key').length === 0 && ourProcesses(`:${srtPort}`).filter((p) => p !== encoder?.pid).length === 0, {
      timeoutMs: 10_000,
      what: 'every engine process to die with the control plane',
    });
    await eventually(async () => !(await nginx.hasPublisher('restart-live-key-000111'))?.publishing, { timeoutMs: 15_000, what: 'nginx to see the publisher go' });

    // Restart on the same data dir. The encoder's connection died with the old listener: like a
    // hardware encoder, it calls again.
    fanout = await startFanout(env);
    encoder.kill('SIGKILL');
    await eventually(async () => (await api('GET', '/api/mediaconnect/flow/status')).json?.state === 'ACTIVE', { timeoutMs: 30_000, what: 'the flow ACTIVE again' });
    encoder = source();
    for (const key of ['restart-live-key-000111', 'restart-live-key-222333'])
      await eventually(async () => (await nginx.hasPublisher(key))?.publishing, { timeoutMs: 60_000, what: `${key} publishing again` }).catch((e) => {
        throw new Error(`${e}\n--- output after restart:\n${fanout.output().slice(-6000)}`);
      });
    for (const id of [live, live2]) await eventually(async () => (await api('GET', `/api/destinations/${id}`)).json.status === 'running', { timeoutMs: 60_000, what: 'running again' });
    const p = await api('GET', `/api/destinations/${parked}`);
    assert.equal(p.json.status, 'idle');
    assert.equal(p.json.desired, 'stopped');
    assert.ok(!(await nginx.hasPublisher('restart-parked-key-444555'))?.publishing, 'the parked destination stays off');
    // Publishers run inside the control plane (RtmpFanout): no OS process carries a stream key,
    // and nginx accepts one publisher per key, so both publishing means nothing was duplicated.
    assert.equal(ourProcesses('restart-live-key-000111').length, 0);
    assert.equal(ourProcesses('restart-live-key-222333').length, 0);
    assert.doesNotMatch(fanout.output(), /restart-live-key|restart-parked-key|restart-passphrase/, 'no secret in the output');
  } finally {
    fanout.child.kill('SIGINT');
    await new Promise((r) => fanout.child.once('exit', r));
    encoder?.kill('SIGKILL');
    await nginx.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (bundle) rmSync(dirname(await bundle), { recursive: true, force: true });
  }
});
