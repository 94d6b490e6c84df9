import { OWNER_LABEL } from '../../../src/api/annotations.js';
import type { KubeSecret } from '../../../src/secretsync/ports.js';
import { isOwnedBy, ownerLabelValue, ownedMetadataKeys, releasePatch, secretWrite } from '../../../src/secretsync/target.js';
import { aSecretSync, content, desired, writtenSecret } from './fixtures.js';

const ss = aSecretSync({ target: { labels: { team: 'a' }, annotations: { note: 'x' } } });
const c = content({ password: 'p1', user: 'u' });

test('no Secret yet: create the desired one (POST refuses a taken name)', () => {
  const want = desired(ss, c);
  expect(secretWrite(undefined, want)).toEqual({ kind: 'create', secret: want });
  expect(want.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'SecretSync', uid: 'u1', controller: true })]);
});

test('the Secret already as desired: no write', () => {
  expect(secretWrite(writtenSecret(ss, c), desired(ss, c))).toBeUndefined();
});

test('changed and removed keys: one merge patch with exactly those, precondition on resourceVersion', () => {
  const w = secretWrite(writtenSecret(ss, c, '42'), desired(ss, content({ password: 'p2' })));
  expect(w).toEqual({
    kind: 'patch',
    namespace: 'ns',
    name: 'db',
    patch: { metadata: { resourceVersion: '42' }, data: { password: Buffer.from('p2').toString('base64'), user: null } },
  });
});

test('labels and annotations: ours that the spec dropped are removed, anyone else\'s stay', () => {
  const existing = writtenSecret(ss, c);
  existing.metadata.labels = { ...existing.metadata.labels, 'added-by-someone': 'y' };
  existing.metadata.annotations = { ...existing.metadata.annotations, 'kubectl.kubernetes.io/last-applied': 'z' };
  const owned = ownedMetadataKeys(existing);
  expect(owned.labels.has('team')).toBe(true);
  expect(owned.labels.has('added-by-someone')).toBe(false);
  const next = aSecretSync({ target: { labels: { tier: 'b' } } });
  const w = secretWrite(existing, desired(next, c));
  expect(w?.kind).toBe('patch');
  const patch = (w as { patch: { metadata: Record<string, unknown> } }).patch;
  expect(patch.metadata.labels).toEqual({ tier: 'b', team: null });
  // The annotation `note` was not set through a managed field we own in this fixture: it stays.
  expect(patch.metadata.annotations).toBeUndefined();
});

test('a type change is a replace (types are immutable), never a patch', () => {
  const w = secretWrite(writtenSecret(ss, c), desired(aSecretSync({ target: { type: 'kubernetes.io/tls' } }), c));
  expect(w).toMatchObject({ kind: 'replace', oldUid: 'sec-1' });
});

test('a missing owner reference (ours dropped by someone) is restored, others kept', () => {
  const existing = writtenSecret(ss, c);
  const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'o' };
  existing.metadata.ownerReferences = [other];
  const w = secretWrite(existing, desired(ss, c)) as { patch: { metadata: { ownerReferences?: unknown[] } } };
  expect(w.patch.metadata.ownerReferences).toEqual([other, expect.objectContaining({ uid: 'u1', controller: true })]);
});

test('ownership is the controller owner reference, not the label', () => {
  const s = writtenSecret(ss, c);
  expect(isOwnedBy(s, 'u1')).toBe(true);
  expect(isOwnedBy(s, 'u2')).toBe(false);
  const labelOnly: KubeSecret = { metadata: { name: 'x', namespace: 'ns', labels: { [OWNER_LABEL]: 'db' } } };
  expect(isOwnedBy(labelOnly, 'u1')).toBe(false);
});

test('names longer than a label value get a short, stable, valid owner label', () => {
  const long = 'a'.repeat(100);
  const v = ownerLabelValue(long);
  expect(v.length).toBeLessThanOrEqual(63);
  expect(v).toMatch(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/);
  expect(ownerLabelValue(long)).toBe(v);
  expect(ownerLabelValue(`${'a'.repeat(99)}b`)).not.toBe(v);
  expect(ownerLabelValue('short.name')).toBe('short.name');
  const d = desired(aSecretSync({}, { name: long }), c);
  expect(d.metadata.labels?.[OWNER_LABEL]).toBe(v);
  expect(d.metadata.name).toBe(long); // the Secret itself may carry the long name
});

test('release drops our owner reference and labels, with a precondition', () => {
  const s = writtenSecret(ss, c, '9');
  expect(releasePatch(s, 'u1')).toEqual({
    metadata: { resourceVersion: '9', ownerReferences: [], labels: { 'secretsync.io/sync': null, 'app.kubernetes.io/managed-by': null } },
  });
});
