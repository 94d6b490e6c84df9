// The composition root: the only place that reads the environment and builds real
// clients. Wires informers → work queue → controller → reconciler, leader election,
// metrics and health endpoints; the runtime Manager orders start-up and graceful shutdown.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { INJECT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNER_LABEL } from './api/annotations.js';
import {
  GROUP,
  VERSION,
  type AnySource,
  type SecretSync,
} from './api/types.js';
import type { OperatorOptions } from './flags.js';
import { retryAfterMs } from './kube/errors.js';
import { learnApiAudiences } from './kube/api-audiences.js';
import { HMAC_KEY_SECRET, ensureHmacKey } from './kube/hmac-key.js';
import { deploymentOwner } from './kube/owner.js';
import { KubeLeaseStore } from './kube/lease-store.js';
import { listWatch } from './kube/list-watch.js';
import { providerKube } from './kube/provider-kube.js';
import { countRequests } from './kube/request-metrics.js';
import { shareConnections } from './kube/connections.js';
import { CacheSyncReader } from './kube/reader.js';
import { KubeSyncWriter } from './kube/writer.js';
import { healthRoutes, metricsRoutes, serve } from './observability/health.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, reconcileErrorReason, workQueueMetrics } from './observability/metrics.js';
import { ProviderRegistry } from './providers/registry.js';
import { createAwsProviderFactory } from './providers/aws/index.js';
import { createVaultProviderFactory } from './providers/vault/index.js';
import { ClientRateLimiter } from './runtime/client-rate-limiter.js';
import { Controller } from './runtime/controller.js';
import { Informer } from './runtime/informer.js';
import { LeaderElector } from './runtime/leader-election.js';
import { Manager } from './runtime/manager.js';
import { WorkQueue } from './runtime/workqueue.js';
import { sourceKey } from './api/source-ref.js';
import { hmacKey } from './secretsync/content.js';
import type { KubeSecret, KubeWorkload } from './secretsync/ports.js';
import type { KubeRole, KubeRoleBinding } from './secretsync/grants.js';
import { SecretSyncReconciler, type ReconcilerDeps } from './secretsync/reconciler.js';
import { slimWorkload } from './kube/workloads.js';
import { slimSecret, withoutManagedFields } from './kube/slim.js';
import { KekVersions } from './secretsync/kek-versions.js';
import { KekWatcher } from './secretsync/kek-watcher.js';
import { UninjectedReporter, type PodLike } from './webhook/uninjected.js';
import { KubeWebhookCertStore } from './kube/webhook-cert-store.js';
import { KubeWebhookConfig } from './kube/webhook-config.js';
import { readCertDir } from './webhook/cert-dir.js';
import { injectionHandler } from './webhook/handler.js';
import { DEFAULT_WEBHOOK_SECRET_NAME, WebhookServing } from './webhook/serving.js';
import { wireEvents, type NamespaceLike } from './secretsync/events.js';
import { SourceReconciler } from './secretsync/source-reconciler.js';
import { fairShareGroup } from './secretsync/fair-share.js';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function operatorNamespace(opts: OperatorOptions): string {
  if (opts.operatorNamespace) return opts.operatorNamespace;
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    return 'secretsync-system';
  }
}

function loadKubeConfig(opts: OperatorOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault(); // $KUBECONFIG, ~/.kube/config, then in-cluster
  return kc;
}

