/**
 * Errors as the CLI shows them. An API error keeps the API's problem document (RFC 9457) exactly as
 * received; an error of the CLI's own (bad usage, Fanout unreachable, a timeout) gets a document of
 * the same shape with a `CLI_*` code, so `--json` callers parse one format on stderr either way.
 * Each carries the exit code it ends the process with.
 */
import { EXIT, type ExitCode } from './exit-codes.ts';

/** A problem document: the API's, or one of the CLI's own (no `status`). */
export interface Problem {
  type: string;
  title: string;
  status?: number;
  code: string;
  detail: string;
  hint: string;
  instance?: string;
  /** Field-level problems (VALIDATION_FAILED and 422s): `path` names the field. */
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

/** The CLI's own error codes (documented in docs/errors.md, "CLI"). */
export type CliCode = 'CLI_USAGE' | 'CLI_UNREACHABLE' | 'CLI_NO_TOKEN' | 'CLI_NOT_FOUND' | 'CLI_AMBIGUOUS' | 'CLI_TIMEOUT' | 'CLI_FAILED' | 'CLI_BAD_RESPONSE' | 'CLI_INTERRUPTED';

export class CliError extends Error {
  constructor(
    readonly problem: Problem,
    readonly exitCode: ExitCode,
  ) {
    super(problem.detail);
    this.name = 'CliError';
  }
}

const CLI_TITLES: Record<CliCode, [title: string, exit: ExitCode]> = {
  CLI_USAGE: ['Usage error', EXIT.USAGE],
  CLI_UNREACHABLE: ['Fanout cannot be reached', EXIT.ERROR],
  CLI_NO_TOKEN: ['No token', EXIT.AUTH],
  CLI_NOT_FOUND: ['Not found', EXIT.NOT_FOUND],
  CLI_AMBIGUOUS: ['More than one match', EXIT.USAGE],
  CLI_TIMEOUT: ['Timed out', EXIT.ERROR],
  CLI_FAILED: ['Failed', EXIT.ERROR],
  CLI_BAD_RESPONSE: ['Unexpected answer from the API', EXIT.ERROR],
  CLI_INTERRUPTED: ['Interrupted', EXIT.INTERRUPTED],
};

/** An error of the CLI's own. */
export function cliError(code: CliCode, detail: string, hint = '', extra: Record<string, unknown> = {}): CliError {
  const [title, exit] = CLI_TITLES[code];
  return new CliError({ ...extra, type: `https://fanout.dev/errors/${code.toLowerCase().replaceAll('_', '-')}`, title, code, detail, hint }, exit);
}

/** The exit code for an API problem: 4 auth, 3 a named thing missing, 2 invalid input, else 1. */
export function exitCodeFor(problem: Problem): ExitCode {
  const status = problem.status ?? 0;
  if (status === 401 || status === 403) return EXIT.AUTH;
  // ROUTE_NOT_FOUND is a CLI/server mismatch, not a missing resource.
  if (status === 404 && problem.code !== 'ROUTE_NOT_FOUND') return EXIT.NOT_FOUND;
  if (status === 400 || status === 422) return EXIT.USAGE;
  return EXIT.ERROR;
}

/** An error of the API, from its problem document. */
export function apiError(problem: Problem): CliError {
  return new CliError(problem, exitCodeFor(problem));
}
