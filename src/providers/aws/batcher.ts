// Collects reads of distinct keys into batches, and shares one result among identical
// reads in flight. A batch goes out when it holds `maxBatch` keys, when no key joined it
// for an idle gap, or `maxWaitMs` after its first key, whichever comes first; until its
// request actually leaves (it may wait for a free call slot) later keys still join it.
// Why an idle gap and not a fixed short window: reconciles of syncs that are due together
// reach the provider spaced by their Kubernetes writes (at the client's qps) and by the
// arrival of their watch events, so a window of a few ms sends batches of one. The gap is
// `idleMs` when reads are sparse and `busyIdleMs` right after a full batch, when more
// reads are on their way: a lone read waits little, a burst fills its batches.
import type { Clock, Timer } from '../../runtime/clock.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

export interface BatcherOptions<T> {
  maxBatch: number;
  /** Idle gap that sends a batch while reads are sparse. */
  idleMs: number;
  /** Idle gap after a full batch went out (a burst is on). */
  busyIdleMs: number;
  maxWaitMs: number;
  clock: Clock;
  /**
   * Sends one batch: calls `take()` exactly once, right before the request goes out, to
   * seal the batch and learn its keys; resolves with an outcome for each of them.
   */
  send(take: () => string[]): Promise<Map<string, Outcome<T>>>;
  /** The error pending reads get when the batcher is closed. */
  closedError(): Error;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

interface Batch<T> {
  waiters: Map<string, Waiter<T>>;
  idleMs: number;
  dispatched: boolean;
  sealed: boolean;
  idle?: Timer;
  max?: Timer;
}

export class Batcher<T> {
  private open: Batch<T> | undefined;
  private readonly inflight = new Map<string, Promise<T>>();
  private closed = false;
  /** Whether the last batch that went out was full. */
  private busy = false;

  constructor(private readonly o: BatcherOptions<T>) {}

  /** The value of `key`, from a batch shared with other keys (and with reads of the same key). */
  load(key: string): Promise<T> {
    const shared = this.inflight.get(key);
    if (shared) return shared;
    if (this.closed) return Promise.reject(this.o.closedError());
    let batch = this.open;
    if (!batch) {
      const b: Batch<T> = { waiters: new Map(), idleMs: this.busy ? this.o.busyIdleMs : this.o.idleMs, dispatched: false, sealed: false };
      b.max = this.o.clock.setTimer(this.o.maxWaitMs, () => this.dispatch(b));
      this.open = batch = b;
    }
    let waiter: Waiter<T> | undefined;
    const promise = new Promise<T>((resolve, reject) => (waiter = { resolve, reject }));
    batch.waiters.set(key, waiter as Waiter<T>);
    this.inflight.set(key, promise);
    const forget = () => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    };
    promise.then(forget, forget);
    if (batch.waiters.size >= this.o.maxBatch) {
      this.open = undefined; // full: later keys start the next batch
      this.busy = true;
      this.dispatch(batch);
    } else if (!batch.dispatched) {
      const b = batch;
      b.idle?.cancel();
      b.idle = this.o.clock.setTimer(b.idleMs, () => this.dispatch(b));
    }
    return promise;
  }

  /**
   * Later loads of `key` start a read of their own instead of sharing one already sent
   * (the value changed since it left). A read not yet sent is kept: it will see the change.
   */
  forget(key: string): void {
    const open = this.open;
    if (open && !open.sealed && open.waiters.has(key)) return;
    this.inflight.delete(key);
  }

  /** Number of reads waiting or in flight (for tests). */
  pending(): number {
    return this.inflight.size;
  }

  /** Fails reads that have not been sent; sent batches end through their send(). Idempotent. */
  close(): void {
    this.closed = true;
    const b = this.open;
    this.open = undefined;
    if (!b || b.dispatched) return;
    this.stopTimers(b);
    b.sealed = true;
    for (const w of b.waiters.values()) w.reject(this.o.closedError());
  }

  private stopTimers(b: Batch<T>): void {
    b.idle?.cancel();
    b.max?.cancel();
  }

  private seal(b: Batch<T>): string[] {
    b.sealed = true;
    this.busy = b.waiters.size >= this.o.maxBatch;
    if (this.open === b) this.open = undefined;
    return [...b.waiters.keys()];
  }

  private dispatch(b: Batch<T>): void {
    if (b.dispatched || b.sealed) return;
    b.dispatched = true;
    this.stopTimers(b);
    const settle = (each: (key: string, w: Waiter<T>) => void) => {
      if (!b.sealed) this.seal(b);
      for (const [key, w] of b.waiters) each(key, w);
    };
    let taken = false;
    const take = () => {
      if (taken) throw new Error('Batcher: take() called twice');
      taken = true;
      return this.seal(b);
    };
    this.o.send(take).then(
      (outcomes) =>
        settle((key, w) => {
          const o = outcomes.get(key);
          if (!o) w.reject(new Error('Batcher: the batch answered without a result for one of its keys'));
          else if (o.ok) w.resolve(o.value);
          else w.reject(o.error);
        }),
      (err: unknown) => settle((_key, w) => w.reject(err instanceof Error ? err : new Error(String(err)))),
    );
  }
}
