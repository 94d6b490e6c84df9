import type { SecretSync } from '../../../src/api/types.js';
import { SourceNotFoundError } from '../../../src/errors.js';
import { describeError } from '../../../src/secretsync/describe-error.js';
import { failureStatus, sameStatus, successStatus } from '../../../src/secretsync/status.js';

const base = (status?: SecretSync['status']): SecretSync => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  metadata: { name: 'db', namespace: 'ns', generation: 2, uid: 'u' },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'a', remoteRef: { path: 'p' } }] },
  status,
});
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');
const outcome = (hmac: string, now: Date) => ({ hmac, sourceVersions: { p: '3' }, keyCount: 1, now, nextRefresh: new Date(now.getTime() + 3600_000) });

test('version starts at 1 and bumps only when the content changes', () => {
  const s1 = successStatus(base(), outcome('h1', t0));
  expect(s1).toMatchObject({ version: 1, contentHmac: 'h1', observedGeneration: 2, lastSyncTime: t0.toISOString() });
  const s2 = successStatus(base(s1), outcome('h1', t1));
  expect(s2.version).toBe(1);
  expect(s2.lastSyncTime).toBe(t0.toISOString());
  expect(sameStatus(s1, s2)).toBe(true); // only nextRefreshTime moved: nothing to write
  const s3 = successStatus(base(s2), outcome('h2', t1));
  expect(s3.version).toBe(2);
  expect(s3.lastSyncTime).toBe(t1.toISOString());
  expect(sameStatus(s2, s3)).toBe(false);
});

test('a failure keeps version and content fields and sets Ready=False with the reason', () => {
  const ok = successStatus(base(), outcome('h1', t0));
  const d = describeError(new SourceNotFoundError('secret payments/db not found'));
  const bad = failureStatus(base(ok), d, t1);
  expect(bad).toMatchObject({ version: 1, contentHmac: 'h1' });
  expect(bad.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SourceNotFound', message: 'secret payments/db not found' });
  // The same failure again changes nothing (no second write, no second event).
  expect(sameStatus(bad, failureStatus(base(bad), d, new Date('2026-01-01T02:00:00Z')))).toBe(true);
});

test('unknown errors become InternalError with sanitised text', () => {
  const d = describeError(new Error('boom token=abc123'));
  expect(d.reason).toBe('InternalError');
  expect(d.message).not.toContain('abc123');
});
