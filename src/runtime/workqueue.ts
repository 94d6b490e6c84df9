// WorkQueue: the keyed, rate-limited, delaying queue that feeds controllers,
// after client-go's workqueue. It holds `namespace/name` keys, not objects
// (the reconciler re-reads current state), so it can de-duplicate: a key
// queued twice is processed once, and a key is never handed to two workers
// at once — if it is added while being processed it is marked dirty and
// queued again when the worker calls done().
//
// Optionally keys belong to groups (e.g. the namespace whose secret-manager addresses a
// reconcile calls) and at most `groupLimit` keys of one group are handed out at once: a key
// whose group is full is set aside, without holding a worker, and handed out ahead of the
// queue as soon as a key of its group is done. So one group whose reconciles are slow
// (a source that never answers) holds at most `groupLimit` workers, and the other groups'
// keys keep their turn; within a group the order is kept.

import { realClock } from './clock.js';
import type { Clock, Timer } from './clock.js';
import { defaultControllerRateLimiter } from './rate-limiter.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * What a queue reports, with client-go's workqueue metrics in mind. A port, so the
 * runtime stays free of prom-client; src/observability/metrics.ts implements it.
 */
export interface WorkQueueMetrics {
  /** A key was queued (not counted: an add de-duplicated against a waiting key). */
  adds(): void;
  /** addRateLimited: a retry after a failure. */
  retries(): void;
  /** Keys waiting to be handed out: queued, or added again while processing. */
  depth(n: number): void;
  /** Seconds a key waited from add to get. */
  queueLatency(seconds: number): void;
  /** Seconds from get to done. */
  workDuration(seconds: number): void;
}

export interface WorkQueueOptions {
  clock?: Clock;
  /** Default: defaultControllerRateLimiter(clock). */
  rateLimiter?: RateLimiter;
  /** Called with the number of ready keys whenever it changes. */
  onDepthChange?: (depth: number) => void;
  /** Called when a key is actually enqueued (not for de-duplicated adds). */
  onAdd?: (key: string) => void;
  /** Called on every addRateLimited (a retry). */
  onRetry?: (key: string) => void;
  metrics?: WorkQueueMetrics;
  /** The group of a key when it is about to be handed out; undefined: no limit for it. */
  groupOf?: (key: string) => string | undefined;
  /** At most this many keys of one group handed out at once (default: no limit). */
  groupLimit?: number;
}

