// `agent watch` after the first delivery: follow each target Secret and re-deliver in
// place when what the files come from changes. Level-triggered like the operator: watch
// events and the --interval timer only wake a per-sync worker, which re-reads the Secret
// and compares fingerprints, so a missed event costs at most one interval and an unchanged
// Secret costs one GET (no Vault or KMS call, no write). The watch is the runtime's
// Informer (restart with backoff, relist on 410 and when silent, watchdog) on a GET plus a
// field-selected watch (the operator grants get and watch on the one Secret); when the
// service account may only `get` it, the interval alone follows it.
// A failed delivery is logged and retried with backoff; the files already there stay.
import type { Logger } from '../observability/logger.js';
import { backoffMs } from '../runtime/backoff.js';
import { realClock, type Clock } from '../runtime/clock.js';
import { Informer } from '../runtime/informer.js';
import type { ListWatch } from '../runtime/informer-types.js';
import type { KubeSecret } from '../secretsync/ports.js';
import type { Deliverer } from './deliver.js';
import { AgentError } from './errors.js';
import type { SyncTarget } from './flags.js';

export interface WatchSource {
  /** The Secret as a ListWatch: a GET, then a watch narrowed to it. */
  listWatch(sync: SyncTarget): ListWatch<KubeSecret>;
  /** Whether the identity may watch it (else: the interval alone). */
  mayWatch(sync: SyncTarget): Promise<boolean>;
}

export interface FollowOptions {
  syncs: SyncTarget[];
  deliverer: Pick<Deliverer, 'prepare' | 'commit'>;
  /** How to watch each sync's Secret; none: the interval only. */
  watch?: WatchSource;
  intervalMs: number;
  /** What is delivered already (sync name → fingerprint), from the first delivery. */
  delivered: Map<string, string>;
  signal: AbortSignal;
  log: Logger;
  clock?: Clock;
  /** Retry backoff after a failed delivery; capped at the interval. Default 1 s initial. */
  retryInitialMs?: number;
}

class Follower {
  private wake: (() => void) | undefined;
  private pending = false;
  private attempt = 0;
  private lastFailure: string | undefined;

  constructor(
    private readonly sync: SyncTarget,
    private readonly o: FollowOptions,
    private readonly clock: Clock,
  ) {}

  trigger(): void {
    this.pending = true;
    this.wake?.();
  }

  async run(): Promise<void> {
    const { signal, intervalMs } = this.o;
    while (!signal.aborted) {
      this.pending = false;
      const ok = await this.once();
      if (signal.aborted) break;
      const delay = ok
        ? intervalMs
        : Math.min(intervalMs, backoffMs(this.attempt++, { initialMs: this.o.retryInitialMs ?? 1000, maxMs: intervalMs, jitter: 0.2 }));
      if (ok) this.attempt = 0;
      if (!this.pending) await this.sleep(delay);
    }
  }

  private async sleep(ms: number): Promise<void> {
    const ctl = new AbortController();
    this.wake = () => ctl.abort();
    try {
      await this.clock.sleep(ms, AbortSignal.any([this.o.signal, ctl.signal]));
    } catch {
      // woken by an event, or stopping
    } finally {
      this.wake = undefined;
    }
  }

  private async once(): Promise<boolean> {
    const name = this.sync.name;
    try {
      const p = await this.o.deliverer.prepare(this.sync, this.o.delivered.get(name));
      if (p) {
        await this.o.deliverer.commit(p);
        this.o.delivered.set(name, p.fingerprint);
      }
      if (this.lastFailure) this.o.log.info({ sync: name }, 'delivering works again');
      this.lastFailure = undefined;
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const fields = { sync: name, ...(err instanceof AgentError ? { code: err.code, retryable: err.retryable } : {}) };
      // Once per distinct failure at warn; repeats at debug, so a long outage is one line.
      if (message !== this.lastFailure) this.o.log.warn(fields, `delivery failed, keeping the files already there: ${message}`);
      else this.o.log.debug(fields, 'delivery still failing');
      this.lastFailure = message;
      return false;
    }
  }
}

/** Starts an informer on the sync's Secret unless the service account may not watch it. */
async function startInformer(sync: SyncTarget, w: WatchSource, f: Follower, o: FollowOptions): Promise<Informer<KubeSecret> | undefined> {
  if (!(await w.mayWatch(sync))) {
    o.log.info(
      { sync: sync.name, intervalMs: o.intervalMs },
      `no watch permission on Secret ${sync.secret}: following it by reading it every interval (grant watch on it to follow changes at once)`,
    );
    return undefined;
  }
  const lw = w.listWatch(sync);
  const inf = new Informer<KubeSecret>({
    listWatch: lw,
    clock: o.clock,
    onEvent: (e) =>
      e.type === 'watch-error' || e.type === 'list-error' || e.type === 'watchdog-fired'
        ? o.log.warn({ sync: sync.name, event: e.type, err: e.error }, 'watch of the Secret interrupted; restarting')
        : o.log.debug({ sync: sync.name, event: e.type }, 'watch'),
  });
  inf.addHandlers({ onAdd: () => f.trigger(), onUpdate: () => f.trigger(), onDelete: () => f.trigger() });
  inf.start();
  return inf;
}

/** Follows every sync until `signal` aborts. Never throws for a delivery failure. */
export async function follow(o: FollowOptions): Promise<void> {
  const clock = o.clock ?? realClock;
  const followers = o.syncs.map((s) => new Follower(s, o, clock));
  const informers: Informer<KubeSecret>[] = [];
  try {
    if (o.watch) {
      for (const [i, s] of o.syncs.entries()) {
        const inf = await startInformer(s, o.watch, followers[i] as Follower, o);
        if (inf) informers.push(inf);
        if (o.signal.aborted) return;
      }
    }
    await Promise.all(followers.map((f) => f.run()));
  } finally {
    await Promise.all(informers.map((i) => i.stop()));
  }
}
