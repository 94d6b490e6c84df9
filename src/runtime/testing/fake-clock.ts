// FakeClock: a Clock whose time only moves when a test says so.
// Tests of the work queue, controller, informers and leader election use it
// to make time-dependent behaviour deterministic: advance() fires due timers
// in order and lets promise callbacks settle between them, so code that
// awaits a sleep and then schedules more work sees the time it expects.

import { sleepWith } from '../clock.js';
import type { Clock, Timer } from '../clock.js';

interface PendingTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/** Lets every queued promise callback (and the callbacks they queue) run. */
export async function flushPromises(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2024, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const delay = Number.isNaN(ms) ? 0 : Math.max(0, ms);
    const timer: PendingTimer = { due: this.current + delay, seq: this.seq++, fn };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith((d, fn) => this.setTimer(d, fn), ms, signal);
  }

  /** Number of timers (including sleeps) not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** When the earliest pending timer is due, or undefined if none. */
  nextTimerDue(): number | undefined {
    return this.earliest()?.due;
  }

  /**
   * Moves time forward by `ms`, firing every timer due up to the new time in
   * due order (ties in creation order). Before the first timer, between
   * timers and at the end, pending promise callbacks are allowed to run, so
   * timers created by those callbacks fire too if they fall within range.
   */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError('FakeClock.advance: ms must be >= 0');
    await this.runUntil(this.current + ms);
  }

  /**
   * Sets the absolute time. Moving forward behaves like advance(); moving
   * backward only changes now() (timers keep their absolute due time).
   */
  async set(ms: number): Promise<void> {
    if (ms <= this.current) {
      this.current = ms;
      await flushPromises();
      return;
    }
    await this.runUntil(ms);
  }

  /** Lets pending promise callbacks run without moving time. */
  async flush(): Promise<void> {
    await flushPromises();
  }

  private async runUntil(target: number): Promise<void> {
    await flushPromises();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.due > target) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.due);
      next.fn();
      await flushPromises();
    }
    this.current = target;
    await flushPromises();
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
