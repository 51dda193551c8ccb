/**
 * AWS exceptions become the port's EngineError here, at the adapter; callers never see an SDK
 * exception.
 *
 *   transient (throttling after the SDK's own retries, 5xx, network)  → ENGINE_UNAVAILABLE, retryable
 *                                     (callers rethrow it so the queue redelivers: see provisioner)
 *   ConflictException 409 (wrong state)            → AwsEngineError CHANNEL_NOT_IDLE / INPUT_ATTACHED / CONFLICT
 *   UnprocessableEntityException 422               → AwsEngineError REQUEST_REJECTED, with its ValidationErrors
 *   BadRequestException naming a limit or quota    → AwsEngineError QUOTA_EXCEEDED, saying which quota to raise
 *   BadRequestException otherwise                  → AwsEngineError BAD_REQUEST
 *   ForbiddenException 403                         → AwsEngineError ACCESS_DENIED (IAM)
 *   NotFoundException 404                          → AwsEngineError NOT_FOUND (callers treat it as "gone" where that is fine)
 *
 * Every message passes `redact` with the request's secrets (the stream key), so a service message
 * that echoes a value cannot leak it. Codes are the engine's own (AWS_ENGINE_ERRORS): the
 * services carry them unchanged into the destination's `lastError` (ChannelFailed.error), and
 * docs/errors.md lists every one of them.
 */
import { EngineError, portError, type EngineErrorDetails } from '../port/errors.ts';
import { redact } from '../../secrets/redact.ts';

/** Every code the AWS engine throws besides the port's own, and whether a redelivery can help. Stable: never rename or reuse. */
export const AWS_ENGINE_ERRORS = {
  CHANNEL_NOT_IDLE: { summary: 'The channel is not in a state that allows the operation (MediaLive 409)', retryable: false },
  CHANNEL_NOT_FOUND: { summary: 'The channel does not exist', retryable: false },
  INPUT_ATTACHED: { summary: 'The input still feeds a channel', retryable: false },
  CONFLICT: { summary: 'The resource is in a state that conflicts with the request (409)', retryable: false },
  REQUEST_REJECTED: { summary: 'MediaLive rejected the settings (422 with ValidationErrors)', retryable: false },
  QUOTA_EXCEEDED: { summary: 'An AWS quota is exhausted (the hint names it)', retryable: false },
  BAD_REQUEST: { summary: 'AWS refused the request (400) or failed in an unexpected way', retryable: false },
  ACCESS_DENIED: { summary: 'IAM denied the call (403)', retryable: false },
  NOT_FOUND: { summary: 'The resource no longer exists (404)', retryable: false },
  NOT_OWNED: { summary: "The resource is not this deployment's (its tags say so): left alone", retryable: false },
  INVALID_REFERENCE: { summary: "An id or ARN that cannot be this deployment's resource", retryable: false },
  INVALID_TARGET: { summary: "The destination's RTMP URL or preset cannot become a MediaLive output", retryable: false },
  INVALID_CONFIG: { summary: "The engine's configuration (stack outputs, environment) is wrong", retryable: false },
  /** Never thrown: the input health's `lastError` when MediaConnect reports a problem with the source. */
  SOURCE_PROBLEM: { summary: 'MediaConnect reports a problem with the contribution source (its own code leads the message)', retryable: false, hint: 'Check the contribution encoder (SRT caller, passphrase, allowed CIDR).' },
} as const satisfies Record<string, { summary: string; retryable: boolean; hint?: string }>;

export type AwsEngineErrorCode = keyof typeof AWS_ENGINE_ERRORS;

export interface AwsValidationError {
  elementPath: string;
  message: string;
}

/** The AWS engine's EngineError: one of AWS_ENGINE_ERRORS, with the AWS exception behind it in `details`. */
export class AwsEngineError extends EngineError {
  override name = 'AwsEngineError';
  declare readonly code: AwsEngineErrorCode;
  constructor(code: AwsEngineErrorCode, message: string, hint: string, details: EngineErrorDetails = {}) {
    super(code, message, hint, AWS_ENGINE_ERRORS[code].retryable, details);
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

const TRANSIENT = new Set(['TooManyRequestsException', 'ThrottlingException', 'InternalServerErrorException', 'BadGatewayException', 'GatewayTimeoutException', 'ServiceUnavailableException', 'TimeoutError', 'RequestTimeout', 'AbortError']);

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

/** Turns an AWS SDK error into an EngineError (ENGINE_UNAVAILABLE when transient); returns any other error unchanged. */
export function toDomainError(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof EngineError) return err;
  const e = (err ?? {}) as ServiceErrorLike;
  const name = awsErrorName(err);
  const status = e.$metadata?.httpStatusCode;
  const clean = (s: string | undefined): string => redact(s ?? '', ctx.secrets ?? []).slice(0, 300);
  const what = `${ctx.operation} (${ctx.subject})`;
  const details = { awsCode: name ?? undefined, httpStatus: status };

  if ((name && TRANSIENT.has(name)) || e.$fault === 'server' || (status !== undefined && status >= 500) || (e.code && NETWORK_CODES.has(e.code))) {
    return portError('ENGINE_UNAVAILABLE', `${what} failed transiently: ${name ?? e.code ?? 'error'}: ${clean(e.message)}`, { details: { awsCode: name ?? e.code ?? undefined, httpStatus: status } });
  }
  if (!name) return err instanceof Error ? err : new Error(String(err));
  switch (name) {
    case 'ConflictException':
      return new AwsEngineError(
        ctx.conflict ?? 'CONFLICT',
        `${what} conflicts with the resource's current state: ${clean(e.message)}`,
        ctx.conflictHint ?? 'Wait for the resource to reach a state that allows the operation (the state-change event says when), then retry.',
        details,
      );
    case 'UnprocessableEntityException': {
      const validationErrors = (e.ValidationErrors ?? []).map((v) => ({ elementPath: clean(v.ElementPath), message: clean(v.ErrorMessage) }));
      const list = validationErrors.map((v) => `${v.elementPath}: ${v.message}`).join('; ');
      return new AwsEngineError(
        'REQUEST_REJECTED',
        `${what} was rejected by the service: ${list || clean(e.message)}`,
        'Fix the settings named in the validation errors (usually the preset or the RTMP URL) and save the destination again.',
        { ...details, validationErrors },
      );
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
