// Controller: the reconcile loop over a WorkQueue — requeueAfter, retries
// with backoff, terminal errors, one key never reconciled twice at once, and
// graceful stop.

import { Controller, defaultIsRetryable } from '../../../src/runtime/controller.js';
import type { ReconcileReport, ReconcileResult } from '../../../src/runtime/controller.js';
import { ItemExponentialRateLimiter } from '../../../src/runtime/rate-limiter.js';
import { FakeClock, flushPromises } from '../../../src/runtime/testing/fake-clock.js';
import { WorkQueue } from '../../../src/runtime/workqueue.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult>;

function setup(reconcile: Reconcile, workers = 1, stopGraceMs?: number) {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(100, 10_000) });
  const reports: ReconcileReport[] = [];
  const controller = new Controller({
    name: 'test',
    queue,
    reconcile,
    workers,
    clock,
    onResult: (r) => reports.push(r),
    ...(stopGraceMs !== undefined ? { stopGraceMs } : {}),
  });
  return { clock, queue, controller, reports };
}

describe('Controller', () => {
  test('reconciles a key once and forgets it on success', async () => {
    const seen: string[] = [];
    const { clock, queue, controller, reports } = setup(async (key) => {
      seen.push(key);
      return {};
    });
    controller.start();
    queue.add('ns/a');
    await clock.advance(60_000);
    expect(seen).toEqual(['ns/a']);
    expect(reports.map((r) => r.result)).toEqual(['success']);
    expect(queue.numRequeues('ns/a')).toBe(0);
    await controller.stop();
  });

  test('requeueAfter reconciles the key again after the delay', async () => {
    const at: number[] = [];
    const { clock, queue, controller, reports } = setup(async () => {
      at.push(clock.now());
      return { requeueAfterMs: 1000 };
    });
    controller.start();
    queue.add('ns/a');
    await clock.advance(999);
    expect(at).toEqual([0]);
    await clock.advance(1);
    expect(at).toEqual([0, 1000]);
    expect(reports[0]?.result).toBe('requeue');
    await controller.stop();
  });

  test('retries a retryable error with a growing delay, then forgets on success', async () => {
    const at: number[] = [];
    const { clock, queue, controller, reports } = setup(async () => {
      at.push(clock.now());
      if (at.length <= 3) throw new Error('temporarily unavailable');
      return {};
    });
    controller.start();
    queue.add('ns/a');
    await clock.advance(10_000);
    expect(at).toEqual([0, 100, 300, 700]);
    expect(reports.map((r) => r.result)).toEqual(['error', 'error', 'error', 'success']);
    expect(reports[0]?.error).toBeInstanceOf(Error);
    expect(queue.numRequeues('ns/a')).toBe(0);
    await controller.stop();
  });

  test('does not retry a terminal error', async () => {
    let calls = 0;
    const terminal = Object.assign(new Error('invalid spec'), { retryable: false });
    const { clock, queue, controller, reports } = setup(async () => {
      calls++;
      throw terminal;
    });
    controller.start();
    queue.add('ns/a');
    await clock.advance(600_000);
    expect(calls).toBe(1);
    expect(reports).toEqual([expect.objectContaining({ key: 'ns/a', result: 'terminal-error', error: terminal })]);
    expect(queue.numRequeues('ns/a')).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    await controller.stop();
  });

  test('a terminal error that carries requeueAfterMs is looked at again then, without backoff', async () => {
    let calls = 0;
    const terminal = Object.assign(new Error('invalid spec'), { retryable: false, requeueAfterMs: 60_000 });
    const { clock, queue, controller, reports } = setup(async () => {
      calls++;
      throw terminal;
    });
    controller.start();
    queue.add('ns/a');
    await clock.advance(59_000);
    expect(calls).toBe(1);
    await clock.advance(2_000);
    expect(calls).toBe(2);
    expect(reports.map((r) => r.result)).toEqual(['terminal-error', 'terminal-error']);
    expect(queue.numRequeues('ns/a')).toBe(0);
    await controller.stop();
  });

  test('a custom isRetryable decides', async () => {
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ clock });
    let calls = 0;
    const controller = new Controller({
      name: 't',
      queue,
      workers: 1,
      clock,
      isRetryable: () => false,
      reconcile: async () => {
        calls++;
        throw new Error('x');
      },
    });
    controller.start();
    queue.add('ns/a');
    await clock.advance(600_000);
    expect(calls).toBe(1);
    await controller.stop();
  });

  test('errors thrown by reconcile or onResult never stop the workers', async () => {
    const seen: string[] = [];
    const clock = new FakeClock(0);
    const queue = new WorkQueue({ clock });
    const controller = new Controller({
      name: 't',
      queue,
      workers: 1,
      clock,
      isRetryable: () => false,
      onResult: () => {
        throw new Error('observer failed');
      },
      reconcile: ((key: string) => {
        seen.push(key);
        if (key === 'ns/sync-throw') throw new Error('thrown synchronously');
        return key === 'ns/reject' ? Promise.reject(new Error('rejected')) : Promise.resolve({});
      }) as Reconcile,
    });
    controller.start();
    queue.add('ns/sync-throw');
    queue.add('ns/reject');
    queue.add('ns/ok');
    await clock.advance(10);
    expect(seen).toEqual(['ns/sync-throw', 'ns/reject', 'ns/ok']);
    expect(controller.inFlight()).toBe(0);
    await controller.stop();
  });

  test('two workers never reconcile the same key at once', async () => {
    const running = new Map<string, number>();
    let maxSameKey = 0;
    const gates: Deferred[] = [];
    const seen: string[] = [];
    const { queue, controller } = setup(async (key) => {
      seen.push(key);
      const n = (running.get(key) ?? 0) + 1;
      running.set(key, n);
      maxSameKey = Math.max(maxSameKey, n);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      running.set(key, n - 1);
      return {};
    }, 2);
    controller.start();
    queue.add('ns/a');
    await flushPromises();
    queue.add('ns/a'); // while ns/a is in flight
    queue.add('ns/b');
    await flushPromises();
    expect(seen).toEqual(['ns/a', 'ns/b']); // the free worker took ns/b, not ns/a
    expect(controller.inFlight()).toBe(2);

    gates[0]?.resolve(); // first ns/a done -> ns/a re-queued and picked up
    await flushPromises();
    expect(seen).toEqual(['ns/a', 'ns/b', 'ns/a']);
    for (const g of gates) g.resolve();
    await controller.stop();
    expect(maxSameKey).toBe(1);
  });

  test('stop waits for an in-flight reconcile without aborting it', async () => {
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const { clock, queue, controller, reports } = setup(async (_key, s) => {
      signal = s;
      await gate.promise;
      return {};
    });
    controller.start();
    queue.add('ns/a');
    await flushPromises();
    expect(controller.inFlight()).toBe(1);

    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    expect(controller.stop()).toBe(controller.stop()); // idempotent
    await clock.advance(1000);
    expect(stopped).toBe(false);
    expect(signal?.aborted).toBe(false);
    queue.add('ns/b'); // no new keys once stopping

    gate.resolve();
    await stopping;
    expect(stopped).toBe(true);
    expect(signal?.aborted).toBe(false);
    expect(reports.map((r) => r.key)).toEqual(['ns/a']);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('stop aborts in-flight reconciles after the grace timeout', async () => {
    let sawAbort = false;
    const { clock, queue, controller, reports } = setup(
      (_key, signal) =>
        new Promise<ReconcileResult>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(signal.reason);
          });
        }),
      1,
      5000,
    );
    controller.start();
    queue.add('ns/a');
    await flushPromises();
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await clock.advance(4999);
    expect(sawAbort).toBe(false);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stopping;
    expect(sawAbort).toBe(true);
    expect(reports[0]?.result).toBe('error');
  });

  test('stop with idle workers resolves at once', async () => {
    const { queue, controller } = setup(async () => ({}));
    controller.start();
    await flushPromises();
    await controller.stop();
    expect(queue.isShuttingDown()).toBe(true);
  });

  test('rejects a bad worker count and a second start', () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    const reconcile: Reconcile = async () => ({});
    expect(() => new Controller({ name: 't', queue, reconcile, workers: 0 })).toThrow(RangeError);
    const c = new Controller({ name: 't', queue, reconcile, workers: 1 });
    c.start();
    expect(() => c.start()).toThrow('already started');
    return c.stop();
  });

  test('defaultIsRetryable retries unless retryable === false', () => {
    expect(defaultIsRetryable(new Error('x'))).toBe(true);
    expect(defaultIsRetryable({ retryable: true })).toBe(true);
    expect(defaultIsRetryable({ retryable: false })).toBe(false);
    expect(defaultIsRetryable('string')).toBe(true);
    expect(defaultIsRetryable(undefined)).toBe(true);
  });
});
