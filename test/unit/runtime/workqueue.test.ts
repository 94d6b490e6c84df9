// WorkQueue: de-duplication, never the same key twice at once, FIFO,
// delayed adds (earlier delay wins), rate-limited retries, shutdown/drain.

import { ItemExponentialRateLimiter } from '../../../src/runtime/rate-limiter.js';
import { FakeClock, flushPromises } from '../../../src/runtime/testing/fake-clock.js';
import { WorkQueue } from '../../../src/runtime/workqueue.js';

function setup(): { clock: FakeClock; queue: WorkQueue } {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(100, 1000) });
  return { clock, queue };
}

describe('WorkQueue', () => {
  test('hands out keys in FIFO order', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/c');
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(await queue.get()).toBe('ns/c');
  });

  test('de-duplicates a key queued twice', async () => {
    const added: string[] = [];
    const queue = new WorkQueue({ clock: new FakeClock(), onAdd: (k) => added.push(k) });
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(added).toEqual(['ns/a', 'ns/b']);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(queue.len()).toBe(0);
  });

  test('a key added while processing is held back and re-queued once on done', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    const key = await queue.get();
    expect(key).toBe('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.len()).toBe(0);

    let second: string | undefined;
    void queue.get().then((k) => (second = k));
    await flushPromises();
    expect(second).toBeUndefined(); // not handed out while still processing

    queue.done('ns/a');
    await flushPromises();
    expect(second).toBe('ns/a');
    expect(queue.len()).toBe(0);
  });

  test('done without a re-add does not re-queue', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.done((await queue.get()) as string);
    expect(queue.len()).toBe(0);
    expect(queue.processingCount()).toBe(0);
  });

  test('a waiting getter receives the next added key', async () => {
    const { queue } = setup();
    const p = queue.get();
    queue.add('ns/a');
    await expect(p).resolves.toBe('ns/a');
  });

  test('reports depth changes', async () => {
    const depths: number[] = [];
    const queue = new WorkQueue({ clock: new FakeClock(), onDepthChange: (d) => depths.push(d) });
    queue.add('ns/a');
    queue.add('ns/b');
    await queue.get();
    expect(depths).toEqual([1, 2, 1]);
  });

  test('addAfter queues the key only once the delay has passed, in due order', async () => {
    const { clock, queue } = setup();
    queue.addAfter('ns/late', 300);
    queue.addAfter('ns/early', 100);
    await clock.advance(99);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    await clock.advance(200);
    expect(await queue.get()).toBe('ns/early');
    expect(await queue.get()).toBe('ns/late');
  });

  test('addAfter: an earlier pending delay wins over a later one', async () => {
    const { clock, queue } = setup();
    queue.addAfter('ns/a', 100);
    queue.addAfter('ns/a', 500);
    await clock.advance(100);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('ns/a');
    queue.done('ns/a');
    await clock.advance(1000);
    expect(queue.len()).toBe(0); // the 500 ms add was dropped, not kept
    expect(clock.pendingTimers()).toBe(0);
  });

  test('addAfter: a new earlier delay replaces a later pending one', async () => {
    const { clock, queue } = setup();
    queue.addAfter('ns/a', 500);
    queue.addAfter('ns/a', 100);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(100);
    expect(queue.len()).toBe(1);
  });

  test('addAfter with a non-positive delay adds at once', () => {
    const { queue } = setup();
    queue.addAfter('ns/a', 0);
    expect(queue.len()).toBe(1);
  });

  test('addRateLimited backs off per key; forget resets it', async () => {
    const retried: string[] = [];
    const clock = new FakeClock(0);
    const queue = new WorkQueue({
      clock,
      rateLimiter: new ItemExponentialRateLimiter(100, 1000),
      onRetry: (k) => retried.push(k),
    });
    queue.addRateLimited('ns/a');
    expect(queue.numRequeues('ns/a')).toBe(1);
    expect(clock.nextTimerDue()).toBe(100);
    await clock.advance(100);
    queue.done((await queue.get()) as string);

    queue.addRateLimited('ns/a');
    expect(clock.nextTimerDue()).toBe(100 + 200);
    await clock.advance(200);
    queue.done((await queue.get()) as string);

    queue.forget('ns/a');
    expect(queue.numRequeues('ns/a')).toBe(0);
    queue.addRateLimited('ns/a');
    expect(clock.nextTimerDue()).toBe(300 + 100);
    expect(retried).toEqual(['ns/a', 'ns/a', 'ns/a']);
  });

  test('shutDown wakes every waiting getter with undefined and ignores later adds', async () => {
    const { clock, queue } = setup();
    const getters = [queue.get(), queue.get()];
    queue.addAfter('ns/delayed', 100);
    queue.shutDown();
    await expect(Promise.all(getters)).resolves.toEqual([undefined, undefined]);
    expect(clock.pendingTimers()).toBe(0);
    queue.add('ns/a');
    queue.addRateLimited('ns/b');
    expect(queue.len()).toBe(0);
    await expect(queue.get()).resolves.toBeUndefined();
    expect(queue.isShuttingDown()).toBe(true);
  });

  test('shutDown drops queued keys', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.shutDown();
    expect(queue.len()).toBe(0);
    await expect(queue.get()).resolves.toBeUndefined();
  });

  test('shutDownWithDrain waits until in-process keys are done', async () => {
    const { queue } = setup();
    queue.add('ns/a');
    queue.add('ns/b');
    const a = (await queue.get()) as string;
    const b = (await queue.get()) as string;
    queue.add('ns/a'); // dirty while processing: dropped on done after shutdown
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    queue.done(a);
    await flushPromises();
    expect(drained).toBe(false);
    queue.done(b);
    await drain;
    expect(drained).toBe(true);
    expect(queue.len()).toBe(0);
  });

  test('shutDownWithDrain resolves at once when nothing is processing', async () => {
    const { queue } = setup();
    await expect(queue.shutDownWithDrain()).resolves.toBeUndefined();
  });
});

