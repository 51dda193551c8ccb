/**
 * Line handling for child-process output. FFmpeg rewrites its status line with `\r` and ends the
 * others with `\n`; srt-live-transmit prints `\n`. `LineSplitter` cuts a byte stream on both, and
 * `LineRing` keeps the last N lines so a failure can be classified (and shown) after the exit.
 */
import { StringDecoder } from 'node:string_decoder';

/** Longer lines are cut: a process printing binary junk must not grow our memory. */
export const MAX_LINE_LENGTH = 2048;

/** Splits chunks into lines on `\r`, `\n` or `\r\n`; empty lines are skipped. */
export class LineSplitter {
  #decoder = new StringDecoder('utf8');
  #partial = '';

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: string | Buffer): string[] {
    const text = this.#partial + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const parts = text.split(/\r\n|\r|\n/);
    // A trailing '\r' might be the first half of '\r\n'; either way the line before it is complete.
    this.#partial = parts.pop() ?? '';
    if (this.#partial.length > MAX_LINE_LENGTH) {
      parts.push(this.#partial);
      this.#partial = '';
    }
    return parts.filter((l) => l !== '').map(cut);
  }

  /** Flushes the last unterminated line, if any. */
  end(): string[] {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    return rest === '' ? [] : [cut(rest)];
  }
}

function cut(line: string): string {
  return line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH)}…` : line;
}

/** A fixed-size ring of the most recent lines. */
export class LineRing {
  #lines: string[] = [];
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.capacity) this.#lines.splice(0, this.#lines.length - this.capacity);
  }

  /** Oldest first. */
  lines(): string[] {
    return [...this.#lines];
  }

  clear(): void {
    this.#lines = [];
  }
}
