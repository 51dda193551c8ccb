/**
 * Typed domain errors and their one HTTP shape: RFC 9457 `application/problem+json` with a stable
 * `code`. Adapters translate raw failures (SDK exceptions, stderr) into an `AppError` at the edge;
 * nothing else reaches a caller.
 */
import { errorRegistry, type ErrorCode } from './registry.ts';

export { errorRegistry, type ErrorCode } from './registry.ts';

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    /** Extra members for the problem document (never secrets). */
    readonly extra: Record<string, unknown> = {},
    /** Extra response headers (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? errorRegistry[code].title);
    this.name = 'AppError';
    this.status = errorRegistry[code].status;
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  hint: string;
  instance?: string;
  [extra: string]: unknown;
}

/** Renders an error as a problem document. Unknown errors become INTERNAL without leaking their message. */
export function toProblem(err: unknown, instance?: string): ProblemDocument {
  const appErr = err instanceof AppError ? err : new AppError('INTERNAL', 'An unexpected error occurred.');
  const spec = errorRegistry[appErr.code];
  return {
    ...appErr.extra,
    type: `https://fanout.dev/errors/${appErr.code.toLowerCase().replaceAll('_', '-')}`,
    title: spec.title,
    status: spec.status,
    code: appErr.code,
    detail: appErr.message,
    hint: spec.hint,
    ...(instance ? { instance } : {}),
  };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
