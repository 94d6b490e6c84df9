// One check that a secret value reached none of the places the operator publishes:
// events and status in the namespace, the operator's log lines, and /metrics.
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { getText, type RunningOperator } from './operator.js';

export async function expectNoLeak(
  k: { core: CoreV1Api; custom: CustomObjectsApi },
  namespace: string,
  op: RunningOperator,
  value: string,
): Promise<void> {
  const events = await k.core.listNamespacedEvent({ namespace });
  expect(events.items.length).toBeGreaterThan(0);
  expect(JSON.stringify(events.items)).not.toContain(value);
  const syncs = await k.custom.listNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace, plural: 'secretsyncs' });
  expect(JSON.stringify(syncs)).not.toContain(value);
  expect(op.logs.length).toBeGreaterThan(0);
  expect(op.logs.findIndex((l) => l.includes(value))).toBe(-1);
  expect((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body).not.toContain(value);
}
