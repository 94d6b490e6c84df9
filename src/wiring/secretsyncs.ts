// The SecretSync controller: the reconciler on the caches, its fair-share work queue, the
// informer events that enqueue SecretSyncs (secretsync/events.ts), and the KEK watcher that
// enqueues them when a key-encryption key rotates.
import { HMAC_KEY_SECRET } from '../kube/hmac-key.js';
import { providerKube } from '../kube/provider-kube.js';
import { workQueueMetrics } from '../observability/metrics.js';
import type { Controller } from '../runtime/controller.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { wireEvents } from '../secretsync/events.js';
import { fairShareGroup } from '../secretsync/fair-share.js';
import { KekVersions } from '../secretsync/kek-versions.js';
import { KekWatcher } from '../secretsync/kek-watcher.js';
import { SecretSyncReconciler } from '../secretsync/reconciler.js';
import { DEFAULT_WEBHOOK_SECRET_NAME } from '../webhook/serving.js';
import { meteredController } from './controllers.js';
import type { Core } from './core.js';
import type { TestFaults } from './test-faults.js';

export interface SecretSyncWiring {
  controller: Controller;
  kekWatcher: KekWatcher;
}

export function wireSecretSyncs(core: Core, testFaults: TestFaults): SecretSyncWiring {
  const { opts, log, metrics, clients, informers, reader, providers } = core;
  const { writer: faultyWriter, ...faults } = testFaults;
  // A KEK version learned to have moved (by a mint, a re-wrap, a force-sync's check or the
  // watcher) enqueues every SecretSync of that KEK.
  const kekVersions = new KekVersions((kekId) => kekWatcher.enqueueUsers(kekId));
  const reconciler = new SecretSyncReconciler({
    reader,
    writer: faultyWriter ? faultyWriter(core.writer) : core.writer,
    providers,
    providerKube: providerKube(clients.core),
    operatorNamespace: core.operatorNamespace,
    operatorSecrets: [HMAC_KEY_SECRET, DEFAULT_WEBHOOK_SECRET_NAME],
    hmacKey: core.contentKey,
    log,
    metrics,
    kekVersions,
    findMaxSecrets: opts.findMaxSecrets,
    ...faults,
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
  const controller = meteredController(
    { name: 'secretsync', queue, workers: opts.workers, reconcile: (key) => reconciler.reconcile(key), logFailures: true },
    core,
  );
  wireEvents({
    queue,
    secretSyncs: informers.secretSyncs,
    secretSources: informers.secretSources,
    clusterSecretSources: informers.clusterSecretSources,
    ownedSecrets: informers.ownedSecrets,
    ownedGrants: [informers.ownedRoles, informers.ownedRoleBindings],
    namespaces: informers.namespaces,
    workloads: [informers.deployments, informers.statefulSets, informers.daemonSets],
    // A deleted or edited source gives up its client now: tokens revoked, timers stopped.
    onSourceRetired: (src) => void providers.evict(src),
  });
  const kekWatcher = new KekWatcher({
    listSecretSyncs: () => informers.secretSyncs.list(),
    getSource: (ref) => reader.getSource(ref),
    namespaceLabels: (ns) => reader.getNamespaceLabels(ns),
    encrypter: (source, ref) => reconciler.keyEncrypter(source, ref),
    versions: kekVersions,
    enqueue: (key) => queue.add(key),
    intervalMs: opts.kekCheckIntervalMs,
    log,
  });
  return { controller, kekWatcher };
}
