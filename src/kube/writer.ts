// SyncWriter on the real API server. Every write first checks that this replica may
// write (it holds the leader lease), goes through the client-side rate limiter, and is
// counted. Secrets are created with POST and changed with merge patches carrying a
// resourceVersion, so a write never lands on a Secret we did not see to be ours (field
// manager `secretsync`; docs/adr/0001-secret-writes.md).
import { type AppsV1Api, type CoreV1Api, type CoreV1Event as CoreV1EventBody, type CustomObjectsApi, type RbacAuthorizationV1Api, type V1Role, type V1RoleBinding, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  FIELD_MANAGER,
  GROUP,
  VERSION,
  type AnySource,
  type SecretSync,
  type SecretSyncStatus,
  type SourceStatus,
  type WorkloadKind,
} from '../api/types.js';
import { KubernetesError, ObjectNotFoundError, StaleObjectError, TargetConflictError, TargetInvalidError } from '../errors.js';
import type { GrantWrite } from '../secretsync/grants.js';
import type { KubeSecret, SecretPatch, SyncWriter } from '../secretsync/ports.js';
import { BestEffortQueue } from '../runtime/best-effort-queue.js';
import { KeyedCoalescer } from '../runtime/coalescer.js';
import { apiMessage, isConflict, isInvalid, isNotFound, kubeError, sanitizeApiText } from './errors.js';

export class NotLeaderError extends KubernetesError {
  constructor() {
    super('this replica does not hold the leader lease; not writing');
  }
}

export interface WriterDeps {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  rbac: RbacAuthorizationV1Api;
  /** Rollouts: pod-template annotations of Deployments, StatefulSets and DaemonSets. */
  apps: AppsV1Api;
  /** Leader fence: false means do not write at all. */
  canWrite: () => boolean;
  /** Client-side rate limit around each call. */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  /**
   * The limit for Events: low priority, only tokens no other call has reserved (default:
   * `limit`). Events go out in the background, after the writes that make objects Ready.
   */
  limitSpare?: <T>(fn: () => Promise<T>) => Promise<T>;
  onWrite?: (resource: string, verb: string) => void;
  /** An Event was dropped: the queue overflowed, the API refused it, or the writer closed. */
  onEventDropped?: (why: 'overflow' | 'failed' | 'closed') => void;
  /** Events waiting to be sent beyond this drop the oldest. Default 10,000. */
  maxPendingEvents?: number;
  component?: string;
}

