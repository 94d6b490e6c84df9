// Prometheus metrics (prom-client) on a registry of our own, so tests can build one per
// operator. Labels carry names and results only, never a value.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  syncs: Counter<'namespace' | 'result'>;
  reconcileDuration: Histogram<'controller' | 'result'>;
  queueDepth: Gauge<'controller'>;
  providerCalls: Counter<'provider' | 'source' | 'operation' | 'result'>;
  leader: Gauge;
  apiWrites: Counter<'resource' | 'verb'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'secretsync_' });
  const registers = [registry];
  return {
    registry,
    syncs: new Counter({
      name: 'secretsync_syncs_total',
      help: 'SecretSync reconciles by result: synced (content written), unchanged, error.',
      labelNames: ['namespace', 'result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'secretsync_reconcile_duration_seconds',
      help: 'Duration of one reconcile.',
      labelNames: ['controller', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'secretsync_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['controller'],
      registers,
    }),
    providerCalls: new Counter({
      name: 'secretsync_provider_calls_total',
      help: 'Calls to secret managers by provider, source, operation and result.',
      labelNames: ['provider', 'source', 'operation', 'result'],
      registers,
    }),
    leader: new Gauge({
      name: 'secretsync_leader',
      help: '1 while this replica holds the leader lease, else 0.',
      registers,
    }),
    apiWrites: new Counter({
      name: 'secretsync_kube_writes_total',
      help: 'Writes to the Kubernetes API by resource and verb.',
      labelNames: ['resource', 'verb'],
      registers,
    }),
  };
}
