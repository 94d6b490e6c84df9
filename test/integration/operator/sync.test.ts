// The operator end to end: a real `secretsync operator` process against the real
// apiserver and OpenBao. Covers syncing, refresh, the no-write guarantee, source
// outages, each rejection reason, deletion policies, and that a canary secret value
// never shows up in logs, events or status.
import { setHeaderOptions } from '@kubernetes/client-node';
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import { eventually } from '../../helpers/eventually.js';
import {
  apply,
  createNamespace,
  createSecret,
  deleteNamespace,
  deleteSyncs,
  getSync,
  installCrds,
  kube,
  readyCondition,
  secretData,
  waitReady,
} from '../../helpers/kube.js';
import { canary, digestsOf } from '../../helpers/canary.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { nextOnGrid } from '../../helpers/grid.js';
import { getText, loggedAt, refreshRead, startOperator, waitForLogLines, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { startProxy, type Proxy } from '../../helpers/tcp-proxy.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const CANARY = canary(); // with a quote, a backslash and ü: its JSON-escaped form differs
// Every other planted value from canary() too (the suite-wide leak scan looks for them), compared by digest.
const V = Object.fromEntries(['a', 'b', 'deep', 'one', 'two', 'same', 'kept', 'forced-a', 'forced-b'].map((k) => [k, canary(k)])) as Record<string, string>;
const id = uniqueName('op');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const vaultAddr = requireEnv('VAULT_ADDR');
let op: RunningOperator;
let proxy: Proxy;

const source = (name: string, address: string, extra: Record<string, unknown> = {}) => ({
  kind: 'SecretSource',
  metadata: { name, namespace: ns },
  spec: { vault: { address, auth: { token: { secretRef: { name: 'vault-token', key: 'token', ...extra } } } } },
});
const sync = (name: string, spec: Record<string, unknown>) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, ...spec },
});
const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
const patchSync = (name: string, body: unknown) =>
  custom.patchNamespacedCustomObject(
    { group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name, body },
    mergePatch,
  );

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns, { team: id });
  const token = requireEnv('VAULT_TOKEN');
  await createSecret(core, ns, 'vault-token', { token });
  await createSecret(core, opNs, 'vault-token', { token });
  await kvPut(`${id}/db`, { username: 'app', password: CANARY });
  await kvPut(`${id}/api`, { 'key-a': V.a, 'key-b': V.b, nested: { deep: V.deep } });
  const u = new URL(vaultAddr);
  proxy = await startProxy(u.hostname, Number(u.port));
  await apply(custom, source('vault', vaultAddr));
  await apply(custom, source('vault-proxied', `http://127.0.0.1:${proxy.port}`));
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
});

afterAll(async () => {
  await deleteSyncs(custom, ns); // the operator removes its finalizers before it stops
  const code = await op?.stop();
  expect(code).toBe(0); // graceful shutdown on SIGTERM
  await proxy?.down();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('data and dataFrom become a Ready Secret with the right content, owned and labelled', async () => {
  await apply(
    custom,
    sync('app', {
      data: [
        { key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } },
        { key: 'user', remoteRef: { path: `${id}/db`, property: 'username' } },
      ],
      dataFrom: [{ remoteRef: { path: `${id}/api` } }],
    }),
  );
  const ss = await waitReady(custom, ns, 'app', 'True', 'Synced');
  expect(ss.status).toMatchObject({ version: 1, sourceVersions: { [`${id}/db`]: '1', [`${id}/api`]: '1' } });
  expect(ss.status?.contentHmac).toMatch(/^v2:hmac-sha256:/); // per-object key (issue 18, item 4)
  expect(digestsOf(await secretData(core, ns, 'app'))).toEqual(
    digestsOf({
      password: CANARY,
      user: 'app',
      'key-a': V.a as string,
      'key-b': V.b as string,
      nested: JSON.stringify({ deep: V.deep }),
    }),
  );
  const secret = await core.readNamespacedSecret({ name: 'app', namespace: ns });
  expect(secret.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'secretsync' });
  expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'SecretSync', name: 'app', uid: ss.metadata.uid, controller: true });
});

