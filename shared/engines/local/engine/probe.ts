/**
 * What an input carries, read from its hub without touching it: the hub's cached GOP (from the
 * latest keyframe, `TsHub.gopSnapshot`) written to one `ffprobe` on stdin, which decodes it
 * (`-count_frames`) and says its streams. Used by the backup test (decodable? like the main?) and
 * to give the slate the main's size and frame rate (inputs.ts). A GOP is 1 to 2 s of media, so a
 * probe takes a few hundred milliseconds of one core, only when asked.
 */
import { spawn } from 'node:child_process';
import type { BackupTestResult } from '../../port/ports.ts';
import type { TsHub } from './ts-hub.ts';

export interface ProbeResult {
  /** At least one video frame decoded. */
  decodable: boolean;
  video: BackupTestResult['video'];
  audio: BackupTestResult['audio'];
  /** Why nothing could be read, when nothing could. */
  problem: string | null;
}

const EMPTY: ProbeResult = { decodable: false, video: null, audio: null, problem: null };

function rate(r: unknown): number | null {
  if (typeof r !== 'string') return null;
  const [n, d] = r.split('/').map(Number);
  if (!n || !d || !Number.isFinite(n / d)) return null;
  return Math.round((n / d) * 100) / 100;
}

/**
 * Probes the hub's cached GOP; never throws (a failure is a `problem`). A GOP caught just after its
 * keyframe holds part of one frame: it is probed again, up to `attempts` times 300 ms apart.
 */
export async function probeHub(hub: TsHub, o: { ffprobePath: string; timeoutMs?: number; attempts?: number }): Promise<ProbeResult> {
  let r = await probeOnce(hub, o);
  for (let i = 1; i < (o.attempts ?? 4) && !r.decodable && hub.gopSnapshot().length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    r = await probeOnce(hub, o);
  }
  return r;
}

async function probeOnce(hub: TsHub, o: { ffprobePath: string; timeoutMs?: number }): Promise<ProbeResult> {
  const gop = hub.gopSnapshot();
  if (gop.length === 0) return { ...EMPTY, problem: 'no media arriving (no GOP to probe)' };
  const args = ['-hide_banner', '-v', 'error', '-count_frames', '-show_streams', '-of', 'json', '-f', 'mpegts', '-i', 'pipe:0'];
  return new Promise((resolve) => {
    const child = spawn(o.ffprobePath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 5000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ...EMPTY, problem: `ffprobe could not run: ${e.message}` });
    });
    child.on('close', () => {
      clearTimeout(timer);
      try {
        const streams = (JSON.parse(out || '{}') as { streams?: Record<string, unknown>[] }).streams ?? [];
        const v = streams.find((s) => s['codec_type'] === 'video');
        const a = streams.find((s) => s['codec_type'] === 'audio');
        const frames = Number(v?.['nb_read_frames'] ?? 0);
        resolve({
          decodable: frames > 0 && Number(v?.['width'] ?? 0) > 0,
          video: v ? { codec: String(v['codec_name'] ?? 'unknown'), width: Number(v['width'] ?? 0), height: Number(v['height'] ?? 0), frameRate: rate(v['avg_frame_rate']) ?? rate(v['r_frame_rate']) } : null,
          audio: a ? { codec: String(a['codec_name'] ?? 'unknown'), sampleRate: a['sample_rate'] ? Number(a['sample_rate']) : null, channels: typeof a['channels'] === 'number' ? a['channels'] : null } : null,
          problem: v ? null : `no video stream found${err ? ` (${err.trim().split('\n')[0]})` : ''}`,
        });
      } catch {
        resolve({ ...EMPTY, problem: `ffprobe's answer could not be read${err ? ` (${err.trim().split('\n')[0]})` : ''}` });
      }
    });
    child.stdin.on('error', () => undefined);
    for (const b of gop) child.stdin.write(b);
    child.stdin.end();
  });
}

/** What stands in the way of a clean switch from `main` to `backup`, in words. */
export function switchProblems(main: ProbeResult | null, backup: ProbeResult): string[] {
  const problems: string[] = [];
  if (!backup.decodable) problems.push(backup.problem ?? 'no video frame could be decoded from the backup');
  const mv = main?.video;
  const bv = backup.video;
  if (mv && bv) {
    if (mv.codec !== bv.codec) problems.push(`video codec ${bv.codec} differs from the main's ${mv.codec}`);
    if (mv.width !== bv.width || mv.height !== bv.height) problems.push(`resolution ${bv.width}x${bv.height} differs from the main's ${mv.width}x${mv.height}`);
    if (mv.frameRate && bv.frameRate && Math.abs(mv.frameRate - bv.frameRate) > 0.5) problems.push(`frame rate ${bv.frameRate} differs from the main's ${mv.frameRate}`);
  }
  const ma = main?.audio;
  const ba = backup.audio;
  if (ma && !ba) problems.push('the backup has no audio');
  if (ma && ba && ma.codec !== ba.codec) problems.push(`audio codec ${ba.codec} differs from the main's ${ma.codec}`);
  return problems;
}