describe('WorkQueue metrics (client-go meaning)', () => {
  function withMetrics() {
    const clock = new FakeClock(0);
    const seen = { adds: 0, retries: 0, depth: [] as number[], latency: [] as number[], work: [] as number[] };
    const queue = new WorkQueue({
      clock,
      rateLimiter: new ItemExponentialRateLimiter(100, 1000),
      metrics: {
        adds: () => seen.adds++,
        retries: () => seen.retries++,
        depth: (n) => seen.depth.push(n),
        queueLatency: (s) => seen.latency.push(s),
        workDuration: (s) => seen.work.push(s),
      },
    });
    return { clock, queue, seen };
  }

  test('adds count queued keys, not de-duplicated ones; depth counts a key added again while processing', async () => {
    const { queue, seen } = withMetrics();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    expect(seen.adds).toBe(2);
    expect(seen.depth).toEqual([1, 2]);
    await queue.get(); // a
    expect(seen.depth.at(-1)).toBe(1);
    queue.add('ns/a'); // while processing: waits, so it counts
    expect(seen.adds).toBe(3);
    expect(seen.depth.at(-1)).toBe(2);
    expect(queue.len()).toBe(1); // only b can be handed out now
  });

  test('queue latency is add to get; work duration is get to done', async () => {
    const { clock, queue, seen } = withMetrics();
    queue.add('ns/a');
    await clock.advance(1500);
    const a = (await queue.get()) as string;
    expect(seen.latency).toEqual([1.5]);
    await clock.advance(250);
    queue.done(a);
    expect(seen.work).toEqual([0.25]);
  });

  test('a key added while processing waits from its add, through done, to the next get', async () => {
    const { clock, queue, seen } = withMetrics();
    queue.add('ns/a');
    const a = (await queue.get()) as string;
    await clock.advance(100);
    queue.add(a);
    await clock.advance(400);
    queue.done(a);
    await clock.advance(200);
    await queue.get();
    expect(seen.latency).toEqual([0, 0.6]);
    expect(seen.work).toEqual([0.5]);
  });

  test('retries count every addRateLimited; delayed keys count as adds only when they are queued', async () => {
    const { clock, queue, seen } = withMetrics();
    queue.addRateLimited('ns/a');
    expect(seen.retries).toBe(1);
    expect(seen.adds).toBe(0);
    await clock.advance(100);
    expect(seen.adds).toBe(1);
    expect(seen.latency).toEqual([]);
  });

  test('unfinished work sums the running keys; the longest runner is the oldest', async () => {
    const { clock, queue } = withMetrics();
    expect([queue.unfinishedWorkSeconds(), queue.longestRunningProcessorSeconds()]).toEqual([0, 0]);
    queue.add('ns/a');
    queue.add('ns/b');
    const a = (await queue.get()) as string;
    await clock.advance(2000);
    const b = (await queue.get()) as string;
    await clock.advance(1000);
    expect(queue.unfinishedWorkSeconds()).toBe(4); // a 3 s + b 1 s
    expect(queue.longestRunningProcessorSeconds()).toBe(3);
    queue.done(a);
    expect([queue.unfinishedWorkSeconds(), queue.longestRunningProcessorSeconds()]).toEqual([1, 1]);
    queue.done(b);
    expect([queue.unfinishedWorkSeconds(), queue.longestRunningProcessorSeconds()]).toEqual([0, 0]);
  });

  test('shutDown reports the dropped keys as no longer waiting', async () => {
    const { queue, seen } = withMetrics();
    queue.add('ns/a');
    queue.add('ns/b');
    const a = (await queue.get()) as string;
    queue.add(a);
    expect(seen.depth.at(-1)).toBe(2);
    queue.shutDown();
    expect(seen.depth.at(-1)).toBe(1); // b dropped; a still held until done
    queue.done(a);
    expect(seen.depth.at(-1)).toBe(0);
  });
});

