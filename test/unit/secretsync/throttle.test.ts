// The force-sync / rotate-now windows: pure functions of status and now.
import type { SecretSync, SecretSyncStatus } from '../../../src/api/types.js';
import {
  FORCE_SYNC_WINDOW_MS,
  ROTATE_NOW_WINDOW_MS,
  forceSyncThrottle,
  lastForceSyncTime,
  rotateNowThrottle,
  withThrottles,
} from '../../../src/secretsync/throttle.js';

const T = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T + ms);
const iso = (ms: number) => at(ms).toISOString();

test('the windows: 10s for force-sync, a minute for rotate-now', () => {
  expect(FORCE_SYNC_WINDOW_MS).toBe(10_000);
  expect(ROTATE_NOW_WINDOW_MS).toBe(60_000);
});

test.each<[string, SecretSyncStatus, number, number | undefined]>([
  ['never acted on', {}, 0, undefined],
  ['acted on 3s ago', { lastForceSyncTime: iso(0) }, 3_000, 10_000],
  ['acted on exactly 10s ago', { lastForceSyncTime: iso(0) }, 10_000, undefined],
  ['acted on 11s ago', { lastForceSyncTime: iso(0) }, 11_000, undefined],
  ['a time in the future (clock went back)', { lastForceSyncTime: iso(60_000) }, 0, undefined],
  ['an unreadable time', { lastForceSyncTime: 'yesterday' }, 0, undefined],
])('force-sync: %s', (_name, st, now, until) => {
  expect(forceSyncThrottle(st, at(now))?.until.getTime()).toBe(until === undefined ? undefined : T + until);
});

test.each<[string, SecretSyncStatus, number, number | undefined]>([
  ['never rotated', {}, 0, undefined],
  ['rotated 30s ago', { lastRotationTime: iso(0) }, 30_000, 60_000],
  ['rotated a minute ago', { lastRotationTime: iso(0) }, 60_000, undefined],
  [
    'a pending rotation started 5s ago counts',
    { lastRotationTime: iso(-600_000), pendingRotation: { id: 'x', trigger: 'schedule', startedAt: iso(0), basedOn: {} } },
    5_000,
    60_000,
  ],
])('rotate-now: %s', (_name, st, now, until) => {
  expect(rotateNowThrottle(st, at(now))?.until.getTime()).toBe(until === undefined ? undefined : T + until);
});

test('lastForceSyncTime moves only when a new value is recorded', () => {
  expect(lastForceSyncTime({ forceSyncHandled: 'a', lastForceSyncTime: iso(0) }, 'a', at(5_000))).toBe(iso(0));
  expect(lastForceSyncTime({ forceSyncHandled: 'a', lastForceSyncTime: iso(0) }, 'b', at(5_000))).toBe(iso(5_000));
  expect(lastForceSyncTime({}, undefined, at(5_000))).toBeUndefined();
});

const ss = { metadata: { name: 'db', namespace: 'ns', generation: 1 }, spec: {} } as unknown as SecretSync;
const ready = { type: 'Ready', status: 'True' as const, reason: 'Synced', message: 'synced', lastTransitionTime: iso(0), observedGeneration: 1 };

test('a waiting request keeps the condition status and sets reason Throttled; once gone the condition is restored', () => {
  const st: SecretSyncStatus = { conditions: [ready, { ...ready, type: 'Synced' }, { ...ready, type: 'Rotated', reason: 'Rotated' }], lastRotationTime: iso(0) };
  const shown = withThrottles(
    ss,
    st,
    [
      { annotation: 'force-sync', last: at(0), until: at(10_000) },
      { annotation: 'rotate-now', last: at(0), until: at(60_000) },
    ],
    at(1_000),
  );
  const c = (s: SecretSyncStatus, t: string) => s.conditions?.find((x) => x.type === t);
  expect(c(shown, 'Synced')).toMatchObject({ status: 'True', reason: 'Throttled', lastTransitionTime: iso(0) });
  expect(c(shown, 'Rotated')).toMatchObject({ status: 'True', reason: 'Throttled' });
  expect(c(shown, 'Rotated')?.message).toMatch(/rotate-now waits: a rotation started at .*runs by itself at 2026-01-01T00:01:00.000Z/);
  expect(c(shown, 'Ready')).toEqual(ready);
  const restored = withThrottles(ss, shown, [], at(2_000));
  expect(c(restored, 'Synced')).toMatchObject({ status: 'True', reason: 'Synced', message: 'synced' });
  expect(c(restored, 'Rotated')).toMatchObject({ status: 'True', reason: 'Rotated' });
  expect(withThrottles(ss, restored, [], at(3_000))).toBe(restored); // nothing to change: the same object
});
