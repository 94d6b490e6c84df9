// Pods admitted without injection (webhook down, failurePolicy Ignore) are reported once.
import { UninjectedReporter, podNotInjectedEvent, uninjectedSyncs, type PodLike } from '../../../src/webhook/uninjected.js';

const pod = (o: { labels?: Record<string, string>; inject?: string; init?: string[]; uid?: string }): PodLike => ({
  metadata: { name: 'p', namespace: 'ns', uid: o.uid ?? 'u1', labels: o.labels ?? { 'secretsync.io/inject': 'true' }, annotations: o.inject === undefined ? {} : { 'secretsync.io/inject': o.inject } },
  spec: { initContainers: (o.init ?? []).map((name) => ({ name })) },
});

test('a labelled pod naming syncs without the agent init container was not injected', () => {
  expect(uninjectedSyncs(pod({ inject: 'db, api ,db' }))).toEqual(['db', 'api']);
  expect(uninjectedSyncs(pod({ inject: 'db', init: ['secretsync-agent-init'] }))).toEqual([]);
  expect(uninjectedSyncs(pod({ inject: 'db', labels: {} }))).toEqual([]);
  expect(uninjectedSyncs(pod({}))).toEqual([]);
});

test('each pod is reported once, and again by a replica that could not report it', () => {
  const out: string[] = [];
  let leading = false;
  const r = new UninjectedReporter((ns, s, p) => (leading ? out.push(`${ns}/${s}/${p}`) > 0 : false));
  r.observe(pod({ inject: 'db' }));
  expect(out).toEqual([]);
  leading = true;
  r.observe(pod({ inject: 'db' }));
  r.observe(pod({ inject: 'db' }));
  expect(out).toEqual(['ns/db/p']);
});

test('the event says which pod, why it has no files, and what to do', () => {
  expect(podNotInjectedEvent('db', 'api-7d9f')).toEqual({
    type: 'Warning',
    reason: 'PodNotInjected',
    message:
      'Pod api-7d9f asked for this SecretSync but was admitted without injection (the webhook did not answer and its failurePolicy is Ignore): it has no /run/secrets/db/; delete the pod so it is created again',
  });
});
