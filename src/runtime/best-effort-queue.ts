// BestEffortQueue: work the caller must not wait for and may lose, such as Kubernetes
// Events. record() never blocks; a few senders drain the queue in order; when more than
// maxPending items wait, the oldest is dropped (and counted), so a storm costs bounded
// memory. A failed send is dropped too: the caller chose best effort.

export interface BestEffortQueueOptions<T> {
  send(item: T): Promise<void>;
  /** Sends at once. Default 4. */
  concurrency?: number;
  /** Items waiting beyond this drop the oldest. Default 10,000. */
  maxPending?: number;
  onDrop?: (item: T, why: 'overflow' | 'failed' | 'closed') => void;
}

export class BestEffortQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private active = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly maxPending: number;

  constructor(private readonly o: BestEffortQueueOptions<T>) {
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.maxPending = Math.max(1, o.maxPending ?? 10_000);
  }

  /** Items recorded and not yet sent. */
  pending(): number {
    return this.items.length - this.head;
  }

  record(item: T): void {
    if (this.closed) {
      this.o.onDrop?.(item, 'closed');
      return;
    }
    this.items.push(item);
    if (this.pending() > this.maxPending) this.o.onDrop?.(this.take() as T, 'overflow');
    if (this.active < this.concurrency) {
      this.active++;
      void this.drain();
    }
  }

  /** Resolves once nothing is pending or being sent. */
  idle(): Promise<void> {
    if (this.active === 0 && this.pending() === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Drops whatever is still pending; sends in progress finish. */
  close(): void {
    this.closed = true;
    for (let item = this.take(); item !== undefined; item = this.take()) this.o.onDrop?.(item, 'closed');
  }

  private take(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    // Compact now and then, so a long-lived queue does not keep a long empty prefix.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  private async drain(): Promise<void> {
    try {
      for (let item = this.take(); item !== undefined; item = this.take()) {
        try {
          await this.o.send(item);
        } catch {
          this.o.onDrop?.(item, 'failed');
        }
      }
    } finally {
      this.active--;
      if (this.active === 0 && this.pending() === 0) this.idleWaiters.splice(0).forEach((r) => r());
    }
  }
}
