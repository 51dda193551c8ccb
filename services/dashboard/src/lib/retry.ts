/**
 * The countdown to a destination's next retry (the engine retries with backoff and reports
 * `attempt` and `nextRetryAt` in its metrics). Pure: the caller passes `now`.
 */

export interface RetryCountdown {
  /** Whole seconds left, 0 once due. */
  seconds: number;
  text: string;
}

/** Null when no retry is planned; "retrying now" once it is due. */
export function retryCountdown(nextRetryAt: string | null | undefined, attempt: number | null | undefined, now: number): RetryCountdown | null {
  if (!nextRetryAt) return null;
  const at = Date.parse(nextRetryAt);
  if (!Number.isFinite(at)) return null;
  const seconds = Math.max(0, Math.ceil((at - now) / 1000));
  // `attempt` counts consecutive failed runs (the engine's backoff): the next try is attempt + 1.
  const after = attempt ? ` (after ${attempt} failed attempt${attempt === 1 ? '' : 's'})` : '';
  return { seconds, text: seconds === 0 ? `retrying now${after}` : `retry in ${seconds} s${after}` };
}
