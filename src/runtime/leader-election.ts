// LeaderElector: Lease-based leader election with client-go's semantics, over a
// LeaseStore port (src/kube/lease-store.ts on the real API server). A candidate takes
// the lease when it is free, released, ours, or expired as observed by OUR clock: the
// record has not changed for its leaseDuration since we first saw it (client-go's
// observedTime), so clock skew between replicas does not matter. A leader renews every
// retryPeriod; when no renewal has succeeded for renewDeadline it stops leading at once
// (signal aborted, onStoppedLeading called, isLeader() false), before any other replica
// can take over (renewDeadline < leaseDuration, measured from when the renewal was sent).

import { realClock } from './clock.js';
import type { Clock, Timer } from './clock.js';

/** The leader fields of a coordination.k8s.io/v1 Lease; times are RFC3339 with microseconds. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  resourceVersion?: string;
}

/** One Lease. update() is a compare-and-swap on resourceVersion. */
export interface LeaseStore {
  /** undefined when the Lease does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  /** Throws an error with code 409 when it already exists. */
  create(r: LeaseRecord): Promise<LeaseRecord>;
  /** Throws an error with code 409 when `r.resourceVersion` is no longer current. */
  update(r: LeaseRecord): Promise<LeaseRecord>;
}

/** What LeaseStore implementations throw on a write conflict. */
export class LeaseConflictError extends Error {
  readonly code = 409;
  constructor(message = 'the Lease was changed by another writer') {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

export interface LeaderElectorOptions {
  identity: string;
  store: LeaseStore;
  clock?: Clock;
  /** How long others wait after the last change they saw before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long stops leading. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between acquire/renew attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** Called when this replica starts leading; `signal` aborts when it stops. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called at once when this replica stops leading (lost, or stop()). */
  onStoppedLeading(): void;
  /** Called when the observed holder changes (this replica included). */
  onNewLeader?(identity: string): void;
  /** Store failures and throwing callbacks, for logs. */
  onError?(err: unknown): void;
  /** Jitter source for the acquire period, [0, 1). Default Math.random. */
  random?: () => number;
}

/** A MicroTime string: `2026-01-01T00:00:00.000000Z`. */
export function toMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

const ACQUIRE_JITTER = 0.2;

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.resourceVersion === b.resourceVersion &&
    a.holderIdentity === b.holderIdentity &&
    a.renewTime === b.renewTime &&
    a.acquireTime === b.acquireTime &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions
  );
}

export class LeaderElector {
  readonly identity: string;
  private readonly store: LeaseStore;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly random: () => number;
  private readonly opts: LeaderElectorOptions;

  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  private reportedLeader: string | undefined;
  private leading = false;
  /** When the last successful renewal was *sent* (the conservative end). */
  private lastRenew = 0;
  private term: AbortController | undefined;
  private deadlineTimer: Timer | undefined;
  private stopped = false;
  private readonly stopCtl = new AbortController();
  private inflight: Promise<unknown> = Promise.resolve();
  private running: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.identity = opts.identity;
    this.store = opts.store;
    this.clock = opts.clock ?? realClock;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.random = opts.random ?? Math.random;
    if (!opts.identity) throw new RangeError('leader election: identity must not be empty');
    if (!(this.retryPeriodMs > 0 && this.retryPeriodMs < this.renewDeadlineMs && this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new RangeError('leader election: need 0 < retryPeriodMs < renewDeadlineMs < leaseDurationMs');
    }
    if (this.leaseDurationMs < 1000) throw new RangeError('leader election: leaseDurationMs must be >= 1000');
  }

  /** True while leading and the last renewal is younger than renewDeadline. Check before every write. */
  isLeader(): boolean {
    return this.leading && this.clock.now() - this.lastRenew < this.renewDeadlineMs;
  }

  /** The holder last observed in the Lease, if any. */
  getLeader(): string | undefined {
    return this.observed?.holderIdentity || undefined;
  }

  /** Campaigns, leads, and campaigns again after a loss, until stop(). Throws if already running. */
  run(): Promise<void> {
    if (this.running) throw new Error('leader elector already running');
    this.running = this.loop();
    return this.running;
  }

