// Prometheus metrics (prom-client) on a registry of our own, so tests can build one per
// operator. Labels carry names and results only, never a value. Work-queue metrics have
// the names and meaning of controller-runtime's (client-go's workqueue), prefixed.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Reason, SecretSyncError } from '../errors.js';
import type { WorkQueueMetrics } from '../runtime/workqueue.js';
import { SecretSyncSeries } from './secretsync-series.js';

/** What the scrape-time gauges read from a queue. */
export interface WorkInProgress {
  unfinishedWorkSeconds(): number;
  longestRunningProcessorSeconds(): number;
}

export interface WorkQueueCollectors {
  adds: Counter<'name'>;
  retries: Counter<'name'>;
  depth: Gauge<'name'>;
  queueDuration: Histogram<'name'>;
  workDuration: Histogram<'name'>;
  unfinishedWork: Gauge<'name'>;
  longestRunning: Gauge<'name'>;
  /** Queues the two gauges above read at scrape time, by name. */
  inProgress: Map<string, () => WorkInProgress>;
}

export interface Metrics {
  registry: Registry;
  syncs: Counter<'namespace' | 'result'>;
  /** Per-SecretSync conditions and last sync time (secretsync-series.ts). */
  secretsyncs: SecretSyncSeries;
  /** Rotation attempts by namespace and result (succeeded, failed): per namespace, so series do not grow with SecretSyncs. */
  rotations: Counter<'namespace' | 'result'>;
  /** Workloads rolled (pod template set to a new version), by namespace and kind. */
  rollouts: Counter<'namespace' | 'kind'>;
  reconcileDuration: Histogram<'controller' | 'result'>;
  reconcileErrors: Counter<'controller' | 'reason'>;
  workqueue: WorkQueueCollectors;
  providerCalls: Counter<'provider' | 'source' | 'operation' | 'result'>;
  leader: Gauge;
  apiWrites: Counter<'resource' | 'verb'>;
  apiRequests: Counter<'resource' | 'verb'>;
  eventsDropped: Counter<'reason'>;
  webhook: WebhookCollectors;
}

/** Admission requests served by the injection webhook; `result` is one of WebhookResult. */
export interface WebhookCollectors {
  requests: Counter<'operation' | 'result'>;
  duration: Histogram<'operation' | 'result'>;
}

/** injected: allowed with a patch; unchanged: allowed as is; refused: denied; error: the handler failed or the body was malformed. */
export type WebhookResult = 'injected' | 'unchanged' | 'refused' | 'error';

// controller-runtime's buckets are powers of ten from 1e-8 s; ours start at the clock's
// resolution (1 ms) and go to 1,000 s, where a stuck key shows.
const queueBuckets = [0.001, 0.01, 0.1, 1, 10, 100, 1000];

function workQueueCollectors(registers: Registry[]): WorkQueueCollectors {
  const inProgress = new Map<string, () => WorkInProgress>();
  const labelNames = ['name'] as const;
  const atScrape = (fn: (w: WorkInProgress) => number) =>
    function collect(this: Gauge<'name'>) {
      for (const [name, queue] of inProgress) this.set({ name }, fn(queue()));
    };
  return {
    inProgress,
    adds: new Counter({ name: 'secretsync_workqueue_adds_total', help: 'Total number of adds handled by the work queue.', labelNames, registers }),
    retries: new Counter({ name: 'secretsync_workqueue_retries_total', help: 'Total number of retries handled by the work queue.', labelNames, registers }),
    depth: new Gauge({
      name: 'secretsync_workqueue_depth',
      help: 'Current depth of the work queue: keys waiting, including keys added again while being processed.',
      labelNames,
      registers,
    }),
    queueDuration: new Histogram({
      name: 'secretsync_workqueue_queue_duration_seconds',
      help: 'How long in seconds a key stays in the work queue before being requested.',
      labelNames,
      buckets: queueBuckets,
      registers,
    }),
    workDuration: new Histogram({
      name: 'secretsync_workqueue_work_duration_seconds',
      help: 'How long in seconds processing a key from the work queue takes.',
      labelNames,
      buckets: queueBuckets,
      registers,
    }),
    unfinishedWork: new Gauge({
      name: 'secretsync_workqueue_unfinished_work_seconds',
      help:
        'How many seconds of work has been done that is in progress and has not been observed by work_duration. ' +
        'Large values indicate stuck workers; the rate at which it grows is the number of stuck workers.',
      labelNames,
      registers,
      collect: atScrape((w) => w.unfinishedWorkSeconds()),
    }),
    longestRunning: new Gauge({
      name: 'secretsync_workqueue_longest_running_processor_seconds',
      help: 'How many seconds the longest-running processor of the work queue has been running.',
      labelNames,
      registers,
      collect: atScrape((w) => w.longestRunningProcessorSeconds()),
    }),
  };
}

