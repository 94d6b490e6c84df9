// Clock: the port through which the runtime reads time and waits.
// Every component that sleeps, schedules or timestamps takes a Clock so that
// unit tests can drive time with FakeClock (src/runtime/testing/fake-clock.ts)
// instead of sleeping for real.

/** A scheduled callback; cancel() is idempotent and safe after it fired. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds. If `signal` aborts first, rejects with
   * the signal's reason (an AbortError by default) and cancels the timer.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once after `ms` milliseconds unless cancelled. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** The reason used when a sleep is aborted by a signal without its own reason. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * Builds Clock.sleep from a clock's setTimer, so real and fake clocks share
 * exactly the same abort semantics.
 */
export function sleepWith(
  setTimer: (ms: number, fn: () => void) => Timer,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// setTimeout fires at once for delays above 2^31-1 ms (~24.8 days), so
// longer timers are chained in steps of at most this much.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The wall clock, backed by Date.now and setTimeout. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms: number, fn: () => void): Timer {
    const due = Date.now() + (Number.isNaN(ms) ? 0 : Math.max(0, ms));
    let handle: ReturnType<typeof setTimeout>;
    const arm = (): void => {
      const left = due - Date.now();
      handle = left > MAX_TIMEOUT_MS ? setTimeout(arm, MAX_TIMEOUT_MS) : setTimeout(fn, Math.max(0, left));
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  },
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(realClock.setTimer, ms, signal);
  },
};
