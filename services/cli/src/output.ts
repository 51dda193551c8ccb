/**
 * Everything the CLI writes goes through here: data on stdout, progress and errors on stderr
 * (clig.dev), colour only on a terminal (never with NO_COLOR, `--color never` or `--json`), tables
 * on a terminal and `--json` for scripts. Every string written is scrubbed of the secrets this run
 * knows (the token it authenticates with, a stream key it sends), so neither can reach a terminal
 * or a log by accident: the API never returns them, and this is the second lock.
 */
import Table from 'cli-table3';
import pc from 'picocolors';
import type { Problem } from './errors.ts';

export type ColorMode = 'auto' | 'always' | 'never';
export type Colors = ReturnType<typeof pc.createColors>;

interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface IoOptions {
  json: boolean;
  color: ColorMode;
  noColorEnv: boolean;
  forceColorEnv: boolean;
  verbose: boolean;
  stdout?: Stream;
  stderr?: Stream;
}

export class Io {
  readonly json: boolean;
  readonly verbose: boolean;
  /** Colours for stdout and for stderr (each decided by its own stream). */
  readonly c: Colors;
  readonly ce: Colors;
  readonly #stdout: Stream;
  readonly #stderr: Stream;
  readonly #secrets = new Set<string>();

  constructor(o: IoOptions) {
    this.json = o.json;
    this.verbose = o.verbose;
    this.#stdout = o.stdout ?? process.stdout;
    this.#stderr = o.stderr ?? process.stderr;
    const enabled = (s: Stream): boolean => {
      if (o.color === 'never' || o.noColorEnv) return false;
      if (o.color === 'always' || o.forceColorEnv) return true;
      return s.isTTY === true;
    };
    this.c = pc.createColors(!o.json && enabled(this.#stdout));
    this.ce = pc.createColors(enabled(this.#stderr));
  }

  /** Whether stdout / stderr is a terminal. */
  get stdoutTTY(): boolean {
    return this.#stdout.isTTY === true;
  }
  get stderrTTY(): boolean {
    return this.#stderr.isTTY === true;
  }

  /** Registers a value that must never be written (values under 4 characters are too ambiguous). */
  secret(value: string | undefined): void {
    if (value && value.length >= 4) this.#secrets.add(value);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  /** A line (or lines) of data on stdout. */
  out(text = ''): void {
    this.#stdout.write(this.scrub(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** Raw text on stdout (no newline added). */
  write(text: string): void {
    this.#stdout.write(this.scrub(text));
  }

  /** A line on stderr (progress, notices, errors). */
  err(text: string): void {
    this.#stderr.write(this.scrub(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** Raw text on stderr (progress lines rewritten with \r). */
  errWrite(text: string): void {
    this.#stderr.write(this.scrub(text));
  }

  /** A warning on stderr. */
  warn(text: string): void {
    this.err(`${this.ce.yellow('warning:')} ${text}`);
  }

  /** Debug detail on stderr with --verbose. */
  debug(text: string): void {
    if (this.verbose) this.err(this.ce.dim(`* ${text}`));
  }

  /** A JSON document on stdout (pretty on a terminal, one line otherwise). */
  printJson(value: unknown): void {
    this.out(JSON.stringify(value, null, this.stdoutTTY ? 2 : undefined));
  }

  /** One line of JSON on stdout (a stream of events: NDJSON). */
  printJsonLine(value: unknown): void {
    this.out(JSON.stringify(value));
  }

  /**
   * A table: aligned columns without borders (like kubectl and gh), a bold header on a terminal.
   * `empty` is said on stderr when there are no rows, so stdout stays empty data.
   */
  table(head: string[], rows: string[][], empty: string): void {
    if (rows.length === 0) {
      this.err(this.ce.dim(empty));
      return;
    }
    const t = new Table({
      head: head.map((h) => this.c.bold(h)),
      chars: {
        top: '',
        'top-mid': '',
        'top-left': '',
        'top-right': '',
        bottom: '',
        'bottom-mid': '',
        'bottom-left': '',
        'bottom-right': '',
        left: '',
        'left-mid': '',
        mid: '',
        'mid-mid': '',
        right: '',
        'right-mid': '',
        middle: '  ',
      },
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    });
    t.push(...rows);
    // cli-table3 pads the last column too: trim each line's end.
    this.out(
      t
        .toString()
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n'),
    );
  }

  /** `key  value` lines, aligned. */
  details(pairs: [string, string][]): void {
    const width = Math.max(...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.out(`${this.c.dim(k.padEnd(width))}  ${v}`);
  }

  /** An error: the problem document on stderr (as JSON with --json), said as the API says it. */
  problem(p: Problem): void {
    if (this.json) {
      this.err(JSON.stringify(p));
      return;
    }
    const c = this.ce;
    const code = p.status ? `${p.code}, ${p.status}` : p.code;
    this.err(`${c.red(c.bold('error:'))} ${p.detail && p.detail !== p.title ? `${p.title}: ${p.detail}` : p.title} ${c.dim(`(${code})`)}`);
    for (const e of p.errors ?? []) this.err(`  ${c.bold(e.path)}: ${e.message}`);
    const extras = problemExtras(p);
    for (const line of extras) this.err(`  ${line}`);
    if (p.hint) this.err(`  ${c.cyan('hint:')} ${p.hint}`);
  }
}

/** What some codes add to a problem (usedBy, currentStatus, violations...), as readable lines. */
function problemExtras(p: Problem): string[] {
  const lines: string[] = [];
  const known = new Set(['type', 'title', 'status', 'code', 'detail', 'hint', 'instance', 'errors']);
  for (const [k, v] of Object.entries(p)) {
    if (known.has(k) || v === undefined || v === null) continue;
    lines.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines;
}

/** A stream key as the CLI shows it: masked, the last four characters at most (when the API gives them). */
export function maskedKey(last4: string | null | undefined): string {
  return last4 ? `••••${last4}` : '••••';
}

/** A duration in seconds as `1h02m`, `3m05s`, `12s`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
