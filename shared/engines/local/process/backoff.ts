/**
 * Retry policy for supervised processes, in Temporal's vocabulary (initial interval, backoff
 * coefficient, maximum interval, maximum attempts, non-retryable error codes), plus the reset
 * that live streaming needs: a run that stayed up for `resetAfterStableMs` wipes the failure count,
 * so a destination that drops once an hour does not creep toward a 60 s retry delay.
 *
 * `attempt` counts consecutive failed runs (0 = healthy). The delay before retrying after failure
 * n is `initialIntervalMs × backoffCoefficient^(n−1)`, capped at `maximumIntervalMs`:
 * with the defaults 1 s, 2 s, 4 s, … 32 s, 60 s, 60 s, …
 *
 * Where we depart from Temporal, on purpose: a non-retryable error gives up only after
 * `nonRetryableMaxAttempts` (default 3) consecutive non-retryable failures, not at the first.
 * Platforms do answer "bad key" transiently (a YouTube stream that is not ready yet, ingest
 * maintenance), and "closed right after publish" is an inference from stderr. Set it to 1 for
 * Temporal's behaviour.
 */

export interface RetryPolicy {
  /** Delay before the first retry. Default 1000. */
  initialIntervalMs: number;
  /** Growth of the delay per consecutive failure. Default 2. */
  backoffCoefficient: number;
  /** Cap on the delay. Default 60000. */
  maximumIntervalMs: number;
  /** A run this long resets the failure count. Default 60000. */
  resetAfterStableMs: number;
  /** Give up after this many consecutive failed runs; undefined = never. */
  maximumAttempts?: number;
  /** Error codes never worth retrying, on top of errors classified `retryable: false`. */
  nonRetryableCodes: readonly string[];
  /** Consecutive non-retryable failures before giving up. Default 3; 1 = at the first. */
  nonRetryableMaxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  resetAfterStableMs: 60_000,
  maximumAttempts: undefined,
  nonRetryableCodes: Object.freeze([]) as readonly string[],
  nonRetryableMaxAttempts: 3,
});

/**
 * Fills in the defaults, checks every field (reporting all problems at once) and freezes the result.
 * @throws RangeError listing each invalid field
 */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> = {}): Readonly<RetryPolicy> {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<RetryPolicy>;
  const p: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...defined };
  const problems: string[] = [];
  const positive = (name: keyof RetryPolicy, v: number): void => {
    if (!(Number.isFinite(v) && v > 0)) problems.push(`${name} must be a positive number, got ${v}`);
  };
  positive('initialIntervalMs', p.initialIntervalMs);
  positive('maximumIntervalMs', p.maximumIntervalMs);
  if (!(Number.isFinite(p.backoffCoefficient) && p.backoffCoefficient >= 1)) problems.push(`backoffCoefficient must be >= 1, got ${p.backoffCoefficient}`);
  if (p.maximumIntervalMs < p.initialIntervalMs) problems.push(`maximumIntervalMs (${p.maximumIntervalMs}) must be >= initialIntervalMs (${p.initialIntervalMs})`);
  if (!(Number.isFinite(p.resetAfterStableMs) && p.resetAfterStableMs >= 0)) problems.push(`resetAfterStableMs must be >= 0, got ${p.resetAfterStableMs}`);
  if (p.maximumAttempts !== undefined && !(Number.isInteger(p.maximumAttempts) && p.maximumAttempts >= 1)) {
    problems.push(`maximumAttempts must be an integer >= 1 or undefined, got ${p.maximumAttempts}`);
  }
  if (!(Number.isInteger(p.nonRetryableMaxAttempts) && p.nonRetryableMaxAttempts >= 1)) {
    problems.push(`nonRetryableMaxAttempts must be an integer >= 1, got ${p.nonRetryableMaxAttempts}`);
  }
  if (problems.length > 0) throw new RangeError(`invalid retry policy: ${problems.join('; ')}`);
  return Object.freeze({ ...p, nonRetryableCodes: Object.freeze([...p.nonRetryableCodes]) });
}

/**
 * The delay before retrying after the `attempt`-th consecutive failure (1-based).
 * Pure: `delayForAttempt(policy, 1) === policy.initialIntervalMs`.
 */
export function delayForAttempt(policy: Readonly<RetryPolicy>, attempt: number): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = policy.initialIntervalMs * policy.backoffCoefficient ** (n - 1);
  return Math.min(policy.maximumIntervalMs, Math.round(raw));
}

