// Controller: runs a reconcile function over the keys of a WorkQueue with a
// fixed number of workers, following controller-runtime's contract. A
// reconcile returns { requeueAfterMs } or throws; retryable errors are
// retried with the queue's backoff, terminal errors (retryable === false)
// are left to the reconciler to record and are not retried (only requeued
// after the error's own `requeueAfterMs`, when it carries one). The queue
// guarantees one key is never reconciled by two workers at once.

import { realClock } from './clock.js';
import type { Clock } from './clock.js';
import type { WorkQueue } from './workqueue.js';

export interface ReconcileResult {
  /** Reconcile the key again after this many ms (when > 0). */
  requeueAfterMs?: number;
}

export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal-error';

export interface ReconcileReport {
  key: string;
  durationMs: number;
  result: ReconcileOutcome;
  error?: unknown;
}

export interface ControllerOptions {
  name: string;
  queue: WorkQueue;
  /** Must honour `signal`: it aborts when stop() runs out of patience. */
  reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileResult>;
  workers: number;
  clock?: Clock;
  /** Default: retry unless the error carries `retryable: false`. */
  isRetryable?: (err: unknown) => boolean;
  /** Called after every reconcile, e.g. for metrics and logs. */
  onResult?: (report: ReconcileReport) => void;
  /** How long stop() lets in-flight reconciles finish before aborting them. Default 30 s. */
  stopGraceMs?: number;
}

/** Retryable unless the error says otherwise (typed errors carry `retryable`). */
export function defaultIsRetryable(err: unknown): boolean {
  return !(typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false);
}

export class Controller {
  readonly name: string;
  private readonly opts: ControllerOptions;
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];
  private running = 0;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(opts: ControllerOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) {
      throw new RangeError(`controller ${opts.name}: workers must be a positive integer`);
    }
    this.opts = opts;
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
  }

  /** Starts the workers. Throws if already started. */
  start(): void {
    if (this.started) throw new Error(`controller ${this.name} already started`);
    this.started = true;
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.work());
  }

  /**
   * Stops taking keys (shuts the queue down), waits up to stopGraceMs for
   * in-flight reconciles, then aborts their signal and resolves once every
   * worker has exited. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Number of reconciles running now. */
  inFlight(): number {
    return this.running;
  }

  private async doStop(): Promise<void> {
    this.opts.queue.shutDown();
    const exited = Promise.all(this.workers).then(() => undefined);
    let timedOut = false;
    const grace = this.clock.setTimer(this.opts.stopGraceMs ?? 30_000, () => {
      timedOut = true;
      this.abort.abort(new Error(`controller ${this.name} stopping`));
    });
    await exited;
    if (!timedOut) grace.cancel();
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.opts.queue.get();
      if (key === undefined) return;
      await this.processOne(key);
    }
  }

  private async processOne(key: string): Promise<void> {
    const { queue } = this.opts;
    const start = this.clock.now();
    let result: ReconcileOutcome;
    let error: unknown;
    let failed = false;
    this.running++;
    try {
      const res = await this.opts.reconcile(key, this.abort.signal);
      queue.forget(key);
      const after = res?.requeueAfterMs ?? 0;
      if (after > 0) {
        queue.addAfter(key, after);
        result = 'requeue';
      } else {
        result = 'success';
      }
    } catch (err) {
      error = err;
      failed = true;
      if (this.retryable(err)) {
        queue.addRateLimited(key);
        result = 'error';
      } else {
        queue.forget(key);
        // A terminal error may still ask to be looked at again later (not with backoff):
        // e.g. an invalid spec re-checked at the next refresh, in case a fix lands elsewhere.
        const after = (err as { requeueAfterMs?: unknown } | null)?.requeueAfterMs;
        if (typeof after === 'number' && after > 0) queue.addAfter(key, after);
        result = 'terminal-error';
      }
    } finally {
      this.running--;
      queue.done(key);
    }
    this.report({ key, durationMs: this.clock.now() - start, result, ...(failed ? { error } : {}) });
  }

  private retryable(err: unknown): boolean {
    try {
      return (this.opts.isRetryable ?? defaultIsRetryable)(err);
    } catch {
      return true;
    }
  }

  private report(r: ReconcileReport): void {
    try {
      this.opts.onResult?.(r);
    } catch {
      // A failing observer must not stop the worker.
    }
  }
}
