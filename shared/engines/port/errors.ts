/**
 * The one error type of the engine port: every engine (local, aws, memory) throws `EngineError`
 * from its operations, and the services carry it, as it is, into the destination's `lastError`
 * (`toLastError`). Nothing above an engine sees an SDK exception or a child's stderr.
 *
 *   code       stable, the engine's own (each engine has a catalog of them: PROCESS_ERROR_CATALOG
 *              and LOCAL_ENGINE_ERRORS in the local engine, AWS_ENGINE_ERRORS in the AWS engine,
 *              PORT_ERRORS below for what every engine may say); all are listed in docs/errors.md
 *              ("Destination and input errors"), which a test checks against the catalogs
 *   message    what happened, for a person; never a secret (engines redact before they throw)
 *   hint       what to do about it (AWS's "raise this quota in Service Quotas: ...")
 *   retryable  true: the same call, unchanged, can succeed shortly (throttling, a 5xx, an input
 *              still being created): the caller lets its queue deliver the step again.
 *              false: something has to change first (settings, a quota, the channel's state, an
 *              operator); the saga or the next reconcile takes it up again.
 *
 * ADR 0022 says why there is one type and why `retryable` stays out of `lastError`.
 */
import type { LastError } from '../../../events/envelope.ts';

export interface EngineErrorSpec {
  hint: string;
  retryable: boolean;
}

/** Codes any engine may throw, with the meaning every caller relies on. */
export const PORT_ERRORS = {
  /** Transient: the engine (or the service behind it) cannot answer now. */
  ENGINE_UNAVAILABLE: { hint: 'Retry shortly; Fanout retries by itself (the step is delivered again).', retryable: true },
  /** start/update/delete of a channel in a state that does not allow it (MediaLive: 409 Conflict). */
  CHANNEL_NOT_IDLE: { hint: 'MediaLive changes and deletes channels only while IDLE: stop it first, or wait for the state change.', retryable: false },
  CHANNEL_NOT_FOUND: { hint: 'Reconcile re-creates the channel of a destination that still wants one.', retryable: false },
  /** A switch to an input that delivers no media (or a backup that is not configured): nothing would feed the outputs. */
  INPUT_NOT_CONNECTED: { hint: 'Connect an encoder to that input first (GET /api/mediaconnect/inputs/health shows both), then switch.', retryable: false },
} as const satisfies Record<string, EngineErrorSpec>;

export type PortErrorCode = keyof typeof PORT_ERRORS;

export interface EngineErrorDetails {
  /** The AWS exception behind it (ConflictException, ...), where there is one. */
  awsCode?: string;
  httpStatus?: number;
  validationErrors?: { elementPath: string; message: string }[];
  /** A finer reason than `code`, for logs and tests (INPUT_CREATING, FLOW_BUSY, ...). */
  engineCode?: string;
}

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
    readonly retryable: boolean,
    readonly details: EngineErrorDetails = {},
  ) {
    super(message);
  }

  /** What a destination (or the input's health) shows: code, message and hint, unchanged but clipped to the schema's sizes. */
  toLastError(): LastError {
    return { code: this.code.slice(0, 64), message: this.message.slice(0, 500), hint: this.hint.slice(0, 500) };
  }
}

/** One of the port's own codes, with its catalogued hint unless a better one is given. */
export function portError(code: PortErrorCode, message: string, o: { hint?: string; details?: EngineErrorDetails } = {}): EngineError {
  return new EngineError(code, message, o.hint ?? PORT_ERRORS[code].hint, PORT_ERRORS[code].retryable, o.details ?? {});
}

export function isEngineError(err: unknown): err is EngineError {
  return err instanceof EngineError;
}

/** Whether the caller should let the step be delivered again (see `retryable`). */
export function isRetryable(err: unknown): boolean {
  return err instanceof EngineError && err.retryable;
}
