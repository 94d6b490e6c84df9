// Work-queue rate limiters: per-key exponential backoff, the global token
// bucket, and their max-of combination.

import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  TokenBucket,
  defaultControllerRateLimiter,
} from '../../../src/runtime/rate-limiter.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';

describe('ItemExponentialRateLimiter', () => {
  test('doubles the delay per failure and caps it', () => {
    const rl = new ItemExponentialRateLimiter(100, 1000);
    const delays = Array.from({ length: 6 }, () => rl.when('ns/a'));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(rl.retries('ns/a')).toBe(6);
  });

  test('keys back off independently', () => {
    const rl = new ItemExponentialRateLimiter(10, 10_000);
    rl.when('ns/a');
    rl.when('ns/a');
    expect(rl.when('ns/b')).toBe(10);
    expect(rl.retries('ns/a')).toBe(2);
    expect(rl.retries('ns/b')).toBe(1);
  });

  test('forget resets the backoff', () => {
    const rl = new ItemExponentialRateLimiter(10, 10_000);
    rl.when('ns/a');
    rl.when('ns/a');
    rl.forget('ns/a');
    expect(rl.retries('ns/a')).toBe(0);
    expect(rl.when('ns/a')).toBe(10);
  });

  test('stays at the cap after very many failures', () => {
    const rl = new ItemExponentialRateLimiter(500, 300_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = rl.when('ns/a');
    expect(last).toBe(300_000);
  });
});

describe('BucketRateLimiter', () => {
  test('allows a burst, then spaces items at 1/qps', () => {
    const clock = new FakeClock(0);
    const rl = new BucketRateLimiter(10, 3, clock);
    const delays = Array.from({ length: 6 }, (_, i) => rl.when(`ns/k${i}`));
    expect(delays).toEqual([0, 0, 0, 100, 200, 300]);
  });

  test('refills over time, up to burst', async () => {
    const clock = new FakeClock(0);
    const rl = new BucketRateLimiter(10, 2, clock);
    rl.when('a');
    rl.when('b');
    expect(rl.when('c')).toBe(100);
    await clock.advance(10_000);
    expect([rl.when('d'), rl.when('e'), rl.when('f')]).toEqual([0, 0, 100]);
  });

  test('tracks no per-key state', () => {
    const rl = new BucketRateLimiter(1, 1, new FakeClock());
    rl.when('a');
    expect(rl.retries('a')).toBe(0);
    rl.forget('a');
  });

  test('rejects invalid parameters', () => {
    expect(() => new TokenBucket(0, 1, new FakeClock())).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, new FakeClock())).toThrow(RangeError);
  });
});

describe('MaxOfRateLimiter', () => {
  test('returns the largest delay and forwards forget', () => {
    const clock = new FakeClock(0);
    const rl = new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1000), new BucketRateLimiter(1, 1, clock));
    expect(rl.when('a')).toBe(5); // bucket: 0, backoff: 5
    expect(rl.when('a')).toBe(1000); // bucket: 1000, backoff: 10
    expect(rl.retries('a')).toBe(2);
    rl.forget('a');
    expect(rl.retries('a')).toBe(0);
  });

  test('needs at least one limiter', () => {
    expect(() => new MaxOfRateLimiter()).toThrow(RangeError);
  });
});

describe('defaultControllerRateLimiter', () => {
  test('backs off from 500 ms to 5 min per key', () => {
    const rl = defaultControllerRateLimiter(new FakeClock(0));
    expect(rl.when('ns/a')).toBe(500);
    expect(rl.when('ns/a')).toBe(1000);
    for (let i = 0; i < 20; i++) rl.when('ns/a');
    expect(rl.when('ns/a')).toBe(300_000);
  });

  test('the global bucket limits a burst of many keys to 10 qps after 100', () => {
    const rl = defaultControllerRateLimiter(new FakeClock(0));
    const delays = Array.from({ length: 102 }, (_, i) => rl.when(`ns/k${i}`));
    expect(delays.slice(0, 100).every((d) => d === 500)).toBe(true);
    expect(delays[100]).toBe(500);
    expect(delays[101]).toBe(500);
    const more = Array.from({ length: 10 }, (_, i) => rl.when(`ns/m${i}`));
    expect(more[more.length - 1]).toBe(1200);
  });
});