export async function runOperator(opts: OperatorOptions): Promise<number> {
  const identity = `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const log: Logger = createLogger({
    level: opts.logLevel,
    base: { name: 'secretsync', identity },
    format: opts.logFormat,
    color: process.stdout.isTTY && !process.env.NO_COLOR,
  });
  const kc = loadKubeConfig(opts);
  const opNs = operatorNamespace(opts);
  const metrics = createMetrics({ defaultMetrics: true });
  shareConnections(kc);
  countRequests(kc, (resource, verb) => metrics.apiRequests.inc({ resource, verb }));
  const limiter = new ClientRateLimiter({ qps: opts.qps, burst: opts.burst });
  const limit = <T>(fn: () => Promise<T>) => limiter.withRateLimit(fn, retryAfterMs);
  const limitSpare = async <T>(fn: () => Promise<T>) => {
    await limiter.acquireSpare();
    return fn();
  };
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const apps = kc.makeApiClient(AppsV1Api);

  log.info({ operatorNamespace: opNs, namespace: opts.namespace ?? '(all)', leaderElect: opts.leaderElect }, 'starting');
  const owner = opts.ownerDeployment !== undefined ? await deploymentOwner(apps, opNs, opts.ownerDeployment) : undefined;
  const contentKey = hmacKey(await ensureHmacKey(core, opNs, undefined, owner));
  // Tokens the operator mints for sources must never carry one of these (plus the well-known forms).
  const apiAudiences = await learnApiAudiences(kc);
  log.info({ apiAudiences: apiAudiences.audiences, from: apiAudiences.from }, "learned the API server's token audiences; tokens for them are never minted for a source");

  const nsPath = (base: string, plural: string) =>
    opts.namespace ? `${base}/namespaces/${opts.namespace}/${plural}` : `${base}/${plural}`;
  const crdBase = `/apis/${GROUP}/${VERSION}`;
  const informerEvents = (kind: string) => (e: { type: string; error?: string }) =>
    e.type === 'watch-error' || e.type === 'watchdog-fired' || e.type === 'gone'
      ? log.warn({ informer: kind, event: e.type, err: e.error }, 'informer')
      : log.debug({ informer: kind, event: e.type }, 'informer');
  const secretSyncs = new Informer<SecretSync>({
    listWatch: listWatch<SecretSync>(kc, { path: nsPath(crdBase, 'secretsyncs'), transform: withoutManagedFields }),
    onEvent: informerEvents('SecretSync'),
    resyncMs: opts.resyncPeriodMs,
  });
  const secretSources = new Informer<AnySource>({
    listWatch: listWatch<AnySource>(kc, { path: nsPath(crdBase, 'secretsources') }),
    onEvent: informerEvents('SecretSource'),
    resyncMs: opts.resyncPeriodMs,
  });
  const clusterSecretSources = new Informer<AnySource>({
    listWatch: listWatch<AnySource>(kc, { path: `${crdBase}/clustersecretsources` }),
    onEvent: informerEvents('ClusterSecretSource'),
    resyncMs: opts.resyncPeriodMs,
  });
  // Only Secrets we own: never a cache of every Secret in the cluster.
  const ownedSecrets = new Informer<KubeSecret>({
    listWatch: listWatch<KubeSecret>(kc, {
      path: nsPath('/api/v1', 'secrets'),
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${OWNER_LABEL}`,
      transform: slimSecret,
    }),
    onEvent: informerEvents('Secret'),
    resyncMs: opts.resyncPeriodMs,
  });
  // Namespace labels decide which namespaces a ClusterSecretSource's namespaceSelector admits.
  const namespaces = new Informer<NamespaceLike>({
    listWatch: listWatch<NamespaceLike>(kc, {
      path: '/api/v1/namespaces',
      ...(opts.namespace ? { fieldSelector: `metadata.name=${opts.namespace}` } : {}),
    }),
    onEvent: informerEvents('Namespace'),
    resyncMs: opts.resyncPeriodMs,
  });
  // spec.access: the Roles and RoleBindings we keep, and only those.
  const ownedLabels = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${OWNER_LABEL}`;
  const ownedRoles = new Informer<KubeRole>({
    listWatch: listWatch<KubeRole>(kc, { path: nsPath('/apis/rbac.authorization.k8s.io/v1', 'roles'), labelSelector: ownedLabels }),
    onEvent: informerEvents('Role'),
    resyncMs: opts.resyncPeriodMs,
  });
  const ownedRoleBindings = new Informer<KubeRoleBinding>({
    listWatch: listWatch<KubeRoleBinding>(kc, { path: nsPath('/apis/rbac.authorization.k8s.io/v1', 'rolebindings'), labelSelector: ownedLabels }),
    onEvent: informerEvents('RoleBinding'),
    resyncMs: opts.resyncPeriodMs,
  });
  // Pods that ask for injection (label-filtered): those admitted without it are reported.
  const injectPods = new Informer<PodLike>({
    listWatch: listWatch<PodLike>(kc, { path: nsPath('/api/v1', 'pods'), labelSelector: `${INJECT_LABEL}=true` }),
    onEvent: informerEvents('Pod'),
    resyncMs: opts.resyncPeriodMs,
  });
  // Workloads, for rollouts and the in-use hold on deletion. Every one of the namespaces we
  // serve (a workload uses a Secret by name; nothing to filter on), cached slim: only the
  // fields rollouts read (src/kube/workloads.ts).
  const workload = (kind: string, plural: string) =>
    new Informer<KubeWorkload>({
      listWatch: listWatch<KubeWorkload>(kc, { path: nsPath('/apis/apps/v1', plural), transform: slimWorkload }),
      onEvent: informerEvents(kind),
      resyncMs: opts.resyncPeriodMs,
    });
  const deployments = workload('Deployment', 'deployments');
  const statefulSets = workload('StatefulSet', 'statefulsets');
  const daemonSets = workload('DaemonSet', 'daemonsets');
  const informers = [
    secretSyncs,
    secretSources,
    clusterSecretSources,
    ownedSecrets,
    namespaces,
    ownedRoles,
    ownedRoleBindings,
    injectPods,
    deployments,
    statefulSets,
    daemonSets,
  ];

  let elector: LeaderElector | undefined;
  const canWrite = () => !elector || elector.isLeader();
  const providerOptions = {
    allowInsecureHttp: opts.insecureAllowHttp,
    timeoutMs: opts.sourceTimeoutMs,
    maxResponseBytes: opts.sourceMaxResponseBytes,
    apiAudiences: apiAudiences.audiences,
  };
  if (opts.insecureAllowHttp) log.warn('--insecure-allow-http: http:// sources are accepted; credentials and secrets may cross the network unencrypted');
  const providers = new ProviderRegistry().register(createVaultProviderFactory(providerOptions)).register(createAwsProviderFactory(providerOptions));
  const reader = new CacheSyncReader({
    secretSyncs,
    secretSources,
    clusterSecretSources,
    managedSecrets: ownedSecrets,
    namespaces,
    managedRoles: ownedRoles,
    managedRoleBindings: ownedRoleBindings,
    deployments,
    statefulSets,
    daemonSets,
  });
  const writer = new KubeSyncWriter({
    core,
    custom,
    rbac,
    apps,
    canWrite,
    limit,
    limitSpare,
    onWrite: (resource, verb) => metrics.apiWrites.inc({ resource, verb }),
    onEventDropped: (reason) => metrics.eventsDropped.inc({ reason }),
  });
  const kekVersions = new KekVersions();
  const reconciler = new SecretSyncReconciler({
    reader,
    writer,
    providers,
    providerKube: providerKube(core),
    operatorNamespace: opNs,
    operatorSecrets: [HMAC_KEY_SECRET, DEFAULT_WEBHOOK_SECRET_NAME],
    hmacKey: contentKey,
    log,
    metrics,
    kekVersions,
    ...testFaults(log),
  });
  const queue: WorkQueue = new WorkQueue({
    metrics: workQueueMetrics(metrics, 'secretsync', () => queue),
    // A namespace's own sources (addresses it chose) hold at most --source-concurrency workers.
    groupOf: (key) => {
      const [namespace = '', name = ''] = key.split('/');
      return fairShareGroup(reader.getSecretSync(namespace, name));
    },
    groupLimit: opts.sourceConcurrency,
  });
  const controller = new Controller({
    name: 'secretsync',
    queue,
    workers: opts.workers,
    reconcile: (key) => reconciler.reconcile(key),
    stopGraceMs: opts.shutdownTimeoutMs,
    onResult: (r) => {
      metrics.reconcileDuration.observe({ controller: 'secretsync', result: r.result }, r.durationMs / 1000);
      if (r.error) {
        metrics.reconcileErrors.inc({ controller: 'secretsync', reason: reconcileErrorReason(r.error) });
        log.debug({ key: r.key, result: r.result }, 'reconcile failed');
      }
    },
  });
  wireEvents({
    queue,
    secretSyncs,
    secretSources,
    clusterSecretSources,
    ownedSecrets,
    ownedGrants: [ownedRoles, ownedRoleBindings],
    namespaces,
    workloads: [deployments, statefulSets, daemonSets],
    // A deleted or edited source gives up its client now: tokens revoked, timers stopped.
    onSourceRetired: (src) => void providers.evict(src),
  });

  // failurePolicy Ignore: a pod admitted while no replica answered has no files; say so on
  // each SecretSync it named (the leader, once per pod per process).
  const uninjected = new UninjectedReporter((namespace, name, podName) => {
    // Not leading, or the SecretSync not in the cache (yet): the leader's start-up pass reports it.
    if (!canWrite() || !manager.hasSynced()) return false;
    const ss = reader.getSecretSync(namespace, name);
    if (ss) {
      void writer.event(
        ss,
        'Warning',
        'PodNotInjected',
        `Pod ${podName} asked for this SecretSync but was admitted without injection (the webhook did not answer and its failurePolicy is Ignore): it has no /run/secrets/${name}/; delete the pod so it is created again`,
      );
      log.warn({ secretsync: `${namespace}/${name}`, pod: podName }, 'pod admitted without injection');
    }
    return true;
  });
  injectPods.addHandlers({ onAdd: (p) => uninjected.observe(p), onUpdate: (_a, b) => uninjected.observe(b), onDelete: (p) => uninjected.forget(p) });

  // Source status (Ready when the provider block is valid) on its own small queue.
  const sourceReconciler = new SourceReconciler(
    { getSource: (ref) => reader.getSource(ref), patchSourceStatus: (src, st) => writer.patchSourceStatus(src, st) },
    providers,
    opNs,
  );
  const sourceQueue: WorkQueue = new WorkQueue({ metrics: workQueueMetrics(metrics, 'sources', () => sourceQueue) });
  const sourceController = new Controller({
    name: 'sources',
    queue: sourceQueue,
    workers: 1,
    reconcile: (key) => sourceReconciler.reconcile(key),
    stopGraceMs: opts.shutdownTimeoutMs,
    onResult: (r) => {
      metrics.reconcileDuration.observe({ controller: 'sources', result: r.result }, r.durationMs / 1000);
      if (r.error) metrics.reconcileErrors.inc({ controller: 'sources', reason: reconcileErrorReason(r.error) });
    },
  });
  for (const inf of [secretSources, clusterSecretSources]) {
    inf.addHandlers({
      onAdd: (s) => sourceQueue.add(sourceKey(s)),
      onUpdate: (a, b) => a.metadata.generation !== b.metadata.generation && sourceQueue.add(sourceKey(b)),
    });
  }

  const manager = new Manager({
    onLeading: (leading) => {
      metrics.leader.set(leading ? 1 : 0);
      if (leading) for (const p of injectPods.list()) uninjected.observe(p);
      if (leading) log.info({ workers: opts.workers, sourceConcurrency: opts.sourceConcurrency }, 'controllers started');
      else if (opts.leaderElect) log.error('lost the leader lease; stopping so a fresh process can rejoin');
    },
    onStopping: (why) => log.info({ why }, 'shutting down'),
  });
  const serve2 = (addr: string, routes: Parameters<typeof serve>[1]) => {
    const s = serve(addr, routes);
    manager.addServer({ start: async () => void (await s.listen()), stop: () => s.close() });
  };
  if (opts.healthAddr !== '0') serve2(opts.healthAddr, healthRoutes({ live: () => true, ready: () => manager.hasSynced() }));
  if (opts.metricsAddr !== '0') serve2(opts.metricsAddr, metricsRoutes(metrics.registry));
  if (opts.webhook.addr) {
    // Admission is served by every replica (the API server may call any), from the caches.
    const [host, port] = splitHostPort(opts.webhook.addr);
    const inCluster = !!process.env.KUBERNETES_SERVICE_HOST;
    const onWrite = (resource: string, verb: string) => metrics.apiWrites.inc({ resource, verb });
    const clientAuth = opts.webhook.clientCaFile
      ? { ca: readFileSync(opts.webhook.clientCaFile, 'utf8'), ...(opts.webhook.clientNames.length > 0 ? { names: opts.webhook.clientNames } : {}) }
      : undefined;
    const serving = new WebhookServing(
      {
        operatorNamespace: opNs,
        ...(opts.namespace ? { watchNamespace: opts.namespace } : {}),
        secretName: DEFAULT_WEBHOOK_SECRET_NAME,
        configName: opts.webhook.configName,
        ...(inCluster ? { service: { name: opts.webhook.service, port: 443 } } : {}),
        port,
        ...(host ? { host } : {}),
        failurePolicy: opts.webhook.failurePolicy,
        timeoutSeconds: opts.webhook.timeoutSeconds,
        ...(clientAuth ? { clientAuth } : {}),
      },
      {
        // Only a caller with the API server's client certificate gets detailed refusals.
        handler: injectionHandler(reader, { agentImage: opts.webhook.agentImage, callerVerified: clientAuth !== undefined, fileEnv: opts.webhook.fileEnv, insecureAllowHttp: opts.insecureAllowHttp }, { log, synced: () => manager.hasSynced() }),
        ...(opts.webhook.certDir ? { externalCerts: () => readCertDir(opts.webhook.certDir as string) } : {}),
        certStore: new KubeWebhookCertStore(core, { namespace: opNs, name: DEFAULT_WEBHOOK_SECRET_NAME }, onWrite, owner),
        webhookConfig: new KubeWebhookConfig(kc.makeApiClient(AdmissionregistrationV1Api), onWrite),
        log,
        metrics: metrics.webhook,
      },
    );
    manager.addServer(serving);
  }
  for (const i of informers) manager.addCache(i);
  const kekWatcher = new KekWatcher({
    listSecretSyncs: () => secretSyncs.list(),
    getSource: (ref) => reader.getSource(ref),
    namespaceLabels: (ns) => reader.getNamespaceLabels(ns),
    encrypter: (source, ref) => reconciler.keyEncrypter(source, ref),
    versions: kekVersions,
    enqueue: (key) => queue.add(key),
    intervalMs: opts.kekCheckIntervalMs,
    log,
  });
  manager.addController(controller).addController(sourceController).addController(kekWatcher);
  manager.addCleanup(() => providers.closeAll()); // revoke Vault tokens
  if (opts.leaderElect) {
    elector = new LeaderElector({
      identity,
      store: new KubeLeaseStore(kc, { namespace: opNs, name: opts.leaderElectionId }, owner),
      onStartedLeading: () => {
        log.info({ lease: `${opNs}/${opts.leaderElectionId}` }, 'became leader');
        manager.startedLeading();
      },
      onStoppedLeading: () => manager.stoppedLeading(),
      onNewLeader: (who) => log.info({ leader: who }, 'leader observed'),
      onError: (err) => log.warn({ err }, 'leader election'),
    });
    manager.useElector(elector);
  }
  process.once('SIGTERM', () => void manager.stop('SIGTERM'));
  process.once('SIGINT', () => void manager.stop('SIGINT'));

  try {
    await manager.start();
  } catch (err) {
    // A server or cache that cannot start (e.g. a webhook TLS Secret the operator did not
    // create): close what did start, so the process exits with the error instead of idling.
    await manager.stop('start failed', 1).catch(() => undefined);
    throw err;
  }
  log.info({ secretsyncs: secretSyncs.list().length }, 'caches synced');
  const code = await manager.done;
  metrics.leader.set(0);
  log.info('stopped');
  return code;
}

/**
 * Crash-safety tests kill the process at a chosen point: SECRETSYNC_TEST_FAULT=
 * exit-after-rotation-write exits (code 86) right after a rotation's source write, before
 * its status write. SECRETSYNC_TEST_FAULT=wait-before-rotation-write:<file> holds each
 * rotation write until <file> exists (a test writes at the source meanwhile: "another
 * writer first"). Never set in production; announced loudly when it is.
 */
function testFaults(log: Logger): Pick<ReconcilerDeps, 'faults'> {
  const fault = process.env.SECRETSYNC_TEST_FAULT;
  if (!fault) return {};
  const waitPrefix = 'wait-before-rotation-write:';
  if (fault.startsWith(waitPrefix) && fault.length > waitPrefix.length) {
    const file = fault.slice(waitPrefix.length);
    log.warn({ fault }, 'TEST FAULT INJECTION ENABLED: each rotation write waits for a file');
    return {
      faults: {
        beforeRotationWrite: async () => {
          log.warn({ fault }, 'holding the rotation write on the injected fault');
          while (!existsSync(file)) await new Promise((r) => setTimeout(r, 100));
        },
      },
    };
  }
  if (fault !== 'exit-after-rotation-write') {
    throw new Error(`SECRETSYNC_TEST_FAULT="${fault}" is not a known fault (exit-after-rotation-write, wait-before-rotation-write:<file>)`);
  }
  log.warn({ fault }, 'TEST FAULT INJECTION ENABLED: the process exits after its next rotation write');
  return {
    faults: {
      afterRotationWrite: () => {
        log.warn({ fault }, 'exiting on the injected fault');
        process.exit(86);
      },
    },
  };
}

/** `host:port` or `:port` → [host or undefined, port]. */
function splitHostPort(addr: string): [string | undefined, number] {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--webhook-addr must be HOST:PORT or :PORT, got "${addr}"`);
  const host = addr.slice(0, i);
  return [host === '' ? undefined : host, port];
}