/**
 * The WorkQueue metrics port for the queue called `name`. `inProgress` returns that
 * queue; it is read only at scrape time, so it may refer to a queue built with this port.
 */
export function workQueueMetrics(m: Metrics, name: string, inProgress: () => WorkInProgress): WorkQueueMetrics {
  const w = m.workqueue;
  w.inProgress.set(name, inProgress);
  const labels = { name };
  // Series exist from the start, at zero, as client-go's do.
  w.adds.inc(labels, 0);
  w.retries.inc(labels, 0);
  w.depth.set(labels, 0);
  return {
    adds: () => w.adds.inc(labels),
    retries: () => w.retries.inc(labels),
    depth: (n) => w.depth.set(labels, n),
    queueLatency: (s) => w.queueDuration.observe(labels, s),
    workDuration: (s) => w.workDuration.observe(labels, s),
  };
}

/**
 * The condition reason of a reconcile error, for secretsync_reconcile_errors_total: the
 * typed error's own, found through `cause` wrappers (the reconciler wraps what it
 * recorded), else InternalError. A bounded set, never error text.
 */
export function reconcileErrorReason(err: unknown): Reason {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof SecretSyncError) return e.reason;
    e = (e as { cause?: unknown }).cause;
  }
  return Reason.InternalError;
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
    secretsyncs: new SecretSyncSeries(registers),
    rotations: new Counter({
      name: 'secretsync_rotations_total',
      help: 'Rotation attempts by namespace and result: succeeded (new values written at the source), failed (retried; the SecretSync\'s Rotated condition says why).',
      labelNames: ['namespace', 'result'],
      registers,
    }),
    rollouts: new Counter({
      name: 'secretsync_rollouts_total',
      help: 'Workloads rolled to a new version (their pod-template annotation set), by namespace and kind (Deployment, StatefulSet, DaemonSet).',
      labelNames: ['namespace', 'kind'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'secretsync_reconcile_duration_seconds',
      help: 'Duration of one reconcile.',
      labelNames: ['controller', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'secretsync_reconcile_errors_total',
      help: 'Reconciles that failed, by controller and condition reason (InternalError when untyped).',
      labelNames: ['controller', 'reason'],
      registers,
    }),
    workqueue: workQueueCollectors(registers),
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
    apiRequests: new Counter({
      name: 'secretsync_kube_requests_total',
      help: 'Requests to the Kubernetes API (reads, watches and writes) by resource and verb.',
      labelNames: ['resource', 'verb'],
      registers,
    }),
    eventsDropped: new Counter({
      name: 'secretsync_events_dropped_total',
      help: 'Kubernetes Events not recorded: overflow (more than 10,000 waiting), failed (the API refused), closed (shutdown).',
      labelNames: ['reason'],
      registers,
    }),
    webhook: {
      requests: new Counter({
        name: 'secretsync_webhook_requests_total',
        help: 'Admission requests served by the injection webhook, by operation and result (injected, unchanged, refused, error).',
        labelNames: ['operation', 'result'],
        registers,
      }),
      // The API server gives a webhook 10 s by default (timeoutSeconds, at most 30).
      duration: new Histogram({
        name: 'secretsync_webhook_request_duration_seconds',
        help: 'Time to answer one admission request, from the first byte of the body to the response.',
        labelNames: ['operation', 'result'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
    },
  };
}
