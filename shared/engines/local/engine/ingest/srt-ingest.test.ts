/**
 * The SRT ingest on its own, with the real program (fanout-srt over libsrt) and a real test source
 * on loopback: media and events, a wrong passphrase, a kill -9 and a hang (SIGSTOP) each restarted
 * by the supervisor with media flowing again, and the passphrase in no argv or environment.
 *
 * @media fanout-srt, FFmpeg (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeUdpPort } from '../../../../../test/support/nginx-rtmp.ts';
import { waitFor } from '../../process/fixtures/wait-for.ts';
import { exited, killGroup, startTestSource } from '../testing.ts';
import { ingestBinary } from './binary.ts';
import type { SrtIngestNotice } from './srt-ingest.ts';
import { SrtIngest } from './srt-ingest.ts';

const PASSPHRASE = 'ingest-SECRETPASS-0123456789';
const SOURCE = { width: 320, height: 180, fps: 25, bitrate: 400_000 } as const;
const RETRY = { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1000, resetAfterStableMs: 60_000 };

describe('SrtIngest (fanout-srt listen), real SRT on loopback', { timeout: 90_000 }, () => {
  let dir: string;
  let port: number;
  let ingest: SrtIngest;
  let source: ChildProcess | null = null;
  let bytes = 0;
  const events: SrtIngestNotice[] = [];
  const running = () => {
    const st = ingest.supervisor.status();
    return st.state === 'running' && st.pid !== null ? st.pid : null;
  };
  /** Restarts the test source when it has ended (it does when its listener went away), as an encoder would. */
  const keepSource = () => {
    if (!source || source.exitCode !== null || source.signalCode !== null) source = startTestSource({ host: '127.0.0.1', port, passphrase: PASSPHRASE, keyLength: 16, ...SOURCE });
  };
  const mediaAgain = async (what: string) => {
    const b0 = bytes;
    await waitFor(
      what,
      () => {
        keepSource();
        return ingest.state().connected && bytes > b0 + 50_000;
      },
      { timeoutMs: 25_000, intervalMs: 100 },
    );
  };

  before(async () => {
    const built = ingestBinary();
    assert.equal(built.problem, null);
    dir = mkdtempSync(join(tmpdir(), 'fanout-ingest-'));
    port = await freeUdpPort();
    ingest = new SrtIngest({ binary: built.path, port, bindAddress: '127.0.0.1', passphrase: PASSPHRASE, keyLength: 16, statsEveryMs: 250, hangTimeoutMs: 1500, retry: RETRY, stopGraceMs: 2000, pidDir: dir });
    ingest.onEvent((e) => events.push(e));
    ingest.onMedia((s) => s.on('data', (b: Buffer) => (bytes += b.length)));
    ingest.start();
    await waitFor('the ingest listening', () => events.some((e) => e.type === 'listening'), { timeoutMs: 5000 });
  });

  after(async () => {
    killGroup(source);
    await ingest?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports a caller with the wrong passphrase, with its address', async () => {
    const wrong = startTestSource({ host: '127.0.0.1', port, passphrase: 'wrong-SECRETPASS-0123456789', keyLength: 16, ...SOURCE, durationSeconds: 2 });
    const rejected = await waitFor('a rejection', () => events.find((e) => e.type === 'rejected'), { timeoutMs: 8000 });
    assert.ok(rejected.type === 'rejected' && rejected.error.code === 'SRT_PASSPHRASE_REJECTED' && /^127\.0\.0\.1:\d+$/.test(rejected.address ?? ''));
    assert.notEqual(await exited(wrong), 0, 'the caller fails');
    assert.equal(ingest.state().lastRejection?.code, 'SRT_PASSPHRASE_REJECTED');
  });

  it('takes the right caller: media on stdout, SRT stats, the passphrase in no argv or environment', async () => {
    await mediaAgain('media from the test source');
    await waitFor('stats', () => ingest.state().rttMs !== null && (ingest.state().mbitRate ?? 0) > 0.1, { timeoutMs: 5000 });
    const pid = running()!;
    for (const p of [pid, source!.pid!]) {
      assert.ok(!readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(PASSPHRASE), `cmdline of ${p}`);
      assert.ok(!readFileSync(`/proc/${p}/environ`, 'utf8').includes(PASSPHRASE), `environ of ${p}`);
    }
  });

  it('killed -9: the supervisor restarts it, the encoder calls again, media flows', async () => {
    const pid = running()!;
    process.kill(pid, 'SIGKILL');
    await waitFor('a new run', () => (running() ?? pid) !== pid, { timeoutMs: 10_000 });
    assert.ok(ingest.supervisor.status().restarts >= 1);
    await mediaAgain('media after the restart');
  });

  it('hung (SIGSTOP): silent on fd 3, killed by the watchdog and restarted, media flows', async () => {
    const pid = running()!;
    process.kill(pid, 'SIGSTOP');
    const hung = await waitFor('the hang noticed', () => events.find((e) => e.type === 'hung'), { timeoutMs: 10_000 });
    assert.ok(hung.type === 'hung' && hung.pid === pid && hung.silentMs >= 1500);
    await waitFor('a new run', () => (running() ?? pid) !== pid, { timeoutMs: 10_000 });
    await mediaAgain('media after the hang');
  });
});
