// What the per-SecretSync metrics show after a reconcile (observability/secretsync-series.ts
// exports it): a pure function of the status the reconcile left, whether it read the source
// and left the Secret current, what this process showed before, and now.
import { ConditionType, findCondition } from '../api/conditions.js';
import type { SecretSyncStatus } from '../api/types.js';
import type { SyncSeries } from '../observability/secretsync-series.js';

/** The conditions users alert on. Synced moves with Ready; InUse exists only while a deletion waits. */
export const SERIES_CONDITIONS: readonly string[] = [ConditionType.Ready, ConditionType.Rotated, ConditionType.RolloutComplete];

/**
 * The series of one SecretSync. The last sync moves to `now` when this reconcile read the
 * source and left the SecretSync Ready (`synced`). A SecretSync this process shows for the
 * first time (a start, a leader change) starts from `now` when status says Ready — the
 * previous leader found it current, and the refresh schedule counts from here too — else
 * from status.lastSyncTime (the last content written), if any.
 */
export function syncSeries(prev: SyncSeries | undefined, status: SecretSyncStatus | undefined, synced: boolean, now: Date): SyncSeries {
  const conditions = SERIES_CONDITIONS.flatMap((type) => {
    const c = findCondition(status?.conditions, type);
    return c ? [{ type, status: c.status, reason: c.reason ?? '' }] : [];
  });
  const ready = findCondition(status?.conditions, ConditionType.Ready)?.status === 'True';
  const nowSeconds = now.getTime() / 1000;
  const lastSyncSeconds = ready && synced ? nowSeconds : (prev?.lastSyncSeconds ?? (ready ? nowSeconds : seconds(status?.lastSyncTime)));
  return lastSyncSeconds === undefined ? { conditions } : { conditions, lastSyncSeconds };
}

function seconds(iso: string | undefined): number | undefined {
  const ms = Date.parse(iso ?? '');
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
