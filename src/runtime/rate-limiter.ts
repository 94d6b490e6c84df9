// Rate limiters for the work queue, following client-go's workqueue package:
// a per-key exponential backoff for failing keys, a global token bucket that
// bounds the overall retry rate, and a combinator taking the larger delay.
// They decide *how long* to wait; the work queue does the waiting.

import { backoffMs } from './backoff.js';
import type { Clock } from './clock.js';

export interface RateLimiter {
  /** Delay in ms before `key` may be processed again; records a retry. */
  when(key: string): number;
  /** Stops tracking `key` (its backoff starts over). */
  forget(key: string): void;
  /** How many times `key` has been limited since it was last forgotten. */
  retries(key: string): number;
}

/** Per-key backoff: base * 2^failures, capped at max. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {
    if (baseMs < 0 || maxMs < 0) throw new RangeError('backoff durations must be >= 0');
  }

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    return backoffMs(exp, { initialMs: this.baseMs, maxMs: this.maxMs });
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * A token bucket refilled at `qps` tokens per second, holding at most `burst`.
 * reserve() always takes a token, possibly from the future, and returns how
 * long the caller must wait for it (golang.org/x/time/rate semantics), so
 * concurrent reservations queue up instead of all waking at once.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (!(qps > 0)) throw new RangeError('qps must be > 0');
    if (!(burst >= 1)) throw new RangeError('burst must be >= 1');
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes one token; returns the wait in ms until it is actually available. */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  /** Tokens available now (negative when reservations are outstanding). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.qps) / 1000);
  }
}

/** A global limit shared by all keys: the work queue's overall retry rate. */
export class BucketRateLimiter implements RateLimiter {
  private readonly bucket: TokenBucket;

  constructor(qps: number, burst: number, clock: Clock) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }

  when(_key: string): number {
    return this.bucket.reserve();
  }

  forget(_key: string): void {
    // Global limiter: nothing is tracked per key.
  }

  retries(_key: string): number {
    return 0;
  }
}

/** Combines limiters: the delay is the largest any of them asks for. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new RangeError('MaxOfRateLimiter needs at least one limiter');
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see the call (each records its own state).
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  retries(key: string): number {
    return Math.max(...this.limiters.map((l) => l.retries(key)));
  }
}

/** controller-runtime's default: backoff 500 ms to 5 min, 10 qps overall with a burst of 100. */
export function defaultControllerRateLimiter(clock: Clock): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialRateLimiter(500, 5 * 60_000),
    new BucketRateLimiter(10, 100, clock),
  );
}