interface Delayed {
  due: number;
  timer: Timer;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly opts: WorkQueueOptions;
  // FIFO of ready keys; `head` avoids O(n) shift().
  private items: string[] = [];
  private head = 0;
  /** Keys that need processing: queued, or added again while processing. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  /** When each waiting key was added, and when each processing key was handed out (ms). */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  /** Keys set aside because their group was full, per group, oldest first. */
  private readonly parked = new Map<string, string[]>();
  /** Parked keys whose group freed a slot: handed out before `items`. */
  private resumed: string[] = [];
  /** Keys handed out per group, and the group each processing key was counted in. */
  private readonly groupActive = new Map<string, number>();
  private readonly groupOfProcessing = new Map<string, string>();
  private drainWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.clock);
  }

  /** Queues `key` unless it is already waiting; ignored after shutdown. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    this.opts.metrics?.adds();
    this.waitingChanged();
    this.opts.onAdd?.(key);
    // While processing, done() re-queues it; never hand it out twice.
    if (this.processing.has(key)) return;
    this.items.push(key);
    this.depthChanged();
    this.dispatch();
  }

  /**
   * Queues `key` after `ms`. If the key already waits for an earlier time,
   * that earlier time wins; a later pending time is replaced by this one.
   */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.due <= due) return;
      pending.timer.cancel();
    }
    const timer = this.clock.setTimer(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { due, timer });
  }

  /** Queues `key` after the rate limiter's delay (a retry). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.opts.metrics?.retries();
    this.opts.onRetry?.(key);
    this.addAfter(key, this.limiter.when(key));
  }

  /** Resets the key's backoff; call after a successful reconcile. */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.retries(key);
  }

  /**
   * Waits for the next key and marks it as processing; the caller must call
   * done(key). Resolves undefined once the queue is shut down (keys still
   * queued then are dropped: the next start re-lists them).
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.pop();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` as processed; re-queues it if it was added meanwhile. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    this.releaseGroup(key);
    const started = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (started !== undefined) this.opts.metrics?.workDuration(this.secondsSince(started));
    if (this.dirty.has(key)) {
      if (this.shuttingDown) {
        this.dirty.delete(key);
        this.addedAt.delete(key);
        this.waitingChanged();
      } else {
        this.items.push(key);
        this.depthChanged();
        this.dispatch();
      }
    }
    if (this.resumed.length > 0 && !this.shuttingDown) this.dispatch(); // a key set aside for this group
    if (this.processing.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Number of keys ready to be handed out (not processing, not delayed, not set aside for their group). */
  len(): number {
    return this.items.length - this.head + this.resumed.length;
  }

  /** Keys set aside because their group had `groupLimit` keys handed out. */
  parkedCount(): number {
    let n = 0;
    for (const q of this.parked.values()) n += q.length;
    return n;
  }

  /** Number of keys currently handed out and not yet done. */
  processingCount(): number {
    return this.processing.size;
  }

  /**
   * Seconds of work in progress not yet reported as workDuration (summed over every
   * key handed out and not done). Grows by the number of stuck workers per second.
   */
  unfinishedWorkSeconds(): number {
    let total = 0;
    for (const t of this.startedAt.values()) total += this.secondsSince(t);
    return total;
  }

  /** Seconds the longest-running key handed out has been processing; 0 when none. */
  longestRunningProcessorSeconds(): number {
    let oldest = 0;
    for (const t of this.startedAt.values()) oldest = Math.max(oldest, this.secondsSince(t));
    return oldest;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops accepting keys, cancels delayed adds and wakes every getter with undefined. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    const waiting = [...this.items.slice(this.head), ...this.resumed, ...[...this.parked.values()].flat()];
    for (const key of waiting) {
      this.dirty.delete(key);
      this.addedAt.delete(key);
    }
    const hadItems = waiting.length > 0;
    this.items = [];
    this.head = 0;
    this.resumed = [];
    this.parked.clear();
    if (hadItems) {
      this.depthChanged();
      this.waitingChanged();
    }
    for (const g of this.getters.splice(0)) g(undefined);
  }

  /** shutDown(), then resolves once every key handed out has been done(). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** The next key to hand out whose group has room; keys of full groups are set aside on the way. */
  private next(): string | undefined {
    for (;;) {
      let key: string | undefined;
      if (this.resumed.length > 0) key = this.resumed.shift() as string;
      else {
        if (this.head >= this.items.length) return undefined;
        key = this.items[this.head] as string;
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
      }
      const group = this.opts.groupLimit !== undefined ? this.opts.groupOf?.(key) : undefined;
      if (group === undefined) return key;
      const active = this.groupActive.get(group) ?? 0;
      if (active >= (this.opts.groupLimit as number)) {
        const q = this.parked.get(group);
        if (q) q.push(key);
        else this.parked.set(group, [key]);
        continue;
      }
      this.groupActive.set(group, active + 1);
      this.groupOfProcessing.set(key, group);
      return key;
    }
  }

  /** A key of a group is done: its slot goes to the group's oldest key set aside, if any. */
  private releaseGroup(key: string): void {
    const group = this.groupOfProcessing.get(key);
    if (group === undefined) return;
    this.groupOfProcessing.delete(key);
    const active = (this.groupActive.get(group) ?? 1) - 1;
    if (active > 0) this.groupActive.set(group, active);
    else this.groupActive.delete(group);
    const q = this.parked.get(group);
    if (!q) return;
    this.resumed.push(q.shift() as string);
    if (q.length === 0) this.parked.delete(group);
  }

  private pop(): string | undefined {
    const key = this.next();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    const now = this.clock.now();
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.opts.metrics?.queueLatency(this.secondsSince(added));
    this.startedAt.set(key, now);
    this.depthChanged();
    this.waitingChanged();
    return key;
  }

  /** Hands ready keys to waiting getters, oldest getter first. */
  private dispatch(): void {
    while (this.getters.length > 0 && this.len() > 0) {
      const key = this.pop();
      if (key === undefined) break; // every ready key was set aside for its group
      const getter = this.getters.shift() as (key: string | undefined) => void;
      getter(key);
    }
  }

  private depthChanged(): void {
    this.opts.onDepthChange?.(this.len());
  }

  /** client-go's depth: every key waiting, including one added again while processing. */
  private waitingChanged(): void {
    this.opts.metrics?.depth(this.dirty.size);
  }

  private secondsSince(ms: number): number {
    return Math.max(0, this.clock.now() - ms) / 1000;
  }
}
