// The prom-client side of the work-queue metrics and reconcile errors: names, labels and
// values as /metrics shows them, driven by a real WorkQueue on a fake clock.
import { SourceUnavailableError, InvalidSpecError } from '../../../src/errors.js';
import { createMetrics, reconcileErrorReason, workQueueMetrics } from '../../../src/observability/metrics.js';
import { FakeClock } from '../../../src/runtime/testing/fake-clock.js';
import { WorkQueue } from '../../../src/runtime/workqueue.js';

/** The value of one series: `name` as /metrics spells it (histograms: _bucket, _sum, _count). */
async function value(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const got = await (m.registry.getSingleMetric(name) ?? m.registry.getSingleMetric(base))?.get();
  return got?.values.find(
    (v) => ((v as { metricName?: string }).metricName ?? base) === name && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  )?.value;
}

test('a queue reports adds, retries, depth, queue and work duration, unfinished work and the longest runner', async () => {
  const m = createMetrics();
  const clock = new FakeClock(0);
  const queue: WorkQueue = new WorkQueue({ clock, metrics: workQueueMetrics(m, 'secretsync', () => queue) });
  const other: WorkQueue = new WorkQueue({ clock, metrics: workQueueMetrics(m, 'sources', () => other) });
  const q = { name: 'secretsync' };

  queue.add('ns/a');
  queue.add('ns/b');
  queue.add('ns/a');
  expect(await value(m, 'secretsync_workqueue_adds_total', q)).toBe(2);
  expect(await value(m, 'secretsync_workqueue_depth', q)).toBe(2);
  await clock.advance(2000);
  const a = (await queue.get()) as string;
  await clock.advance(3000);
  expect(await value(m, 'secretsync_workqueue_depth', q)).toBe(1);
  expect(await value(m, 'secretsync_workqueue_unfinished_work_seconds', q)).toBe(3);
  expect(await value(m, 'secretsync_workqueue_longest_running_processor_seconds', q)).toBe(3);
  queue.done(a);
  queue.addRateLimited(a);
  expect(await value(m, 'secretsync_workqueue_retries_total', q)).toBe(1);
  expect(await value(m, 'secretsync_workqueue_unfinished_work_seconds', q)).toBe(0);
  expect(await value(m, 'secretsync_workqueue_queue_duration_seconds_bucket', { ...q, le: '10' })).toBe(1);
  expect(await value(m, 'secretsync_workqueue_queue_duration_seconds_bucket', { ...q, le: '1' })).toBe(0);
  expect(await value(m, 'secretsync_workqueue_queue_duration_seconds_sum', q)).toBe(2);
  expect(await value(m, 'secretsync_workqueue_work_duration_seconds_sum', q)).toBe(3);
  expect(await value(m, 'secretsync_workqueue_work_duration_seconds_count', q)).toBe(1);

  // One series per queue; the other queue is idle but present.
  const text = await m.registry.metrics();
  expect(text).toContain('secretsync_workqueue_adds_total{name="sources"} 0');
  expect(text).toContain('secretsync_workqueue_longest_running_processor_seconds{name="sources"} 0');
  expect(text).not.toMatch(/secretsync_workqueue_[a-z_]+\{controller=/);
});

test('reconcile errors count by the typed reason, found through wrappers, else InternalError', async () => {
  const m = createMetrics();
  const wrapped = Object.assign(new Error('recorded'), { cause: new SourceUnavailableError('vault is down') });
  for (const err of [new InvalidSpecError('bad'), wrapped, wrapped, new Error('boom'), 'text']) {
    m.reconcileErrors.inc({ controller: 'secretsync', reason: reconcileErrorReason(err) });
  }
  expect(await value(m, 'secretsync_reconcile_errors_total', { controller: 'secretsync', reason: 'InvalidSpec' })).toBe(1);
  expect(await value(m, 'secretsync_reconcile_errors_total', { controller: 'secretsync', reason: 'SourceUnavailable' })).toBe(2);
  expect(await value(m, 'secretsync_reconcile_errors_total', { controller: 'secretsync', reason: 'InternalError' })).toBe(2);
});

test('every metric the operator registers is in the table of docs/operations.md', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
  const names = createMetrics().registry.getMetricsAsArray().map((x) => x.name);
  expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
});
