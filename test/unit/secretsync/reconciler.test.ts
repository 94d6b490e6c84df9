// The reconcile pipeline and act against in-memory ports: which writes happen, in which
// order, and what a failed write leaves behind. The real apiserver and OpenBao behaviour
// is in test/integration/operator.
import { CONTENT_HMAC_ANNOTATION, ENVELOPE_MAC_ANNOTATION, FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import type { RemoteRef, SecretSync, SecretSyncStatus } from '../../../src/api/types.js';
import { SourceAuthError, SourceNotFoundError, StaleObjectError, TargetInvalidError } from '../../../src/errors.js';
import { ENVELOPE_SECRET_TYPE, decodeEnvelope, open } from '../../../src/crypto/envelope.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import type { ReadOptions, SecretProvider } from '../../../src/providers/provider.js';
import { contentHmac, hmacKey } from '../../../src/secretsync/content.js';
import { envelopeMac } from '../../../src/secretsync/sealing.js';
import type { KubeSecret, SecretPatch, SyncReader, SyncWriter } from '../../../src/secretsync/ports.js';
import type { GrantWrite, KubeRole, KubeRoleBinding } from '../../../src/secretsync/grants.js';
import { RecordedError, SecretSyncReconciler } from '../../../src/secretsync/reconciler.js';
import { LogSink } from '../../helpers/log-sink.js';
import { KekVersions } from '../../../src/secretsync/kek-versions.js';
import { nextRefreshAfter } from '../../../src/secretsync/schedule.js';
import { aSecretSync, vaultSource } from './fixtures.js';
import { FakeKek } from './fake-kek.js';

function world(values: Record<string, string>, spec: Partial<SecretSync['spec']> = {}) {
  let ss: SecretSync = aSecretSync({ refresh: { interval: '10s' }, ...spec }, { creationTimestamp: '2026-01-01T00:00:00Z' });
  const secrets = new Map<string, KubeSecret>();
  const writes: string[] = [];
  let rv = 100;
  const failures = new Map<string, Error>();
  const failIf = (what: string) => {
    const e = failures.get(what);
    if (e) {
      failures.delete(what);
      throw e;
    }
  };
  const grants = new Map<string, KubeRole | KubeRoleBinding>();
  let gone = false;
  const reader: SyncReader = {
    getSecretSync: () => (gone ? undefined : ss),
    getSource: () => vaultSource,
    getNamespaceLabels: () => ({}),
    // The cache holds only Secrets carrying our label, as the real informer does.
    getManagedSecret: (_ns, name) => {
      const s = secrets.get(name);
      return s?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'secretsync' ? s : undefined;
    },
    secretsOwnedBy: (_ns, uid) => [...secrets.values()].filter((s) => s.metadata.ownerReferences?.some((o) => o.uid === uid)),
    getManagedRole: (_ns, name) => grants.get(`Role/${name}`) as KubeRole | undefined,
    getManagedRoleBinding: (_ns, name) => grants.get(`RoleBinding/${name}`) as KubeRoleBinding | undefined,
    workloadsIn: () => [],
  };
  const writer: SyncWriter = {
    createSecret: async (s) => {
      failIf('create');
      if (secrets.has(s.metadata.name)) return 'exists';
      writes.push('create');
      secrets.set(s.metadata.name, { ...s, metadata: { ...s.metadata, uid: `sec-${++rv}`, resourceVersion: String(rv) } });
      return 'created';
    },
    patchSecret: async (_ns, name, patch: SecretPatch) => {
      failIf('patch');
      writes.push('patch');
      const cur = secrets.get(name)!;
      const data = { ...cur.data };
      for (const [k, v] of Object.entries(patch.data ?? {})) if (v === null) delete data[k]; else data[k] = v;
      const merge = (have: Record<string, string> | undefined, p: Record<string, string | null> | undefined) => {
        const out = { ...have };
        for (const [k, v] of Object.entries(p ?? {})) if (v === null) delete out[k]; else out[k] = v;
        return out;
      };
      const metadata = {
        ...cur.metadata,
        labels: merge(cur.metadata.labels, patch.metadata.labels),
        annotations: merge(cur.metadata.annotations, patch.metadata.annotations),
        resourceVersion: String(++rv),
      };
      secrets.set(name, { ...cur, data, metadata });
    },
    validateSecret: async () => failIf('validate'),
    deleteSecret: async (_ns, name) => {
      writes.push('delete');
      secrets.delete(name);
    },
    readSecret: async (_ns, name) => secrets.get(name),
    writeStatus: async (_s, status: SecretSyncStatus) => {
      failIf('status');
      writes.push('status');
      ss = { ...ss, status, metadata: { ...ss.metadata, resourceVersion: String(++rv) } };
      return ss.metadata.resourceVersion;
    },
    setFinalizers: async (_s, finalizers) => {
      writes.push('finalizers');
      ss = { ...ss, metadata: { ...ss.metadata, finalizers } };
      return String(++rv);
    },
    event: async (_s, type, reason) => void writes.push(`event ${type} ${reason}`),
    writeGrant: async (g: GrantWrite) => {
      if (g.op === 'delete') {
        writes.push(`delete ${g.kind}`);
        grants.delete(`${g.kind}/${g.name}`);
        return;
      }
      writes.push(`${g.op} ${g.object.kind}`);
      grants.set(`${g.object.kind}/${g.object.obj.metadata.name}`, { ...g.object.obj, metadata: { ...g.object.obj.metadata, uid: `g-${++rv}`, resourceVersion: String(rv) } });
    },
    setTemplateAnnotation: async (w, key, value) => void writes.push(`annotate ${w.kind}/${w.name} ${key}=${value}`),
  };
  const reads: string[] = [];
  /** The notBefore of each read, as ISO time ('-' when the caller gave none). */
  const bounds: string[] = [];
  const source = { version: 1, writes: 0 };
  const provider: SecretProvider = {
    getSecret: async (ref: RemoteRef, opts?: ReadOptions) => {
      reads.push(ref.path);
      bounds.push(opts?.notBefore === undefined ? '-' : new Date(opts.notBefore).toISOString());
      const v = values[ref.property ?? ''];
      if (v === undefined) throw new SourceNotFoundError(`secret ${ref.path} not found`);
      return { value: Buffer.from(v), version: String(source.version) };
    },
    // Vault-like: a check-and-set write on the version read; anything else has moved on.
    rotate: async (w) => {
      failIf('rotate');
      if (w.basedOn !== String(source.version)) return { outcome: 'moved', version: String(source.version) };
      for (const [k, v] of Object.entries(w.set)) values[k] = v.toString('utf8');
      source.version++;
      source.writes++;
      return { outcome: 'written', version: String(source.version) };
    },
    getSecretMap: async () => ({ values: {}, version: '1' }),
    close: async () => undefined,
    keyEncrypter: () => kek,
  };
  const kek = new FakeKek();
  const kekVersions = new KekVersions();
  let now = new Date('2026-01-01T00:00:00Z');
  const sink = new LogSink();
  const faults: { afterRotationWrite?(): void } = {};
  const metrics = createMetrics();
  const make = (key = hmacKey(Buffer.alloc(32, 1))) =>
    new SecretSyncReconciler({
      faults,
      reader,
      writer,
      providers: { client: () => provider, alignsRefreshes: () => false, validate: () => undefined },
      providerKube: { readSecretKey: async () => Buffer.alloc(0), requestServiceAccountToken: async () => ({ token: '', expiresAt: now }) },
      operatorNamespace: 'op',
      hmacKey: key,
      now: () => now,
      log: createLogger({ destination: sink, level: 'trace' }),
      kekVersions,
      metrics,
    });
  return {
    reconciler: make(),
    /** A new process (restart, new leader): no memory; optionally another HMAC key. */
    restart: (key?: Buffer) => make(key && hmacKey(key)),
    writes,
    reads,
    bounds,
    now: () => now,
    kek,
    kekVersions,
    grants,
    sink,
    secrets,
    status: () => ss.status,
    /** Overwrite status, as an older operator would have left it. */
    setStatus: (st: SecretSyncStatus) => (ss = { ...ss, status: st }),
    values,
    tick: (ms: number) => (now = new Date(now.getTime() + ms)),
    setSpec: (s: Partial<SecretSync['spec']>) => (ss = { ...ss, spec: { ...ss.spec, ...s }, metadata: { ...ss.metadata, generation: (ss.metadata.generation ?? 1) + 1 } }),
    fail: (what: string, e: Error) => failures.set(what, e),
    deleting: () => (ss = { ...ss, metadata: { ...ss.metadata, deletionTimestamp: now.toISOString() } }),
    finalizers: () => ss.metadata.finalizers ?? [],
    source,
    faults,
    annotate: (k: string, v: string) => (ss = { ...ss, metadata: { ...ss.metadata, annotations: { ...ss.metadata.annotations, [k]: v } } }),
    metrics,
    /** The SecretSync is gone from the cache (deleted). */
    remove: () => (gone = true),
  };
}

test('first sync: create, status, one event; the same content later writes nothing', async () => {
  const w = world({ password: 'canary-s3cret' });
  const r = await w.reconciler.reconcile('ns/db');
  expect(w.writes).toEqual(['create', 'status', 'event Normal Synced']);
  expect(w.status()?.version).toBe(1);
  expect(r.requeueAfterMs).toBeLessThanOrEqual(10_000);
  w.writes.length = 0;
  for (let i = 0; i < 6; i++) {
    w.tick(5_000);
    await w.reconciler.reconcile('ns/db');
  }
  expect(w.reads.length).toBeGreaterThanOrEqual(3); // it did refresh...
  expect(w.writes).toEqual([]); // ...and wrote nothing
  w.sink.assertNever('canary-s3cret');
});

test('each read says how old a shared read may be: after creation, the refresh tick, or now', async () => {
  const w = world({ password: 'one' }, { rotation: { schedule: '0 * * * *', keys: ['password'] } });
  w.tick(5_000); // created at 00:00:00 (whole seconds), first seen at 00:00:05
  await w.reconciler.reconcile('ns/db');
  expect(w.bounds).toEqual(['2026-01-01T00:00:01.000Z']);
  w.tick(12_345);
  await w.reconciler.reconcile('ns/db');
  const tick = nextRefreshAfter({ interval: '10s' }, new Date(w.now().getTime() - 10_000), 'SecretSource/ns/vault#db');
  expect(tick.getTime()).toBeLessThanOrEqual(w.now().getTime());
  expect(w.bounds.slice(1)).toEqual([tick.toISOString()]);
  w.annotate(FORCE_SYNC_ANNOTATION, '1');
  await w.reconciler.reconcile('ns/db');
  expect(w.bounds.slice(2)).toEqual([w.now().toISOString()]);
  // A rotation: the version it builds on is read fresh (the provider's own now), the result after the write from now.
  w.tick(3_600_000);
  w.bounds.length = 0;
  await w.reconciler.reconcile('ns/db');
  expect(w.source.writes).toBe(1);
  expect(w.bounds).toEqual(['-', w.now().toISOString()]);
});

test('a restart reads nothing at once and writes nothing', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  w.writes.length = 0;
  w.reads.length = 0;
  w.tick(3_600_000); // stable for an hour, the operator down meanwhile
  const fresh = w.restart();
  const r = await fresh.reconcile('ns/db');
  expect(w.reads).toEqual([]);
  expect(w.writes).toEqual([]);
  expect(r.requeueAfterMs).toBeLessThanOrEqual(10_000);
});

