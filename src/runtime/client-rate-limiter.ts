// ClientRateLimiter: the client-side limit on calls to the API server, like
// client-go's rest client QPS/Burst. Every call first takes a token from a
// bucket; when the server answers 429 (or 503) with Retry-After, pauseFor()
// holds back *every* caller, not just the one that got the answer, because
// the server is telling the whole client to slow down.

import { abortReason, realClock } from './clock.js';
import type { Clock } from './clock.js';
import { TokenBucket } from './rate-limiter.js';

export interface ClientRateLimiterOptions {
  qps: number;
  burst: number;
  clock?: Clock;
  /** Upper bound on any single pause, whatever the server asks. Default 60 s. */
  maxPauseMs?: number;
}

export class ClientRateLimiter {
  private readonly clock: Clock;
  private readonly bucket: TokenBucket;
  private readonly maxPauseMs: number;
  private readonly qps: number;
  private pausedUntilMs = 0;

  constructor(opts: ClientRateLimiterOptions) {
    this.clock = opts.clock ?? realClock;
    this.bucket = new TokenBucket(opts.qps, opts.burst, this.clock);
    this.qps = opts.qps;
    this.maxPauseMs = opts.maxPauseMs ?? 60_000;
  }

  /**
   * Waits until a call may be made: any pause has passed and a token is
   * available. Rejects with the signal's reason if `signal` aborts.
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    await this.waitOutPause(signal);
    const wait = this.bucket.reserve();
    if (wait > 0) await this.clock.sleep(wait, signal);
    // A pause may have started while we waited for the token.
    await this.waitOutPause(signal);
  }

  /**
   * Low priority: waits until the bucket holds a token no other caller has reserved (and
   * any pause has passed), then takes it. While callers of acquire() keep the bucket
   * drawn, this waits; it never delays them. For best-effort calls such as Events.
   */
  async acquireSpare(signal?: AbortSignal): Promise<void> {
    const poll = Math.max(5, Math.ceil(1000 / this.qps));
    for (;;) {
      await this.waitOutPause(signal);
      if (this.bucket.available() >= 1) break;
      await this.clock.sleep(poll, signal);
    }
    this.bucket.reserve();
  }

  /** Holds back every caller for `ms` (capped at maxPauseMs); pauses only extend. */
  pauseFor(ms: number): void {
    const bounded = Math.min(Math.max(0, Number.isFinite(ms) ? ms : this.maxPauseMs), this.maxPauseMs);
    this.pausedUntilMs = Math.max(this.pausedUntilMs, this.clock.now() + bounded);
  }

  /** Epoch ms until which callers are held back (in the past when not paused). */
  pausedUntil(): number {
    return this.pausedUntilMs;
  }

  /**
   * Runs `fn` under the limit. When it fails with an error for which
   * `retryAfterMs` returns a delay (e.g. a 429 with Retry-After), pauses all
   * callers for that delay and retries, at most `maxRetries` times; any
   * other error, or the last one, is rethrown unchanged.
   */
  async withRateLimit<T>(
    fn: () => Promise<T>,
    retryAfterMs: (err: unknown) => number | undefined,
    maxRetries = 3,
    signal?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.acquire(signal);
      try {
        return await fn();
      } catch (err) {
        const delay = retryAfterMs(err);
        if (delay === undefined || attempt >= maxRetries) throw err;
        this.pauseFor(delay);
      }
    }
  }

  private async waitOutPause(signal?: AbortSignal): Promise<void> {
    // Loop: the pause can be extended while we sleep.
    for (let left = this.pausedUntilMs - this.clock.now(); left > 0; left = this.pausedUntilMs - this.clock.now()) {
      await this.clock.sleep(left, signal);
    }
    if (signal?.aborted) throw abortReason(signal);
  }
}
