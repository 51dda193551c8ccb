/**
 * Token-bucket rate limiting, keyed by anything (a token id, a client address): each key's bucket
 * refills continuously at `perMinute` a minute with a burst of the same size. Buckets live in a
 * bounded LRU cache, so a flood of distinct keys (20,000 wrong tokens, a sweep of addresses)
 * costs a fixed amount of memory: the least recently used bucket is dropped, which at worst
 * hands that key a fresh budget. In-process: on AWS it complements API Gateway's own throttling
 * (each Lambda instance keeps its own buckets).
 */
import { LRUCache } from 'lru-cache';

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiterOptions {
  /** Most keys remembered at once (default 10,000). */
  maxKeys?: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly now: () => number;

  constructor(
    private readonly perMinute: number,
    opts: RateLimiterOptions = {},
  ) {
    this.buckets = new LRUCache<string, Bucket>({ max: opts.maxKeys ?? 10_000 });
    this.now = opts.now ?? Date.now;
  }

  /** Takes one from the key's bucket; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const b = this.refilled(key);
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return this.waitFor(b);
  }

  /**
   * Spends one whether or not the bucket has it: the bucket may go into debt (down to minus one
   * minute's worth), so work that was already under way when the budget ran out (concurrent
   * requests that all passed `peek`) is paid for by waiting longer, and the average stays within
   * the budget however many requests are in flight at once.
   */
  charge(key: string): void {
    const b = this.refilled(key);
    b.tokens = Math.max(-this.perMinute, b.tokens - 1);
    this.buckets.set(key, b);
  }

  /** Like `take` without taking: 0 when one more would be allowed, else the seconds to wait. */
  peek(key: string): number {
    const b = this.buckets.peek(key);
    if (!b) return 0;
    const now = this.refill(b);
    return now.tokens >= 1 ? 0 : this.waitFor(now);
  }

  /** How many keys are remembered (bounded by `maxKeys`). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string): Bucket {
    const b = this.buckets.get(key);
    if (!b) return { tokens: this.perMinute, at: this.now() };
    const r = this.refill(b);
    b.tokens = r.tokens;
    b.at = r.at;
    return b;
  }

  private refill(b: Bucket): Bucket {
    const t = this.now();
    return { tokens: Math.min(this.perMinute, b.tokens + (t - b.at) * (this.perMinute / 60_000)), at: t };
  }

  private waitFor(b: Bucket): number {
    return Math.max(1, Math.ceil((1 - b.tokens) / (this.perMinute / 60_000) / 1000));
  }
}