test('a new HMAC key after a restart: no new version, no Secret write, status re-keyed at the next refresh', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  w.writes.length = 0;
  const fresh = w.restart(Buffer.alloc(32, 9));
  await fresh.reconcile('ns/db');
  expect(w.writes).toEqual([]);
  w.tick(10_001);
  await fresh.reconcile('ns/db');
  expect(w.writes).toEqual(['status']);
  expect(w.status()?.version).toBe(1);
});

test('changed content bumps the version once', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  w.values.password = 'two';
  w.tick(10_001);
  await w.reconciler.reconcile('ns/db');
  expect(w.status()?.version).toBe(2);
  w.tick(10_001);
  await w.reconciler.reconcile('ns/db');
  expect(w.status()?.version).toBe(2);
});

test('a retryable failure keeps the Secret, records Ready=False once, and is thrown for backoff', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  delete w.values.password;
  w.tick(10_001);
  w.writes.length = 0;
  await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.writes).toEqual(['status', 'event Warning SourceNotFound']);
  expect(w.status()?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'SourceNotFound' });
  expect(w.secrets.get('db')?.data).toEqual({ password: Buffer.from('one').toString('base64') });
  w.writes.length = 0;
  await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.writes).toEqual([]); // the same failure again: nothing new to write
});

test('a stale cache (409) is retried quietly, never reported', async () => {
  const w = world({ password: 'one' });
  w.fail('status', new StaleObjectError('changed meanwhile'));
  await expect(w.reconciler.reconcile('ns/db')).rejects.toMatchObject({ retryable: true });
  expect(w.writes).toEqual(['create']);
  expect(w.status()).toBeUndefined();
});

