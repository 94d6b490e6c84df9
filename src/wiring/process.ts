// The process-level pieces around the controllers: the health and metrics endpoints, and
// leader election (only one replica reconciles; every replica serves the webhook).
import { KubeLeaseStore } from '../kube/lease-store.js';
import { healthRoutes, metricsRoutes, serve } from '../observability/health.js';
import { LeaderElector } from '../runtime/leader-election.js';
import type { Manager } from '../runtime/manager.js';
import type { Core } from './core.js';

/** /healthz and /readyz on --health-addr, /metrics on --metrics-addr ("0": not served). */
export function addEndpoints(manager: Manager, core: Pick<Core, 'opts' | 'metrics'>): void {
  const add = (addr: string, routes: Parameters<typeof serve>[1]) => {
    const s = serve(addr, routes);
    manager.addServer({ start: async () => void (await s.listen()), stop: () => s.close() });
  };
  if (core.opts.healthAddr !== '0') add(core.opts.healthAddr, healthRoutes({ live: () => true, ready: () => manager.hasSynced() }));
  if (core.opts.metricsAddr !== '0') add(core.opts.metricsAddr, metricsRoutes(core.metrics.registry));
}

/** The elector on the Lease --leader-election-id in the operator namespace, driving the manager. */
export function leaderElector(core: Pick<Core, 'opts' | 'log' | 'clients' | 'operatorNamespace' | 'owner'>, identity: string, manager: Manager): LeaderElector {
  const { opts, log } = core;
  const lease = `${core.operatorNamespace}/${opts.leaderElectionId}`;
  return new LeaderElector({
    identity,
    store: new KubeLeaseStore(core.clients.kc, { namespace: core.operatorNamespace, name: opts.leaderElectionId }, core.owner),
    onStartedLeading: () => {
      log.info({ lease }, 'became leader');
      manager.startedLeading();
    },
    onStoppedLeading: () => manager.stoppedLeading(),
    onNewLeader: (who) => log.info({ leader: who }, 'leader observed'),
    onError: (err) => log.warn({ err }, 'leader election'),
  });
}
