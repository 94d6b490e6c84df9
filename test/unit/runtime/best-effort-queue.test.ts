import { describe, expect, it } from '@jest/globals';
import { BestEffortQueue } from '../../../src/runtime/best-effort-queue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('BestEffortQueue', () => {
  it('never blocks record(), sends in order with bounded concurrency', async () => {
    const sent: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const q = new BestEffortQueue<number>({
      concurrency: 2,
      send: async (n) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        sent.push(n);
        inFlight--;
      },
    });
    for (let i = 0; i < 10; i++) q.record(i);
    expect(q.pending()).toBe(8); // two senders took one each at once
    await q.idle();
    expect(sent.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(maxInFlight).toBe(2);
  });

  it('drops the oldest waiting item beyond maxPending, and failed sends, and counts them', async () => {
    const gate = deferred();
    const sent: number[] = [];
    const dropped: string[] = [];
    const q = new BestEffortQueue<number>({
      concurrency: 1,
      maxPending: 3,
      send: async (n) => {
        await gate.promise;
        if (n === 4) throw new Error('refused');
        sent.push(n);
      },
      onDrop: (n, why) => dropped.push(`${n} ${why}`),
    });
    for (let i = 0; i < 6; i++) q.record(i); // 0 is being sent; 1..5 wait, 3 fit
    expect(dropped).toEqual(['1 overflow', '2 overflow']);
    gate.resolve();
    await q.idle();
    expect(sent).toEqual([0, 3, 5]);
    expect(dropped).toEqual(['1 overflow', '2 overflow', '4 failed']);
  });

  it('close() drops what waits and refuses more', async () => {
    const gate = deferred();
    const dropped: string[] = [];
    const q = new BestEffortQueue<number>({ concurrency: 1, send: () => gate.promise, onDrop: (n, why) => dropped.push(`${n} ${why}`) });
    q.record(1);
    q.record(2);
    q.close();
    q.record(3);
    gate.resolve();
    await q.idle();
    expect(dropped).toEqual(['2 closed', '3 closed']);
  });
});