test('a type change the API server refuses leaves the old Secret as it was, and says why', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  const before = w.secrets.get('db');
  w.setSpec({ target: { type: 'kubernetes.io/tls' } });
  w.fail('validate', new TargetInvalidError('the API server refuses Secret ns/db: data[tls.crt]: Required value'));
  w.writes.length = 0;
  // Terminal: not retried with backoff, looked at again at the next refresh tick.
  await expect(w.reconciler.reconcile('ns/db')).rejects.toMatchObject({ retryable: false, requeueAfterMs: expect.any(Number) });
  expect(w.secrets.get('db')).toBe(before);
  expect(w.writes).toEqual(['status', 'event Warning TargetInvalid']);
  expect(w.status()?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'TargetInvalid' });
});

test('a valid type change validates, deletes and creates', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  w.setSpec({ target: { type: 'example.com/custom' } });
  w.writes.length = 0;
  await w.reconciler.reconcile('ns/db');
  expect(w.writes).toEqual(['delete', 'create', 'status', 'event Normal Updated']);
  expect(w.secrets.get('db')?.type).toBe('example.com/custom');
});

test('a create that finds the name taken by a Secret we do not own: TargetConflict, nothing overwritten', async () => {
  const w = world({ password: 'one' });
  // Not labelled as ours, so not in the cache: the plan says create, and the write itself refuses.
  const foreign: KubeSecret = { metadata: { name: 'db', namespace: 'ns', uid: 'x', resourceVersion: '1' }, data: { keep: 'bWU=' } };
  w.secrets.set('db', foreign);
  await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.status()?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'TargetConflict' });
  expect(w.secrets.get('db')).toBe(foreign);
  expect(w.writes).toEqual(['status', 'event Warning TargetConflict']);
});

test('a create that finds the name taken by our own Secret the cache does not hold (labels removed): read once, repaired, not recreated', async () => {
  const w = world({ password: 'one' });
  await w.reconciler.reconcile('ns/db');
  const s = w.secrets.get('db') as KubeSecret;
  const { 'app.kubernetes.io/managed-by': _m, ...labels } = s.metadata.labels ?? {};
  w.secrets.set('db', { ...s, metadata: { ...s.metadata, labels }, data: { password: Buffer.from('edited').toString('base64') } });
  w.writes.length = 0;
  w.tick(10_001);
  await w.reconciler.reconcile('ns/db');
  expect(w.writes).toEqual(['patch', 'status', 'event Normal Updated']);
  expect(w.secrets.get('db')?.metadata.uid).toBe(s.metadata.uid);
  expect(w.secrets.get('db')?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('secretsync');
  expect(w.secrets.get('db')?.data?.password).toBe(Buffer.from('one').toString('base64'));
  expect(w.status()?.version).toBe(1);
});

test('a create that finds the name taken by a Secret deleted again before it is read: a stale cache, retried quietly', async () => {
  const w = world({ password: 'one' });
  const writer = (w.reconciler as unknown as { d: { writer: SyncWriter } }).d.writer;
  const create = writer.createSecret;
  writer.createSecret = async () => {
    writer.createSecret = create; // once
    return 'exists';
  };
  await expect(w.reconciler.reconcile('ns/db')).rejects.toMatchObject({ retryable: true, cause: expect.any(StaleObjectError) });
  expect(w.writes).toEqual([]);
  expect(w.status()).toBeUndefined();
  await w.reconciler.reconcile('ns/db');
  expect(w.writes).toEqual(['create', 'status', 'event Normal Synced']);
});

test('a finalizer that cannot be added reaches status and events', async () => {
  const w = world({ password: 'one' }, { target: { deletionPolicy: 'Retain' } });
  const reconciler = w.reconciler;
  // setFinalizers fails once with a Kubernetes error.
  const { KubernetesError } = await import('../../../src/errors.js');
  const orig = (reconciler as unknown as { d: { writer: SyncWriter } }).d.writer;
  const setFinalizers = orig.setFinalizers;
  orig.setFinalizers = async () => {
    orig.setFinalizers = setFinalizers;
    throw new KubernetesError('Kubernetes API: updating finalizers of SecretSync ns/db failed: HTTP 403: forbidden');
  };
  await expect(reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.status()?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'KubernetesError' });
  expect(w.writes).toEqual(['status', 'event Warning KubernetesError']);
  expect(w.secrets.size).toBe(0); // nothing written before the finalizer protects it
});

