// SyncReader on the informer caches. SecretSyncs, sources and our own Secrets come from
// the caches (no API call); a target Secret missing from the cache is looked up once
// through the API, because one we do not own (and so do not cache) must be detected
// before we would overwrite it.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { AnySource, SecretSync } from '../api/types.js';
import type { KubeSecret, SyncReader } from '../secretsync/ports.js';
import { isNotFound, kubeError } from './errors.js';

/** The read side of an informer's store. */
export interface Store<T> {
  get(key: string): T | undefined;
  list(): T[];
}

export interface ReaderDeps {
  core: CoreV1Api;
  secretSyncs: Store<SecretSync>;
  secretSources: Store<AnySource>;
  clusterSecretSources: Store<AnySource>;
  ownedSecrets: Store<KubeSecret>;
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
}

export class CacheSyncReader implements SyncReader {
  constructor(private readonly d: ReaderDeps) {}

  getSecretSync(namespace: string, name: string): SecretSync | undefined {
    return this.d.secretSyncs.get(`${namespace}/${name}`);
  }

  getSource(kind: 'SecretSource' | 'ClusterSecretSource', namespace: string, name: string): AnySource | undefined {
    return kind === 'SecretSource' ? this.d.secretSources.get(`${namespace}/${name}`) : this.d.clusterSecretSources.get(name);
  }

  async getSecret(namespace: string, name: string): Promise<KubeSecret | undefined> {
    const cached = this.d.ownedSecrets.get(`${namespace}/${name}`);
    if (cached) return cached;
    try {
      const s = await this.d.limit(() => this.d.core.readNamespacedSecret({ name, namespace }));
      return s as KubeSecret;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(`reading Secret ${namespace}/${name}`, err);
    }
  }

  async getNamespaceLabels(name: string): Promise<Record<string, string> | undefined> {
    try {
      const ns = await this.d.limit(() => this.d.core.readNamespace({ name }));
      return ns.metadata?.labels ?? {};
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(`reading Namespace ${name}`, err);
    }
  }
}
