// SyncReader on the informer caches: SecretSyncs, sources, namespaces and the Secrets the
// operator manages, with no API call at all. A target Secret missing from the cache is not
// looked up: the write that follows is a create, which the API server refuses when the
// name is taken (see src/secretsync/act.ts).
import type { SourceRef } from '../api/source-ref.js';
import type { AnySource, SecretSync } from '../api/types.js';
import type { NamespaceLike } from '../secretsync/events.js';
import type { KubeRole, KubeRoleBinding } from '../secretsync/grants.js';
import type { KubeSecret, SyncReader } from '../secretsync/ports.js';

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
}

/** Keys of the cached Secrets by `namespace/ownerUid` of each owner reference. */
class OwnerIndex {
  private readonly byOwner = new Map<string, Set<string>>();

  constructor(store: WatchedStore<KubeSecret>) {
    for (const s of store.list()) this.add(s);
    store.addHandlers({
      onAdd: (s) => this.add(s),
      onUpdate: (a, b) => {
        this.remove(a);
        this.add(b);
      },
      onDelete: (s) => this.remove(s),
    });
  }

  keys(namespace: string, ownerUid: string): string[] {
    return [...(this.byOwner.get(`${namespace}/${ownerUid}`) ?? [])];
  }

  private entries(s: KubeSecret): [string, string][] {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    return (s.metadata.ownerReferences ?? []).map((o) => [`${s.metadata.namespace}/${o.uid}`, key]);
  }

  private add(s: KubeSecret): void {
    for (const [owner, key] of this.entries(s)) {
      let set = this.byOwner.get(owner);
      if (!set) this.byOwner.set(owner, (set = new Set()));
      set.add(key);
    }
  }

  private remove(s: KubeSecret): void {
    for (const [owner, key] of this.entries(s)) {
      const set = this.byOwner.get(owner);
      set?.delete(key);
      if (set?.size === 0) this.byOwner.delete(owner);
    }
  }
}

export class CacheSyncReader implements SyncReader {
  private readonly owners: OwnerIndex;

  constructor(private readonly d: ReaderDeps) {
    this.owners = new OwnerIndex(d.managedSecrets);
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
      .keys(namespace, ownerUid)
      .map((k) => this.d.managedSecrets.get(k))
      .filter((s): s is KubeSecret => s !== undefined);
  }
}
