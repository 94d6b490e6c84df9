import { sourceKey } from '../../../src/api/source-ref.js';
import type { AnySource, SecretSync } from '../../../src/api/types.js';
import { Indexer } from '../../../src/runtime/indexer.js';
import { SYNCS_BY_NAMESPACE, SYNCS_BY_SOURCE, needsReconcile, syncIndexers, usesSource, wireEvents } from '../../../src/secretsync/events.js';
import type { KubeSecret, KubeWorkload } from '../../../src/secretsync/ports.js';

const ss = (name: string, ns: string, sourceRef: SecretSync['spec']['sourceRef'], meta: Partial<SecretSync['metadata']> = {}): SecretSync => ({
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSync',
  metadata: { name, namespace: ns, generation: 1, ...meta },
  spec: { sourceRef, data: [] },
});
const src = (kind: AnySource['kind'], name: string, ns?: string) =>
  ({ apiVersion: 'secretsync.io/v1alpha1', kind, metadata: { name, namespace: ns }, spec: {} }) as AnySource;
/** The SecretSync cache as wireEvents sees it: the informer's store (an Indexer), handlers ignored. */
function syncCache(items: SecretSync[]) {
  const store = new Indexer<SecretSync>();
  for (const o of items) store.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  return { addIndexers: store.addIndexers.bind(store), byIndex: store.byIndex.bind(store), addHandlers: () => () => undefined };
}
const withKek = (s: SecretSync, sourceRef: SecretSync['spec']['sourceRef']): SecretSync => ({
  ...s,
  spec: { ...s.spec, target: { encryption: { kek: { awsKms: { sourceRef, keyId: 'alias/k' } } } } } as SecretSync['spec'],
});

test('status-only updates do not enqueue; spec, annotations and deletion do', () => {
  const a = ss('a', 'n', { name: 's' });
  expect(needsReconcile(a, { ...a, status: { version: 3 } })).toBe(false);
  expect(needsReconcile(a, { ...a, metadata: { ...a.metadata, generation: 2 } })).toBe(true);
  expect(needsReconcile(a, { ...a, metadata: { ...a.metadata, annotations: { 'secretsync.io/force-sync': '1' } } })).toBe(true);
  expect(needsReconcile(a, { ...a, metadata: { ...a.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } })).toBe(true);
});

test('a source is used by SecretSyncs naming it (namespaced sources: same namespace only)', () => {
  expect(usesSource(ss('a', 'n', { name: 's' }), src('SecretSource', 's', 'n'))).toBe(true);
  expect(usesSource(ss('a', 'm', { name: 's' }), src('SecretSource', 's', 'n'))).toBe(false);
  expect(usesSource(ss('a', 'm', { kind: 'ClusterSecretSource', name: 's' }), src('ClusterSecretSource', 's'))).toBe(true);
  expect(usesSource(ss('a', 'n', { name: 's' }), src('ClusterSecretSource', 's'))).toBe(false);
});

test('events become keys: our Secrets by their controlling SecretSync, sources by their users, namespaces by their ClusterSecretSource users', () => {
  type H = { onAdd?: (o: never) => void; onUpdate?: (a: never, b: never) => void; onDelete?: (o: never) => void };
  const handlers: Record<string, H> = {};
  const watched = <T>(name: string, items: T[] = []) => ({
    list: () => items,
    addHandlers: (h: H) => {
      handlers[name] = h;
      return () => undefined;
    },
  });
  const keys: string[] = [];
  const retired: string[] = [];
  const users = [ss('a', 'n', { name: 's' }), ss('b', 'n', { name: 'other' }), ss('c', 'n', { kind: 'ClusterSecretSource', name: 'shared' })];
  wireEvents({
    queue: { add: (k) => keys.push(k) },
    secretSyncs: syncCache(users),
    secretSources: watched('sources'),
    clusterSecretSources: watched('cluster'),
    ownedSecrets: watched<KubeSecret>('secrets'),
    namespaces: watched('namespaces'),
    onSourceRetired: (s) => retired.push(s.metadata.name),
  });
  // The label may be a shortened name (long SecretSync names): the owner reference decides.
  const owned = { metadata: { name: 'target', namespace: 'n', labels: { 'secretsync.io/sync': 'x' }, ownerReferences: [{ kind: 'SecretSync', name: 'a', uid: 'u', apiVersion: 'v', controller: true }] } };
  handlers.secrets?.onDelete?.(owned as never);
  handlers.sources?.onUpdate?.(src('SecretSource', 's', 'n') as never, src('SecretSource', 's', 'n') as never);
  expect(keys).toEqual(['n/a', 'n/a']);
  expect(retired).toEqual([]); // same generation: the client stays
  const edited = { ...src('SecretSource', 's', 'n'), metadata: { name: 's', namespace: 'n', generation: 2 } };
  handlers.sources?.onUpdate?.(src('SecretSource', 's', 'n') as never, edited as never);
  handlers.cluster?.onDelete?.(src('ClusterSecretSource', 'shared') as never);
  expect(retired).toEqual(['s', 'shared']);
  keys.length = 0;
  handlers.namespaces?.onUpdate?.({ metadata: { name: 'n', labels: {} } } as never, { metadata: { name: 'n', labels: { team: 'x' } } } as never);
  expect(keys).toEqual(['n/c']);
  handlers.namespaces?.onUpdate?.({ metadata: { name: 'n', labels: { team: 'x' } } } as never, { metadata: { name: 'n', labels: { team: 'x' } } } as never);
  expect(keys).toEqual(['n/c']);
});

