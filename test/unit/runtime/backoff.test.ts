import { backoffMs } from '../../../src/runtime/backoff.js';

test('doubles from the initial delay and stops at the cap', () => {
  const p = { initialMs: 500, maxMs: 300_000 };
  expect([0, 1, 2, 3].map((a) => backoffMs(a, p))).toEqual([500, 1000, 2000, 4000]);
  expect(backoffMs(20, p)).toBe(300_000);
  expect(backoffMs(10_000, p)).toBe(300_000); // no overflow to Infinity or NaN
});

test('jitter takes a random part of up to that fraction off, never more', () => {
  const p = { initialMs: 1000, maxMs: 60_000, jitter: 0.5 };
  expect(backoffMs(2, p, () => 0)).toBe(4000);
  expect(backoffMs(2, p, () => 0.999)).toBe(2002);
  for (let i = 0; i < 100; i++) {
    const d = backoffMs(3, p);
    expect(d).toBeGreaterThanOrEqual(4000);
    expect(d).toBeLessThanOrEqual(8000);
  }
});
