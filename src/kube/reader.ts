// SyncReader on the informer caches: SecretSyncs, sources, namespaces, the Secrets the
// operator manages and the workloads it may roll, with no API call at all. A target Secret missing from the cache is not
// looked up: the write that follows is a create, which the API server refuses when the
// name is taken (see src/secretsync/act.ts).
import type { SourceRef } from '../api/source-ref.js';
import type { IndexedStore } from '../runtime/indexer.js';
import type { AnySource, SecretSync, WorkloadKind } from '../api/types.js';
import type { NamespaceLike } from '../secretsync/events.js';
import type { KubeRole, KubeRoleBinding } from '../secretsync/grants.js';
import type { KubeSecret, KubeWorkload, SyncReader } from '../secretsync/ports.js';

/** The read side of an informer's store. */
export interface Store<T> {
  get(key: string): T | undefined;
  list(): T[];
}

export interface ReaderDeps {
  secretSyncs: Store<SecretSync>;
  secretSources: Store<AnySource>;
  clusterSecretSources: Store<AnySource>;
  /** Indexed by owner here (secretsOwnedBy). */
  managedSecrets: IndexedStore<KubeSecret>;
  namespaces: Store<NamespaceLike>;
  managedRoles: Store<KubeRole>;
  managedRoleBindings: Store<KubeRoleBinding>;
  /** apps/v1 workloads (rollouts and the in-use hold), indexed by namespace here. */
  deployments: IndexedStore<KubeWorkload>;
  statefulSets: IndexedStore<KubeWorkload>;
  daemonSets: IndexedStore<KubeWorkload>;
}

/** Index names the reader adds to the caches it is given. */
export const BY_NAMESPACE = 'namespace';
export const SECRETS_BY_OWNER = 'owner';

/** A store's objects by namespace, so a namespace's workloads are not a scan of the cluster's. */
const byNamespace = (o: KubeWorkload) => [o.metadata.namespace ?? ''];
/** The cached Secrets by `namespace/ownerUid` of each owner reference. */
const byOwner = (s: KubeSecret) => (s.metadata.ownerReferences ?? []).map((o) => `${s.metadata.namespace}/${o.uid}`);

export class CacheSyncReader implements SyncReader {
  private readonly workloads: [WorkloadKind, IndexedStore<KubeWorkload>][];

  constructor(private readonly d: ReaderDeps) {
    d.managedSecrets.addIndexers({ [SECRETS_BY_OWNER]: byOwner });
    this.workloads = [
      ['Deployment', d.deployments],
      ['StatefulSet', d.statefulSets],
      ['DaemonSet', d.daemonSets],
    ];
    for (const [, store] of this.workloads) store.addIndexers({ [BY_NAMESPACE]: byNamespace });
  }

  workloadsIn(namespace: string): KubeWorkload[] {
    return this.workloads.flatMap(([kind, store]) =>
      store
        .byIndex(BY_NAMESPACE, namespace)
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
    return this.d.managedSecrets.byIndex(SECRETS_BY_OWNER, `${namespace}/${ownerUid}`);
  }
}
