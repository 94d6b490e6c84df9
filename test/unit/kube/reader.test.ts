// CacheSyncReader.workloadsIn: a namespace's workloads from the three caches, kept current
// by the per-namespace index as the caches change.
import { CacheSyncReader, type WatchedStore } from '../../../src/kube/reader.js';
import type { KubeWorkload } from '../../../src/secretsync/ports.js';

type H<T> = { onAdd?: (o: T) => void; onUpdate?: (a: T, b: T) => void; onDelete?: (o: T) => void };

class FakeStore<T extends { metadata: { name: string; namespace?: string } }> implements WatchedStore<T> {
  readonly items = new Map<string, T>();
  private h: H<T>[] = [];
  get = (k: string) => this.items.get(k);
  list = () => [...this.items.values()];
  addHandlers(h: H<T>) {
    this.h.push(h);
    return () => undefined;
  }
  put(o: T) {
    const k = `${o.metadata.namespace}/${o.metadata.name}`;
    const old = this.items.get(k);
    this.items.set(k, o);
    for (const h of this.h) {
      if (old) h.onUpdate?.(old, o);
      else h.onAdd?.(o);
    }
  }
  del(o: T) {
    this.items.delete(`${o.metadata.namespace}/${o.metadata.name}`);
    for (const h of this.h) h.onDelete?.(o);
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
    managedSecrets: { ...empty, addHandlers: () => () => undefined },
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
    managedSecrets: { ...empty, addHandlers: () => () => undefined },
    namespaces: empty,
    managedRoles: empty,
    managedRoleBindings: empty,
    deployments,
    statefulSets: none(),
    daemonSets: none(),
  });
  expect(reader.workloadsIn('a').map((x) => x.kind)).toEqual(['Deployment']);
});
