// One check that a secret value reached none of the places the operator publishes:
// events and status in the namespace, the operator's log lines, and /metrics. It looks
// for the value raw, JSON-escaped and base64-encoded (test/helpers/canary.ts), and a
// failure names the place and the form, never the value.
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { leaksIn } from './canary.js';
import { getText, type RunningOperator } from './operator.js';

export async function expectNoLeak(
  k: { core: CoreV1Api; custom: CustomObjectsApi },
  namespace: string,
  op: RunningOperator,
  value: string,
): Promise<void> {
  const events = await k.core.listNamespacedEvent({ namespace });
  expect(events.items.length).toBeGreaterThan(0);
  expect(op.logs.length).toBeGreaterThan(0);
  const syncs = await k.custom.listNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace, plural: 'secretsyncs' });
  const places: [string, string][] = [
    ['events', JSON.stringify(events.items)],
    ['SecretSync objects (status)', JSON.stringify(syncs)],
    ['operator logs', op.logs.join('\n')],
    ['/metrics', (await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body],
  ];
  const found = places.flatMap(([place, text]) => leaksIn(text, value).map((form) => `${form} in ${place}`));
  expect(found).toEqual([]);
}