test('a finalizer that cannot run (deletion) reaches status and events, and keeps the finalizer', async () => {
  const w = world({ password: 'one' }, { target: { deletionPolicy: 'Retain' } });
  await w.reconciler.reconcile('ns/db'); // finalizer added, Secret written
  w.writes.length = 0;
  w.deleting();
  const { KubernetesError } = await import('../../../src/errors.js');
  w.fail('patch', new KubernetesError('Kubernetes API: updating Secret ns/db failed: HTTP 403: forbidden'));
  await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.writes).toEqual(['status', 'event Warning KubernetesError']);
  expect(w.finalizers()).toEqual(['secretsync.io/finalizer']);
  // Once the API lets it: released, then the finalizer goes.
  w.writes.length = 0;
  await w.reconciler.reconcile('ns/db');
  expect(w.writes).toEqual(['patch', 'finalizers']);
  expect(w.finalizers()).toEqual([]);
});

test('a status write the API refuses is logged as a warning and retried with backoff', async () => {
  const w = world({ password: 'one' });
  const { KubernetesError } = await import('../../../src/errors.js');
  w.fail('status', new KubernetesError('Kubernetes API: updating status of SecretSync ns/db failed: HTTP 403: forbidden'));
  await expect(w.reconciler.reconcile('ns/db')).rejects.toMatchObject({ retryable: true });
  expect(w.sink.lines.filter((l) => l.includes('"level":"warn"') && l.includes('updating status')).length).toBe(1);
  expect(w.writes).toEqual(['create', 'status', 'event Warning KubernetesError']); // the failure itself recorded
});

