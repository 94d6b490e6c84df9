// CacheSyncReader.workloadsIn: a namespace's workloads from the three caches, kept current
// by the per-namespace index as the caches change.
import { CacheSyncReader } from '../../../src/kube/reader.js';
import { Indexer } from '../../../src/runtime/indexer.js';
import type { KubeSecret, KubeWorkload } from '../../../src/secretsync/ports.js';

/** An informer's cache as the reader sees it: the Indexer the informer keeps current. */
class FakeStore<T extends { metadata: { name: string; namespace?: string } }> extends Indexer<T> {
  put(o: T) {
    this.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  del(o: T) {
    this.delete(`${o.metadata.namespace}/${o.metadata.name}`);
  }
}

const w = (kind: KubeWorkload['kind'], name: string, namespace: string): KubeWorkload => ({ kind, metadata: { name, namespace }, spec: { template: {} } });
const empty = { get: () => undefined, list: () => [] };

test('workloadsIn: the namespace only, every kind, following adds and deletes', () => {
  const deployments = new FakeStore<KubeWorkload>();
  const statefulSets = new FakeStore<KubeWorkload>();
  const daemonSets = new FakeStore<KubeWorkload>();
  deployments.put(w('Deployment', 'api', 'a')); // before the reader: the index starts from list()
  const reader = new CacheSyncReader({
    secretSyncs: empty,
    secretSources: empty,
    clusterSecretSources: empty,
    managedSecrets: new FakeStore<KubeSecret>(),
    namespaces: empty,
    managedRoles: empty,
    managedRoleBindings: empty,
    deployments,
    statefulSets,
    daemonSets,
  });
  statefulSets.put(w('StatefulSet', 'db', 'a'));
  daemonSets.put(w('DaemonSet', 'agent', 'b'));
  const names = (ns: string) => reader.workloadsIn(ns).map((x) => `${x.kind}/${x.metadata.name}`);
  expect(names('a')).toEqual(['Deployment/api', 'StatefulSet/db']);
  expect(names('b')).toEqual(['DaemonSet/agent']);
  expect(names('c')).toEqual([]);
  statefulSets.del(w('StatefulSet', 'db', 'a'));
  expect(names('a')).toEqual(['Deployment/api']);
});

test('workloadsIn sets the kind when the cached object lacks it', () => {
  const deployments = new FakeStore<KubeWorkload>();
  deployments.put({ ...w('Deployment', 'api', 'a'), kind: undefined as unknown as 'Deployment' });
  const none = () => new FakeStore<KubeWorkload>();
  const reader = new CacheSyncReader({
    secretSyncs: empty,
    secretSources: empty,
    clusterSecretSources: empty,
    managedSecrets: new FakeStore<KubeSecret>(),
    namespaces: empty,
    managedRoles: empty,
    managedRoleBindings: empty,
    deployments,
    statefulSets: none(),
    daemonSets: none(),
  });
  expect(reader.workloadsIn('a').map((x) => x.kind)).toEqual(['Deployment']);
});

test('secretsOwnedBy: the cached Secrets naming the owner uid, in its namespace, following changes', () => {
  const secrets = new FakeStore<KubeSecret>();
  const owned = (name: string, namespace: string, uids: string[]): KubeSecret =>
    ({ metadata: { name, namespace, ownerReferences: uids.map((uid) => ({ apiVersion: 'v', kind: 'SecretSync', name: 'x', uid })) } }) as KubeSecret;
  secrets.put(owned('a', 'n', ['u1']));
  const none = () => new FakeStore<KubeWorkload>();
  const reader = new CacheSyncReader({
    secretSyncs: empty,
    secretSources: empty,
    clusterSecretSources: empty,
    managedSecrets: secrets,
    namespaces: empty,
    managedRoles: empty,
    managedRoleBindings: empty,
    deployments: none(),
    statefulSets: none(),
    daemonSets: none(),
  });
  secrets.put(owned('b', 'n', ['u1', 'u2']));
  secrets.put(owned('c', 'm', ['u1']));
  const names = (ns: string, uid: string) => reader.secretsOwnedBy(ns, uid).map((s) => s.metadata.name).sort();
  expect(names('n', 'u1')).toEqual(['a', 'b']);
  expect(names('n', 'u2')).toEqual(['b']);
  expect(names('m', 'u1')).toEqual(['c']);
  secrets.put(owned('b', 'n', ['u2'])); // no longer owned by u1
  expect(names('n', 'u1')).toEqual(['a']);
  secrets.del(owned('a', 'n', []));
  expect(names('n', 'u1')).toEqual([]);
});
