// Pure status computation: what the SecretSync status should be after a successful read
// or a failure, and whether that differs from what is stored (no write when it does not).
// Status carries only what stays true between writes: no "last checked" or "next check"
// times, which would go stale unless rewritten on every refresh.
import { ConditionType, setCondition } from '../api/conditions.js';
import { describeSourceRef, sourceRefOf } from '../api/source-ref.js';
import type { SecretSync, SecretSyncStatus } from '../api/types.js';
import { Reason } from '../errors.js';
import type { Described } from './describe-error.js';
import { sameJson } from './same-json.js';
import { describeRefresh } from './schedule.js';
import { lastForceSyncTime } from './throttle.js';

export interface SyncOutcome {
  version: number;
  hmac: string;
  sourceVersions: Record<string, string>;
  keyCount: number;
  now: Date;
  /** The target Secret was written in this reconcile. */
  secretWritten: boolean;
  forceSyncHandled: string | undefined;
  /** Envelope mode: the KEK version wrapping the current data key. */
  keyId?: string;
}

export function successStatus(ss: SecretSync, o: SyncOutcome): SecretSyncStatus {
  const old = ss.status ?? {};
  const gen = ss.metadata.generation;
  const keys = `${o.keyCount} key${o.keyCount === 1 ? '' : 's'}`;
  const message = `synced ${keys} from ${describeSourceRef(sourceRefOf(ss))} (version ${o.version}); the source is checked ${describeRefresh(ss.spec.refresh)}`;
  let conditions = setCondition(old.conditions, { type: ConditionType.Ready, status: 'True', reason: Reason.Synced, message, observedGeneration: gen }, o.now);
  conditions = setCondition(conditions, { type: ConditionType.Synced, status: 'True', reason: Reason.Synced, message, observedGeneration: gen }, o.now);
  return withoutUndefined({
    conditions,
    observedGeneration: gen,
    version: o.version,
    contentHmac: o.hmac,
    sourceVersions: o.sourceVersions,
    lastSyncTime: o.secretWritten || !old.lastSyncTime ? o.now.toISOString() : old.lastSyncTime,
    forceSyncHandled: o.forceSyncHandled,
    lastForceSyncTime: lastForceSyncTime(old, o.forceSyncHandled, o.now),
    keyId: o.keyId,
    ...carried(old),
  });
}

export function failureStatus(ss: SecretSync, d: Described, now: Date, forceSyncHandled: string | undefined): SecretSyncStatus {
  const old = ss.status ?? {};
  const gen = ss.metadata.generation;
  let conditions = setCondition(old.conditions, { type: ConditionType.Ready, status: 'False', reason: d.reason, message: d.message, observedGeneration: gen }, now);
  conditions = setCondition(conditions, { type: ConditionType.Synced, status: 'False', reason: d.reason, message: d.message, observedGeneration: gen }, now);
  return withoutUndefined({
    conditions,
    observedGeneration: gen,
    version: old.version,
    contentHmac: old.contentHmac,
    sourceVersions: old.sourceVersions,
    lastSyncTime: old.lastSyncTime,
    forceSyncHandled,
    lastForceSyncTime: lastForceSyncTime(old, forceSyncHandled, now),
    keyId: old.keyId,
    ...carried(old),
  });
}

/** Fields a sync outcome does not decide: rotation and rollout keep theirs (plan.ts updates them). */
function carried(old: SecretSyncStatus): SecretSyncStatus {
  const { lastRotationTime, nextRotationTime, pendingRotation, rotateNowHandled, rollout } = old;
  return { lastRotationTime, nextRotationTime, pendingRotation, rotateNowHandled, rollout };
}

/** Equal for the purpose of writing: the same fields with the same values (key order aside). */
export function sameStatus(a: object | undefined, b: object): boolean {
  return sameJson(a ?? {}, b);
}

/** A copy without the keys whose value is undefined (status is compared as JSON). */
export function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
