// Informer: a list+watch cache of one kind of object, keyed `namespace/name` (or `name`
// when cluster-scoped), that tells handlers what changed. It survives what a bare watch
// (and @kubernetes/client-node's informer) does not: any end or error of the watch
// restarts it with capped exponential backoff and jitter; 410 Gone relists; a periodic
// relist diffs the cache against the server, so what a watch gap missed (a deletion
// included) still reaches the handlers; and a watchdog relists when a watch goes silent
// (not even a bookmark) for too long, which happens without any error. All timing goes
// through the Clock port; the Kubernetes side is the ListWatch port (src/kube/list-watch.ts).
// The cache is an Indexer (indexer.ts): consumers add indexes and look objects up by them.

import { backoffMs } from './backoff.js';
import { abortReason, realClock } from './clock.js';
import type { Clock, Timer } from './clock.js';
import { Indexer, type IndexedStore, type Indexers } from './indexer.js';

import {
  isGone,
  objectKey,
  watchErrorText,
  type InformerEvent,
  type InformerHandlers,
  type InformerOptions,
  type KubeObjectLike,
  type ListWatch,
  type RelistReason,
  type WatchEventType,
  type WatchHandle,
} from './informer-types.js';

export * from './informer-types.js';
export type { IndexFunc, IndexedStore, Indexers } from './indexer.js';

type WatchOutcome =
  | { kind: 'ended' | 'gone' | 'watchdog' | 'resync' | 'stopped' }
  | { kind: 'error'; error: string };

export class Informer<T extends KubeObjectLike> implements IndexedStore<T> {
  private readonly lw: ListWatch<T>;
  private readonly clock: Clock;
  private readonly resyncMs: number;
  private readonly watchdogMs: number;
  private readonly listTimeoutMs: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly healthyWatchMs: number;
  private readonly random: () => number;
  private readonly opts: InformerOptions<T>;

