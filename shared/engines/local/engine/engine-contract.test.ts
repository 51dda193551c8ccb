/**
 * The engine contract (shared/engines/port/contract.ts) on the local engine that users run, with
 * real media: every test gets a fresh LocalMediaEngine (its own data dir and SRT port), its
 * channels push to a private nginx-rtmp on loopback, and once the flow is ACTIVE an FFmpeg test
 * source calls the engine's SRT listener with the passphrase, so "RUNNING" means what it means
 * here: media really being pushed.
 *
 * @media FFmpeg, fanout-srt, nginx-rtmp (npm run test:unit leaves this file out)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { freeUdpPort, NginxRtmp } from '../../../../test/support/nginx-rtmp.ts';
import { Secret } from '../../../secrets/secret.ts';
import { engineContract } from '../../port/contract.ts';
import type { NativeEngineEvent } from '../../port/ports.ts';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { LocalMediaEngine } from './local-media-engine.ts';
import { killGroup, startTestSource } from './testing.ts';

const PASSPHRASE = 'contract-passphrase-0123456789';
const SOURCE = { width: 480, height: 270, fps: 25, bitrate: 600_000 };

let nginx: NginxRtmp;
before(async () => {
  nginx = await NginxRtmp.start();
});
after(async () => {
  await nginx?.close();
});

engineContract(
  'LocalMediaEngine (real media on loopback)',
  async () => {
    const events: NativeEngineEvent[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'fanout-contract-'));
    const srtPort = await freeUdpPort();
    const engine = new LocalMediaEngine({
      dataDir,
      srtPort,
      srtPassphrase: new Secret(PASSPHRASE),
      srtKeyLength: 16,
      sink: (e) => events.push(e),
      x264Preset: 'ultrafast',
      retryPolicy: { initialIntervalMs: 300, backoffCoefficient: 2, maximumIntervalMs: 2000, resetAfterStableMs: 60_000 },
    });
    await engine.start();
    let source: ChildProcess | null = null;
    return {
      engine,
      events,
      target: { url: nginx.url('live') },
      encode: { video: { width: 320, height: 180, frameRate: 15, bitrate: 300_000, profile: 'main', level: 'auto', keyframeInterval: 2 }, audio: { bitrate: 64_000, sampleRate: 44_100, channels: 2 } },
      async feed() {
        // FFmpeg's SRT caller gives up after about 3 s without an answer: call again until connected.
        await waitFor(
          'the test source connected',
          async () => {
            if ((await engine.inputHealth()).connected) return true;
            if (!source || source.exitCode !== null || source.signalCode !== null) source = startTestSource({ host: '127.0.0.1', port: srtPort, passphrase: PASSPHRASE, keyLength: 16, ...SOURCE });
            return false;
          },
          { timeoutMs: 20_000, intervalMs: 200 },
        );
      },
      async close() {
        killGroup(source);
        await engine.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
  { timeoutMs: 30_000 },
);
