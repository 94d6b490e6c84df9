// ClientRateLimiter: QPS/burst for API calls, pauses on Retry-After that hold
// back every caller, and withRateLimit's bounded retries.

import { ClientRateLimiter } from '../../../src/runtime/client-rate-limiter.js';
import { FakeClock, flushPromises } from '../../../src/runtime/testing/fake-clock.js';

class TooManyRequests extends Error {
  constructor(readonly retryAfterMs: number) {
    super('429 Too Many Requests');
  }
}

const retryAfter = (err: unknown): number | undefined =>
  err instanceof TooManyRequests ? err.retryAfterMs : undefined;

/** Starts acquire() calls and records the fake time at which each resolves. */
function acquireAll(limiter: ClientRateLimiter, clock: FakeClock, n: number): number[] {
  const at: number[] = [];
  for (let i = 0; i < n; i++) void limiter.acquire().then(() => at.push(clock.now()));
  return at;
}

describe('ClientRateLimiter', () => {
  test('lets a burst through, then one call per 1/qps', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 5, burst: 2, clock });
    const at = acquireAll(limiter, clock, 5);
    await clock.flush();
    expect(at).toEqual([0, 0]);
    await clock.advance(1000);
    expect(at).toEqual([0, 0, 200, 400, 600]);
  });

  test('pauseFor holds back every caller until the pause ends', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 100, burst: 100, clock });
    limiter.pauseFor(2000);
    const at = acquireAll(limiter, clock, 3);
    await clock.advance(1999);
    expect(at).toEqual([]);
    await clock.advance(1);
    expect(at).toEqual([2000, 2000, 2000]);
  });

  test('pauses only extend and are capped at maxPauseMs', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 10, burst: 10, clock, maxPauseMs: 5000 });
    limiter.pauseFor(3000);
    limiter.pauseFor(1000);
    expect(limiter.pausedUntil()).toBe(3000);
    limiter.pauseFor(3_600_000);
    expect(limiter.pausedUntil()).toBe(5000);
  });

  test('a pause that starts while a caller waits for a token is honoured', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 1, burst: 1, clock });
    await limiter.acquire();
    const at = acquireAll(limiter, clock, 1); // token due at 1000
    await clock.advance(500);
    limiter.pauseFor(2000); // until 2500
    await clock.advance(1500);
    expect(at).toEqual([]);
    await clock.advance(500);
    expect(at).toEqual([2500]);
  });

  test('acquire rejects when its signal aborts', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 1, burst: 1, clock });
    limiter.pauseFor(10_000);
    const ac = new AbortController();
    const p = limiter.acquire(ac.signal);
    ac.abort(new Error('cancelled'));
    await expect(p).rejects.toThrow('cancelled');
  });

  test('withRateLimit retries after Retry-After, pausing all callers, then succeeds', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 100, burst: 100, clock });
    const calls: number[] = [];
    let result: string | undefined;
    void limiter
      .withRateLimit(async () => {
        calls.push(clock.now());
        if (calls.length < 3) throw new TooManyRequests(1000);
        return 'ok';
      }, retryAfter)
      .then((r) => (result = r));
    await clock.flush();
    expect(calls).toEqual([0]);
    // Another caller is held back by the same pauses (the retry at 1000 gets
    // a second 429, which extends the pause to 2000 for everyone).
    const other = acquireAll(limiter, clock, 1);
    await clock.advance(999);
    expect(calls).toEqual([0]);
    expect(other).toEqual([]);
    await clock.advance(1);
    expect(calls).toEqual([0, 1000]);
    expect(other).toEqual([]);
    await clock.advance(1000);
    expect(calls).toEqual([0, 1000, 2000]);
    expect(other).toEqual([2000]);
    expect(result).toBe('ok');
  });

  test('withRateLimit rethrows errors without Retry-After at once', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 10, burst: 10, clock });
    let calls = 0;
    const boom = new Error('500');
    await expect(
      limiter.withRateLimit(async () => {
        calls++;
        throw boom;
      }, retryAfter),
    ).rejects.toBe(boom);
    expect(calls).toBe(1);
  });

  test('withRateLimit gives up after maxRetries and rethrows the last error', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 10, burst: 10, clock });
    let calls = 0;
    let error: unknown;
    void limiter
      .withRateLimit(
        async () => {
          calls++;
          throw new TooManyRequests(100);
        },
        retryAfter,
        2,
      )
      .catch((e: unknown) => (error = e));
    await clock.advance(1000);
    await flushPromises();
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(TooManyRequests);
  });

  test('withRateLimit bounds a huge Retry-After by maxPauseMs', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 10, burst: 10, clock, maxPauseMs: 60_000 });
    const calls: number[] = [];
    void limiter.withRateLimit(async () => {
      calls.push(clock.now());
      if (calls.length === 1) throw new TooManyRequests(24 * 3_600_000);
      return 1;
    }, retryAfter);
    await clock.advance(60_000);
    expect(calls).toEqual([0, 60_000]);
  });

  test('acquireSpare waits while acquire() callers hold the bucket, and never delays them', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 10, burst: 2, clock });
    const spare: number[] = [];
    const work = acquireAll(limiter, clock, 4); // 0, 0, 100, 200
    void limiter.acquireSpare().then(() => spare.push(clock.now()));
    const later = acquireAll(limiter, clock, 1); // joins the queue after the spare caller: 300
    await clock.advance(250);
    expect(work).toEqual([0, 0, 100, 200]);
    expect(spare).toEqual([]);
    await clock.advance(100);
    expect(later).toEqual([300]);
    expect(spare).toEqual([]);
    await clock.advance(200);
    // the bucket holds an unreserved token again 100 ms after the last reservation was due
    expect(spare).toHaveLength(1);
    expect(spare[0]).toBeGreaterThanOrEqual(400);
    expect(spare[0]).toBeLessThanOrEqual(500);
  });

  test('acquireSpare waits out a pause', async () => {
    const clock = new FakeClock(0);
    const limiter = new ClientRateLimiter({ qps: 10, burst: 5, clock });
    limiter.pauseFor(1000);
    const spare: number[] = [];
    void limiter.acquireSpare().then(() => spare.push(clock.now()));
    await clock.advance(999);
    expect(spare).toEqual([]);
    await clock.advance(200);
    expect(spare).toEqual([1000]);
  });
});
