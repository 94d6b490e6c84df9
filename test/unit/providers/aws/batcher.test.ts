// The batcher on a fake clock: a batch goes out full, after an idle gap, or at its
// maximum wait; identical keys share one result; keys keep joining until the request
// leaves; per-key outcomes reach only their own callers; close() fails what was not sent.
import { Batcher, type Outcome } from '../../../../src/providers/aws/batcher.js';
import { FakeClock } from '../../../../src/runtime/testing/fake-clock.js';

interface Sent {
  keys: string[];
  at: number;
}

function setup(opts: { maxBatch?: number; idleMs?: number; busyIdleMs?: number; maxWaitMs?: number; gate?: Promise<void> } = {}) {
  const clock = new FakeClock(0);
  const sent: Sent[] = [];
  const batcher = new Batcher<string>({
    maxBatch: opts.maxBatch ?? 3,
    idleMs: opts.idleMs ?? 100,
    busyIdleMs: opts.busyIdleMs ?? 100,
    maxWaitMs: opts.maxWaitMs ?? 1000,
    clock,
    closedError: () => new Error('closed'),
    async send(take) {
      await opts.gate; // e.g. waiting for a call slot
      const keys = take();
      sent.push({ keys, at: clock.now() });
      const out = new Map<string, Outcome<string>>();
      for (const k of keys) out.set(k, k.startsWith('bad') ? { ok: false, error: new Error(`no ${k}`) } : { ok: true, value: `v(${k})` });
      return out;
    },
  });
  return { clock, sent, batcher };
}

test('a full batch goes out at once; the rest after the idle gap', async () => {
  const { clock, sent, batcher } = setup();
  const all = Promise.all(['a', 'b', 'c', 'd'].map((k) => batcher.load(k)));
  await clock.flush();
  expect(sent).toEqual([{ keys: ['a', 'b', 'c'], at: 0 }]);
  await clock.advance(99);
  expect(sent).toHaveLength(1);
  await clock.advance(1);
  expect(sent[1]).toEqual({ keys: ['d'], at: 100 });
  expect(await all).toEqual(['v(a)', 'v(b)', 'v(c)', 'v(d)']);
});

test('each join restarts the idle gap, up to the maximum wait', async () => {
  const { clock, sent, batcher } = setup({ maxBatch: 20, idleMs: 100, maxWaitMs: 250 });
  void batcher.load('a');
  await clock.advance(80);
  void batcher.load('b');
  await clock.advance(80);
  void batcher.load('c');
  await clock.advance(80);
  expect(sent).toHaveLength(0); // 240 ms: never idle for 100 ms
  void batcher.load('d');
  await clock.advance(10);
  expect(sent).toEqual([{ keys: ['a', 'b', 'c', 'd'], at: 250 }]);
});

test('after a full batch the next waits the longer idle gap; after a partial one the short gap again', async () => {
  const { clock, sent, batcher } = setup({ maxBatch: 2, idleMs: 50, busyIdleMs: 300 });
  void batcher.load('a');
  void batcher.load('b'); // full
  void batcher.load('c');
  await clock.advance(299);
  expect(sent.map((s) => s.keys)).toEqual([['a', 'b']]);
  await clock.advance(1);
  expect(sent[1]).toEqual({ keys: ['c'], at: 300 });
  void batcher.load('d');
  await clock.advance(50);
  expect(sent[2]).toEqual({ keys: ['d'], at: 350 });
});

test('identical keys waiting or in flight share one read', async () => {
  const { clock, sent, batcher } = setup({ maxBatch: 20 });
  const reads = Array.from({ length: 10 }, () => batcher.load('same'));
  expect(batcher.pending()).toBe(1);
  await clock.advance(100);
  expect(await Promise.all(reads)).toEqual(Array(10).fill('v(same)'));
  expect(sent).toEqual([{ keys: ['same'], at: 100 }]);
  expect(batcher.pending()).toBe(0);
  void batcher.load('same'); // settled: a later read is a new one
  await clock.advance(100);
  expect(sent).toHaveLength(2);
});

test('keys join a due batch until its request leaves', async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const { clock, sent, batcher } = setup({ maxBatch: 20, gate });
  const first = batcher.load('a');
  await clock.advance(100); // due, but waiting for a slot
  const late = batcher.load('b');
  open();
  await clock.flush();
  expect(sent).toEqual([{ keys: ['a', 'b'], at: 100 }]);
  expect(await Promise.all([first, late])).toEqual(['v(a)', 'v(b)']);
});

test("one key's failure reaches only its callers", async () => {
  const { clock, batcher } = setup({ maxBatch: 20 });
  const good = batcher.load('good');
  const bad = batcher.load('bad-1');
  await clock.advance(100);
  await expect(good).resolves.toBe('v(good)');
  await expect(bad).rejects.toThrow('no bad-1');
});

test('a failing send fails every key of the batch', async () => {
  const clock = new FakeClock(0);
  const batcher = new Batcher<string>({
    maxBatch: 20,
    idleMs: 10,
    busyIdleMs: 10,
    maxWaitMs: 100,
    clock,
    closedError: () => new Error('closed'),
    send: async () => {
      throw new Error('throttled');
    },
  });
  const reads = [batcher.load('a'), batcher.load('b')];
  await clock.advance(10);
  for (const r of reads) await expect(r).rejects.toThrow('throttled');
  expect(batcher.pending()).toBe(0);
});

test('close() fails reads not yet sent and every later read', async () => {
  const { clock, sent, batcher } = setup({ maxBatch: 20 });
  const waiting = batcher.load('a');
  batcher.close();
  await expect(waiting).rejects.toThrow('closed');
  await expect(batcher.load('b')).rejects.toThrow('closed');
  await clock.advance(5000);
  expect(sent).toHaveLength(0);
  expect(clock.pendingTimers()).toBe(0);
});

describe('forget (the secret was just written)', () => {
  /** A batcher whose requests stay in flight until answer() is called. */
  function inFlight() {
    const clock = new FakeClock(0);
    const sent: string[][] = [];
    const answers: (() => void)[] = [];
    const batcher = new Batcher<string>({
      maxBatch: 20,
      idleMs: 100,
      busyIdleMs: 100,
      maxWaitMs: 1000,
      clock,
      closedError: () => new Error('closed'),
      async send(take) {
        const keys = take();
        const n = sent.push(keys);
        await new Promise<void>((resolve) => answers.push(resolve));
        return new Map(keys.map((k) => [k, { ok: true, value: `${k}#${n}` } as Outcome<string>]));
      },
    });
    return { clock, sent, batcher, answerAll: () => answers.splice(0).forEach((a) => a()) };
  }

  test('a read already sent is not shared with later loads: they get a read of their own', async () => {
    const { clock, sent, batcher, answerAll } = inFlight();
    const before = batcher.load('a');
    await clock.advance(100); // sent, not answered
    batcher.forget('a');
    const after = batcher.load('a');
    expect(after).not.toBe(before);
    await clock.advance(100);
    expect(sent).toEqual([['a'], ['a']]);
    answerAll();
    expect(await before).toBe('a#1');
    expect(await after).toBe('a#2');
  });

  test('a read not yet sent stays shared (it will see the write), and unknown keys are ignored', async () => {
    const { clock, sent, batcher, answerAll } = inFlight();
    const before = batcher.load('a');
    batcher.forget('a');
    batcher.forget('b');
    expect(batcher.load('a')).toBe(before);
    await clock.advance(100);
    expect(sent).toEqual([['a']]);
    answerAll();
    expect(await before).toBe('a#1');
  });
});
