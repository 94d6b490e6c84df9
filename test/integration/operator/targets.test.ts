// The target Secret on the real apiserver: never lost (a type the API server refuses keeps
// the old Secret), never stolen (two SecretSyncs on one target: one owns it, the content
// never flips), long names, renamed targets, and status that drops what it no longer
// reads without being rewritten on every refresh.
import { Watch, type V1Secret } from '@kubernetes/client-node';
import { canary, digestsOf } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, deleteNamespace, getSync, kube, patchSync as patchSyncIn, readyCondition, secretData, vaultTestNamespaces, waitReady } from '../../helpers/kube.js';
import { refreshRead, startOperator, waitForLogLines, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const id = uniqueName('tg');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const G = { group: 'secretsync.io', version: 'v1alpha1' };
let op: RunningOperator;
// Planted values (canary(): the suite-wide leak scan looks for them), compared by digest.
const ALPHA = canary('alpha');
const BETA = canary('beta');
const CERT = canary('cert');
const KEY = canary('key');

const sync = (name: string, spec: Record<string, unknown>) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, refresh: { interval: '10s' }, ...spec },
});
const entry = (key: string, path: string, property = 'v') => ({ key, remoteRef: { path: `${id}/${path}`, property } });
const patchSync = (name: string, body: unknown) => patchSyncIn(custom, ns, name, body);
const readSecret = (name: string) => core.readNamespacedSecret({ name, namespace: ns });
const gone = (name: string) => eventually(async () => (await readSecret(name).then(() => undefined, () => true)), { what: `Secret ${name} gone` });

beforeAll(async () => {
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs);
  await kvPut(`${id}/a`, { v: ALPHA });
  await kvPut(`${id}/b`, { v: BETA });
  await kvPut(`${id}/tls`, { crt: CERT, key: KEY });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
});