describe('envelope mode', () => {
  const transit = {
    target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } } },
  } as Partial<SecretSync['spec']>;
  const held = (w: ReturnType<typeof world>) => decodeEnvelope(w.secrets.get('db')?.data);
  const opened = async (w: ReturnType<typeof world>, v = held(w).current) => {
    const key = await w.kek.decrypt(v.wrappedKey, { namespace: 'ns', secretsync: 'db' });
    return open(key, { namespace: 'ns', secretsync: 'db', uid: 'u1', version: v.version }, v.values);
  };

  test('first sync: one data key, only ciphertext in the Secret, keyId in status', async () => {
    const w = world({ password: 'canary-envelope' }, transit);
    await w.reconciler.reconcile('ns/db');
    expect(w.kek.calls).toEqual(['generateDataKey']);
    const s = w.secrets.get('db') as KubeSecret;
    expect(s.type).toBe(ENVELOPE_SECRET_TYPE);
    const raw = JSON.stringify(s) + Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString()).join();
    expect(raw).not.toContain('canary-envelope');
    expect(raw).not.toContain(Buffer.from('canary-envelope').toString('base64'));
    expect((await opened(w)).password?.toString()).toBe('canary-envelope');
    expect(w.status()).toMatchObject({ version: 1, keyId: 'vault-transit:transit/secretsync:v1' });
    w.sink.assertNever('canary-envelope');
  });

  test('200 refreshes of the same content: zero key-service calls, zero writes', async () => {
    const w = world({ password: 'same' }, transit);
    await w.reconciler.reconcile('ns/db');
    w.kek.calls.length = 0;
    w.writes.length = 0;
    for (let i = 0; i < 200; i++) {
      w.tick(10_001);
      await w.reconciler.reconcile('ns/db');
    }
    expect(w.reads.length).toBeGreaterThanOrEqual(200);
    expect(w.kek.calls).toEqual([]);
    expect(w.writes).toEqual([]);
  });

  test('a new version mints one data key and keeps the previous version readable', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    w.values.password = 'two';
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db');
    expect(w.kek.calls.filter((c) => c === 'generateDataKey')).toHaveLength(2);
    const e = held(w);
    expect([e.current.version, e.previous?.[0]?.version]).toEqual([2, 1]);
    expect(e.current.wrappedKey).not.toBe(e.previous?.[0]?.wrappedKey);
    expect((await opened(w)).password?.toString()).toBe('two');
    expect((await opened(w, e.previous?.[0])).password?.toString()).toBe('one');
    w.values.password = 'three';
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db');
    expect([held(w).current.version, held(w).previous?.[0]?.version]).toEqual([3, 2]);
  });

  test('KEK rotation re-wraps both versions without a read, a new version or a new data key', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    w.values.password = 'two';
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db');
    const before = held(w);
    w.kek.calls.length = 0;
    w.reads.length = 0;
    w.writes.length = 0;
    w.kekVersions.observe('SecretSource/ns/vault|transit:transit/secretsync', w.kek.rotate());
    w.tick(1_000);
    await w.reconciler.reconcile('ns/db');
    expect(w.reads).toEqual([]);
    expect(w.kek.calls).toEqual(['rewrap', 'rewrap']);
    expect(w.writes).toEqual(['patch', 'status', 'event Normal Rewrapped']);
    const after = held(w);
    expect([after.current.kek.version, after.previous?.[0]?.kek.version]).toEqual(['2', '2']);
    expect(after.current.values).toEqual(before.current.values); // same data key, same ciphertext
    expect(w.status()).toMatchObject({ version: 2, keyId: 'vault-transit:transit/secretsync:v2' });
    expect((await opened(w)).password?.toString()).toBe('two');
    w.writes.length = 0;
    w.tick(1_000);
    await w.reconciler.reconcile('ns/db');
    expect(w.writes).toEqual([]);
  });

  test('an altered envelope is put back (the MAC no longer matches): same version, fresh data key', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    const s = w.secrets.get('db') as KubeSecret;
    const e = held(w);
    const v1 = JSON.parse(JSON.stringify(e.current));
    v1.values.password = Buffer.from('tampered-ciphertext-bytes-here!!').toString('base64');
    w.secrets.set('db', { ...s, data: { ...s.data, v1: Buffer.from(JSON.stringify(v1)).toString('base64') } });
    w.writes.length = 0;
    w.kek.calls.length = 0;
    w.tick(1_000);
    await w.reconciler.reconcile('ns/db');
    expect(w.kek.calls).toEqual(['generateDataKey']);
    expect(w.writes).toContain('patch');
    expect(w.status()?.version).toBe(1);
    expect((await opened(w)).password?.toString()).toBe('one');
  });

  test('upgrade from the global-key MACs: no early read; at the next refresh only the two MAC annotations and status change, quietly', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    // Rewrite the MACs as the old main wrote them: keyed with the root key itself, no `v2:`.
    const root = hmacKey(Buffer.alloc(32, 1));
    const s = w.secrets.get('db') as KubeSecret;
    const legacyContent = contentHmac(root, { password: Buffer.from('one') });
    w.secrets.set('db', {
      ...s,
      metadata: { ...s.metadata, annotations: { ...s.metadata.annotations, [ENVELOPE_MAC_ANNOTATION]: envelopeMac(root, s.data ?? {}), [CONTENT_HMAC_ANNOTATION]: legacyContent } },
    });
    w.setStatus({ ...w.status(), contentHmac: legacyContent });
    const before = held(w);
    w.writes.length = 0;
    w.reads.length = 0;
    w.kek.calls.length = 0;
    const upgraded = w.restart();
    await upgraded.reconcile('ns/db');
    expect([w.reads, w.writes, w.kek.calls]).toEqual([[], [], []]); // intact: nothing read early
    w.tick(10_001);
    await upgraded.reconcile('ns/db');
    expect(w.kek.calls).toEqual([]); // no data key minted
    expect(w.writes).toEqual(['patch', 'status']); // no event
    expect(held(w)).toEqual(before); // data byte for byte
    const after = w.secrets.get('db') as KubeSecret;
    expect(after.metadata.annotations?.[ENVELOPE_MAC_ANNOTATION]).toMatch(/^v2:hmac-sha256:/);
    expect(after.metadata.annotations?.[CONTENT_HMAC_ANNOTATION]).toBe(w.status()?.contentHmac);
    expect(w.status()).toMatchObject({ version: 1, contentHmac: expect.stringMatching(/^v2:hmac-sha256:/) });
    w.writes.length = 0;
    w.tick(10_001);
    await upgraded.reconcile('ns/db');
    expect(w.writes).toEqual([]);
  });

  test('an envelope whose MAC names a key the operator does not hold is repaired as altered: fresh data key, same version', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    const s = w.secrets.get('db') as KubeSecret;
    const mac = s.metadata.annotations?.[ENVELOPE_MAC_ANNOTATION] ?? '';
    const foreign = mac.replace(/^v2:hmac-sha256:[^:]+:/, 'v2:hmac-sha256:AAAAAAAA:');
    w.secrets.set('db', { ...s, metadata: { ...s.metadata, annotations: { ...s.metadata.annotations, [ENVELOPE_MAC_ANNOTATION]: foreign } } });
    const before = held(w);
    w.kek.calls.length = 0;
    w.writes.length = 0;
    w.tick(1_000);
    await w.reconciler.reconcile('ns/db');
    expect(w.kek.calls).toEqual(['generateDataKey']);
    expect(w.writes).toEqual(['patch', 'status', 'event Normal Updated']);
    expect(held(w).current.wrappedKey).not.toBe(before.current.wrappedKey);
    expect(w.status()?.version).toBe(1);
    expect((await opened(w)).password?.toString()).toBe('one');
  });

  test('a restart reads nothing, mints nothing and writes nothing', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    w.writes.length = 0;
    w.reads.length = 0;
    w.kek.calls.length = 0;
    await w.restart().reconcile('ns/db');
    expect([w.reads, w.writes, w.kek.calls]).toEqual([[], [], []]);
  });

  test('plain → envelope and back replace the Secret (its type is immutable), keeping the version', async () => {
    const w = world({ password: 'one' });
    await w.reconciler.reconcile('ns/db');
    w.writes.length = 0;
    w.setSpec(transit);
    await w.reconciler.reconcile('ns/db');
    expect(w.writes.slice(0, 2)).toEqual(['delete', 'create']);
    expect(w.secrets.get('db')?.type).toBe(ENVELOPE_SECRET_TYPE);
    expect(w.status()?.version).toBe(1);
    w.writes.length = 0;
    w.setSpec({ target: undefined });
    await w.reconciler.reconcile('ns/db');
    expect(w.writes.slice(0, 2)).toEqual(['delete', 'create']);
    expect(w.secrets.get('db')?.type).toBe('Opaque');
    expect(Buffer.from(w.secrets.get('db')?.data?.password ?? '', 'base64').toString()).toBe('one');
    expect(w.status()?.keyId).toBeUndefined();
  });

  test('a status write lost after the Secret was written, then new content: the Secret gets the new content, never the stale envelope', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    w.values.password = 'two';
    w.fail('status', new Error('connection reset'));
    w.tick(10_001);
    await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
    expect(held(w).current.version).toBe(2); // the Secret moved on, the status did not
    expect(w.status()?.version).toBe(1);
    w.values.password = 'three';
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db');
    expect(w.status()?.version).toBe(2);
    expect((await opened(w)).password?.toString()).toBe('three');
  });

  test('content over the size limit costs no key-service call, however often it is due (the size is checked before the seal is planned)', async () => {
    const w = world({ password: 'x'.repeat(64) }, { target: { ...transit.target, maxSizeBytes: 32 } });
    for (let i = 0; i < 3; i++) {
      await expect(w.reconciler.reconcile('ns/db')).rejects.toMatchObject({ retryable: false });
      w.tick(10_001);
    }
    expect(w.reads.length).toBe(3); // read each time it was due...
    expect(w.kek.calls).toEqual([]); // ...and never a data key for content that cannot be stored
    expect(w.secrets.size).toBe(0);
    expect(w.status()?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SizeLimitExceeded' });
    // A synced Secret whose source grows past the limit: kept as it is, and no data key minted for the new content.
    const g = world({ password: 'one' }, { target: { ...transit.target, maxSizeBytes: 32 } });
    await g.reconciler.reconcile('ns/db');
    const before = JSON.stringify(g.secrets.get('db'));
    g.kek.calls.length = 0;
    g.values.password = 'y'.repeat(64);
    g.tick(10_001);
    await expect(g.reconciler.reconcile('ns/db')).rejects.toMatchObject({ retryable: false });
    expect(g.kek.calls).toEqual([]);
    expect(JSON.stringify(g.secrets.get('db'))).toBe(before);
    expect(g.status()?.version).toBe(1);
  });

  test('a key service that fails keeps the Secret and says so', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    const before = JSON.stringify(w.secrets.get('db'));
    w.values.password = 'two';
    w.kek.generateDataKey = async () => {
      throw new SourceAuthError('Vault denied transit/datakey/plaintext/secretsync: add path "transit/datakey/plaintext/secretsync" { capabilities = ["update"] }');
    };
    w.tick(10_001);
    await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
    expect(JSON.stringify(w.secrets.get('db'))).toBe(before);
    expect(w.status()?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'SourceAuthFailed' });
    expect(w.status()?.version).toBe(1);
  });
});

