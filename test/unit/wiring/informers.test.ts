// The eleven caches: what each lists and watches (path, selectors, slimming), across all
// namespaces or one; and the factory's logging of watch troubles.
import type { ListWatchOptions } from '../../../src/kube/list-watch.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { ListWatch } from '../../../src/runtime/informer.js';
import { allInformers, newInformer, operatorInformers } from '../../../src/wiring/informers.js';
import { LogSink } from '../../helpers/log-sink.js';

function recorded(namespace: string | undefined) {
  const seen: ListWatchOptions[] = [];
  const clients = {
    listWatch: <T>(o: ListWatchOptions): ListWatch<T> => {
      seen.push(o);
      return { list: async () => ({ items: [], resourceVersion: '1' }), watch: async () => ({ abort: () => undefined }) };
    },
  };
  const informers = operatorInformers(clients, { namespace, resyncMs: 60_000 }, createLogger({ level: 'silent' }));
  const view = seen.map((o) => [o.path, o.labelSelector ?? '', o.fieldSelector ?? '', o.transform ? o.transform.name || 'slim' : ''].join(' ').trim());
  return { informers, view };
}

test('all namespaces: each cache and what it selects', () => {
  const { informers, view } = recorded(undefined);
  expect(view).toEqual([
    '/apis/secretsync.io/v1alpha1/secretsyncs   withoutManagedFields',
    '/apis/secretsync.io/v1alpha1/secretsources',
    '/apis/secretsync.io/v1alpha1/clustersecretsources',
    '/api/v1/secrets app.kubernetes.io/managed-by=secretsync,secretsync.io/sync  slimSecret',
    '/api/v1/namespaces',
    '/apis/rbac.authorization.k8s.io/v1/roles app.kubernetes.io/managed-by=secretsync,secretsync.io/sync',
    '/apis/rbac.authorization.k8s.io/v1/rolebindings app.kubernetes.io/managed-by=secretsync,secretsync.io/sync',
    '/api/v1/pods secretsync.io/inject=true',
    '/apis/apps/v1/deployments   slimWorkload',
    '/apis/apps/v1/statefulsets   slimWorkload',
    '/apis/apps/v1/daemonsets   slimWorkload',
  ]);
  expect(allInformers(informers)).toHaveLength(11);
  expect(new Set(allInformers(informers)).size).toBe(11);
});

test('--namespace: namespaced collections of that namespace, cluster sources still cluster-wide, the one Namespace', () => {
  const { view } = recorded('team');
  expect(view).toEqual([
    '/apis/secretsync.io/v1alpha1/namespaces/team/secretsyncs   withoutManagedFields',
    '/apis/secretsync.io/v1alpha1/namespaces/team/secretsources',
    '/apis/secretsync.io/v1alpha1/clustersecretsources',
    '/api/v1/namespaces/team/secrets app.kubernetes.io/managed-by=secretsync,secretsync.io/sync  slimSecret',
    '/api/v1/namespaces  metadata.name=team',
    '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles app.kubernetes.io/managed-by=secretsync,secretsync.io/sync',
    '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings app.kubernetes.io/managed-by=secretsync,secretsync.io/sync',
    '/api/v1/namespaces/team/pods secretsync.io/inject=true',
    '/apis/apps/v1/namespaces/team/deployments   slimWorkload',
    '/apis/apps/v1/namespaces/team/statefulsets   slimWorkload',
    '/apis/apps/v1/namespaces/team/daemonsets   slimWorkload',
  ]);
});

test('the factory: watch errors are warnings naming the kind; routine events are debug', async () => {
  const sink = new LogSink();
  let fail: ((err?: unknown) => void) | undefined;
  const lw: ListWatch<{ metadata: { name: string } }> = {
    list: async () => ({ items: [], resourceVersion: '1' }),
    watch: async (_rv, _onEvent, onDone) => {
      fail = onDone;
      return { abort: () => undefined };
    },
  };
  const inf = newInformer(lw, { kind: 'Widget', resyncMs: 60_000, log: createLogger({ destination: sink, level: 'debug' }) });
  inf.start();
  await inf.waitForSync();
  await new Promise((r) => setImmediate(r));
  fail?.(new Error('connection reset'));
  await new Promise((r) => setImmediate(r));
  await inf.stop(); // ends the backoff pause before the next watch
  const lines = sink.lines.map((l) => JSON.parse(l) as { level: string; informer: string; event: string });
  expect(lines.find((l) => l.event === 'listed')).toMatchObject({ level: 'debug', informer: 'Widget' });
  expect(lines.find((l) => l.event === 'watch-error')).toMatchObject({ level: 'warn', informer: 'Widget', err: { message: 'connection reset' } });
});

test('the factory passes --watch-silence-timeout to the watchdog: a watch that delivers nothing is abandoned and relisted', async () => {
  const sink = new LogSink();
  let lists = 0;
  const aborted: number[] = [];
  const lw: ListWatch<{ metadata: { name: string } }> = {
    list: async () => ({ items: [], resourceVersion: String(++lists) }),
    // Open and silent, as a connection a proxy stopped forwarding: no event, no end.
    watch: async () => ({ abort: () => aborted.push(lists) }),
  };
  const inf = newInformer(lw, { kind: 'Widget', resyncMs: 3_600_000, watchdogMs: 50, log: createLogger({ destination: sink, level: 'debug' }) });
  inf.start();
  await inf.waitForSync();
  const deadline = Date.now() + 5_000;
  while (lists < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await inf.stop();
  expect(lists).toBeGreaterThanOrEqual(2);
  expect(aborted[0]).toBe(1);
  const lines = sink.lines.map((l) => JSON.parse(l) as { level: string; informer: string; event: string });
  expect(lines.find((l) => l.event === 'watchdog-fired')).toMatchObject({ level: 'warn', informer: 'Widget' });
});
