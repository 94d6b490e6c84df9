// A controller with its reconcile durations and errors in the metrics: the same for the
// SecretSync and the source controllers.
import { reconcileErrorReason } from '../observability/metrics.js';
import { Controller, type ControllerOptions } from '../runtime/controller.js';
import type { WorkQueue } from '../runtime/workqueue.js';
import type { Core } from './core.js';

export interface MeteredController {
  name: string;
  queue: WorkQueue;
  workers: number;
  reconcile: ControllerOptions['reconcile'];
  /** Log each failed reconcile at debug level. */
  logFailures?: boolean;
}

export function meteredController(c: MeteredController, core: Pick<Core, 'opts' | 'log' | 'metrics'>): Controller {
  const { metrics, log } = core;
  return new Controller({
    name: c.name,
    queue: c.queue,
    workers: c.workers,
    reconcile: c.reconcile,
    stopGraceMs: core.opts.shutdownTimeoutMs,
    onResult: (r) => {
      metrics.reconcileDuration.observe({ controller: c.name, result: r.result }, r.durationMs / 1000);
      if (r.error) {
        metrics.reconcileErrors.inc({ controller: c.name, reason: reconcileErrorReason(r.error) });
        if (c.logFailures) log.debug({ key: r.key, result: r.result }, 'reconcile failed');
      }
    },
  });
}
