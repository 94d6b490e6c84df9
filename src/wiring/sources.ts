// The source controller: SecretSource and ClusterSecretSource status (Ready when the
// provider block is valid) on its own small queue, one worker.
import { sourceKey } from '../api/source-ref.js';
import { workQueueMetrics } from '../observability/metrics.js';
import type { Controller } from '../runtime/controller.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { SourceReconciler, sourceNeedsReconcile } from '../secretsync/source-reconciler.js';
import { meteredController } from './controllers.js';
import type { Core } from './core.js';

export function wireSources(core: Core): Controller {
  const { reader, writer, informers } = core;
  const reconciler = new SourceReconciler(
    { getSource: (ref) => reader.getSource(ref), patchSourceStatus: (src, st) => writer.patchSourceStatus(src, st) },
    core.providers,
    core.operatorNamespace,
  );
  const queue: WorkQueue = new WorkQueue({ metrics: workQueueMetrics(core.metrics, 'sources', () => queue) });
  for (const inf of [informers.secretSources, informers.clusterSecretSources]) {
    inf.addHandlers({
      onAdd: (s) => queue.add(sourceKey(s)),
      onUpdate: (a, b) => sourceNeedsReconcile(a, b) && queue.add(sourceKey(b)),
    });
  }
  return meteredController({ name: 'sources', queue, workers: 1, reconcile: (key) => reconciler.reconcile(key) }, core);
}