/** What failed, as far as retrying is concerned. */
export interface Failure {
  code: string;
  retryable: boolean;
}

/** Whether the policy allows retrying this failure at all. */
export function isRetryable(policy: Readonly<RetryPolicy>, failure: Failure): boolean {
  return failure.retryable && !policy.nonRetryableCodes.includes(failure.code);
}

/** The outcome of a failure: retry after a delay, or give up and say why. */
export type RetryDecision = { retry: true; attempt: number; delayMs: number; retryAt: number } | { retry: false; attempt: number; reason: 'non-retryable' | 'maximum-attempts'; explanation: string };

/**
 * Stateful backoff for one supervised process. Call `recordStart()` when a run is up, `nextDelay()`
 * after each failure, `recordStableRun()` from a timer (or let `nextDelay()` notice a long run).
 */
export class Backoff {
  readonly policy: Readonly<RetryPolicy>;
  #now: () => number;
  #attempt = 0;
  #nonRetryableStreak = 0;
  #runStartedAt: number | null = null;
  #nextRetryAt: number | null = null;

  /**
   * @param policy overrides of {@link DEFAULT_RETRY_POLICY}
   * @param now clock; defaults to `Date.now` looked up at each call, so fake timers apply
   */
  constructor(policy: Partial<RetryPolicy> = {}, now: () => number = () => Date.now()) {
    this.policy = resolveRetryPolicy(policy);
    this.#now = now;
  }

  /** Consecutive failed runs since the last stable run (0 = healthy). */
  get attempt(): number {
    return this.#attempt;
  }

  /** When the pending retry is due (epoch ms), or null if none is pending. */
  get nextRetryAt(): number | null {
    return this.#nextRetryAt;
  }

  /** A run is up (media flowing): start counting towards a stable run. */
  recordStart(now: number = this.#now()): void {
    this.#runStartedAt = now;
    this.#nextRetryAt = null;
  }

  /**
   * Resets the failure count if the current run has lasted `resetAfterStableMs`.
   * @returns true if it reset
   */
  recordStableRun(now: number = this.#now()): boolean {
    if (this.#runStartedAt === null || now - this.#runStartedAt < this.policy.resetAfterStableMs) return false;
    this.#attempt = 0;
    this.#nonRetryableStreak = 0;
    return true;
  }

  /**
   * Records a failed run and decides what to do next. The run that just ended counts as stable
   * (and resets the count first) if it lasted `resetAfterStableMs`.
   * @param failure the classified error; omitted = retryable
   */
  nextDelay(failure: Failure = { code: 'UNKNOWN', retryable: true }, now: number = this.#now()): RetryDecision {
    this.recordStableRun(now);
    this.#runStartedAt = null;
    this.#attempt += 1;
    const attempt = this.#attempt;
    const max = this.policy.maximumAttempts;
    if (isRetryable(this.policy, failure)) {
      this.#nonRetryableStreak = 0;
    } else {
      this.#nonRetryableStreak += 1;
      if (this.#nonRetryableStreak >= this.policy.nonRetryableMaxAttempts) {
        this.#nextRetryAt = null;
        const times = this.#nonRetryableStreak === 1 ? 'once' : `${this.#nonRetryableStreak} times in a row`;
        return { retry: false, attempt, reason: 'non-retryable', explanation: `${failure.code} is not retryable; gave up after it happened ${times}` };
      }
    }
    if (max !== undefined && attempt >= max) {
      this.#nextRetryAt = null;
      return { retry: false, attempt, reason: 'maximum-attempts', explanation: `gave up after ${attempt} consecutive failed attempts (maximumAttempts ${max}); last error ${failure.code}` };
    }
    const delayMs = delayForAttempt(this.policy, attempt);
    this.#nextRetryAt = now + delayMs;
    return { retry: true, attempt, delayMs, retryAt: this.#nextRetryAt };
  }

  /** The pending retry happened or was cancelled. */
  clearRetry(): void {
    this.#nextRetryAt = null;
  }

  /** Forgets everything (an operator asked for a fresh start). */
  reset(): void {
    this.#attempt = 0;
    this.#nonRetryableStreak = 0;
    this.#runStartedAt = null;
    this.#nextRetryAt = null;
  }
}