describe('spec.access', () => {
  test('a Role and RoleBinding for exactly the target and the listed accounts; none written again; removed with the block', async () => {
    const w = world({ password: 'one' }, { access: { serviceAccounts: ['api', 'worker'] } });
    await w.reconciler.reconcile('ns/db');
    expect(w.writes).toEqual(['create', 'create Role', 'create RoleBinding', 'status', 'event Normal Synced']);
    const role = w.grants.get('Role/secretsync-db') as KubeRole;
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['db'], verbs: ['get', 'watch'] },
      // The agent reads the SecretSync's uid itself (issue 18, item 9).
      { apiGroups: ['secretsync.io'], resources: ['secretsyncs'], resourceNames: ['db'], verbs: ['get'] },
    ]);
    const binding = w.grants.get('RoleBinding/secretsync-db') as KubeRoleBinding;
    expect(binding.subjects?.map((s) => s.name)).toEqual(['api', 'worker']);
    w.writes.length = 0;
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db');
    expect(w.writes).toEqual([]);
    w.setSpec({ access: { serviceAccounts: ['api'] } });
    await w.reconciler.reconcile('ns/db');
    expect(w.writes).toContain('replace RoleBinding');
    w.writes.length = 0;
    w.setSpec({ access: undefined });
    await w.reconciler.reconcile('ns/db');
    expect(w.writes.filter((x) => x.startsWith('delete'))).toEqual(['delete RoleBinding', 'delete Role']);
  });
});

test('spec.access never grants a Secret the SecretSync does not own (a target name taken by someone else)', async () => {
  const w = world({ password: 'one' }, { access: { serviceAccounts: ['mallory'] }, target: { name: 'admin-creds' } });
  w.secrets.set('admin-creds', { metadata: { name: 'admin-creds', namespace: 'ns', uid: 'theirs', resourceVersion: '1' }, data: { k: 'dg==' } });
  await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
  expect(w.status()?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'TargetConflict' });
  expect(w.writes.filter((x) => x.includes('Role'))).toEqual([]);
  expect(w.grants.size).toBe(0);
});

