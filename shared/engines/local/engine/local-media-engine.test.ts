/**
 * The engine's control surface without media: option and spec validation, typed errors,
 * idempotency, the events of create/update/delete, and the reaping of a crashed run's processes.
 * (Media, failures and recovery: engine.test.ts; the source grace: source-grace.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Secret } from '../../../secrets/secret.ts';
import type { ChannelSpec, NativeEngineEvent } from '../../port/ports.ts';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { isAlive } from '../process/proc.ts';
import { MediaEngineError } from './channel-lifecycle.ts';
import { LocalMediaEngine, type LocalMediaEngineOptions } from './local-media-engine.ts';

const live: LocalMediaEngine[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((e) => e.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function make(o: Partial<LocalMediaEngineOptions> = {}): { engine: LocalMediaEngine; events: NativeEngineEvent[]; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-engine-unit-'));
  dirs.push(dataDir);
  const events: NativeEngineEvent[] = [];
  const engine = new LocalMediaEngine({ dataDir, srtPort: 40_999, srtPassphrase: new Secret('unit-test-passphrase'), srtKeyLength: 16, sink: (e) => events.push(e), ...o });
  live.push(engine);
  return { engine, events, dataDir };
}

const spec = (over: Partial<ChannelSpec> = {}): ChannelSpec => ({
  destinationId: 'dest-1',
  name: 'YouTube',
  outputArn: 'arn:aws:mediaconnect:local:000000000000:output:1-local-dest-1:dest-dest-1',
  presetId: 'passthrough',
  encode: null,
  target: { url: 'rtmp://127.0.0.1:1935/live', streamKey: new Secret('sk-unit-SECRET-0001') },
  ...over,
});

test('options are validated at construction, every problem reported at once', () => {
  assert.throws(
    () =>
      new LocalMediaEngine({
        dataDir: '',
        srtPort: 0,
        srtPassphrase: new Secret('short'),
        srtKeyLength: 20 as 16,
        sink: (() => undefined) as never,
        stallTimeoutMs: -1,
      }),
    (e: unknown) => e instanceof MediaEngineError && e.code === 'INVALID_ENGINE_OPTIONS' && ['dataDir', 'srtPort', 'srtKeyLength', 'srtPassphrase', 'stallTimeoutMs'].every((k) => e.message.includes(k)) && !e.message.includes('short'),
  );
});

test('channel specs are validated; bad ones are typed errors', async () => {
  const { engine } = make();
  const bad = spec({
    target: { url: 'http://example.com/live', streamKey: new Secret('k-unit-0002') },
    encode: { video: { width: 321, height: 240, frameRate: 0, bitrate: 1, profile: 'main', level: '9.9', keyframeInterval: 2 }, audio: { bitrate: 1, sampleRate: 1, channels: 1 } },
  });
  await assert.rejects(engine.createChannel(bad), (e: unknown) => {
    assert.ok(e instanceof MediaEngineError);
    assert.equal(e.code, 'INVALID_CHANNEL_SPEC');
    for (const k of ['target.url', 'even', 'frameRate', 'level']) assert.match(e.message, new RegExp(k.replace('.', '\\.')));
    return true;
  });
});

test('create is idempotent per destination; update and delete move through MediaLive states', async () => {
  const { engine, events } = make();
  const a = await engine.createChannel(spec());
  assert.match(a.channelId, /^\d{7}$/);
  assert.equal(a.arn, `arn:aws:medialive:local:000000000000:channel:${a.channelId}`);
  assert.deepEqual(await engine.createChannel(spec()), a);
  assert.deepEqual(await engine.describeChannel(a.channelId), { channelId: a.channelId, arn: a.arn, destinationId: 'dest-1', state: 'IDLE', error: null });
  await engine.updateChannel(a.channelId, spec({ target: { url: 'rtmp://127.0.0.1:1935/other', streamKey: new Secret('sk-unit-SECRET-0003') } }));
  await assert.rejects(engine.updateChannel(a.channelId, spec({ destinationId: 'dest-2' })), { code: 'INVALID_CHANNEL_SPEC' });
  await engine.deleteChannel(a.channelId);
  await engine.deleteChannel(a.channelId);
  await engine.stopChannel(a.channelId);
  assert.equal(await engine.describeChannel(a.channelId), null);
  assert.deepEqual(await engine.listChannels(), []);
  const states = events.filter((e) => e.detailType === 'MediaLive Channel State Change').map((e) => e.detail['state']);
  assert.deepEqual(states, ['CREATING', 'IDLE', 'UPDATING', 'IDLE', 'DELETING', 'DELETED']);
  assert.ok(!JSON.stringify(events).includes('SECRET'));
});

test('typed errors for a missing channel and a missing flow output', async () => {
  const { engine } = make();
  await assert.rejects(engine.startChannel('0000000'), { code: 'CHANNEL_NOT_FOUND' });
  await assert.rejects(engine.updateChannel('0000000', spec()), { code: 'CHANNEL_NOT_FOUND' });
  const { channelId } = await engine.createChannel(spec());
  await assert.rejects(engine.startChannel(channelId), { code: 'OUTPUT_NOT_FOUND' });
  assert.equal((await engine.describeChannel(channelId))?.state, 'IDLE', 'a refused start changes nothing');
});

test('flow outputs: idempotent add and remove, one loopback port each', async () => {
  const { engine } = make();
  const a = await engine.addOutput('d-1');
  const b = await engine.addOutput('d-2');
  assert.deepEqual(await engine.addOutput('d-1'), a);
  assert.notEqual(a.outputArn, b.outputArn);
  await engine.removeOutput(a.outputArn);
  await engine.removeOutput(a.outputArn);
  await engine.removeOutput('arn:aws:mediaconnect:local:000000000000:output:nope');
  const flow = await engine.describeFlow();
  assert.equal(flow.state, 'STANDBY');
  assert.deepEqual(flow.outputs, [{ outputArn: b.outputArn, destinationId: 'd-2' }]);
  assert.equal(flow.source.connected, false);
});

test('start() kills the processes a crashed previous run left behind', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-engine-reap-'));
  dirs.push(dataDir);
  const controlPlane = fileURLToPath(new URL('../process/fixtures/control-plane.ts', import.meta.url));
  const cp = spawn(process.execPath, ['--import', 'tsx', controlPlane, join(dataDir, 'run', 'pids'), 'none'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  cp.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const { pid } = await waitFor('the orphan-to-be running', () => (out.includes('\n') ? (JSON.parse(out.split('\n')[0] ?? '') as { pid: number }) : null), { timeoutMs: 15_000, intervalMs: 20 });
  cp.kill('SIGKILL');
  await waitFor('control plane gone', () => cp.exitCode !== null || cp.signalCode !== null);
  assert.ok(isAlive(pid), 'its child outlived it');
  const { engine } = make({ dataDir });
  await engine.start();
  await waitFor('the orphan reaped', () => !isAlive(pid), { timeoutMs: 5000 });
});

test('close() before start, and every call after close()', async () => {
  const { engine } = make();
  await engine.close();
  await engine.close();
  await assert.rejects(engine.startFlow(), { code: 'ENGINE_CLOSED' });
  assert.deepEqual(engine.processes(), []);
  assert.equal(engine.channelMetrics('0000000'), null);
});
