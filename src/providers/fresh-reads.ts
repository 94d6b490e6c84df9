// Fresh-enough reads: one remote read shared by every caller that accepts a value read at
// or after some moment (`notBefore`). Many SecretSyncs that read the same remote secret at
// the same refresh tick then cost one read instead of one each, while a caller that must
// see a change made at time T (a spec edit, a force-sync, a rotation) asks for notBefore = T
// and gets a read that started after it. A read is shared in flight and after it settled;
// a failed read is dropped at once, so only the callers already sharing it see the error.
// Entries expire `ttlMs` after their read started (swept lazily, no timers) and the oldest
// go past `maxEntries`: the cache bounds memory, it is not a store of values to serve later.
import type { Clock } from '../runtime/clock.js';

export interface FreshReadsOptions {
  clock: Pick<Clock, 'now'>;
  /** How long after it started a read may still be shared (default 5 minutes). */
  ttlMs?: number;
  /** At most this many entries; past it the oldest are dropped (default 10,000). */
  maxEntries?: number;
}

interface Entry<T> {
  /** When the read started (epoch ms, the clock's). */
  startedAt: number;
  promise: Promise<T>;
}

const DEFAULT_TTL_MS = 5 * 60_000;
const DEFAULT_MAX_ENTRIES = 10_000;

export class FreshReads<T> {
  /** In start order (a new read of a key re-inserts it), so the first entries are the oldest. */
  private readonly entries = new Map<string, Entry<T>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private nextSweep = 0;

  constructor(private readonly o: FreshReadsOptions) {
    this.ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
    this.maxEntries = Math.max(1, o.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  /**
   * The value of `key` from a read that started at or after `notBefore` (epoch ms): a
   * shared one, in flight or settled, or else a new one started with `load()`.
   */
  get(key: string, notBefore: number, load: () => Promise<T>): Promise<T> {
    const now = this.o.clock.now();
    this.sweep(now);
    const held = this.entries.get(key);
    if (held && held.startedAt >= notBefore && !this.expired(held, now)) return held.promise;
    let promise: Promise<T>;
    try {
      promise = load();
    } catch (err) {
      return Promise.reject(err);
    }
    const entry: Entry<T> = { startedAt: now, promise };
    this.entries.delete(key);
    this.entries.set(key, entry);
    promise.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
    return promise;
  }

  /** Later callers of `key` start a read of their own (the remote value was just written). */
  invalidate(key: string): void {
    this.entries.delete(key);
  }

  /** invalidate() for every key `match` accepts. */
  invalidateWhere(match: (key: string) => boolean): void {
    for (const key of [...this.entries.keys()]) if (match(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Entries held, expired ones not yet swept included (for tests). */
  size(): number {
    return this.entries.size;
  }

  private expired(e: Entry<T>, now: number): boolean {
    return now - e.startedAt >= this.ttlMs;
  }

  /** Drops expired entries, at most a few times per ttl. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + Math.max(1, Math.floor(this.ttlMs / 5));
    for (const [key, e] of this.entries) if (this.expired(e, now)) this.entries.delete(key);
  }
}
