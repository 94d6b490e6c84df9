// The one exponential backoff of the project: initial * 2^attempt, capped, minus a random
// part of up to `jitter` of it so that many waiters (replicas, keys, calls) spread out.
// Used by the work queue's per-key limiter, the informer's restarts and the AWS call gate.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Fraction of each delay that is random, in [0, 1]; 0 (the default) for none. */
  jitter?: number;
}

/** The delay before retry number `attempt + 1` (attempt counts from 0). */
export function backoffMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(0, attempt), 64));
  const jitter = policy.jitter ?? 0;
  return Math.max(0, Math.round(step - step * jitter * (jitter > 0 ? random() : 0)));
}
