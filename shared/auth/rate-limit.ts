/**
 * Per-token rate limiting: a token bucket per principal, refilled continuously at `perMinute`
 * requests a minute with a burst of the same size. In-process: on AWS it complements API
 * Gateway's own throttling (each Lambda instance keeps its own buckets).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from the bucket; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const rate = this.perMinute / 60_000;
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: t };
    b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * rate);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}
