// The operator's eleven caches, each built by the one informer factory: what each caches,
// and why no more than that. Handlers and indexes are added by those who use them
// (secretsync/events.ts, kube/reader.ts and the other wiring files): they need the queues
// and reader built on these caches, so they cannot be passed in here.
import { INJECT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL } from '../api/annotations.js';
import { GROUP, VERSION, type AnySource, type SecretSync } from '../api/types.js';
import type { KubeClients } from '../kube/clients.js';
import type { ListWatchOptions } from '../kube/list-watch.js';
import { slimSecret, withoutManagedFields } from '../kube/slim.js';
import { slimWorkload } from '../kube/workloads.js';
import type { Logger } from '../observability/logger.js';
import { Informer, type InformerEvent, type KubeObjectLike, type ListWatch } from '../runtime/informer.js';
import type { Cache } from '../runtime/manager.js';
import type { NamespaceLike } from '../secretsync/events.js';
import type { KubeRole, KubeRoleBinding } from '../secretsync/grants.js';
import type { KubeSecret, KubeWorkload } from '../secretsync/ports.js';
import type { PodLike } from '../webhook/uninjected.js';

export interface StoreOptions {
  /** The kind cached, for the logs. */
  kind: string;
  /** --resync-period: every cache is relisted in full this often. */
  resyncMs: number;
  /** --watch-silence-timeout: a watch silent this long is abandoned and relisted (the informer's watchdog). */
  watchdogMs?: number;
  log: Logger;
}

/** The one informer factory: a cache of `listWatch`, its watch troubles logged as warnings. */
export function newInformer<T extends KubeObjectLike>(listWatch: ListWatch<T>, store: StoreOptions): Informer<T> {
  const { kind, log } = store;
  return new Informer<T>({
    listWatch,
    resyncMs: store.resyncMs,
    ...(store.watchdogMs !== undefined ? { watchdogMs: store.watchdogMs } : {}),
    onEvent: (e: InformerEvent) =>
      e.type === 'watch-error' || e.type === 'watchdog-fired' || e.type === 'gone'
        ? log.warn({ informer: kind, event: e.type, err: e.error }, 'informer')
        : log.debug({ informer: kind, event: e.type }, 'informer'),
  });
}

export interface OperatorInformers {
  secretSyncs: Informer<SecretSync>;
  secretSources: Informer<AnySource>;
  clusterSecretSources: Informer<AnySource>;
  ownedSecrets: Informer<KubeSecret>;
  namespaces: Informer<NamespaceLike>;
  ownedRoles: Informer<KubeRole>;
  ownedRoleBindings: Informer<KubeRoleBinding>;
  injectPods: Informer<PodLike>;
  deployments: Informer<KubeWorkload>;
  statefulSets: Informer<KubeWorkload>;
  daemonSets: Informer<KubeWorkload>;
}

export interface InformerScope {
  /** --namespace: watch this namespace only; undefined: all. */
  namespace: string | undefined;
  resyncMs: number;
  watchdogMs?: number;
}

export function operatorInformers(clients: Pick<KubeClients, 'listWatch'>, scope: InformerScope, log: Logger): OperatorInformers {
  const nsPath = (base: string, plural: string) => (scope.namespace ? `${base}/namespaces/${scope.namespace}/${plural}` : `${base}/${plural}`);
  const crd = `/apis/${GROUP}/${VERSION}`;
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const owned = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${OWNER_LABEL}`;
  const cache = <T extends KubeObjectLike>(kind: string, lw: ListWatchOptions) =>
    newInformer<T>(clients.listWatch<T>(lw), { kind, resyncMs: scope.resyncMs, ...(scope.watchdogMs !== undefined ? { watchdogMs: scope.watchdogMs } : {}), log });
  // Workloads, for rollouts and the in-use hold on deletion. Every one of the namespaces we
  // serve (a workload uses a Secret by name; nothing to filter on), cached slim: only the
  // fields rollouts read (src/kube/workloads.ts).
  const workloads = (kind: string, plural: string) => cache<KubeWorkload>(kind, { path: nsPath('/apis/apps/v1', plural), transform: slimWorkload });
  return {
    secretSyncs: cache<SecretSync>('SecretSync', { path: nsPath(crd, 'secretsyncs'), transform: withoutManagedFields }),
    secretSources: cache<AnySource>('SecretSource', { path: nsPath(crd, 'secretsources') }),
    clusterSecretSources: cache<AnySource>('ClusterSecretSource', { path: `${crd}/clustersecretsources` }),
    // Only Secrets we own: never a cache of every Secret in the cluster.
    ownedSecrets: cache<KubeSecret>('Secret', { path: nsPath('/api/v1', 'secrets'), labelSelector: owned, transform: slimSecret }),
    // Namespace labels decide which namespaces a ClusterSecretSource's namespaceSelector admits.
    namespaces: cache<NamespaceLike>('Namespace', {
      path: '/api/v1/namespaces',
      ...(scope.namespace ? { fieldSelector: `metadata.name=${scope.namespace}` } : {}),
    }),
    // spec.access: the Roles and RoleBindings we keep, and only those.
    ownedRoles: cache<KubeRole>('Role', { path: nsPath(rbac, 'roles'), labelSelector: owned }),
    ownedRoleBindings: cache<KubeRoleBinding>('RoleBinding', { path: nsPath(rbac, 'rolebindings'), labelSelector: owned }),
    // Pods that ask for injection (label-filtered): those admitted without it are reported.
    injectPods: cache<PodLike>('Pod', { path: nsPath('/api/v1', 'pods'), labelSelector: `${INJECT_LABEL}=true` }),
    deployments: workloads('Deployment', 'deployments'),
    statefulSets: workloads('StatefulSet', 'statefulsets'),
    daemonSets: workloads('DaemonSet', 'daemonsets'),
  };
}

/** Every cache, in the order the manager starts them. */
export function allInformers(i: OperatorInformers): Cache[] {
  return [
    i.secretSyncs,
    i.secretSources,
    i.clusterSecretSources,
    i.ownedSecrets,
    i.namespaces,
    i.ownedRoles,
    i.ownedRoleBindings,
    i.injectPods,
    i.deployments,
    i.statefulSets,
    i.daemonSets,
  ];
}
