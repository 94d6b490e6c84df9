// The force-sync and rotate-now annotations, rate-limited per SecretSync. Each new value
// asks for provider I/O now (a read that shares nothing; a rotation writes a version at
// the source, which can push another team's history out of Vault's 10 kept versions), so
// a script flipping the value must not turn into a stream of calls. At most one request
// per window is acted on; one that comes sooner waits, is shown (Synced / Rotated reason
// Throttled, and an event), and runs by itself when the window has passed (requeue-after).
// The windows count from times kept in status, so a restart or a new leader does not
// reset them. Pure functions of the status and `now`.
import { ConditionType, findCondition, setCondition } from '../api/conditions.js';
import type { SecretSync, SecretSyncStatus } from '../api/types.js';
import { Reason } from '../errors.js';
import { MIN_ROTATION_PERIOD_MS } from './rotation/validate.js';

/** At most one force-sync per SecretSync per 10 s: an admin's "sync now" is never far off. */
export const FORCE_SYNC_WINDOW_MS = 10_000;
/** At most one rotate-now per SecretSync per minute, the rotation schedule's own minimum. */
export const ROTATE_NOW_WINDOW_MS = MIN_ROTATION_PERIOD_MS;

export type Throttled = {
  annotation: 'force-sync' | 'rotate-now';
  /** When the last request (or rotation) was acted on. */
  last: Date;
  /** When the waiting request will be acted on. */
  until: Date;
};

function parse(t: string | undefined): number | undefined {
  const ms = t === undefined ? NaN : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

function within(annotation: Throttled['annotation'], last: number | undefined, windowMs: number, now: Date): Throttled | undefined {
  if (last === undefined || last > now.getTime()) return undefined; // a clock that went back does not block for ever
  const until = last + windowMs;
  return until > now.getTime() ? { annotation, last: new Date(last), until: new Date(until) } : undefined;
}

/** A new force-sync value that must wait: the last one was acted on less than the window ago. */
export function forceSyncThrottle(st: SecretSyncStatus | undefined, now: Date): Throttled | undefined {
  return within('force-sync', parse(st?.lastForceSyncTime), FORCE_SYNC_WINDOW_MS, now);
}

/** A new rotate-now value that must wait: a rotation (scheduled or asked for) started less than the window ago. */
export function rotateNowThrottle(st: SecretSyncStatus | undefined, now: Date): Throttled | undefined {
  const times = [parse(st?.lastRotationTime), parse(st?.pendingRotation?.startedAt)].filter((t): t is number => t !== undefined);
  return within('rotate-now', times.length ? Math.max(...times) : undefined, ROTATE_NOW_WINDOW_MS, now);
}

/** status.lastForceSyncTime after a reconcile that records `handled` as status.forceSyncHandled. */
export function lastForceSyncTime(old: SecretSyncStatus, handled: string | undefined, now: Date): string | undefined {
  return handled !== undefined && handled !== old.forceSyncHandled ? now.toISOString() : old.lastForceSyncTime;
}

const CONDITION: Record<Throttled['annotation'], string> = { 'force-sync': ConditionType.Synced, 'rotate-now': ConditionType.Rotated };

export function throttleMessage(t: Throttled): string {
  const when = `it runs by itself at ${t.until.toISOString()}`;
  return t.annotation === 'force-sync'
    ? `secretsync.io/force-sync changed again within 10s of the last one acted on (${t.last.toISOString()}): ${when}. At most one force-sync per SecretSync every 10s`
    : `secretsync.io/rotate-now waits: a rotation started at ${t.last.toISOString()}, and each writes a new version at the source; ${when}. At most one rotation per SecretSync a minute`;
}

/**
 * The conditions showing the waiting requests: Synced (force-sync) or Rotated (rotate-now)
 * keeps its status and gets reason Throttled. A Throttled condition whose request is no
 * longer waiting (acted on, or the annotation removed) goes back to what it stood for.
 */
export function withThrottles(ss: SecretSync, status: SecretSyncStatus, throttled: readonly Throttled[], now: Date): SecretSyncStatus {
  const before = status.conditions ?? [];
  let conditions = before;
  const gen = ss.metadata.generation;
  for (const t of throttled) {
    const old = findCondition(conditions, CONDITION[t.annotation]);
    const state = old?.status ?? 'Unknown';
    conditions = setCondition(conditions, { type: CONDITION[t.annotation], status: state, reason: Reason.Throttled, message: throttleMessage(t), observedGeneration: gen }, now);
  }
  const waiting = new Set(throttled.map((t) => CONDITION[t.annotation]));
  const synced = findCondition(conditions, ConditionType.Synced);
  const ready = findCondition(conditions, ConditionType.Ready);
  if (!waiting.has(ConditionType.Synced) && synced?.reason === Reason.Throttled && ready) {
    conditions = setCondition(conditions, { ...ready, type: ConditionType.Synced }, now);
  }
  const rotated = findCondition(conditions, ConditionType.Rotated);
  if (!waiting.has(ConditionType.Rotated) && rotated?.reason === Reason.Throttled) {
    const message = status.lastRotationTime
      ? `last rotated at ${status.lastRotationTime}; the next scheduled rotation is at the time in status.nextRotationTime`
      : 'not rotated yet: the next scheduled rotation is at the time in status.nextRotationTime';
    conditions = setCondition(conditions, { type: ConditionType.Rotated, status: rotated.status, reason: status.lastRotationTime ? 'Rotated' : 'Scheduled', message, observedGeneration: gen }, now);
  }
  return conditions === before ? status : { ...status, conditions };
}
