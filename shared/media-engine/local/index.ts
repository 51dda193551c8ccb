/**
 * The local media engine's process primitives: what channels are composed from. Supervise FFmpeg
 * or srt-live-transmit (`ProcessSupervisor`), parse FFmpeg progress, classify failures into typed
 * errors, retry with backoff, redact secrets, and reap what a crashed control plane left behind
 * (call `reapOrphans(pidDir)` once at start-up, before starting any supervisor).
 */
export {
  type DesiredState,
  type ExitCause,
  type ExitRecord,
  IllegalTransitionError,
  type LogLine,
  ProcessSupervisor,
  resolveBinary,
  type StateChange,
  type SupervisorEvents,
  type SupervisorOptions,
  type SupervisorState,
  type SupervisorStatus,
  TRANSITIONS,
} from './supervisor.ts';
export { Backoff, DEFAULT_RETRY_POLICY, delayForAttempt, type Failure, isRetryable, resolveRetryPolicy, type RetryDecision, type RetryPolicy } from './backoff.ts';
export { ffmpegProgressArgs, parseProgress, ProgressParser, type ProgressSnapshot, type ProgressState, toSnapshot } from './progress.ts';
export {
  type ClassifiedError,
  type ClassifyContext,
  classifyStderr,
  classifyStderrText,
  errorFor,
  PROCESS_ERROR_CATALOG,
  type ProcessErrorCode,
  type ProcessErrorSpec,
  PUBLISH_REJECT_WINDOW_MS,
  STDERR_RULES,
  type StderrRule,
} from './stderr-classifier.ts';
export { MIN_SECRET_LENGTH, REDACTED, redact, redactArgv, redactRtmpUrl, redactUrl } from './redact.ts';
export { hashArgv, type PidRecord, readPidfiles, reapOrphans, type ReapOptions, type ReapOutcome, type ReapResult } from './pidfile.ts';
