/**
 * EngineContext owns every FFmpeg the engine runs through `ffmpeg()`: one that its owner lost track
 * of (a supervisor replaced without being stopped) is stopped at close by `stopStray()`, and after
 * close none starts. With the fake FFmpeg (process/fixtures/fake-ffmpeg.mjs): this is supervision,
 * not media.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Secret } from '../../../secrets/secret.ts';
import { waitFor } from '../process/fixtures/wait-for.ts';
import { isAlive } from '../process/proc.ts';
import { EngineContext } from './engine-context.ts';

const FAKE = fileURLToPath(new URL('../process/fixtures/fake-ffmpeg.mjs', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function context(): EngineContext {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-ctx-'));
  dirs.push(dataDir);
  return new EngineContext({ dataDir, srtPort: 9000, srtPassphrase: new Secret('passphrase-0123456789'), srtKeyLength: 16, sink: () => {}, ffmpegPath: FAKE, retryPolicy: { initialIntervalMs: 50, maximumIntervalMs: 200 } }, () => []);
}

test('stopStray() stops an FFmpeg nobody holds, running or waiting in backoff; idle ones are not touched', async () => {
  const ctx = context();
  const running = ctx.ffmpeg('lost-running', ['--mode=run', '--interval=50']);
  const crashing = ctx.ffmpeg('lost-crashing', ['--mode=exit', '--code=1']);
  const idle = ctx.ffmpeg('never-started', []);
  running.start();
  crashing.start();
  await waitFor('running and in backoff', () => running.status().state === 'running' && crashing.status().state === 'backoff', { timeoutMs: 5000 });
  const pid = running.status().pid;
  assert.ok(pid && isAlive(pid));
  ctx.markClosed();
  await ctx.stopStray();
  assert.deepEqual([running.status().state, crashing.status().state, idle.status().state], ['idle', 'idle', 'idle']);
  assert.equal(isAlive(pid), false, 'its process is gone');
});

test('after close a supervisor that is told to start stops at once', async () => {
  const ctx = context();
  const sup = ctx.ffmpeg('late', ['--mode=run', '--interval=50']);
  ctx.markClosed();
  sup.start();
  await waitFor('stopped again', () => sup.status().state === 'idle' && sup.status().desired === 'stopped', { timeoutMs: 5000 });
  await ctx.stopStray();
  assert.equal(sup.status().pid, null);
});