describe('WorkQueue groups (groupOf / groupLimit)', () => {
  const group = (key: string) => (key.startsWith('evil/') ? 'ns/evil' : key.startsWith('free/') ? undefined : `ns/${key.split('/')[0]}`);
  const grouped = () => new WorkQueue({ clock: new FakeClock(0), groupOf: group, groupLimit: 2 });

  test('at most groupLimit keys of a group are handed out; the other groups keep their turn', async () => {
    const queue = grouped();
    for (const k of ['evil/1', 'evil/2', 'evil/3', 'evil/4', 'good/1', 'free/1', 'good/2']) queue.add(k);
    const got = [await queue.get(), await queue.get(), await queue.get(), await queue.get(), await queue.get()];
    expect(got).toEqual(['evil/1', 'evil/2', 'good/1', 'free/1', 'good/2']);
    expect(queue.parkedCount()).toBe(2);
    expect(queue.len()).toBe(0);
  });

  test('a key set aside is handed out, in order, as soon as a key of its group is done, ahead of the queue', async () => {
    const queue = grouped();
    for (const k of ['evil/1', 'evil/2', 'evil/3', 'evil/4']) queue.add(k);
    const a = await queue.get();
    const b = await queue.get();
    const waiting = queue.get(); // evil/3 and evil/4 are set aside: the getter waits, holding nothing
    queue.add('good/1');
    expect(await waiting).toBe('good/1');
    queue.add('good/2');
    queue.done(a as string);
    expect(await queue.get()).toBe('evil/3');
    expect(await queue.get()).toBe('good/2');
    queue.done(b as string);
    expect(await queue.get()).toBe('evil/4');
    expect(queue.parkedCount()).toBe(0);
  });

  test('a getter waiting while every ready key is set aside gets the key when a slot frees', async () => {
    const queue = grouped();
    for (const k of ['evil/1', 'evil/2', 'evil/3']) queue.add(k);
    await queue.get();
    const second = await queue.get();
    let got: string | undefined;
    void queue.get().then((k) => (got = k));
    await flushPromises();
    expect(got).toBeUndefined(); // not handed `undefined` (which means shut down)
    queue.done(second as string);
    await flushPromises();
    expect(got).toBe('evil/3');
  });

  test('a key set aside is de-duplicated and dropped on shutdown', async () => {
    const queue = grouped();
    for (const k of ['evil/1', 'evil/2', 'evil/3']) queue.add(k);
    await queue.get();
    await queue.get();
    expect(await Promise.race([queue.get(), Promise.resolve('none')])).toBe('none');
    queue.add('evil/3'); // already waiting (set aside)
    expect(queue.parkedCount()).toBe(1);
    queue.shutDown();
    expect(queue.parkedCount()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });
});
