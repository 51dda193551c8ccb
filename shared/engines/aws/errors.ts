/**
 * AWS exceptions become domain errors here, at the adapter; callers never see an SDK exception.
 *
 *   transient (throttling after the SDK's own retries, 5xx, network)  → AppError ENGINE_UNAVAILABLE
 *                                     (callers rethrow it so the queue redelivers: see provisioner)
 *   ConflictException 409 (wrong state)            → AwsEngineError CHANNEL_NOT_IDLE / INPUT_ATTACHED / CONFLICT
 *   UnprocessableEntityException 422               → AwsEngineError REQUEST_REJECTED, with its ValidationErrors
 *   BadRequestException naming a limit or quota    → AwsEngineError QUOTA_EXCEEDED, saying which quota to raise
 *   BadRequestException otherwise                  → AwsEngineError BAD_REQUEST
 *   ForbiddenException 403                         → AwsEngineError ACCESS_DENIED (IAM)
 *   NotFoundException 404                          → AwsEngineError NOT_FOUND (callers treat it as "gone" where that is fine)
 *
 * Every message passes `redact` with the request's secrets (the stream key), so a service message
 * that echoes a value cannot leak it. Codes are the engine's own: the API's error registry
 * (shared/errors) only sees them through the callers' events (ChannelFailed.error.message).
 */
import { AppError } from '../../errors/index.ts';
import { redact } from '../../secrets/redact.ts';

export type AwsEngineErrorCode =
  | 'CHANNEL_NOT_IDLE'
  | 'CHANNEL_NOT_FOUND'
  | 'INPUT_ATTACHED'
  | 'CONFLICT'
  | 'REQUEST_REJECTED'
  | 'QUOTA_EXCEEDED'
  | 'BAD_REQUEST'
  | 'ACCESS_DENIED'
  | 'NOT_FOUND'
  | 'NOT_OWNED'
  | 'INVALID_REFERENCE'
  | 'INVALID_TARGET'
  | 'INVALID_CONFIG';

export interface AwsValidationError {
  elementPath: string;
  message: string;
}

export class AwsEngineError extends Error {
  override readonly name = 'AwsEngineError';
  constructor(
    readonly code: AwsEngineErrorCode,
    message: string,
    readonly hint: string,
    readonly details: { awsCode?: string; httpStatus?: number; validationErrors?: AwsValidationError[] } = {},
  ) {
    super(message);
  }
}

/** The shape of an SDK v3 service exception, as far as this module reads it. */
interface ServiceErrorLike {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  ValidationErrors?: { ElementPath?: string; ErrorMessage?: string }[];
  code?: string;
}

const TRANSIENT = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'InternalServerErrorException',
  'BadGatewayException',
  'GatewayTimeoutException',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'AbortError',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** The AWS error name (`ConflictException`, ...) of `err`, or null for a non-AWS error. */
export function awsErrorName(err: unknown): string | null {
  const e = err as ServiceErrorLike | null;
  if (!e || typeof e !== 'object') return null;
  if (e.$metadata || e.$fault) return e.name ?? null;
  if (typeof e.name === 'string' && /Exception$/.test(e.name)) return e.name;
  return null;
}

export interface ErrorContext {
  /** `MediaLive CreateChannel`, ... */
  operation: string;
  /** `channel 1234567`, `destination <id>` (ids only, never a URL or key). */
  subject: string;
  /** Values that must never appear in a message (the stream key). */
  secrets?: readonly string[];
  /** Which quota a limit error on this operation most likely hit. */
  quota?: string;
  /** The code a ConflictException becomes (default CONFLICT). */
  conflict?: AwsEngineErrorCode;
  conflictHint?: string;
}

/** Turns an AWS SDK error into AppError (transient) or AwsEngineError; returns any other error unchanged. */
export function toDomainError(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof AwsEngineError || err instanceof AppError) return err;
  const e = (err ?? {}) as ServiceErrorLike;
  const name = awsErrorName(err);
  const status = e.$metadata?.httpStatusCode;
  const clean = (s: string | undefined): string => redact(s ?? '', ctx.secrets ?? []).slice(0, 300);
  const what = `${ctx.operation} (${ctx.subject})`;
  const details = { awsCode: name ?? undefined, httpStatus: status };

  if ((name && TRANSIENT.has(name)) || e.$fault === 'server' || (status !== undefined && status >= 500) || (e.code && NETWORK_CODES.has(e.code))) {
    return new AppError('ENGINE_UNAVAILABLE', `${what} failed transiently: ${name ?? e.code ?? 'error'}: ${clean(e.message)}`, { awsCode: name ?? e.code ?? null });
  }
  if (!name) return err instanceof Error ? err : new Error(String(err));
  switch (name) {
    case 'ConflictException':
      return new AwsEngineError(ctx.conflict ?? 'CONFLICT', `${what} conflicts with the resource's current state: ${clean(e.message)}`, ctx.conflictHint ?? 'Wait for the resource to reach a state that allows the operation (the state-change event says when), then retry.', details);
    case 'UnprocessableEntityException': {
      const validationErrors = (e.ValidationErrors ?? []).map((v) => ({ elementPath: clean(v.ElementPath), message: clean(v.ErrorMessage) }));
      const list = validationErrors.map((v) => `${v.elementPath}: ${v.message}`).join('; ');
      return new AwsEngineError('REQUEST_REJECTED', `${what} was rejected by the service: ${list || clean(e.message)}`, 'Fix the settings named in the validation errors (usually the preset or the RTMP URL) and save the destination again.', { ...details, validationErrors });
    }
    case 'ForbiddenException':
    case 'AccessDeniedException':
      return new AwsEngineError('ACCESS_DENIED', `${what} was denied: ${clean(e.message)}`, 'Check the function role: it needs the MediaLive/MediaConnect actions it calls and iam:PassRole on the MediaLive role.', details);
    case 'NotFoundException':
      return new AwsEngineError('NOT_FOUND', `${what}: not found`, 'The resource no longer exists; reconcile re-creates what is still wanted.', details);
    case 'BadRequestException':
    case 'AddFlowOutputs420Exception':
      if (/limit|quota|maximum number|exceed/i.test(e.message ?? '') || name === 'AddFlowOutputs420Exception')
        return new AwsEngineError('QUOTA_EXCEEDED', `${what} hit a limit: ${clean(e.message)}`, ctx.quota ? `Raise the quota in Service Quotas: ${ctx.quota}.` : 'Raise the quota named in the message in Service Quotas.', details);
      return new AwsEngineError('BAD_REQUEST', `${what} was refused: ${clean(e.message)}`, 'The request is malformed; this is a Fanout bug, please report it with the message.', details);
    default:
      return new AwsEngineError('BAD_REQUEST', `${what} failed: ${name}: ${clean(e.message)}`, 'Unexpected AWS error; check the message and the function logs.', details);
  }
}

export const QUOTAS = {
  channels: 'MediaLive "Channels" per Region (default 5)',
  inputs: 'MediaLive "Push inputs" per Region (default 5; whether MediaConnect inputs count toward it is unverified), or MediaConnect outputs per flow (50, not increasable: use a second flow)',
} as const;
