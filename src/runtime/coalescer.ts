// KeyedCoalescer: calls for the same key that arrive together become one. The first add()
// of a key opens a batch; later adds join it until no add came for `idleMs`, or `maxWaitMs`
// after the first; then flush(key, values) runs once and every caller of the batch gets its
// outcome. Adds during a flush open the next batch. Used to roll a workload once when
// several SecretSyncs it uses change at the same refresh tick.
import { realClock, type Clock, type Timer } from './clock.js';

export interface CoalescerOptions<V> {
  idleMs: number;
  maxWaitMs: number;
  clock?: Clock;
  flush(key: string, values: V[]): Promise<void>;
}

interface Batch<V> {
  values: V[];
  waiters: { resolve(): void; reject(err: unknown): void }[];
  idle?: Timer;
  max?: Timer;
}

export class KeyedCoalescer<V> {
  private readonly open = new Map<string, Batch<V>>();
  private readonly clock: Clock;

  constructor(private readonly o: CoalescerOptions<V>) {
    this.clock = o.clock ?? realClock;
  }

  add(key: string, value: V): Promise<void> {
    let batch = this.open.get(key);
    if (!batch) {
      const b: Batch<V> = { values: [], waiters: [] };
      b.max = this.clock.setTimer(this.o.maxWaitMs, () => this.send(key, b));
      this.open.set(key, b);
      batch = b;
    }
    const b = batch;
    b.values.push(value);
    b.idle?.cancel();
    b.idle = this.clock.setTimer(this.o.idleMs, () => this.send(key, b));
    return new Promise<void>((resolve, reject) => b.waiters.push({ resolve, reject }));
  }

  private send(key: string, b: Batch<V>): void {
    if (this.open.get(key) !== b) return; // sent already
    this.open.delete(key);
    b.idle?.cancel();
    b.max?.cancel();
    this.o.flush(key, b.values).then(
      () => b.waiters.forEach((w) => w.resolve()),
      (err: unknown) => b.waiters.forEach((w) => w.reject(err)),
    );
  }
}
