import { describe, expect, it } from '@jest/globals';
import { KeyedCoalescer } from '../../../src/runtime/coalescer.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';

function setup(flushImpl?: (key: string, values: number[]) => Promise<void>) {
  const clock = new FakeClock(0);
  const flushed: { key: string; values: number[]; at: number }[] = [];
  const c = new KeyedCoalescer<number>({
    idleMs: 100,
    maxWaitMs: 500,
    clock,
    flush: async (key, values) => {
      flushed.push({ key, values, at: clock.now() });
      await flushImpl?.(key, values);
    },
  });
  return { clock, flushed, c };
}

describe('KeyedCoalescer', () => {
  it('adds of one key within the idle gap become one flush; other keys flush apart', async () => {
    const { clock, flushed, c } = setup();
    const done: string[] = [];
    void c.add('a', 1).then(() => done.push('a1'));
    await clock.advance(50);
    void c.add('a', 2).then(() => done.push('a2'));
    void c.add('b', 3).then(() => done.push('b3'));
    await clock.advance(99);
    expect(flushed).toEqual([]);
    await clock.advance(1);
    expect(flushed).toEqual([
      { key: 'a', values: [1, 2], at: 150 },
      { key: 'b', values: [3], at: 150 },
    ]);
    await clock.flush();
    expect(done.sort()).toEqual(['a1', 'a2', 'b3']);
  });

  it('a steady trickle is cut at maxWaitMs, and later adds open the next batch', async () => {
    const { clock, flushed, c } = setup();
    for (let i = 0; i < 8; i++) {
      void c.add('a', i);
      await clock.advance(80);
    }
    expect(flushed[0]).toEqual({ key: 'a', values: [0, 1, 2, 3, 4, 5, 6], at: 500 });
    await clock.advance(200);
    expect(flushed[1]).toEqual({ key: 'a', values: [7], at: 660 });
  });

  it('every caller of a batch gets its failure', async () => {
    const { clock, c } = setup(() => Promise.reject(new Error('gone')));
    const outcomes = [c.add('a', 1), c.add('a', 2)].map((p) => p.then(() => 'ok', (e: Error) => e.message));
    await clock.advance(100);
    expect(await Promise.all(outcomes)).toEqual(['gone', 'gone']);
  });
});