interface TemplateAnnotation {
  w: { kind: WorkloadKind; namespace: string; name: string };
  key: string;
  value: string;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export class KubeSyncWriter implements SyncWriter {
  private readonly events: BestEffortQueue<CoreV1EventBody>;
  private readonly templatePatches = new KeyedCoalescer<TemplateAnnotation>({
    idleMs: 150,
    maxWaitMs: 1000,
    flush: (_, values) => this.patchTemplate((values[0] as TemplateAnnotation).w, Object.fromEntries(values.map((v) => [v.key, v.value]))),
  });

  constructor(private readonly d: WriterDeps) {
    this.events = new BestEffortQueue<CoreV1EventBody>({
      concurrency: 4,
      maxPending: d.maxPendingEvents ?? 10_000,
      send: (body) => this.sendEvent(body),
      onDrop: (_, why) => d.onEventDropped?.(why),
    });
  }

  /** Resolves once every recorded Event was sent or dropped (tests, shutdown). */
  eventsSent(): Promise<void> {
    return this.events.idle();
  }

  private async write<T>(
    resource: string,
    verb: string,
    action: string,
    fn: () => Promise<T>,
    opts: { ignoreNotFound?: boolean; notFound?: () => Error } = {},
  ): Promise<T | undefined> {
    if (!this.d.canWrite()) throw new NotLeaderError();
    try {
      const r = await this.d.limit(fn);
      this.d.onWrite?.(resource, verb);
      return r;
    } catch (err) {
      if (opts.ignoreNotFound && isNotFound(err)) return undefined;
      if (opts.notFound && isNotFound(err)) throw opts.notFound();
      if (isConflict(err)) throw new StaleObjectError(`Kubernetes API: ${action}: the object changed meanwhile; retrying`);
      if (resource === 'secrets' && isInvalid(err)) {
        throw new TargetInvalidError(
          `the API server refuses ${action.replace(/^[a-z]+ /, '')}: ${sanitizeApiText(apiMessage(err))}: fix spec.target (type, labels, annotations) or the keys synced into it`,
        );
      }
      throw kubeError(action, err);
    }
  }

  async createSecret(secret: KubeSecret): Promise<'created' | 'exists'> {
    const { namespace, name } = secret.metadata;
    try {
      await this.write('secrets', 'create', `creating Secret ${namespace}/${name}`, () =>
        this.d.core.createNamespacedSecret({ namespace, body: secret, fieldManager: FIELD_MANAGER }),
      );
      return 'created';
    } catch (err) {
      if (err instanceof StaleObjectError) return 'exists'; // 409 AlreadyExists: nothing was written
      throw err;
    }
  }

  async patchSecret(namespace: string, name: string, patch: SecretPatch): Promise<void> {
    await this.write('secrets', 'patch', `updating Secret ${namespace}/${name}`, () =>
      this.d.core.patchNamespacedSecret({ name, namespace, body: patch, fieldManager: FIELD_MANAGER }, mergePatch),
    );
  }

  async validateSecret(secret: KubeSecret): Promise<void> {
    const { namespace, name } = secret.metadata;
    // A dry-run create runs the API server's validation and admission before it looks for the
    // name: AlreadyExists means the Secret itself would be accepted.
    try {
      await this.write('secrets', 'create-dry-run', `checking Secret ${namespace}/${name}`, () =>
        this.d.core.createNamespacedSecret({ namespace, body: secret, dryRun: 'All', fieldManager: FIELD_MANAGER }),
      );
    } catch (err) {
      if (err instanceof StaleObjectError) return;
      throw err;
    }
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

  async readSecret(namespace: string, name: string): Promise<KubeSecret | undefined> {
    try {
      return (await this.d.limit(() => this.d.core.readNamespacedSecret({ name, namespace }))) as KubeSecret;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(`reading Secret ${namespace}/${name}`, err);
    }
  }

  async writeStatus(ss: SecretSync, status: SecretSyncStatus): Promise<string | undefined> {
    const { namespace = '', name, resourceVersion } = ss.metadata;
    // A JSON patch replacing the whole status (a merge patch never removes map keys), with
    // the resourceVersion we computed it from as precondition (409 when it moved).
    const body = [
      { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
      { op: 'add', path: '/status', value: status },
    ];
    const r = (await this.write('secretsyncs/status', 'patch', `updating status of SecretSync ${namespace}/${name}`, () =>
      this.d.custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'secretsyncs', name, body }, jsonPatch),
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

  async writeGrant(g: GrantWrite): Promise<void> {
    const rbac = this.d.rbac;
    if (g.op === 'delete') {
      const what = `deleting ${g.kind} ${g.namespace}/${g.name}`;
      const body = { preconditions: { uid: g.uid } };
      const resource = g.kind === 'Role' ? 'roles' : 'rolebindings';
      await this.write(resource, 'delete', what, () =>
        g.kind === 'Role' ? rbac.deleteNamespacedRole({ name: g.name, namespace: g.namespace, body }) : rbac.deleteNamespacedRoleBinding({ name: g.name, namespace: g.namespace, body }),
      { ignoreNotFound: true });
      return;
    }
    const { kind, obj } = g.object;
    const { namespace, name } = obj.metadata;
    const resource = kind === 'Role' ? 'roles' : 'rolebindings';
    if (g.op === 'replace') {
      await this.write(resource, 'update', `updating ${kind} ${namespace}/${name}`, () =>
        kind === 'Role'
          ? rbac.replaceNamespacedRole({ name, namespace, body: obj as V1Role, fieldManager: FIELD_MANAGER })
          : rbac.replaceNamespacedRoleBinding({ name, namespace, body: obj as V1RoleBinding, fieldManager: FIELD_MANAGER }),
      );
      return;
    }
    try {
      await this.write(resource, 'create', `creating ${kind} ${namespace}/${name}`, () =>
        kind === 'Role'
          ? rbac.createNamespacedRole({ namespace, body: obj as V1Role, fieldManager: FIELD_MANAGER })
          : rbac.createNamespacedRoleBinding({ namespace, body: obj as V1RoleBinding, fieldManager: FIELD_MANAGER }),
      );
    } catch (err) {
      if (!(err instanceof StaleObjectError)) throw err;
      throw new TargetConflictError(`${kind} ${namespace}/${name} already exists and is not managed by this SecretSync: delete or rename it, or remove spec.access`);
    }
  }

  /**
   * Sets one pod-template annotation. Calls for the same workload that arrive together (the
   * SecretSyncs it uses, changed at one refresh tick) are merged into one patch, so the
   * workload rolls once: the batch goes out when no call joined it for 150 ms, or 1 s after
   * its first; each caller gets the patch's outcome.
   */
  setTemplateAnnotation(w: { kind: WorkloadKind; namespace: string; name: string }, key: string, value: string): Promise<void> {
    return this.templatePatches.add(`${w.kind}/${w.namespace}/${w.name}`, { w, key, value });
  }

  private async patchTemplate(w: { kind: WorkloadKind; namespace: string; name: string }, annotations: Record<string, string>): Promise<void> {
    const { kind, namespace, name } = w;
    // A merge patch of these annotations: the rest of the template (and who else manages it) stays as is.
    const req = { name, namespace, body: { spec: { template: { metadata: { annotations } } } }, fieldManager: FIELD_MANAGER };
    const apps = this.d.apps;
    const resource = `${kind.toLowerCase()}s`;
    const what = `rolling out ${kind} ${namespace}/${name}`;
    await this.write(
      resource,
      'patch',
      what,
      () =>
        kind === 'Deployment'
          ? apps.patchNamespacedDeployment(req, mergePatch)
          : kind === 'StatefulSet'
            ? apps.patchNamespacedStatefulSet(req, mergePatch)
            : apps.patchNamespacedDaemonSet(req, mergePatch),
      { notFound: () => new ObjectNotFoundError(`${what}: it no longer exists`) },
    );
  }

  /**
   * Records an Event without waiting for it: it is sent in the background at low priority
   * (limitSpare), with the time it happened. Best effort: a refused or dropped Event never
   * fails a reconcile.
   */
  event(ss: SecretSync, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const { namespace = '', name, uid, resourceVersion } = ss.metadata;
    const now = new Date();
    this.events.record({
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
    });
    return Promise.resolve();
  }

  private async sendEvent(body: CoreV1EventBody): Promise<void> {
    if (!this.d.canWrite()) throw new NotLeaderError();
    const namespace = body.metadata?.namespace ?? '';
    await (this.d.limitSpare ?? this.d.limit)(() => this.d.core.createNamespacedEvent({ namespace, body }));
    this.d.onWrite?.('events', 'create');
  }
}
