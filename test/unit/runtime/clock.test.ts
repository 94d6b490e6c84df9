// realClock and the shared sleep/abort semantics every Clock relies on.

import { realClock, sleepWith } from '../../../src/runtime/clock.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';

describe('realClock', () => {
  test('now() follows Date.now()', () => {
    const before = Date.now();
    const now = realClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  test('sleep resolves after a short real delay', async () => {
    await expect(realClock.sleep(1)).resolves.toBeUndefined();
  });

  test('setTimer fires once and cancel() prevents firing', async () => {
    let fired = 0;
    let cancelledFired = 0;
    realClock.setTimer(1, () => fired++);
    const t = realClock.setTimer(1, () => cancelledFired++);
    t.cancel();
    await realClock.sleep(5);
    expect(fired).toBe(1);
    expect(cancelledFired).toBe(0);
  });

  test('sleep rejects at once with an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(realClock.sleep(10_000, ac.signal)).rejects.toThrow('gone');
  });

  test('aborting a sleep rejects it with an AbortError by default', async () => {
    const ac = new AbortController();
    const p = realClock.sleep(60_000, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('sleepWith', () => {
  test('abort cancels the underlying timer', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = sleepWith((ms, fn) => clock.setTimer(ms, fn), 1000, ac.signal);
    expect(clock.pendingTimers()).toBe(1);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('realClock long timers', () => {
  test('a timer beyond setTimeout range does not fire early', async () => {
    let fired = false;
    const t = realClock.setTimer(30 * 24 * 3_600_000, () => {
      fired = true;
    });
    await realClock.sleep(5);
    expect(fired).toBe(false);
    t.cancel();
  });
});
