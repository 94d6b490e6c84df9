// syncSeries: what the per-SecretSync metrics show after a reconcile, from what this process
// showed before, the status the reconcile wrote or found cached, whether it synced, and now.
import type { Condition, SecretSyncStatus } from '../../../src/api/types.js';
import type { SyncSeries } from '../../../src/observability/secretsync-series.js';
import { syncSeries } from '../../../src/secretsync/series.js';
import { T0 } from './fixtures.js';

const cond = (type: string, status: Condition['status'], reason: string): Condition => ({ type, status, reason, message: 'm', lastTransitionTime: T0.toISOString() });
const ready: SecretSyncStatus = { conditions: [cond('Ready', 'True', 'Synced'), cond('Synced', 'True', 'Synced')], lastSyncTime: '2025-12-01T00:00:00Z' };
const broken: SecretSyncStatus = { conditions: [cond('Ready', 'False', 'SourceNotFound'), cond('Synced', 'False', 'SourceNotFound')], lastSyncTime: '2025-12-01T00:00:00Z' };
const now = new Date('2026-01-01T00:10:00Z');
const s = (d: Date | string) => new Date(d).getTime() / 1000;
const READY = [{ type: 'Ready', status: 'True', reason: 'Synced' }];
const BROKEN = [{ type: 'Ready', status: 'False', reason: 'SourceNotFound' }];

test('exports Ready, Rotated and RolloutComplete as status has them; not Synced, not InUse', () => {
  const st: SecretSyncStatus = {
    conditions: [...ready.conditions!, cond('Rotated', 'Unknown', 'Scheduled'), cond('RolloutComplete', 'False', 'RolloutInProgress'), cond('InUse', 'True', 'InUse')],
  };
  expect(syncSeries(undefined, 'u1', { written: st, cached: undefined }, true, now).conditions).toEqual([
    { type: 'Ready', status: 'True', reason: 'Synced' },
    { type: 'Rotated', status: 'Unknown', reason: 'Scheduled' },
    { type: 'RolloutComplete', status: 'False', reason: 'RolloutInProgress' },
  ]);
  expect(syncSeries(undefined, 'u1', { cached: undefined }, false, now)).toEqual({ uid: 'u1', conditions: [] }); // never reconciled to a status: nothing
});

test('conditions: what this reconcile wrote; else what this process showed (the cache may be behind its own write); else the cache', () => {
  const shown: SyncSeries = { uid: 'u1', conditions: READY, lastSyncSeconds: 1 };
  expect(syncSeries(shown, 'u1', { written: broken, cached: ready }, false, now).conditions).toEqual(BROKEN);
  // A reconcile from a cache that has not seen the status this process wrote: kept.
  expect(syncSeries(shown, 'u1', { cached: broken }, false, now).conditions).toEqual(READY);
  expect(syncSeries(shown, 'u1', { cached: undefined }, false, now).conditions).toEqual(READY);
  // First seen (a new leader): the cache. A new object of the same name (another uid): afresh.
  expect(syncSeries(undefined, 'u1', { cached: broken }, false, now).conditions).toEqual(BROKEN);
  expect(syncSeries(shown, 'u2', { cached: broken }, false, now)).toEqual({ uid: 'u2', conditions: BROKEN, lastSyncSeconds: s('2025-12-01T00:00:00Z') });
});

test.each<[string, { lastSyncSeconds?: number } | undefined, SecretSyncStatus, boolean, number | undefined]>([
  ['synced now', { lastSyncSeconds: 1 }, ready, true, s(now)],
  ['Ready, nothing read: where it was', { lastSyncSeconds: 1 }, ready, false, 1],
  ['a read that failed: where it was', { lastSyncSeconds: 1 }, broken, true, 1],
  ['first seen Ready (a new leader, a restart): now, as the refresh schedule counts', undefined, ready, false, s(now)],
  ['first seen failing: the last content written (status.lastSyncTime)', undefined, broken, false, s('2025-12-01T00:00:00Z')],
  ['first seen failing, never synced: none', undefined, { conditions: broken.conditions }, false, undefined],
])('last sync: %s', (_what, prev, status, synced, want) => {
  const got = syncSeries(prev ? { uid: 'u1', conditions: [], ...prev } : undefined, 'u1', { written: status, cached: status }, synced, now);
  expect(got.lastSyncSeconds).toBe(want);
  if (want === undefined) expect(got).not.toHaveProperty('lastSyncSeconds');
});
