import type { SecretSync } from '../../../src/api/types.js';
import { defaultSourceConcurrency, fairShareGroup } from '../../../src/secretsync/fair-share.js';

const ss = (spec: Partial<SecretSync['spec']>): SecretSync =>
  ({ metadata: { name: 's', namespace: 'evil' }, spec: { sourceRef: { name: 'src' }, ...spec } }) as SecretSync;
const kek = (kind?: 'SecretSource' | 'ClusterSecretSource') => ({
  encryption: { kek: { vaultTransit: { sourceRef: { name: 'k', ...(kind ? { kind } : {}) }, key: 'k', agentAuth: { kubernetes: { role: 'r' } } } } },
});

test.each<[string, Partial<SecretSync['spec']>, string | undefined]>([
  ['a SecretSource (the default kind)', {}, 'namespace/evil'],
  ['a SecretSource named explicitly', { sourceRef: { kind: 'SecretSource', name: 'src' } }, 'namespace/evil'],
  ['a ClusterSecretSource only', { sourceRef: { kind: 'ClusterSecretSource', name: 'shared' } }, undefined],
  ['a ClusterSecretSource with a KEK through a SecretSource', { sourceRef: { kind: 'ClusterSecretSource', name: 'shared' }, target: kek() }, 'namespace/evil'],
  ['a ClusterSecretSource with a KEK through a ClusterSecretSource', { sourceRef: { kind: 'ClusterSecretSource', name: 'shared' }, target: kek('ClusterSecretSource') }, undefined],
])('%s', (_name, spec, group) => expect(fairShareGroup(ss(spec))).toBe(group));

test('a SecretSync gone from the cache has no group', () => expect(fairShareGroup(undefined)).toBeUndefined());

test.each([
  [1, 1],
  [3, 1],
  [4, 1],
  [20, 5],
  [50, 12],
])('%i workers: %i per namespace by default', (workers, k) => expect(defaultSourceConcurrency(workers)).toBe(k));
