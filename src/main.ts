// The composition root: the only place that reads the environment. Parse flags (cli.ts),
// build the clients, wire the controllers (src/wiring/), start. The runtime Manager orders
// start-up (servers, caches, then — while leading — controllers) and graceful shutdown.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { OperatorOptions } from './flags.js';
import { kubeClients, loadKubeConfig } from './kube/clients.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import type { LeaderElector } from './runtime/leader-election.js';
import { Manager } from './runtime/manager.js';
import {
  addEndpoints,
  admissionRecorder,
  allInformers,
  buildCore,
  leaderElector,
  testFaults,
  webhookServing,
  wireSecretSyncs,
  wireSources,
  wireUninjectedPods,
} from './wiring/index.js';

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

export async function runOperator(opts: OperatorOptions): Promise<number> {
  const identity = `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const log = createLogger({
    level: opts.logLevel,
    base: { name: 'secretsync', identity },
    format: opts.logFormat,
    color: process.stdout.isTTY && !process.env.NO_COLOR,
  });
  const metrics = createMetrics({ defaultMetrics: true });
  const clients = kubeClients(loadKubeConfig(opts.kubeconfig), (resource, verb) => metrics.apiRequests.inc({ resource, verb }));
  const opNs = operatorNamespace(opts);
  log.info({ operatorNamespace: opNs, namespace: opts.namespace ?? '(all)', leaderElect: opts.leaderElect }, 'starting');

  let elector: LeaderElector | undefined;
  const core = await buildCore({
    opts,
    log,
    metrics,
    clients,
    operatorNamespace: opNs,
    canWrite: () => !elector || elector.isLeader(),
    synced: () => manager.hasSynced(),
  });
  const secretSyncs = wireSecretSyncs(core, testFaults(process.env.SECRETSYNC_TEST_FAULT, log));
  const uninjectedPods = wireUninjectedPods(core);
  const sources = wireSources(core);

  const manager = new Manager({
    onLeading: (leading) => {
      metrics.leader.set(leading ? 1 : 0);
      // Per-SecretSync series come from the leader's reconciles: a replica that lost the lease exports none.
      if (!leading) metrics.secretsyncs.stopLeading();
      if (leading) uninjectedPods.reportCached();
      if (leading) log.info({ workers: opts.workers, sourceConcurrency: opts.sourceConcurrency }, 'controllers started');
      else if (opts.leaderElect) log.error('lost the leader lease; stopping so a fresh process can rejoin');
    },
    onStopping: (why) => log.info({ why }, 'shutting down'),
  });
  addEndpoints(manager, core);
  const onResponse = admissionRecorder(process.env.SECRETSYNC_TEST_ADMISSION_RECORD, log);
  const webhook = webhookServing(core, { inCluster: !!process.env.KUBERNETES_SERVICE_HOST, ...(onResponse ? { onResponse } : {}) });
  if (webhook) manager.addServer(webhook);
  for (const cache of allInformers(core.informers)) manager.addCache(cache);
  manager.addController(secretSyncs.controller).addController(sources).addController(secretSyncs.kekWatcher);
  manager.addCleanup(() => core.providers.closeAll()); // revoke Vault tokens
  if (opts.leaderElect) {
    elector = leaderElector(core, identity, manager);
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
  log.info({ secretsyncs: core.informers.secretSyncs.list().length }, 'caches synced');
  const code = await manager.done;
  metrics.leader.set(0);
  log.info('stopped');
  return code;
}
