// SyncWriter on the real API server. Every write first checks that this replica may
// write (it holds the leader lease), goes through the client-side rate limiter, and is
// counted. Secrets are written with server-side apply (field manager `secretsync`).
import {
  type CoreV1Api,
  type CustomObjectsApi,
  type KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import {
  FIELD_MANAGER,
  GROUP,
  MANAGED_BY_LABEL,
  OWNER_LABEL,
  VERSION,
  type AnySource,
  type SecretSync,
  type SecretSyncStatus,
  type SourceStatus,
} from '../api/types.js';
import { KubernetesError, StaleObjectError } from '../errors.js';
import type { KubeSecret, SyncWriter } from '../secretsync/ports.js';
import { isConflict, isNotFound, kubeError } from './errors.js';

export class NotLeaderError extends KubernetesError {
  constructor() {
    super('this replica does not hold the leader lease; not writing');
  }
}

export interface WriterDeps {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
  /** Leader fence: false means do not write at all. */
  canWrite: () => boolean;
  /** Client-side rate limit around each call. */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  onWrite?: (resource: string, verb: string) => void;
  component?: string;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeSyncWriter implements SyncWriter {
  constructor(private readonly d: WriterDeps) {}

  private async write<T>(
    resource: string,
    verb: string,
    action: string,
    fn: () => Promise<T>,
    opts: { ignoreNotFound?: boolean } = {},
  ): Promise<T | undefined> {
    if (!this.d.canWrite()) throw new NotLeaderError();
    try {
      const r = await this.d.limit(fn);
      this.d.onWrite?.(resource, verb);
      return r;
    } catch (err) {
      if (opts.ignoreNotFound && isNotFound(err)) return undefined;
      if (isConflict(err)) throw new StaleObjectError(`Kubernetes API: ${action}: the object changed meanwhile; retrying`);
      throw kubeError(action, err);
    }
  }

  async applySecret(secret: KubeSecret): Promise<void> {
    const { namespace, name } = secret.metadata;
    await this.write('secrets', 'apply', `applying Secret ${namespace}/${name}`, () =>
      this.d.objects.patch(
        { apiVersion: 'v1', kind: 'Secret', ...secret },
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
  }

  async deleteSecret(namespace: string, name: string, uid: string): Promise<void> {
    await this.write(
      'secrets',
      'delete',
      `deleting Secret ${namespace}/${name}`,
      () => this.d.core.deleteNamespacedSecret({ name, namespace, body: { preconditions: { uid } } }),
      { ignoreNotFound: true },
    );
  }

  async releaseSecret(secret: KubeSecret, ownerUid: string): Promise<void> {
    const { namespace, name } = secret.metadata;
    const ownerReferences = (secret.metadata.ownerReferences ?? []).filter((o) => o.uid !== ownerUid);
    await this.write('secrets', 'patch', `releasing Secret ${namespace}/${name}`, () =>
      this.d.core.patchNamespacedSecret(
        {
          name,
          namespace,
          body: {
            metadata: {
              resourceVersion: secret.metadata.resourceVersion,
              ownerReferences,
              labels: { [OWNER_LABEL]: null, [MANAGED_BY_LABEL]: null },
            },
          },
        },
        mergePatch,
      ),
    );
  }

  async patchStatus(ss: SecretSync, status: SecretSyncStatus): Promise<string | undefined> {
    const { namespace = '', name, resourceVersion } = ss.metadata;
    const r = (await this.write('secretsyncs/status', 'patch', `updating status of SecretSync ${namespace}/${name}`, () =>
      this.d.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: 'secretsyncs', name, body: { metadata: { resourceVersion }, status } },
        mergePatch,
      ),
    )) as SecretSync | undefined;
    return r?.metadata?.resourceVersion;
  }

  async patchSourceStatus(src: AnySource, status: SourceStatus): Promise<void> {
    const { namespace, name, resourceVersion } = src.metadata;
    const body = { metadata: { resourceVersion }, status };
    const what = `updating status of ${src.kind} ${namespace ? `${namespace}/` : ''}${name}`;
    if (src.kind === 'SecretSource') {
      await this.write('secretsources/status', 'patch', what, () =>
        this.d.custom.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, namespace: namespace ?? '', plural: 'secretsources', name, body },
          mergePatch,
        ),
      );
    } else {
      await this.write('clustersecretsources/status', 'patch', what, () =>
        this.d.custom.patchClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: 'clustersecretsources', name, body }, mergePatch),
      );
    }
  }

  async setFinalizers(ss: SecretSync, finalizers: string[]): Promise<string | undefined> {
    const { namespace = '', name, resourceVersion } = ss.metadata;
    const r = (await this.write('secretsyncs', 'patch', `updating finalizers of SecretSync ${namespace}/${name}`, () =>
      this.d.custom.patchNamespacedCustomObject(
        // resourceVersion makes this a compare-and-swap: finalizers of others are never lost.
        { group: GROUP, version: VERSION, namespace, plural: 'secretsyncs', name, body: { metadata: { finalizers, resourceVersion } } },
        mergePatch,
      ),
    )) as SecretSync | undefined;
    return r?.metadata?.resourceVersion;
  }

  async event(ss: SecretSync, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const { namespace = '', name, uid, resourceVersion } = ss.metadata;
    const now = new Date();
    try {
      await this.write('events', 'create', `recording an event for SecretSync ${namespace}/${name}`, () =>
        this.d.core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { generateName: `${name}.`, namespace },
            involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: 'SecretSync', name, namespace, uid, resourceVersion },
            type,
            reason,
            message: message.slice(0, 1024),
            source: { component: this.d.component ?? 'secretsync' },
            reportingComponent: this.d.component ?? 'secretsync',
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        }),
      );
    } catch {
      // Events are best effort: losing one must not fail a reconcile.
    }
  }
}