describe('rotation', () => {
  const rotation = { schedule: '0 * * * *', keys: ['password'], generator: { length: 24, charset: 'hex' as const } };

  test('on the tick: pending recorded before the source write, one new version at the source, synced, recorded; never twice', async () => {
    const w = world({ password: 'old' }, { rotation });
    await w.reconciler.reconcile('ns/db');
    expect(w.status()?.version).toBe(1);
    w.writes.length = 0;
    w.tick(3_600_000);
    await w.reconciler.reconcile('ns/db').catch(() => undefined);
    expect(w.source.writes).toBe(1);
    expect(w.values.password).toMatch(/^[0-9a-f]{24}$/);
    expect(w.writes.slice(0, 2)).toEqual(['status', 'patch']); // the pending record first, then the Secret
    expect(w.status()).toMatchObject({ version: 2, lastRotationTime: expect.any(String) });
    expect(w.status()?.pendingRotation).toBeUndefined();
    expect(w.writes).toContain('event Normal Rotated');
    w.writes.length = 0;
    await w.reconciler.reconcile('ns/db');
    await w.restart().reconcile('ns/db');
    expect(w.source.writes).toBe(1);
    expect(w.writes).toEqual([]);
  });

  test('killed between the source write and the status write: the next process finishes the same rotation, once', async () => {
    const w = world({ password: 'old' }, { rotation });
    await w.reconciler.reconcile('ns/db');
    w.tick(3_600_000);
    w.faults.afterRotationWrite = () => {
      throw new Error('killed');
    };
    await expect(w.reconciler.reconcile('ns/db')).rejects.toThrow('killed');
    expect(w.source.writes).toBe(1);
    expect(w.status()?.pendingRotation).toMatchObject({ basedOn: { db: '1' } });
    expect(w.status()?.version).toBe(1);
    delete w.faults.afterRotationWrite;
    await w.restart().reconcile('ns/db');
    expect(w.source.writes).toBe(1); // the provider saw its own write (moved past the base)
    expect(w.status()).toMatchObject({ version: 2 });
    expect(w.status()?.pendingRotation).toBeUndefined();
    expect(w.secrets.get('db')?.data?.password).toBe(Buffer.from(w.values.password as string).toString('base64'));
  });

  test('a failed source write keeps the pending rotation and Ready; the retry writes once', async () => {
    const w = world({ password: 'old' }, { rotation });
    await w.reconciler.reconcile('ns/db');
    w.tick(3_600_000);
    w.fail('rotate', new SourceAuthError('permission denied'));
    await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
    expect(w.status()?.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'False', reason: 'SourceAuthFailed' });
    expect(w.status()?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(w.status()?.pendingRotation).toBeDefined();
    await w.reconciler.reconcile('ns/db');
    expect(w.source.writes).toBe(1);
    expect(w.status()?.conditions?.find((c) => c.type === 'Rotated')?.status).toBe('True');
  });

  test('rotate-now: once per value, also across a restart', async () => {
    const w = world({ password: 'old' }, { rotation: { ...rotation, schedule: '0 0 1 1 *' } });
    await w.reconciler.reconcile('ns/db');
    w.annotate('secretsync.io/rotate-now', 'x');
    await w.reconciler.reconcile('ns/db');
    await w.reconciler.reconcile('ns/db');
    await w.restart().reconcile('ns/db');
    expect(w.source.writes).toBe(1);
    expect(w.status()).toMatchObject({ version: 2, rotateNowHandled: 'x' });
    // A new value within a minute of the last rotation waits (throttle.ts), shown, then runs by itself.
    w.annotate('secretsync.io/rotate-now', 'y');
    const { requeueAfterMs } = await w.reconciler.reconcile('ns/db');
    expect(w.source.writes).toBe(1);
    expect(w.status()?.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'True', reason: 'Throttled' });
    expect(requeueAfterMs).toBeLessThanOrEqual(60_000);
    w.tick(60_000);
    await w.reconciler.reconcile('ns/db');
    expect(w.source.writes).toBe(2);
    expect(w.status()?.conditions?.find((c) => c.type === 'Rotated')).toMatchObject({ status: 'True', reason: 'Rotated' });
  });
});

