// Every AWS call of one provider instance (one source) goes through this gate: at most
// `concurrency` calls in flight, a token bucket bounding the call rate, retries of
// throttling / server / network failures with exponential backoff and jitter, and one
// onCall(operation, result) per request sent, retries included, so the metric counts
// what AWS bills. close() fails whatever still waits for a slot, a token or a backoff.
import { backoffMs } from '../../runtime/backoff.js';
import type { Clock } from '../../runtime/clock.js';
import { TokenBucket } from '../../runtime/rate-limiter.js';
import { SecretSyncError, SourceUnavailableError } from '../../errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export interface CallGateOptions {
  /** How errors name the source. */
  source: string;
  concurrency: number;
  qps: number;
  burst: number;
  retry: RetryPolicy;
  clock: Clock;
  /** [0, 1); Math.random by default. */
  random?: () => number;
  onCall?: (operation: string, result: 'success' | 'error') => void;
}

export interface RunOptions {
  isRetryable(err: unknown): boolean;
  /** Called once, when the first attempt holds its slot and token (the batcher seals its batch here). */
  onSlot?: () => void;
}

/** Backoff before retry number `attempt + 1`: half of the exponential step fixed, half random. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  return backoffMs(attempt, { initialMs: policy.baseMs, maxMs: policy.maxMs, jitter: 0.5 }, () => 1 - random());
}

export class CallGate {
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly bucket: TokenBucket;
  private readonly abort = new AbortController();
  private readonly random: () => number;

  constructor(private readonly o: CallGateOptions) {
    this.bucket = new TokenBucket(o.qps, o.burst, o.clock);
    this.random = o.random ?? Math.random;
  }

  /** Runs `fn` under the limits, retrying retryable failures; rethrows the last failure as is. */
  async run<T>(operation: string, fn: () => Promise<T>, opts: RunOptions): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const release = await this.acquire();
      if (attempt === 0) opts.onSlot?.();
      try {
        const result = await fn();
        this.o.onCall?.(operation, 'success');
        return result;
      } catch (err) {
        // A typed error was raised before the request left (reading the keys, AssumeRole,
        // a closed client): no call to count.
        if (!(err instanceof SecretSyncError)) this.o.onCall?.(operation, 'error');
        if (this.closed() || attempt + 1 >= this.o.retry.attempts || !opts.isRetryable(err)) throw err;
      } finally {
        release();
      }
      await this.sleep(retryDelayMs(attempt, this.o.retry, this.random));
    }
  }

  /** Fails every waiter; later calls fail at once. Idempotent. */
  close(): void {
    if (this.closed()) return;
    this.abort.abort();
    for (const w of this.waiting.splice(0)) w.reject(this.closedError());
  }

  closedError(): SourceUnavailableError {
    return new SourceUnavailableError(`${this.o.source}: this AWS client was closed; the next sync uses a new one`);
  }

  private closed(): boolean {
    return this.abort.signal.aborted;
  }

  private async acquire(): Promise<() => void> {
    if (this.closed()) throw this.closedError();
    if (this.active < this.o.concurrency) this.active++;
    else await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.resolve(); // hand the slot over
      else this.active--;
    };
    try {
      const wait = this.bucket.reserve();
      if (wait > 0) await this.sleep(wait);
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  private async sleep(ms: number): Promise<void> {
    try {
      await this.o.clock.sleep(ms, this.abort.signal);
    } catch {
      throw this.closedError();
    }
  }
}