afterAll(async () => {
  await op?.stop();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('a removed data entry leaves the Secret and status.sourceVersions, and refreshes write nothing after', async () => {
  await apply(custom, sync('shrink', { data: [entry('a', 'a'), entry('b', 'b')] }));
  const first = await waitReady(custom, ns, 'shrink', 'True');
  expect(first.status?.sourceVersions).toEqual({ [`${id}/a`]: '1', [`${id}/b`]: '1' });
  await patchSync('shrink', { spec: { data: [entry('a', 'a')] } });
  const after = await eventually(async () => {
    const s = await getSync(custom, ns, 'shrink');
    return s.status?.observedGeneration === 2 ? s : undefined;
  }, { what: 'spec change handled' });
  expect(after.status?.sourceVersions).toEqual({ [`${id}/a`]: '1' });
  expect(after.status?.version).toBe(2);
  expect(digestsOf(await secretData(core, ns, 'shrink'))).toEqual(digestsOf({ a: ALPHA }));
  expect(Object.keys(after.status ?? {})).not.toContain('nextRefreshTime');
  // lastSyncTime is when the Secret was last written: at this spec change.
  const written = await readSecret('shrink');
  const secretWriteTime = Math.max(...(written.metadata?.managedFields ?? []).map((m) => new Date(m.time ?? 0).getTime()));
  expect(Math.abs(new Date(after.status?.lastSyncTime ?? 0).getTime() - secretWriteTime)).toBeLessThan(2000);
  await waitIdle(op);
  const from = op.logs.length;
  const since = Date.now(); // lines of earlier ticks may still be on their way
  const rv = (await getSync(custom, ns, 'shrink')).metadata.resourceVersion;
  await waitForLogLines(op, refreshRead(ns, 'shrink'), { from, since, count: 2, timeoutMs: 40_000 }); // two refreshes...
  await waitIdle(op); // ...each finished
  expect((await getSync(custom, ns, 'shrink')).metadata.resourceVersion).toBe(rv);
}, 60_000);

test('a target type the API server refuses keeps the old Secret as it was; a valid one replaces it', async () => {
  await apply(custom, sync('typed', { data: [entry('tls.crt', 'tls', 'crt')] }));
  await waitReady(custom, ns, 'typed', 'True');
  const before = await readSecret('typed');
  await patchSync('typed', { spec: { target: { type: 'kubernetes.io/tls' } } });
  const refused = await waitReady(custom, ns, 'typed', 'False', 'TargetInvalid');
  expect(readyCondition(refused)?.message).toMatch(/tls\.key/);
  const kept = await readSecret('typed');
  expect(kept.metadata?.uid).toBe(before.metadata?.uid);
  expect(kept.type).toBe('Opaque');
  expect(kept.data).toEqual(before.data);
  // Now with both keys the type needs: the Secret is replaced by one of the new type.
  await patchSync('typed', { spec: { data: [entry('tls.crt', 'tls', 'crt'), entry('tls.key', 'tls', 'key')] } });
  await waitReady(custom, ns, 'typed', 'True');
  const replaced = await readSecret('typed');
  expect(replaced.type).toBe('kubernetes.io/tls');
  expect(replaced.metadata?.uid).not.toBe(before.metadata?.uid);
  expect(digestsOf(await secretData(core, ns, 'typed'))).toEqual(digestsOf({ 'tls.crt': CERT, 'tls.key': KEY }));
});

test('two SecretSyncs naming one target: one owns it, the other is TargetConflict, and the content never flips', async () => {
  const seen: string[] = [];
  const ctl = await new Watch(kc).watch(
    `/api/v1/namespaces/${ns}/secrets`,
    { fieldSelector: 'metadata.name=shared' },
    (_type: string, obj: V1Secret) => seen.push(JSON.stringify(obj.data ?? {})),
    () => undefined,
  );
  try {
    await Promise.all([
      apply(custom, sync('first', { data: [entry('v', 'a')], target: { name: 'shared' } })),
      apply(custom, sync('second', { data: [entry('v', 'b')], target: { name: 'shared' } })),
    ]);
    const states = await eventually(async () => {
      const s = await Promise.all(['first', 'second'].map((n) => getSync(custom, ns, n)));
      return s.every((x) => x.status?.observedGeneration === 1) ? s.map((x) => readyCondition(x)) : undefined;
    }, { what: 'both SecretSyncs decided' });
    expect(states.map((c) => `${c?.status}/${c?.reason}`).sort()).toEqual(['False/TargetConflict', 'True/Synced']);
    const owner = states[0]?.status === 'True' ? 'first' : 'second';
    const loser = owner === 'first' ? 'second' : 'first';
    // A refresh of each: the owner reads its source again, the other is reconciled again
    // (and fails again without a read); then whatever either would write is written.
    const from = op.logs.length;
    await Promise.all([
      waitForLogLines(op, refreshRead(ns, owner), { from, timeoutMs: 30_000 }),
      waitForLogLines(op, ['"reconcile failed"', `"key":"${ns}/${loser}"`], { from, timeoutMs: 30_000 }),
    ]);
    await waitIdle(op);
    const secret = await readSecret('shared');
    expect(secret.metadata?.ownerReferences?.map((o) => o.name)).toEqual([owner]);
    expect(new Set(seen).size).toBe(1); // every version of the Secret ever seen had the same content
  } finally {
    ctl.abort();
  }
}, 60_000);

test('a 100-character SecretSync name syncs (the owner label is shortened), and its Secret goes with it', async () => {
  const name = `long-${'x'.repeat(90)}-name`;
  expect(name).toHaveLength(100);
  await apply(custom, sync(name, { data: [entry('v', 'a')] }));
  await waitReady(custom, ns, name, 'True');
  const s = await readSecret(name);
  expect(s.metadata?.labels?.['secretsync.io/sync']?.length).toBeLessThanOrEqual(63);
  expect(s.metadata?.ownerReferences?.[0]?.name).toBe(name);
  await custom.deleteNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs', name });
  await gone(name);
});

test('a renamed target: the old Secret is deleted (Delete) or released (Retain)', async () => {
  await apply(custom, sync('ren-del', { data: [entry('v', 'a')], target: { name: 'old-del' } }));
  await apply(custom, sync('ren-ret', { data: [entry('v', 'a')], target: { name: 'old-ret', deletionPolicy: 'Retain' } }));
  await waitReady(custom, ns, 'ren-del', 'True');
  await waitReady(custom, ns, 'ren-ret', 'True');
  await patchSync('ren-del', { spec: { target: { name: 'new-del' } } });
  await patchSync('ren-ret', { spec: { target: { name: 'new-ret' } } });
  await waitReady(custom, ns, 'ren-del', 'True');
  await waitReady(custom, ns, 'ren-ret', 'True');
  await gone('old-del');
  expect(digestsOf(await secretData(core, ns, 'new-del'))).toEqual(digestsOf({ v: ALPHA }));
  const released = await eventually(async () => {
    const s = await readSecret('old-ret');
    return (s.metadata?.ownerReferences ?? []).length === 0 ? s : undefined;
  }, { what: 'old-ret released' });
  expect(released.metadata?.labels?.['secretsync.io/sync']).toBeUndefined();
  expect(digestsOf(await secretData(core, ns, 'old-ret'))).toEqual(digestsOf({ v: ALPHA }));
  expect(digestsOf(await secretData(core, ns, 'new-ret'))).toEqual(digestsOf({ v: ALPHA }));
});