test('a value changed in Vault shows up after the next refresh, with version + 1', async () => {
  await kvPut(`${id}/rotating`, { v: V.one });
  await apply(custom, sync('rotating', { data: [{ key: 'v', remoteRef: { path: `${id}/rotating`, property: 'v' } }], refresh: { interval: '10s' } }));
  const first = await waitReady(custom, ns, 'rotating', 'True');
  expect(first.status?.version).toBe(1);
  await waitIdle(op); // the first sync's own watch events handled
  // A refresh tick of this sync as the operator logs it now: the change, made just after it,
  // must be picked up on that tick's 10 s grid at the next tick. Seen, not computed with the
  // scheduling code under test (which would agree with whatever that code does).
  const [tickLine] = await waitForLogLines(op, refreshRead(ns, 'rotating'), { from: op.logs.length, timeoutMs: 30_000 });
  const tick = loggedAt(tickLine as string);
  expect(tick).not.toBeNaN();
  const changedAt = new Date();
  await kvPut(`${id}/rotating`, { v: V.two });
  const second = await eventually(
    async () => {
      const s = await getSync(custom, ns, 'rotating');
      return s.status?.version === 2 ? s : undefined;
    },
    { timeoutMs: 45_000, what: 'version 2 after refresh' },
  );
  expect(second.status?.sourceVersions).toEqual({ [`${id}/rotating`]: '2' });
  // Picked up by its first refresh tick after the change (the fixed offset of its remote path
  // in the interval), not earlier and not a tick later.
  const due = nextOnGrid(tick, 10_000, changedAt.getTime());
  const synced = new Date(second.status?.lastSyncTime ?? 0).getTime();
  expect(synced).toBeGreaterThanOrEqual(due - 1000);
  expect(synced).toBeLessThanOrEqual(due + 5000);
  expect(digestsOf(await secretData(core, ns, 'rotating'))).toEqual(digestsOf({ v: V.two as string }));
});

test('nothing is written while nothing changes, across several refreshes', async () => {
  await kvPut(`${id}/steady`, { v: V.same });
  await apply(custom, sync('steady', { data: [{ key: 'v', remoteRef: { path: `${id}/steady`, property: 'v' } }], refresh: { interval: '10s' } }));
  await waitReady(custom, ns, 'steady', 'True');
  // Let the first write's own watch events settle, then measure.
  await waitIdle(op);
  const from = op.logs.length;
  const since = Date.now(); // lines of earlier ticks may still be on their way
  const before = await getSync(custom, ns, 'steady');
  const secretBefore = await core.readNamespacedSecret({ name: 'steady', namespace: ns });
  const calls = (body: string) => Number(/secretsync_provider_calls_total\{[^}]*operation="read"[^}]*result="success"[^}]*\} (\d+)/.exec(body)?.[1] ?? 0);
  const readsBefore = calls((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body);
  // Two refresh ticks of this sync, each finished (whatever it would write, written).
  await waitForLogLines(op, refreshRead(ns, 'steady'), { from, since, count: 2, timeoutMs: 40_000 });
  await waitIdle(op);
  const after = await getSync(custom, ns, 'steady');
  const secretAfter = await core.readNamespacedSecret({ name: 'steady', namespace: ns });
  const readsAfter = calls((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body);
  expect(readsAfter).toBeGreaterThan(readsBefore); // it did refresh...
  expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion); // ...and wrote nothing
  expect(secretAfter.metadata?.resourceVersion).toBe(secretBefore.metadata?.resourceVersion);
}, 60_000);

test('Vault down keeps the Secret and reports Ready=False, then recovers', async () => {
  await kvPut(`${id}/outage`, { v: V.kept });
  await apply(custom, {
    ...sync('outage', { data: [{ key: 'v', remoteRef: { path: `${id}/outage`, property: 'v' } }] }),
    spec: { sourceRef: { name: 'vault-proxied' }, data: [{ key: 'v', remoteRef: { path: `${id}/outage`, property: 'v' } }] },
  });
  await waitReady(custom, ns, 'outage', 'True');
  await proxy.down();
  await patchSync('outage', { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: '1' } } });
  const down = await waitReady(custom, ns, 'outage', 'False', 'SourceUnavailable');
  expect(readyCondition(down)?.message).toMatch(/vault/i);
  expect(digestsOf(await secretData(core, ns, 'outage'))).toEqual(digestsOf({ v: V.kept as string }));
  expect(down.status?.version).toBe(1);
  await proxy.up();
  const back = await waitReady(custom, ns, 'outage', 'True', 'Synced', 90_000);
  expect(back.status?.version).toBe(1); // same content: no new version
});

