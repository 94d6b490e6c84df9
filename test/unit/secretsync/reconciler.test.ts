// The reconciler against in-memory ports (pure logic: what it writes and when); the real
// apiserver and OpenBao behaviour is in test/integration/operator.
import type { AnySource, SecretSync, SecretSyncStatus } from '../../../src/api/types.js';
import { SourceNotFoundError, StaleObjectError, SizeLimitError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { RemoteRef } from '../../../src/api/types.js';
import type { SecretProvider } from '../../../src/providers/provider.js';
import type { KubeSecret, SyncReader, SyncWriter } from '../../../src/secretsync/ports.js';
import { RecordedError, SecretSyncReconciler } from '../../../src/secretsync/reconciler.js';
import { LogSink } from '../../helpers/log-sink.js';

const source: AnySource = {
  apiVersion: 'secretsync.io/v1alpha1',
  kind: 'SecretSource',
  metadata: { name: 'vault', namespace: 'ns', uid: 's1', generation: 1 },
  spec: { vault: { address: 'http://v', auth: { token: { secretRef: { name: 't', key: 'k' } } } } },
};

function world(values: Record<string, string>) {
  let ss: SecretSync = {
    apiVersion: 'secretsync.io/v1alpha1',
    kind: 'SecretSync',
    metadata: { name: 'db', namespace: 'ns', uid: 'u1', generation: 1, resourceVersion: '1', finalizers: ['secretsync.io/finalizer'] },
    spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: 'db', property: 'password' } }], refresh: { interval: '10s' } },
  };
  const secrets = new Map<string, KubeSecret>();
  const writes: string[] = [];
  let rv = 1;
  let failNext: Error | undefined;
  const reader: SyncReader = {
    getSecretSync: () => ss,
    getSource: () => source,
    getSecret: async (_ns, name) => secrets.get(name),
    getNamespaceLabels: async () => ({}),
  };
  const writer: SyncWriter = {
    applySecret: async (s) => {
      writes.push('apply');
      secrets.set(s.metadata.name, s);
    },
    deleteSecret: async () => void writes.push('delete'),
    releaseSecret: async () => void writes.push('release'),
    patchStatus: async (_s, status: SecretSyncStatus) => {
      if (failNext) {
        const e = failNext;
        failNext = undefined;
        throw e;
      }
      writes.push('status');
      ss = { ...ss, status, metadata: { ...ss.metadata, resourceVersion: String(++rv) } };
      return ss.metadata.resourceVersion;
    },
    setFinalizers: async () => String(++rv),
    event: async (_s, type, reason) => void writes.push(`event ${type} ${reason}`),
  };
  const provider: SecretProvider = {
    getSecret: async (ref: RemoteRef) => {
      const v = values[ref.property ?? ''];
      if (v === undefined) throw new SourceNotFoundError(`secret ${ref.path} not found`);
      return { value: Buffer.from(v), version: '1' };
    },
    getSecretMap: async () => ({ values: {}, version: '1' }),
    close: async () => undefined,
  };
  let now = new Date('2026-01-01T00:00:00Z');
  const sink = new LogSink();
  const reconciler = new SecretSyncReconciler({
    reader,
    writer,
    providers: { validate: () => undefined, client: () => provider },
    providerKube: { readSecretKey: async () => Buffer.alloc(0), requestServiceAccountToken: async () => ({ token: '', expiresAt: now }) },
    operatorNamespace: 'op',
    hmacKey: Buffer.alloc(32, 1),
    now: () => now,
    log: createLogger({ destination: sink, level: 'trace' }),
  });
  return {
    reconciler,
    writes,
    sink,
    status: () => ss.status,
    values,
    tick: (ms: number) => (now = new Date(now.getTime() + ms)),
    setSpec: (spec: Partial<SecretSync['spec']>) => (ss = { ...ss, spec: { ...ss.spec, ...spec }, metadata: { ...ss.metadata, generation: 2 } }),
    failStatusWith: (e: Error) => (failNext = e),
  };
}

test('first sync writes Secret, status and one event; the same content later writes nothing', async () => {
  const w = world({ password: 'canary-s3cret' });
  const r = await w.reconciler.reconcile('ns/db');
  expect(w.writes).toEqual(['apply', 'status', 'event Normal Synced']);
  expect(w.status()?.version).toBe(1);
  expect(r.requeueAfterMs).toBeGreaterThan(9_000);
  w.writes.length = 0;
  w.tick(5_000);
  await w.reconciler.reconcile('ns/db'); // not due yet
  w.tick(10_000);
  await w.reconciler.reconcile('ns/db'); // due: reads, finds the same content
  expect(w.writes).toEqual([]);
  w.sink.assertNever('canary-s3cret');
});

test('changed content bumps the version once', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  w.values.password = 'two';
  w.tick(11_000);
  await w.reconciler.reconcile('ns/db');
  expect(w.status()?.version).toBe(2);
});

test('a retryable failure keeps the Secret, records Ready=False once, and is thrown for backoff', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  delete w.values.password;
  w.tick(11_000);
  w.writes.length = 0;
  await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.writes).toEqual(['status', 'event Warning SourceNotFound']);
  expect(w.status()?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'SourceNotFound' });
  w.writes.length = 0;
  await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.writes).toEqual([]); // the same failure again: nothing new to write
});

test('a terminal failure is recorded and re-checked on the refresh schedule, not retried with backoff', async () => {
  const w = world({ password: 'x'.repeat(100) });
  w.setSpec({ target: { maxSizeBytes: 10 } });
  const r = await w.reconciler.reconcile('ns/db');
  expect(r.requeueAfterMs).toBe(10_000);
  expect(w.status()?.conditions?.[0]?.reason).toBe(new SizeLimitError('').reason);
});

test('a stale cache (409 on status) is retried quietly, never reported', async () => {
  const w = world({ password: 'one' });
  w.failStatusWith(new StaleObjectError('changed meanwhile'));
  await expect(w.reconciler.reconcile('ns/db')).rejects.toMatchObject({ retryable: true });
  expect(w.writes).toEqual(['apply']);
  expect(w.status()).toBeUndefined();
});