test('workload events enqueue the SecretSyncs rolling it; an update only when something that matters changed', () => {
  type H = { onAdd?: (o: KubeWorkload) => void; onUpdate?: (a: KubeWorkload, b: KubeWorkload) => void; onDelete?: (o: KubeWorkload) => void };
  let h: H = {};
  const none = { list: () => [], addHandlers: () => () => undefined };
  const keys: string[] = [];
  const named = { ...ss('named', 'n', { name: 's' }), spec: { sourceRef: { name: 's' }, rollout: { targets: [{ kind: 'Deployment' as const, name: 'api' }] } } };
  const elsewhere = { ...named, metadata: { ...named.metadata, namespace: 'm' } };
  wireEvents({
    queue: { add: (k) => keys.push(k) },
    secretSyncs: syncCache([named, elsewhere, ss('plain', 'n', { name: 's' })]),
    secretSources: none,
    clusterSecretSources: none,
    ownedSecrets: none,
    workloads: [
      {
        addHandlers: (x: H) => {
          h = x;
          return () => undefined;
        },
      },
    ],
  });
  const w: KubeWorkload = { kind: 'Deployment', metadata: { name: 'api', namespace: 'n', generation: 1 }, spec: { replicas: 1, template: {} } };
  h.onAdd?.(w);
  expect(keys).toEqual(['n/named']);
  h.onUpdate?.(w, { ...w, metadata: { ...w.metadata, resourceVersion: '2' } });
  expect(keys).toEqual(['n/named']);
  h.onUpdate?.(w, { ...w, status: { readyReplicas: 1 } });
  h.onDelete?.(w);
  expect(keys).toEqual(['n/named', 'n/named', 'n/named', 'n/named']);
});

test('the SecretSync indexes: every source used (the KEK source too) and the namespace', () => {
  const plain = ss('a', 'n', { name: 's' });
  const enveloped = withKek(ss('b', 'n', { name: 's' }), { kind: 'ClusterSecretSource', name: 'kms' });
  const badKek = { ...plain, spec: { ...plain.spec, target: { encryption: { kek: { vaultTransit: { key: 'k', sourceRef: { name: 'v' } } } } } } } as unknown as SecretSync; // no agentAuth: kekRefOf throws
  expect(syncIndexers[SYNCS_BY_SOURCE]?.(plain)).toEqual(['SecretSource/n/s']);
  expect(syncIndexers[SYNCS_BY_SOURCE]?.(enveloped)).toEqual(['SecretSource/n/s', 'ClusterSecretSource/kms']);
  expect(syncIndexers[SYNCS_BY_SOURCE]?.(badKek)).toEqual(['SecretSource/n/s']);
  expect(syncIndexers[SYNCS_BY_NAMESPACE]?.(plain)).toEqual(['n']);
  // The index files a SecretSync under a source exactly when usesSource says it uses it.
  for (const x of [plain, enveloped]) {
    for (const source of [src('SecretSource', 's', 'n'), src('SecretSource', 's', 'm'), src('ClusterSecretSource', 'kms'), src('ClusterSecretSource', 's')]) {
      expect(syncIndexers[SYNCS_BY_SOURCE]?.(x).includes(sourceKey(source))).toBe(usesSource(x, source));
    }
  }
});

test('a source event enqueues the SecretSyncs reaching their KEK through it', () => {
  type H = { onAdd?: (o: AnySource) => void };
  let cluster: H = {};
  const none = { addHandlers: () => () => undefined };
  const keys: string[] = [];
  wireEvents({
    queue: { add: (k) => keys.push(k) },
    secretSyncs: syncCache([withKek(ss('b', 'n', { name: 's' }), { kind: 'ClusterSecretSource', name: 'kms' }), ss('c', 'm', { name: 's' })]),
    secretSources: none,
    clusterSecretSources: {
      addHandlers: (h: H) => {
        cluster = h;
        return () => undefined;
      },
    },
    ownedSecrets: none,
  });
  cluster.onAdd?.(src('ClusterSecretSource', 'kms'));
  expect(keys).toEqual(['n/b']);
});