describe('rejections, each with its own reason and a message that says what to fix', () => {
  test('a wrong path: SourceNotFound', async () => {
    await apply(custom, sync('wrong-path', { data: [{ key: 'v', remoteRef: { path: `${id}/nope`, property: 'v' } }] }));
    const ss = await waitReady(custom, ns, 'wrong-path', 'False', 'SourceNotFound');
    expect(readyCondition(ss)?.message).toContain(`${id}/nope`);
  });

  test('a missing key: KeyNotFound', async () => {
    await apply(custom, sync('missing-key', { data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'nokey' } }] }));
    const ss = await waitReady(custom, ns, 'missing-key', 'False', 'KeyNotFound');
    expect(readyCondition(ss)?.message).toContain('nokey');
  });

  test('a ClusterSecretSource used from a namespace it does not admit: NamespaceNotAllowed', async () => {
    const name = `${id}-cluster`;
    await apply(custom, {
      kind: 'ClusterSecretSource',
      metadata: { name },
      spec: {
        vault: { address: vaultAddr, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } },
        allowedNamespaces: ['somewhere-else'],
      },
    });
    try {
      await apply(custom, {
        ...sync('not-admitted', {}),
        spec: { sourceRef: { kind: 'ClusterSecretSource', name }, data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'username' } }] },
      });
      const ss = await waitReady(custom, ns, 'not-admitted', 'False', 'NamespaceNotAllowed');
      expect(readyCondition(ss)?.message).toContain('allowedNamespaces');
      // Admit it by label: the same SecretSync becomes Ready.
      await custom.patchClusterCustomObject(
        { group: 'secretsync.io', version: 'v1alpha1', plural: 'clustersecretsources', name, body: { spec: { namespaceSelector: { matchLabels: { team: id } } } } },
        mergePatch,
      );
      await waitReady(custom, ns, 'not-admitted', 'True', 'Synced');
    } finally {
      await custom.deleteClusterCustomObject({ group: 'secretsync.io', version: 'v1alpha1', plural: 'clustersecretsources', name }).catch(() => undefined);
    }
  });

  test('a secret reference to another namespace: Forbidden', async () => {
    await apply(custom, source('cross-ns', vaultAddr, { namespace: opNs }));
    await apply(custom, {
      ...sync('cross-ns', {}),
      spec: { sourceRef: { name: 'cross-ns' }, data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'username' } }] },
    });
    const ss = await waitReady(custom, ns, 'cross-ns', 'False', 'Forbidden');
    expect(readyCondition(ss)?.message).toContain(ns);
  });

  test('a missing source: SourceRefNotFound', async () => {
    await apply(custom, { ...sync('no-source', {}), spec: { sourceRef: { name: 'absent' }, data: [{ key: 'v', remoteRef: { path: 'x' } }] } });
    await waitReady(custom, ns, 'no-source', 'False', 'SourceRefNotFound');
  });

  test('an existing Secret the operator does not own is never taken over: TargetConflict', async () => {
    await createSecret(core, ns, 'someone-elses', { keep: 'me' });
    await apply(custom, sync('conflict', { data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'username' } }], target: { name: 'someone-elses' } }));
    await waitReady(custom, ns, 'conflict', 'False', 'TargetConflict');
    expect(await secretData(core, ns, 'someone-elses')).toEqual({ keep: 'me' });
  });

  test('content over maxSizeBytes: SizeLimitExceeded', async () => {
    await apply(custom, sync('too-big', { dataFrom: [{ remoteRef: { path: `${id}/api` } }], target: { maxSizeBytes: 10 } }));
    const ss = await waitReady(custom, ns, 'too-big', 'False', 'SizeLimitExceeded');
    expect(readyCondition(ss)?.message).toContain('maxSizeBytes');
  });

  test('an invalid cron schedule: InvalidSpec', async () => {
    await apply(custom, sync('bad-cron', { data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'username' } }], refresh: { schedule: '99 * * * *' } }));
    const ss = await waitReady(custom, ns, 'bad-cron', 'False', 'InvalidSpec');
    expect(readyCondition(ss)?.message).toContain('spec.refresh.schedule');
  });

  test('the schema rejects a credential-minting target type and two refresh modes', async () => {
    await expect(
      apply(custom, sync('mint', { data: [{ key: 'v', remoteRef: { path: 'x' } }], target: { type: 'kubernetes.io/service-account-token' } })),
    ).rejects.toThrow(/mint credentials/);
    await expect(
      apply(custom, sync('both', { data: [{ key: 'v', remoteRef: { path: 'x' } }], refresh: { interval: '1h', schedule: '0 * * * *' } })),
    ).rejects.toThrow(/schedule or interval, not both/);
  });
});

