/**
 * The benchmark feed, encoded once and cached: 20 s of 1080p30 testsrc2 + tone, H.264 6 Mbps CBR
 * with a 2 s GOP, AAC, MPEG-TS. Both `npm run bench` and the RTMP fan-out micro-benchmark loop it
 * with `-c copy`, so the sender costs little CPU and the two measure the same input.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FEED = { width: 1920, height: 1080, fps: 30, videoBitrate: 6_000_000, seconds: 20, gopFrames: 60 };

/** The cached feed file, encoding it first when missing. `onPid` sees the encoder's pid (to exclude it from CPU figures). */
export async function feedFile(onPid?: (pid: number) => void): Promise<{ path: string; cached: boolean; encodeSeconds: number }> {
  const dir = join(tmpdir(), 'fanout-bench-cache');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `testsrc2-${FEED.width}x${FEED.height}p${FEED.fps}-${FEED.videoBitrate / 1e6}M-${FEED.seconds}s-g${FEED.gopFrames}.ts`);
  if (existsSync(path) && statSync(path).size > 1_000_000) return { path, cached: true, encodeSeconds: 0 };
  const part = `${path}.part-${process.pid}`;
  const started = performance.now();
  const b = String(FEED.videoBitrate);
  const g = String(FEED.gopFrames);
  // prettier-ignore
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${FEED.width}x${FEED.height}:rate=${FEED.fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=1000:sample_rate=48000',
    '-t',
    String(FEED.seconds),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-b:v',
    b,
    '-maxrate',
    b,
    '-bufsize',
    String(2 * FEED.videoBitrate),
    '-g',
    g,
    '-keyint_min',
    g,
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-f',
    'mpegts',
    part,
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid) onPid?.(child.pid);
    let err = '';
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pre-encoding the test feed failed (${code}): ${err.slice(-500)}`))));
  });
  renameSync(part, path);
  return { path, cached: false, encodeSeconds: (performance.now() - started) / 1000 };
}

/**
 * Arguments of `fanout-srt call` (its binary from `ingestBinary()`, the passphrase on its stdin)
 * sending `file` looped in real time with `-c copy` to the SRT listener on 127.0.0.1:`port`: the
 * bench's encoder stand-in, costing little CPU.
 */
export function loopedFeedCallerArgs(port: number, file: string): string[] {
  // biome-ignore format: one flag and its value a line
  return [
    'call', '--host', '127.0.0.1', '--port', String(port), '--pbkeylen', '16', '--',
    'ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-re', '-stream_loop', '-1', '-i', file,
    '-c', 'copy', '-f', 'mpegts', '-flush_packets', '1', 'pipe:1',
  ];
}