  /**
   * Stops campaigning; a leader stops leading at once. With `release`, a Lease we hold is
   * handed back (holder cleared, duration 1 s) so another replica takes over quickly.
   * Idempotent; resolves when the release is done (or failed, reported via onError).
   */
  stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.release ?? false);
    return this.stopping;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const at = await this.acquire();
      if (at === undefined) return;
      this.becomeLeader(at);
      await this.renewLoop();
    }
  }

  /** Resolves with when the winning attempt started, or undefined once stopped. */
  private async acquire(): Promise<number | undefined> {
    while (!this.stopped) {
      const { at } = await this.attempt();
      if (this.stopped) return undefined;
      // An answer slower than the deadline is too old to lead on: try again at once.
      if (at !== undefined && this.clock.now() - at < this.renewDeadlineMs) return at;
      if (at === undefined) {
        const wait = this.retryPeriodMs * (1 + ACQUIRE_JITTER * this.random());
        if (!(await this.sleep(wait, this.stopCtl.signal))) return undefined;
      }
    }
    return undefined;
  }

  /**
   * tryAcquireOrRenew, bounded by renewDeadline (a hung request must not freeze the
   * elector; a late answer is ignored and a late write only makes a later CAS conflict),
   * with failures reported. `at`: when the winning attempt started.
   */
  private async attempt(): Promise<{ at?: number; failed?: true }> {
    const p = this.tryAcquireOrRenew();
    this.inflight = p.catch(() => undefined);
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimer(this.renewDeadlineMs, () => {
        reject(new Error(`the lease store did not answer within ${this.renewDeadlineMs} ms`));
      });
    });
    try {
      return { at: await Promise.race([p, timeout]) };
    } catch (err) {
      this.report(err);
      return { failed: true };
    } finally {
      timer?.cancel();
    }
  }

  /**
   * client-go's tryAcquireOrRenew: resolves with the time the attempt started when the
   * Lease is now ours, undefined when another holder's lease is still valid; throws on
   * store errors (conflicts included).
   */
  private async tryAcquireOrRenew(): Promise<number | undefined> {
    const startedAt = this.clock.now();
    const current = await this.store.get();
    if (this.stopped) return undefined;
    if (current === undefined) {
      this.observe(await this.store.create(this.desired(undefined, startedAt)));
      return startedAt;
    }
    this.observe(current);
    const holder = current.holderIdentity;
    if (holder && holder !== this.identity && this.observedStillValid()) return undefined;
    if (this.stopped) return undefined;
    const next = { ...this.desired(current, startedAt), resourceVersion: current.resourceVersion };
    this.observe(await this.store.update(next));
    return startedAt;
  }

  private desired(old: LeaseRecord | undefined, at: number): LeaseRecord {
    const ours = old?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: ours && old?.acquireTime ? old.acquireTime : toMicroTime(at),
      renewTime: toMicroTime(at),
      leaseTransitions: old === undefined ? 0 : ours ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
    };
  }

  /** Records when we first saw this version of the record (our clock, not theirs). */
  private observe(rec: LeaseRecord): void {
    if (this.observed === undefined || !sameRecord(this.observed, rec)) {
      this.observed = rec;
      this.observedAt = this.clock.now();
    }
    const holder = rec.holderIdentity || undefined;
    if (holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      if (holder !== undefined) this.callback(() => this.opts.onNewLeader?.(holder));
    }
  }

  private observedStillValid(): boolean {
    const seconds = this.observed?.leaseDurationSeconds;
    const durationMs = seconds !== undefined && seconds > 0 ? seconds * 1000 : this.leaseDurationMs;
    return this.observedAt + durationMs > this.clock.now();
  }

  private becomeLeader(at: number): void {
    this.leading = true;
    this.lastRenew = at;
    const term = new AbortController();
    this.term = term;
    this.armDeadline();
    this.callback(() => this.opts.onStartedLeading(term.signal));
  }

  private async renewLoop(): Promise<void> {
    const term = this.term;
    if (!term) return;
    while (this.leading && !this.stopped) {
      if (!(await this.sleep(this.retryPeriodMs, term.signal))) return;
      if (!this.leading || this.stopped) return;
      const { at, failed } = await this.attempt();
      // Failures are retried every retryPeriod; the deadline timer decides when we have lost.
      if (failed) continue;
      // A renewal that lands after we stopped leading does not bring the term back.
      if (!this.leading || this.stopped || term.signal.aborted) return;
      if (at === undefined) {
        this.lose(); // another holder owns a valid lease
        return;
      }
      if (at > this.lastRenew) {
        this.lastRenew = at;
        this.armDeadline();
      }
    }
  }

  /** Fires exactly when renewDeadline has passed since the last successful renewal. */
  private armDeadline(): void {
    this.deadlineTimer?.cancel();
    const ms = this.lastRenew + this.renewDeadlineMs - this.clock.now();
    this.deadlineTimer = this.clock.setTimer(Math.max(0, ms), () => {
      if (!this.leading) return;
      if (this.clock.now() - this.lastRenew >= this.renewDeadlineMs) this.lose();
      else this.armDeadline();
    });
  }

  private lose(): void {
    if (!this.leading) return;
    this.leading = false;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = undefined;
    this.term?.abort(new Error('leadership lost'));
    this.callback(() => this.opts.onStoppedLeading());
  }

  private async doStop(release: boolean): Promise<void> {
    this.stopped = true;
    this.stopCtl.abort();
    this.lose();
    // Let an in-flight get/update settle (bounded) so the release does not race it.
    await this.within(this.inflight, this.renewDeadlineMs);
    if (release) {
      try {
        await this.release();
      } catch (err) {
        this.report(err);
      }
    }
  }

  /** Hands back a Lease we hold; retries a conflict caused by our own late renewal. */
  private async release(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const current = await this.store.get();
      if (current === undefined || current.holderIdentity !== this.identity) return;
      const now = toMicroTime(this.clock.now());
      try {
        this.observe(
          await this.store.update({
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: current.leaseTransitions ?? 0,
            resourceVersion: current.resourceVersion,
          }),
        );
        return;
      } catch (err) {
        if ((err as { code?: unknown } | undefined)?.code !== 409) throw err;
      }
    }
  }

  /** Sleeps; false when the signal aborted first. */
  private async sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.clock.sleep(ms, signal);
      return true;
    } catch {
      return false;
    }
  }

  private within(p: Promise<unknown>, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimer(ms, resolve);
      void p.finally(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  private callback(fn: () => void | Promise<void>): void {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err: unknown) => this.report(err));
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err);
    } catch {
      // a broken reporter must not break the election
    }
  }
}