  private readonly store: Indexer<T>;
  private handlers: InformerHandlers<T>[] = [];
  private lastRV = '';
  private synced = false;
  private syncWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private started = false;
  private stopped = false;
  private readonly stopCtl = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private resyncTimer: Timer | undefined;
  private relistReason: RelistReason | undefined;
  private activeWatch: { finish(o: WatchOutcome): void } | undefined;

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.store = new Indexer<T>((err) => this.reportHandlerError(err));
    this.lw = opts.listWatch;
    this.clock = opts.clock ?? realClock;
    this.resyncMs = opts.resyncMs ?? 10 * 60_000;
    this.watchdogMs = opts.watchdogMs ?? 5 * 60_000;
    this.listTimeoutMs = opts.listTimeoutMs ?? 60_000;
    this.initialMs = opts.backoff?.initialMs ?? 200;
    this.maxMs = opts.backoff?.maxMs ?? 30_000;
    this.jitter = opts.backoff?.jitter ?? 0.2;
    this.healthyWatchMs = opts.healthyWatchMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    for (const [name, v] of Object.entries({ resyncMs: this.resyncMs, watchdogMs: this.watchdogMs, listTimeoutMs: this.listTimeoutMs })) {
      if (!(v > 0)) throw new RangeError(`informer: ${name} must be > 0`);
    }
  }

  /**
   * Registers handlers; returns a function that removes them. Like client-go, a handler
   * added after the first list first gets onAdd for every object already cached.
   */
  addHandlers(h: InformerHandlers<T>): () => void {
    this.handlers.push(h);
    if (this.synced) for (const obj of this.store.list()) this.call(() => h.onAdd?.(obj));
    return () => {
      this.handlers = this.handlers.filter((x) => x !== h);
    };
  }

  onAdd(fn: (obj: T) => void): () => void {
    return this.addHandlers({ onAdd: fn });
  }

  onUpdate(fn: (oldObj: T, newObj: T) => void): () => void {
    return this.addHandlers({ onUpdate: fn });
  }

  onDelete(fn: (obj: T) => void): () => void {
    return this.addHandlers({ onDelete: fn });
  }

  /** The cached object (treat as read-only). */
  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return this.store.list();
  }

  keys(): string[] {
    return this.store.keys();
  }

  /**
   * Adds indexes, built at once from what is cached and kept current before any handler
   * runs. Add them before the handlers that use them. A name already in use throws.
   */
  addIndexers(indexers: Indexers<T>): void {
    this.store.addIndexers(indexers);
  }

  /** The cached objects filed under `value` in index `indexName` (treat as read-only). */
  byIndex(indexName: string, value: string): T[] {
    return this.store.byIndex(indexName, value);
  }

  /** The cache keys of the objects filed under `value` in index `indexName`. */
  indexKeys(indexName: string, value: string): string[] {
    return this.store.indexKeys(indexName, value);
  }

  /** True once the first list has filled the cache and its onAdd handlers ran. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once synced; rejects when `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('informer stopped before it synced'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.syncWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Lists, then watches, until stop(). Throws if already started. */
  start(): void {
    if (this.started) throw new Error('informer already started');
    this.started = true;
    this.loopDone = this.loop();
  }

  /** Aborts the watch, clears timers and resolves once the loop has exited. Idempotent. */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.stopCtl.abort();
      this.resyncTimer?.cancel();
      this.activeWatch?.finish({ kind: 'stopped' });
      const err = new Error('informer stopped before it synced');
      for (const w of this.syncWaiters.splice(0)) w.reject(err);
    }
    return this.loopDone;
  }

  private async loop(): Promise<void> {
    let attempt = 0; // consecutive unhealthy rounds; drives the backoff
    let mustList = true;
    while (!this.stopped) {
      if (mustList || this.relistReason !== undefined) {
        const reason = this.relistReason;
        this.relistReason = undefined;
        if (reason !== undefined) this.emit({ type: 'relist', reason });
        try {
          await this.listAndReplace();
          mustList = false;
        } catch (err) {
          if (this.stopped) break;
          mustList = true;
          this.emit({ type: 'list-error', error: watchErrorText(err) });
          await this.pause(this.backoffMs(attempt++));
          continue;
        }
        if (this.stopped) break;
      }
      const startedAt = this.clock.now();
      const outcome = await this.watchOnce(this.lastRV);
      if (this.stopped || outcome.kind === 'stopped') break;
      switch (outcome.kind) {
        case 'resync':
          continue; // relistReason is set: relist now, no backoff
        case 'ended':
          this.emit({ type: 'watch-ended' });
          break;
        case 'error':
          this.emit({ type: 'watch-error', error: outcome.error });
          break;
        case 'gone':
          this.emit({ type: 'gone' });
          this.relistReason = 'gone';
          // The server answered: only our resourceVersion is too old. Relist after the first
          // delay, not after the backoff earlier failures grew (up to maxMs, twice over when
          // the watch had just failed against a restarting API server).
          attempt = 0;
          break;
        case 'watchdog':
          this.emit({ type: 'watchdog-fired' });
          this.relistReason = 'watchdog';
          break;
      }
      const healthy = outcome.kind !== 'watchdog' && this.clock.now() - startedAt >= this.healthyWatchMs;
      if (healthy) attempt = 0;
      await this.pause(this.backoffMs(attempt++));
    }
  }

  /** initial * 2^attempt capped at max, minus up to `jitter` of it so replicas spread out. */
  private backoffMs(attempt: number): number {
    return backoffMs(attempt, { initialMs: this.initialMs, maxMs: this.maxMs, jitter: this.jitter }, this.random);
  }

  private async pause(ms: number): Promise<void> {
    try {
      await this.clock.sleep(ms, this.stopCtl.signal);
    } catch {
      // stopped
    }
  }

  private listWithTimeout(): Promise<{ items: T[]; resourceVersion: string }> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(this.listTimeoutMs, () => {
        reject(new Error(`list did not answer within ${this.listTimeoutMs} ms`));
      });
      const onStop = (): void => reject(new Error('informer stopped'));
      this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
      const settle = (): void => {
        timer.cancel();
        this.stopCtl.signal.removeEventListener('abort', onStop);
      };
      let p: Promise<{ items: T[]; resourceVersion: string }>;
      try {
        p = this.lw.list();
      } catch (err) {
        settle();
        reject(err);
        return;
      }
      p.then(
        (r) => {
          settle();
          resolve(r);
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
    });
  }

  /** Lists, replaces the cache and tells handlers the difference. */
  private async listAndReplace(): Promise<void> {
    const { items, resourceVersion } = await this.listWithTimeout();
    if (this.stopped) return;
    const next = new Map<string, T>();
    for (const item of items) {
      const key = objectKey(item);
      if (key !== undefined) next.set(key, item);
    }
    const old = this.store.replace(next); // handlers see the new state, as with watch events
    for (const [key, obj] of next) {
      const prev = old.get(key);
      if (prev === undefined) this.notify('add', obj);
      else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.notify('update', obj, prev);
    }
    for (const [key, prev] of old) if (!next.has(key)) this.notify('delete', prev);
    this.lastRV = resourceVersion;
    if (this.relistReason === 'resync') this.relistReason = undefined; // this list was the resync
    this.emit({ type: 'listed', count: next.size });
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w.resolve();
    }
    this.armResync();
  }

  private armResync(): void {
    this.resyncTimer?.cancel();
    this.resyncTimer = this.clock.setTimer(this.resyncMs, () => {
      if (this.stopped) return;
      this.relistReason ??= 'resync';
      this.activeWatch?.finish({ kind: 'resync' });
    });
  }

  /** One watch, resolving with how it ended. Late callbacks of a finished watch are ignored. */
  private watchOnce(rv: string): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let done = false;
      let handle: WatchHandle | undefined;
      let lastEventAt = this.clock.now();
      let dog: Timer | undefined;
      const finish = (o: WatchOutcome): void => {
        if (done) return;
        done = true;
        dog?.cancel();
        if (this.activeWatch === watch) this.activeWatch = undefined;
        if (handle) abortQuietly(handle);
        resolve(o);
      };
      const watch = { finish };
      this.activeWatch = watch;
      // One timer per quiet period rather than one per event: on expiry, re-arm for the rest.
      const armDog = (ms: number): void => {
        dog = this.clock.setTimer(ms, () => {
          const idle = this.clock.now() - lastEventAt;
          if (idle >= this.watchdogMs) finish({ kind: 'watchdog' });
          else armDog(this.watchdogMs - idle);
        });
      };
      armDog(this.watchdogMs);
      const onEvent = (type: WatchEventType, obj: unknown): void => {
        if (done) return;
        lastEventAt = this.clock.now();
        const o = this.apply(type, obj);
        if (o) finish(o);
      };
      const onDone = (err?: unknown): void => {
        if (done) return;
        if (err === undefined || err === null) finish({ kind: 'ended' });
        else if (isGone(err)) finish({ kind: 'gone' });
        else finish({ kind: 'error', error: watchErrorText(err) });
      };
      let p: Promise<WatchHandle>;
      try {
        p = this.lw.watch(rv, onEvent, onDone);
      } catch (err) {
        onDone(err ?? new Error('watch failed'));
        return;
      }
      p.then(
        (h) => {
          handle = h;
          if (done) abortQuietly(h);
          else this.emit({ type: 'watch-started' });
        },
        (err: unknown) => onDone(err ?? new Error('watch failed')),
      );
    });
  }

  /** Applies one watch event to the cache; returns an outcome when the watch must end. */
  private apply(type: WatchEventType, obj: unknown): WatchOutcome | undefined {
    if (type === 'ERROR') return isGone(obj) ? { kind: 'gone' } : { kind: 'error', error: watchErrorText(obj) };
    if (typeof obj !== 'object' || obj === null) return undefined;
    const o = obj as T;
    const rv = o.metadata?.resourceVersion;
    if (rv) this.lastRV = rv;
    if (type === 'BOOKMARK') return undefined;
    const key = objectKey(o);
    if (key === undefined) return undefined;
    const prev = this.store.get(key);
    if (type === 'ADDED' || type === 'MODIFIED') {
      this.store.set(key, o);
      if (prev === undefined) this.notify('add', o);
      else if (prev.metadata?.resourceVersion !== rv) this.notify('update', o, prev);
    } else if (type === 'DELETED') {
      this.store.delete(key);
      if (prev !== undefined) this.notify('delete', o);
    }
    return undefined;
  }

  private notify(kind: 'add' | 'update' | 'delete', obj: T, prev?: T): void {
    for (const h of [...this.handlers]) {
      if (kind === 'add') this.call(() => h.onAdd?.(obj));
      else if (kind === 'update') this.call(() => h.onUpdate?.(prev as T, obj));
      else this.call(() => h.onDelete?.(obj));
    }
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.reportHandlerError(err);
    }
  }

  private reportHandlerError(err: unknown): void {
    try {
      this.opts.onHandlerError?.(err);
    } catch {
      // a broken error reporter must not break the informer either
    }
  }

  private emit(e: InformerEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // monitoring must never break the informer
    }
  }
}

function abortQuietly(h: WatchHandle): void {
  try {
    h.abort();
  } catch {
    // already closed
  }
}
