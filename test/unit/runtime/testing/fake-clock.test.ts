// FakeClock: time moves only on advance()/set(), timers fire in due order,
// and promise callbacks run between timers.

import { FakeClock } from '../../../../src/runtime/testing/fake-clock.js';

describe('FakeClock', () => {
  test('starts at the given time and only moves when told', async () => {
    const clock = new FakeClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
    await clock.set(5000);
    expect(clock.now()).toBe(5000);
  });

  test('fires due timers in due order, ties in creation order', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push('c'));
    clock.setTimer(10, () => fired.push('a'));
    clock.setTimer(10, () => fired.push('b'));
    clock.setTimer(100, () => fired.push('late'));
    await clock.advance(50);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerDue()).toBe(100);
  });

  test('now() inside a timer is the timer due time', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    clock.setTimer(10, () => seen.push(clock.now()));
    clock.setTimer(20, () => seen.push(clock.now()));
    await clock.advance(100);
    expect(seen).toEqual([10, 20]);
    expect(clock.now()).toBe(100);
  });

  test('lets a sleeper schedule its next sleep within the same advance', async () => {
    const clock = new FakeClock(0);
    const wakes: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        wakes.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(30);
    await done;
    expect(wakes).toEqual([10, 20, 30]);
  });

  test('cancelled timers do not fire and are not counted', async () => {
    const clock = new FakeClock(0);
    let fired = false;
    const t = clock.setTimer(5, () => {
      fired = true;
    });
    t.cancel();
    t.cancel();
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(10);
    expect(fired).toBe(false);
  });

  test('set() backwards only changes now()', async () => {
    const clock = new FakeClock(1000);
    let fired = false;
    clock.setTimer(10, () => {
      fired = true;
    });
    await clock.set(500);
    expect(clock.now()).toBe(500);
    expect(fired).toBe(false);
    await clock.set(1010);
    expect(fired).toBe(true);
  });

  test('advance rejects negative durations', async () => {
    await expect(new FakeClock().advance(-1)).rejects.toThrow(RangeError);
  });
});