test('sources report whether their spec is usable', async () => {
  const status = async (name: string) =>
    eventually(
      async () => {
        const src = (await custom.getNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsources', name })) as {
          status?: { conditions?: { type: string; status: string; reason: string }[] };
        };
        return src.status?.conditions?.find((c) => c.type === 'Ready');
      },
      { what: `SecretSource ${name} status` },
    );
  expect(await status('vault')).toMatchObject({ status: 'True', reason: 'Valid' });
  await apply(custom, source('refers-elsewhere', vaultAddr, { namespace: opNs }));
  expect(await status('refers-elsewhere')).toMatchObject({ status: 'False', reason: 'Forbidden' });
});

test('a new force-sync annotation value syncs now', async () => {
  await kvPut(`${id}/forced`, { v: V['forced-a'] });
  await apply(custom, sync('forced', { data: [{ key: 'v', remoteRef: { path: `${id}/forced`, property: 'v' } }] })); // default 1h refresh
  await waitReady(custom, ns, 'forced', 'True');
  await kvPut(`${id}/forced`, { v: V['forced-b'] });
  await patchSync('forced', { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: 'now-1' } } });
  await eventually(async () => ((await getSync(custom, ns, 'forced')).status?.version === 2 ? true : undefined), { what: 'forced sync' });
  expect(digestsOf(await secretData(core, ns, 'forced'))).toEqual(digestsOf({ v: V['forced-b'] as string }));
});

test('deletionPolicy Delete removes the Secret; Retain keeps it, released', async () => {
  await apply(custom, sync('del', { data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'username' } }] }));
  await apply(custom, sync('ret', { data: [{ key: 'v', remoteRef: { path: `${id}/db`, property: 'username' } }], target: { deletionPolicy: 'Retain' } }));
  await waitReady(custom, ns, 'del', 'True');
  await waitReady(custom, ns, 'ret', 'True');
  for (const name of ['del', 'ret']) {
    await custom.deleteNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name });
  }
  await eventually(
    async () => (await core.readNamespacedSecret({ name: 'del', namespace: ns }).then(() => undefined, () => true)),
    { what: 'Secret del deleted' },
  );
  await eventually(
    async () => (await getSync(custom, ns, 'ret').then(() => undefined, () => true)),
    { what: 'SecretSync ret gone' },
  );
  const kept = await core.readNamespacedSecret({ name: 'ret', namespace: ns });
  expect(kept.metadata?.ownerReferences ?? []).toEqual([]);
  expect(await secretData(core, ns, 'ret')).toEqual({ v: 'app' });
});

test('the canary value never appears in logs, events or status', async () => {
  await expectNoLeak({ core, custom }, ns, op, CANARY);
});

test('/metrics has the work-queue metrics of controller-runtime and reconcile errors by reason', async () => {
  const body = (await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body;
  const sample = (series: string) => {
    const m = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(body);
    return m ? Number(m[1]) : undefined;
  };
  for (const name of ['secretsync', 'sources']) {
    expect(sample(`secretsync_workqueue_adds_total{name="${name}"}`)).toBeGreaterThan(0);
    expect(sample(`secretsync_workqueue_work_duration_seconds_count{name="${name}"}`)).toBeGreaterThan(0);
    expect(sample(`secretsync_workqueue_queue_duration_seconds_count{name="${name}"}`)).toBeGreaterThan(0);
    for (const gauge of ['depth', 'unfinished_work_seconds', 'longest_running_processor_seconds']) {
      expect(sample(`secretsync_workqueue_${gauge}{name="${name}"}`)).toBeGreaterThanOrEqual(0);
    }
  }
  // The rejections above failed and were retried with backoff.
  expect(sample('secretsync_workqueue_retries_total{name="secretsync"}')).toBeGreaterThan(0);
  expect(sample('secretsync_reconcile_errors_total{controller="secretsync",reason="SourceNotFound"}')).toBeGreaterThan(0);
  expect(body).not.toMatch(/^secretsync_workqueue_\w+\{controller=/m);
});