describe('metrics', () => {
  /** The samples of one metric as `label=value,...` → value, in a stable order. */
  const samples = async (w: ReturnType<typeof world>, name: string) => {
    const got = await w.metrics.registry.getSingleMetric(name)?.get();
    return Object.fromEntries((got?.values ?? []).map((v) => [Object.entries(v.labels).map(([k, l]) => `${k}=${l}`).join(','), v.value]));
  };
  const seconds = (d: Date) => d.getTime() / 1000;

  test('Ready, then its source breaks (reason), then it is deleted: the series follow, and go', async () => {
    const w = world({ password: 'one' });
    await w.reconciler.reconcile('ns/db');
    expect(await samples(w, 'secretsync_status_condition')).toEqual({
      'namespace=ns,name=db,condition=Ready,status=True': 1,
      'namespace=ns,name=db,condition=Ready,status=False': 0,
    });
    expect(await samples(w, 'secretsync_condition_reason')).toEqual({});
    expect(await samples(w, 'secretsync_last_sync_timestamp_seconds')).toEqual({ 'namespace=ns,name=db': seconds(w.now()) });
    const synced = seconds(w.now());

    delete w.values.password;
    w.tick(10_001);
    await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
    expect(await samples(w, 'secretsync_status_condition')).toEqual({
      'namespace=ns,name=db,condition=Ready,status=True': 0,
      'namespace=ns,name=db,condition=Ready,status=False': 1,
    });
    expect(await samples(w, 'secretsync_condition_reason')).toEqual({ 'namespace=ns,name=db,condition=Ready,reason=SourceNotFound': 1 });
    // The last successful sync stays where it was.
    expect(await samples(w, 'secretsync_last_sync_timestamp_seconds')).toEqual({ 'namespace=ns,name=db': synced });

    w.values.password = 'one';
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db');
    expect(await samples(w, 'secretsync_condition_reason')).toEqual({});
    expect(await samples(w, 'secretsync_last_sync_timestamp_seconds')).toEqual({ 'namespace=ns,name=db': seconds(w.now()) });

    w.remove();
    await w.reconciler.reconcile('ns/db');
    for (const name of ['secretsync_status_condition', 'secretsync_condition_reason', 'secretsync_last_sync_timestamp_seconds']) {
      expect(await samples(w, name)).toEqual({});
    }
    expect(await w.metrics.registry.metrics()).not.toContain('name="db"');
  });

  test('a refresh that finds the same content moves the last sync; a reconcile without a read does not', async () => {
    const w = world({ password: 'one' });
    await w.reconciler.reconcile('ns/db');
    const first = seconds(w.now());
    w.tick(1_000);
    await w.reconciler.reconcile('ns/db'); // nothing due
    expect(await samples(w, 'secretsync_last_sync_timestamp_seconds')).toEqual({ 'namespace=ns,name=db': first });
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db'); // a refresh, unchanged
    expect(w.writes.filter((x) => x === 'patch')).toEqual([]);
    expect(await samples(w, 'secretsync_last_sync_timestamp_seconds')).toEqual({ 'namespace=ns,name=db': seconds(w.now()) });
  });

  test('a new process starts from the moment it first finds the SecretSync Ready, without reading', async () => {
    const w = world({ password: 'one' });
    await w.reconciler.reconcile('ns/db');
    w.tick(5_000);
    w.reads.length = 0;
    // A fresh process: no memory, and no series of its own yet.
    w.metrics.secretsyncs.delete('ns/db');
    const next = w.restart();
    await next.reconcile('ns/db');
    expect(w.reads).toEqual([]);
    expect(await samples(w, 'secretsync_last_sync_timestamp_seconds')).toEqual({ 'namespace=ns,name=db': seconds(w.now()) });
  });

  test('rotations count by namespace and result; the Rotated condition shows per SecretSync', async () => {
    const w = world({ password: 'old' }, { rotation: { schedule: '0 * * * *', keys: ['password'], generator: { length: 24, charset: 'hex' } } });
    await w.reconciler.reconcile('ns/db');
    w.tick(3_600_000);
    w.fail('rotate', new SourceAuthError('permission denied'));
    await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
    expect(await samples(w, 'secretsync_rotations_total')).toEqual({ 'namespace=ns,result=failed': 1 });
    expect(await samples(w, 'secretsync_condition_reason')).toEqual({ 'namespace=ns,name=db,condition=Rotated,reason=SourceAuthFailed': 1 });
    await w.reconciler.reconcile('ns/db');
    expect(await samples(w, 'secretsync_rotations_total')).toEqual({ 'namespace=ns,result=failed': 1, 'namespace=ns,result=succeeded': 1 });
    expect(await samples(w, 'secretsync_status_condition')).toMatchObject({
      'namespace=ns,name=db,condition=Rotated,status=True': 1,
      'namespace=ns,name=db,condition=Rotated,status=False': 0,
    });
  });

  test('a reconcile from a cache behind this process\'s own status write (its write refused as stale) changes no series', async () => {
    const w = world({ password: 'one' });
    await w.reconciler.reconcile('ns/db');
    const shown = await samples(w, 'secretsync_status_condition');
    const written = w.status() as SecretSyncStatus;
    w.setStatus({ conditions: [{ type: 'Ready', status: 'False', reason: 'SourceNotFound', message: 'old', lastTransitionTime: w.now().toISOString() }] });
    w.fail('status', new StaleObjectError('the object has been modified'));
    w.tick(1_000);
    await expect(w.reconciler.reconcile('ns/db')).rejects.toBeInstanceOf(RecordedError);
    expect(await samples(w, 'secretsync_status_condition')).toEqual(shown);
    expect(await samples(w, 'secretsync_condition_reason')).toEqual({});
    w.setStatus(written);
  });

  test('a replica that stopped leading exports no per-SecretSync series, even from a reconcile still running', async () => {
    const w = world({ password: 'one' });
    await w.reconciler.reconcile('ns/db');
    w.metrics.secretsyncs.stopLeading();
    w.tick(10_001);
    await w.reconciler.reconcile('ns/db');
    expect(await samples(w, 'secretsync_status_condition')).toEqual({});
    expect(await samples(w, 'secretsync_last_sync_timestamp_seconds')).toEqual({});
  });
});

describe('force-sync in envelope mode', () => {
  const transit = {
    target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, key: 'secretsync', agentAuth: { kubernetes: { role: 'app' } } } } } },
  } as Partial<SecretSync['spec']>;
  const held = (w: ReturnType<typeof world>) => decodeEnvelope(w.secrets.get('db')?.data);

  test('asks the key service for the KEK version: a key rotated since is re-wrapped by that sync, the version kept', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    const before = held(w);
    w.kek.rotate(); // nobody told this process (the watcher's pass is far off)
    w.kek.calls.length = 0;
    w.writes.length = 0;
    w.tick(1_000);
    await w.reconciler.reconcile('ns/db'); // without force-sync: nothing
    expect([w.kek.calls, w.writes]).toEqual([[], []]);

    w.annotate(FORCE_SYNC_ANNOTATION, '1');
    await w.reconciler.reconcile('ns/db');
    expect(w.kek.calls).toEqual(['currentVersion', 'rewrap']);
    expect(w.writes).toEqual(['patch', 'status', 'event Normal Rewrapped']);
    const after = held(w);
    expect(after.current.kek.version).toBe('2');
    expect(after.current.values).toEqual(before.current.values); // the same data key: content and version untouched
    expect(w.status()).toMatchObject({ version: 1, keyId: 'vault-transit:transit/secretsync:v2', forceSyncHandled: '1' });
    expect(w.kekVersions.get('SecretSource/ns/vault|transit:transit/secretsync')).toBe('2');
  });

  test('a KEK at its newest version: the check, no re-wrap; a failed check still syncs', async () => {
    const w = world({ password: 'one' }, transit);
    await w.reconciler.reconcile('ns/db');
    w.kek.calls.length = 0;
    w.writes.length = 0;
    w.tick(11_000);
    w.annotate(FORCE_SYNC_ANNOTATION, '1');
    await w.reconciler.reconcile('ns/db');
    expect(w.kek.calls).toEqual(['currentVersion']);
    expect(w.writes).toEqual(['status']); // forceSyncHandled recorded
    w.kek.currentVersion = async () => {
      throw new SourceAuthError('permission denied');
    };
    w.tick(11_000);
    w.annotate(FORCE_SYNC_ANNOTATION, '2');
    await w.reconciler.reconcile('ns/db');
    expect(w.status()).toMatchObject({ forceSyncHandled: '2' });
    expect(w.sink.lines.some((l) => l.includes('could not check the KEK version'))).toBe(true);
  });
});
