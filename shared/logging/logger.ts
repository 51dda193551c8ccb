/**
 * Structured logging with Powertools Logger, the same on Lambda and locally. Every value that
 * goes into a log line passes a JSON replacer that runs the project's one redaction
 * (shared/secrets/redact.ts `redact`): registered secrets (each `Secret`'s value: stream keys,
 * passphrases, tokens), the stream key and query of rtmp(s) URLs, the `passphrase` of srt URLs,
 * `Authorization` header values and `Bearer` credentials, Fanout tokens; and a field named like a
 * secret (`authorization`, `passphrase`, `streamKey`, …: `isSecretField`) is hidden whatever it
 * holds. So a secret cannot reach a log by accident (logger.test.ts logs each of them).
 *
 * `Log` is the one logger interface of the project: what a module needs from a logger. The
 * Powertools `Logger` satisfies it; modules that only log (the engines, the local bus) ask for a
 * `Log`, so tests can hand them a recorder.
 *
 * Two shapes of the same record (FANOUT_LOG_FORMAT): JSON lines (Powertools' own output: for
 * Lambda, systemd's journal, files and log shippers) and, for a person at a terminal, readable
 * lines (`12:00:01.234 INFO  destination  message key=value`). `auto`, the default, picks readable
 * lines when stdout is a terminal. The readable line is made from the record after the same
 * replacer ran, so it scrubs exactly what the JSON line does.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import pc from 'picocolors';
import { config } from '../config/index.ts';
import { isSecretField, REDACTED, redact } from '../secrets/redact.ts';

export type { Logger } from '@aws-lambda-powertools/logger';

/**
 * What a module needs from a logger: four levels, each a message and structured attributes (the
 * attributes as a rest parameter, as Powertools declares them, so the Powertools `Logger` is a
 * `Log`; a recorder taking `(message, attributes?)` is one too). A module that uses fewer levels
 * asks for `Pick<Log, 'warn'>`.
 */
export interface Log {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** A `Log` that drops everything (the default of modules whose logger is optional). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** The JSON replacer of every record: secret-named fields hidden, every string through `redact`. */
export function scrubLogValue(key: string, value: unknown): unknown {
  if (typeof value === 'string') return key !== '' && isSecretField(key) ? REDACTED : redact(value);
  if (value !== null && typeof value === 'object' && key !== '' && isSecretField(key)) return REDACTED;
  return value;
}

/** The members every record has, which the readable line shows in its own places (or not at all). */
const HEADER_KEYS = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id']);

type Colors = ReturnType<typeof pc.createColors>;

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One record (already scrubbed: the attributes after the JSON replacer) as a readable line:
 * local time, level, service, message, then `key=value` pairs; an error's stack on the lines after.
 */
export function formatPretty(record: Record<string, unknown>, c: Colors = pc.createColors(false)): string {
  const level = String(record.level ?? 'INFO');
  const paint = level === 'ERROR' || level === 'CRITICAL' ? c.red : level === 'WARN' ? c.yellow : level === 'DEBUG' ? c.dim : c.green;
  const ts = typeof record.timestamp === 'string' ? new Date(record.timestamp) : new Date();
  const time = Number.isNaN(ts.getTime()) ? String(record.timestamp) : `${[ts.getHours(), ts.getMinutes(), ts.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')}.${String(ts.getMilliseconds()).padStart(3, '0')}`;
  const pairs: string[] = [];
  const stacks: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (HEADER_KEYS.has(k) || v === undefined) continue;
    const err = v as { name?: unknown; message?: unknown; stack?: unknown } | null;
    if (err && typeof err === 'object' && typeof err.message === 'string' && typeof err.stack === 'string') {
      pairs.push(`${c.dim(`${k}=`)}${value(`${String(err.name ?? 'Error')}: ${err.message}`)}`);
      stacks.push(
        ...err.stack
          .split('\n')
          .slice(1)
          .map((l) => c.dim(`    ${l.trim()}`)),
      );
      continue;
    }
    pairs.push(`${c.dim(`${k}=`)}${value(v)}`);
  }
  const head = `${c.dim(time)} ${paint(level.padEnd(5))} ${c.cyan(String(record.service ?? ''))}  ${String(record.message ?? '')}`;
  return [pairs.length ? `${head}  ${pairs.join(' ')}` : head, ...stacks].join('\n');
}

/** Whether this process logs readable lines: `pretty`, or `auto` with stdout a terminal. */
export function prettyLogs(format: 'auto' | 'json' | 'pretty', stdoutIsTTY: boolean = process.stdout.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTTY);
}

/** Powertools Logger printing readable lines instead of JSON (child loggers too). */
class PrettyLogger extends Logger {
  readonly #colors: Colors = pc.createColors(pc.isColorSupported);

  protected override printLog(logLevel: number, log: Parameters<Logger['printLog']>[1]): void {
    log.prepareForPrint();
    // Through the same replacer as the JSON line (secrets scrubbed, errors formatted), then read back.
    const record = JSON.parse(JSON.stringify(log.getAttributes(), this.getJsonReplacer())) as Record<string, unknown>;
    const line = `${formatPretty(record, this.#colors)}\n`;
    // As Powertools' console does: warnings and errors on stderr, the rest on stdout.
    (logLevel >= 16 ? process.stderr : process.stdout).write(line);
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new PrettyLogger(options);
  }
}

const loggers = new Map<string, Logger>();

/** One logger per service name. */
export function createLogger(serviceName: string): Logger {
  let logger = loggers.get(serviceName);
  if (!logger) {
    const options = { serviceName, logLevel: config().logLevel, jsonReplacerFn: scrubLogValue };
    logger = prettyLogs(config().logFormat) ? new PrettyLogger(options) : new Logger(options);
    loggers.set(serviceName, logger);
  }
  return logger;
}
