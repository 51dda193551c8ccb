/**
 * Crash safety on the local engine, with real media: a destination streams to nginx-rtmp while
 * another is created, and the process is SIGKILLed between flow-output's write of the new
 * destination's output and its FlowOutputAdded (the crash point of issue 11's "stuck in
 * creating"). After a restart on the same data dir (the engine's processes died with it; the
 * reconciles re-create them) the new destination is idle, the streaming one publishes again, and
 * the validation finds nothing wrong. Failed before the fix: the new destination stayed `creating`.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { spawnTestSource } from '../../shared/engines/local/index.ts';
import { allReachWanted, ChildDied, FanoutChild, Ledger, removeChildBundle } from '../support/crash.ts';
import { FEED_PICTURE } from '../support/feed.ts';
import { freeUdpPort, NginxRtmp } from '../support/nginx-rtmp.ts';

const PASSPHRASE = 'crash-local-passphrase-0123456789';

after(removeChildBundle);

test('local engine: killed between recording an output and FlowOutputAdded; after a restart the new destination is idle and the live one streams again', { timeout: 240_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-crash-local-'));
  const nginx = await NginxRtmp.start();
  const srtPort = await freeUdpPort();
  const env = { FANOUT_SRT_PORT: String(srtPort), FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_PASSPHRASE: PASSPHRASE, FANOUT_X264_PRESET: 'ultrafast' };
  const source = () => spawnTestSource({ host: '127.0.0.1', port: srtPort, passphrase: PASSPHRASE, keyLength: 16, ...FEED_PICTURE, bitrate: 1_000_000, output: 'ignore', detached: false });
  const ledger = new Ledger();
  let encoder: ChildProcess | null = null;
  const flowActive = (f: FanoutChild) => f.until(async () => (await f.api('GET', '/api/mediaconnect/flow/status')).json?.state === 'ACTIVE', 'the flow ACTIVE');
  const status = async (f: FanoutChild, id: string) => (await f.api('GET', `/api/destinations/${id}`)).json.status as string;
  // First life: one destination streaming.
  let f = await FanoutChild.start({ dataDir, engine: 'local', env });
  try {
    await flowActive(f);
    encoder = source();
    const live = await ledger.create(f, { name: 'Live', platform: 'custom', rtmpUrl: nginx.url('live'), streamKey: 'crash-local-live-000111', preset: 'passthrough' });
    await f.until(async () => (await status(f, live)) === 'idle', 'live idle');
    await ledger.command(f, live, 'start');
    await f.until(async () => (await nginx.hasPublisher('crash-local-live-000111'))?.publishing, 'live publishing', 60_000);
    await f.stop();

    // Second life, armed: the next FlowOutputAdded (the new destination's) is never published.
    f = await FanoutChild.start({ dataDir, engine: 'local', env, point: { detailType: 'FlowOutputAdded' } });
    encoder.kill('SIGKILL');
    await flowActive(f);
    encoder = source();
    await f.until(async () => (await nginx.hasPublisher('crash-local-live-000111'))?.publishing, 'live publishing in the second life', 60_000);
    await ledger.create(f, { name: 'New', platform: 'custom', rtmpUrl: nginx.url('live'), streamKey: 'crash-local-new-222333', preset: 'passthrough' });
    await f
      .until(async () => false, 'the crash point', 30_000)
      .catch((err: unknown) => {
        if (!(err instanceof ChildDied)) throw err;
      });
    assert.equal(f.exitStatus?.signal, 'SIGKILL', 'killed by its crash point');

    // Third life, on the same data dir.
    f = await FanoutChild.start({ dataDir, engine: 'local', env });
    // The encoder's connection died with the old listener: like a hardware encoder, it calls again.
    encoder.kill('SIGKILL');
    await flowActive(f);
    encoder = source();
    await allReachWanted(f, ledger, 90_000);
    await f.until(async () => (await nginx.hasPublisher('crash-local-live-000111'))?.publishing, 'live publishing again', 60_000);
    assert.ok(!(await nginx.hasPublisher('crash-local-new-222333'))?.publishing, 'the new destination was never started');
    assert.doesNotMatch(f.output(), /crash-local-(live|new)-|crash-local-passphrase/, 'no secret in the output');
  } finally {
    await f.stop();
    encoder?.kill('SIGKILL');
    await nginx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
