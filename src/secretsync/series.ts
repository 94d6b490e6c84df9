// What the per-SecretSync metrics show after a reconcile (observability/secretsync-series.ts
// exports it): a pure function of what this process showed before, the status the reconcile
// wrote (if any) or found in the cache, whether it read the source and left the Secret
// current, and now.
import { ConditionType, findCondition } from '../api/conditions.js';
import type { SecretSyncStatus } from '../api/types.js';
import type { SyncSeries } from '../observability/secretsync-series.js';

/** The conditions users alert on. Synced moves with Ready; InUse exists only while a deletion waits. */
export const SERIES_CONDITIONS: readonly string[] = [ConditionType.Ready, ConditionType.Rotated, ConditionType.RolloutComplete];

/**
 * The series of SecretSync `uid`. Its conditions: the status this reconcile wrote; else, as
 * only the leader writes status, the ones this process showed already (the cache may be
 * behind its own last write); else (first seen: a start, a leader change, or a new object
 * of the same name) the cached status. The last sync moves to `now` when this reconcile
 * read the source and left the SecretSync Ready (`synced`). A SecretSync first seen starts
 * from `now` when Ready — the previous leader found it current, and the refresh schedule
 * counts from here too — else from status.lastSyncTime (the last content written), if any.
 */
export function syncSeries(
  prev: SyncSeries | undefined,
  uid: string,
  status: { written?: SecretSyncStatus; cached: SecretSyncStatus | undefined },
  synced: boolean,
  now: Date,
): SyncSeries {
  const known = prev?.uid === uid ? prev : undefined;
  const conditions = status.written || !known ? conditionsOf(status.written ?? status.cached) : known.conditions;
  const ready = conditions.some((c) => c.type === ConditionType.Ready && c.status === 'True');
  const nowSeconds = now.getTime() / 1000;
  const lastSyncSeconds =
    ready && synced ? nowSeconds : (known?.lastSyncSeconds ?? (known ? undefined : ready ? nowSeconds : seconds((status.written ?? status.cached)?.lastSyncTime)));
  return lastSyncSeconds === undefined ? { uid, conditions } : { uid, conditions, lastSyncSeconds };
}

function conditionsOf(status: SecretSyncStatus | undefined): SyncSeries['conditions'] {
  return SERIES_CONDITIONS.flatMap((type) => {
    const c = findCondition(status?.conditions, type);
    return c ? [{ type, status: c.status, reason: c.reason ?? '' }] : [];
  });
}

function seconds(iso: string | undefined): number | undefined {
  const ms = Date.parse(iso ?? '');
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
