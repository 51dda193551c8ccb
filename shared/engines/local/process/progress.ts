/**
 * Parser for FFmpeg's machine-readable progress (`-progress pipe:N`): `key=value` lines in blocks
 * that end with `progress=continue` (or `progress=end` once, when FFmpeg finishes). Pure and
 * incremental: feed it chunks exactly as they come off the pipe, split anywhere.
 *
 * What real FFmpeg (5.1) prints, as recorded in `fixtures/progress/`:
 *
 *   frame=13                 fps=25.50                 stream_0_0_q=20.0
 *   bitrate= 923.2kbits/s    (or N/A: null muxer, or before the first packet)
 *   total_size=40274         (or N/A with the null muxer)
 *   out_time_us=349000       out_time_ms=349000  ← also microseconds, a historic FFmpeg misnomer
 *   out_time=00:00:00.349000 dup_frames=0  drop_frames=0
 *   speed=0.684x             (also `speed=   0x`, `speed=N/A` and `speed=1.88e+04x`)
 *   progress=continue
 */
import { StringDecoder } from 'node:string_decoder';

/** `continue` while FFmpeg runs; `end` in its last block. */
export type ProgressState = 'continue' | 'end';

/** One progress block, typed. Fields FFmpeg reported as `N/A` (or did not report) are `null`. */
export interface ProgressSnapshot {
  frame: number | null;
  fps: number | null;
  bitrateKbps: number | null;
  totalSizeBytes: number | null;
  /** Output timestamp in milliseconds (from `out_time_us`, `out_time_ms` or `out_time`). */
  outTimeMs: number | null;
  dupFrames: number | null;
  dropFrames: number | null;
  /** Encoding speed relative to real time (`1.01x` → 1.01). */
  speed: number | null;
  progress: ProgressState;
  /** Every key of the block as printed (e.g. `stream_0_0_q`), for what is not typed above. */
  raw: Readonly<Record<string, string>>;
}

/** A line longer than this is not progress output; it is dropped so garbage cannot grow memory. */
const MAX_LINE = 4096;

function num(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '' || v === 'N/A') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** `bitrate= 923.2kbits/s` → 923.2; FFmpeg always prints kbit/s here. */
function bitrateKbps(value: string | undefined): number | null {
  if (value === undefined) return null;
  const m = /^\s*([0-9.eE+-]+)\s*kbits\/s\s*$/.exec(value);
  return m ? num(m[1]) : null;
}

/** `speed=1.01x` → 1.01, `speed=1.88e+04x` → 18800. */
function speed(value: string | undefined): number | null {
  if (value === undefined) return null;
  const m = /^\s*([0-9.eE+-]+)\s*x\s*$/.exec(value);
  return m ? num(m[1]) : null;
}

/** `out_time=00:01:02.500000` → 62500. */
function clockToMs(value: string | undefined): number | null {
  const m = value === undefined ? null : /^\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)\s*$/.exec(value);
  if (!m) return null;
  return Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000);
}

function outTimeMs(fields: Readonly<Record<string, string>>): number | null {
  // out_time_ms has always been in microseconds too (a misnomer FFmpeg kept for compatibility).
  const us = num(fields['out_time_us']) ?? num(fields['out_time_ms']);
  const ms = us !== null ? Math.round(us / 1000) : clockToMs(fields['out_time']);
  // FFmpeg prints a negative time before the first packet on some inputs; that is "no time yet".
  return ms !== null && ms >= 0 ? ms : null;
}

/**
 * Types one complete block.
 * @param fields the block's `key=value` pairs, including `progress`
 */
export function toSnapshot(fields: Readonly<Record<string, string>>): ProgressSnapshot {
  // Frozen: one snapshot is handed to every listener and kept in status().
  return Object.freeze({
    frame: num(fields['frame']),
    fps: num(fields['fps']),
    bitrateKbps: bitrateKbps(fields['bitrate']),
    totalSizeBytes: num(fields['total_size']),
    outTimeMs: outTimeMs(fields),
    dupFrames: num(fields['dup_frames']),
    dropFrames: num(fields['drop_frames']),
    speed: speed(fields['speed']),
    progress: fields['progress']?.trim() === 'end' ? 'end' : 'continue',
    raw: Object.freeze({ ...fields }),
  });
}

/**
 * Incremental parser: `push()` each chunk read from the progress pipe and get back the blocks it
 * completed. Lines may be split across chunks; `\r\n` line ends are accepted.
 */
export class ProgressParser {
  #decoder = new StringDecoder('utf8');
  #partial = '';
  #discarding = false;
  #fields: Record<string, string> = {};

  /** Feeds a chunk; returns the snapshots of every block it completed (often none or one). */
  push(chunk: string | Buffer): ProgressSnapshot[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    const out: ProgressSnapshot[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = this.#partial + text.slice(start, nl);
      this.#partial = '';
      start = nl + 1;
      if (this.#discarding) {
        this.#discarding = false;
        continue;
      }
      const snap = this.#line(line);
      if (snap) out.push(snap);
    }
    if (!this.#discarding) {
      this.#partial += text.slice(start);
      if (this.#partial.length > MAX_LINE) {
        this.#partial = '';
        this.#discarding = true;
      }
    }
    return out;
  }

  /** Ends the stream: a block without its `progress=` line is incomplete and is dropped. */
  end(): ProgressSnapshot[] {
    const rest = this.#decoder.end();
    const out = rest ? this.push(rest) : [];
    const last = this.#partial;
    this.#partial = '';
    const snap = last && !this.#discarding ? this.#line(last) : null;
    this.#fields = {};
    this.#discarding = false;
    return snap ? [...out, snap] : out;
  }

  #line(rawLine: string): ProgressSnapshot | null {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const eq = line.indexOf('=');
    if (eq <= 0) return null;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1);
    this.#fields[key] = value;
    if (key !== 'progress') return null;
    const snap = toSnapshot(this.#fields);
    this.#fields = {};
    return snap;
  }
}

/** Parses a whole transcript at once (tests, recorded fixtures). */
export function parseProgress(text: string): ProgressSnapshot[] {
  const parser = new ProgressParser();
  return [...parser.push(text), ...parser.end()];
}
