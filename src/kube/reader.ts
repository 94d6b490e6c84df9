// SyncReader on the informer caches: SecretSyncs, sources, namespaces, the Secrets the
// operator manages and the workloads it may roll, with no API call at all. A target Secret missing from the cache is not
// looked up: the write that follows is a create, which the API server refuses when the
// name is taken (see src/secretsync/act.ts).
import type { SourceRef } from '../api/source-ref.js';
import type { AnySource, SecretSync, WorkloadKind } from '../api/types.js';
import type { NamespaceLike } from '../secretsync/events.js';
import type { KubeRole, KubeRoleBinding } from '../secretsync/grants.js';
import type { KubeSecret, KubeWorkload, SyncReader } from '../secretsync/ports.js';

/** The read side of an informer's store, plus its handlers (for the owner index). */
export interface Store<T> {
  get(key: string): T | undefined;
  list(): T[];
}

export interface WatchedStore<T> extends Store<T> {
  addHandlers(h: { onAdd?: (o: T) => void; onUpdate?: (a: T, b: T) => void; onDelete?: (o: T) => void }): () => void;
}

export interface ReaderDeps {
  secretSyncs: Store<SecretSync>;
  secretSources: Store<AnySource>;
  clusterSecretSources: Store<AnySource>;
  managedSecrets: WatchedStore<KubeSecret>;
  namespaces: Store<NamespaceLike>;
  managedRoles: Store<KubeRole>;
  managedRoleBindings: Store<KubeRoleBinding>;
  /** apps/v1 workloads (rollouts and the in-use hold). */
  deployments: WatchedStore<KubeWorkload>;
  statefulSets: WatchedStore<KubeWorkload>;
  daemonSets: WatchedStore<KubeWorkload>;
}

type Keyed = { metadata: { name: string; namespace?: string } };

/**
 * A secondary index of a store (client-go's Indexer): the keys of its objects under each
 * index value `by(object)` returns, kept current by the store's handlers.
 */
class StoreIndex<T extends Keyed> {
  private readonly index = new Map<string, Set<string>>();

  constructor(store: WatchedStore<T>, private readonly by: (o: T) => string[]) {
    for (const o of store.list()) this.add(o);
    store.addHandlers({
      onAdd: (o) => this.add(o),
      onUpdate: (a, b) => {
        this.remove(a);
        this.add(b);
      },
      onDelete: (o) => this.remove(o),
    });
  }

  keys(value: string): string[] {
    return [...(this.index.get(value) ?? [])];
  }

  private key(o: T): string {
    return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  private add(o: T): void {
    for (const v of this.by(o)) {
      let set = this.index.get(v);
      if (!set) this.index.set(v, (set = new Set()));
      set.add(this.key(o));
    }
  }

  private remove(o: T): void {
    for (const v of this.by(o)) {
      const set = this.index.get(v);
      set?.delete(this.key(o));
      if (set?.size === 0) this.index.delete(v);
    }
  }
}

/** A store's objects by namespace, so a namespace's workloads are not a scan of the cluster's. */
const byNamespace = <T extends Keyed>(store: WatchedStore<T>) => new StoreIndex(store, (o) => [o.metadata.namespace ?? '']);
/** The cached Secrets by `namespace/ownerUid` of each owner reference. */
const byOwner = (store: WatchedStore<KubeSecret>) =>
  new StoreIndex(store, (s) => (s.metadata.ownerReferences ?? []).map((o) => `${s.metadata.namespace}/${o.uid}`));

export class CacheSyncReader implements SyncReader {
  private readonly owners: StoreIndex<KubeSecret>;
  private readonly workloads: [WorkloadKind, WatchedStore<KubeWorkload>, StoreIndex<KubeWorkload>][];

  constructor(private readonly d: ReaderDeps) {
    this.owners = byOwner(d.managedSecrets);
    const kinds: [WorkloadKind, WatchedStore<KubeWorkload>][] = [
      ['Deployment', d.deployments],
      ['StatefulSet', d.statefulSets],
      ['DaemonSet', d.daemonSets],
    ];
    this.workloads = kinds.map(([kind, store]) => [kind, store, byNamespace(store)]);
  }

  workloadsIn(namespace: string): KubeWorkload[] {
    return this.workloads.flatMap(([kind, store, index]) =>
      index
        .keys(namespace)
        .map((k) => store.get(k))
        .filter((w): w is KubeWorkload => w !== undefined)
        // Watched objects carry their kind and listed ones get it from the list; set it if neither did.
        .map((w) => (w.kind === kind ? w : { ...w, kind })),
    );
  }

  getSecretSync(namespace: string, name: string): SecretSync | undefined {
    return this.d.secretSyncs.get(`${namespace}/${name}`);
  }

  getSource(ref: SourceRef): AnySource | undefined {
    return ref.kind === 'SecretSource' ? this.d.secretSources.get(`${ref.namespace}/${ref.name}`) : this.d.clusterSecretSources.get(ref.name);
  }

  getNamespaceLabels(name: string): Record<string, string> | undefined {
    const ns = this.d.namespaces.get(name);
    return ns ? (ns.metadata.labels ?? {}) : undefined;
  }

  getManagedSecret(namespace: string, name: string): KubeSecret | undefined {
    return this.d.managedSecrets.get(`${namespace}/${name}`);
  }

  getManagedRole(namespace: string, name: string): KubeRole | undefined {
    return this.d.managedRoles.get(`${namespace}/${name}`);
  }

  getManagedRoleBinding(namespace: string, name: string): KubeRoleBinding | undefined {
    return this.d.managedRoleBindings.get(`${namespace}/${name}`);
  }

  secretsOwnedBy(namespace: string, ownerUid: string): KubeSecret[] {
    return this.owners
      .keys(`${namespace}/${ownerUid}`)
      .map((k) => this.d.managedSecrets.get(k))
      .filter((s): s is KubeSecret => s !== undefined);
  }
}
