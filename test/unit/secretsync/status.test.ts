import type { SecretSync } from '../../../src/api/types.js';
import { SourceNotFoundError } from '../../../src/errors.js';
import { describeError } from '../../../src/secretsync/describe-error.js';
import { failureStatus, sameStatus, successStatus, type SyncOutcome } from '../../../src/secretsync/status.js';

const base = (status?: SecretSync['status']): SecretSync => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  metadata: { name: 'db', namespace: 'ns', generation: 2, uid: 'u' },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'a', remoteRef: { path: 'p' } }], refresh: { interval: '30s' } },
  status,
});
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');
const outcome = (o: Partial<SyncOutcome>): SyncOutcome => ({
  version: 1,
  hmac: 'h1',
  sourceVersions: { p: '3' },
  keyCount: 1,
  now: t0,
  secretWritten: false,
  forceSyncHandled: undefined,
  ...o,
});

test('lastSyncTime moves only when the Secret is written; the message says how often the source is checked', () => {
  const s1 = successStatus(base(), outcome({ secretWritten: true }));
  expect(s1).toMatchObject({ version: 1, contentHmac: 'h1', observedGeneration: 2, lastSyncTime: t0.toISOString() });
  expect(s1.conditions?.[0]?.message).toBe('synced 1 key from SecretSource vault (version 1); the source is checked every 30s');
  expect(Object.keys(s1)).not.toContain('forceSyncHandled');
  const s2 = successStatus(base(s1), outcome({ now: t1 }));
  expect(s2.lastSyncTime).toBe(t0.toISOString());
  expect(sameStatus(s1, s2)).toBe(true); // a refresh that found nothing new: nothing to write
  const s3 = successStatus(base(s2), outcome({ version: 2, hmac: 'h2', now: t1, secretWritten: true }));
  expect(s3.lastSyncTime).toBe(t1.toISOString());
  expect(sameStatus(s2, s3)).toBe(false);
});

test('status is whole: a source version no longer read is gone from the new status', () => {
  const s1 = successStatus(base(), outcome({ sourceVersions: { p: '3', q: '1' } }));
  const s2 = successStatus(base(s1), outcome({ sourceVersions: { p: '3' } }));
  expect(s2.sourceVersions).toEqual({ p: '3' });
  expect(sameStatus(s1, s2)).toBe(false);
  expect(sameStatus(s2, successStatus(base(s2), outcome({ now: t1 })))).toBe(true);
});

test('a failure keeps version and content fields and sets Ready=False with the reason', () => {
  const ok = successStatus(base(), outcome({ secretWritten: true }));
  const d = describeError(new SourceNotFoundError('secret payments/db not found'));
  const bad = failureStatus(base({ ...ok, nextRefreshTime: 'old' } as never), d, t1, 'f1');
  expect(bad).toMatchObject({ version: 1, contentHmac: 'h1', lastSyncTime: t0.toISOString(), forceSyncHandled: 'f1' });
  expect(Object.keys(bad)).not.toContain('nextRefreshTime'); // fields we no longer write go
  expect(bad.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SourceNotFound', message: 'secret payments/db not found' });
  // The same failure again changes nothing (no second write, no second event).
  expect(sameStatus(bad, failureStatus(base(bad), d, new Date('2026-01-01T02:00:00Z'), 'f1'))).toBe(true);
});

test('unknown errors become InternalError with sanitised text', () => {
  const d = describeError(new Error('boom token=abc123'));
  expect(d.reason).toBe('InternalError');
  expect(d.message).not.toContain('abc123');
});
