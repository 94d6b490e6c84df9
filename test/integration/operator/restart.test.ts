// What an operator restart (or a new leader) does to 300 healthy SecretSyncs of 300 secrets
// on one Vault source: no read storm (each remote secret is read at its own offset inside
// the interval; syncs of one secret would share it, see shared-reads.test.ts), not a
// single write, a force-sync that was handled stays handled, and a lost HMAC key moves no
// version and rewrites no Secret. Reads are counted where they land: a recording proxy in
// front of the real OpenBao.
import { setHeaderOptions } from '@kubernetes/client-node';
import { FORCE_SYNC_ANNOTATION } from '../../../src/api/annotations.js';
import type { SecretSync } from '../../../src/api/types.js';
import { hmacKeyIdOf } from '../../../src/secretsync/content.js';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { startHttpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { apply, deleteNamespace, getSync, kube, vaultTestNamespaces } from '../../helpers/kube.js';
import { getText, metricSum, startOperator, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const id = uniqueName('rs');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const N = 300;
const INTERVAL_S = 30;
const G = { group: 'secretsync.io', version: 'v1alpha1' };
let recorder: HttpRecorder;
let op: RunningOperator | undefined;

const args = [`--namespace=${ns}`, `--operator-namespace=${opNs}`, '--qps=200', '--burst=400'];
const restart = async () => {
  expect(await op?.stop()).toBe(0);
  op = await startOperator(args);
  await eventually(async () => (op?.logs.some((l) => l.includes('"caches synced"')) ? true : undefined), { what: 'caches synced' });
  return Date.now();
};
/**
 * The operator's API writes by resource and verb. ClusterSecretSources are cluster-wide, so
 * other test files' operators on the shared stack may touch theirs: those are left out.
 */
const writesOf = async (o: RunningOperator) => {
  const body = (await getText(`http://127.0.0.1:${o.metricsPort}/metrics`)).body;
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/^secretsync_kube_writes_total\{([^}]*)\} (\d+)/gm)) {
    if (!m[1]?.includes('clustersecretsources')) out[m[1] ?? ''] = Number(m[2]);
  }
  return out;
};
/** Waits until `o` has reconciled every SecretSync of the namespace at least once and is idle. */
const reconciledAll = async (o: RunningOperator) => {
  await eventually(async () => ((await metricSum(o, 'secretsync_reconcile_duration_seconds_count', { controller: 'secretsync' })) >= N + 1 ? true : undefined), {
    what: `${N + 1} reconciles after the start`,
  });
  await waitIdle(o, { quietMs: 0 }); // 300 SecretSyncs tick all the time: never quiet for long
};
const listSyncs = async () => ((await custom.listNamespacedCustomObject({ ...G, namespace: ns, plural: 'secretsyncs' })) as { items: SecretSync[] }).items;
const secretVersions = async () =>
  Object.fromEntries((await core.listNamespacedSecret({ namespace: ns })).items.map((s) => [s.metadata?.name, s.metadata?.resourceVersion]));
/** GETs of `path`, or of every path under it when it ends with a slash. */
const readsOf = (path: string, from: number, to: number) =>
  recorder.requests.filter(
    (r) => r.method === 'GET' && (path.endsWith('/') ? r.path.startsWith(`/v1/secret/data/${path}`) : r.path === `/v1/secret/data/${path}`) && r.at >= from && r.at < to,
  );

beforeAll(async () => {
  await Promise.all(Array.from({ length: N }, (_, i) => kvPut(`${id}/s/${i}`, { v: canary('same') })));
  await kvPut(`${id}/forced`, { v: canary('forced') });
  recorder = await startHttpRecorder(requireEnv('VAULT_ADDR'));
  await vaultTestNamespaces({ kc, core, custom }, ns, opNs, recorder.url);
  op = await startOperator(args);
  const creates = Array.from({ length: N }, (_, i) =>
    apply(custom, {
      kind: 'SecretSync',
      metadata: { name: `s-${i}`, namespace: ns },
      spec: { sourceRef: { name: 'vault' }, data: [{ key: 'v', remoteRef: { path: `${id}/s/${i}`, property: 'v' } }], refresh: { interval: `${INTERVAL_S}s` } },
    }),
  );
  creates.push(
    apply(custom, {
      kind: 'SecretSync',
      metadata: { name: 'forced', namespace: ns },
      spec: { sourceRef: { name: 'vault' }, data: [{ key: 'v', remoteRef: { path: `${id}/forced`, property: 'v' } }], refresh: { interval: '1h' } },
    }),
  );
  await Promise.all(creates);
  await eventually(
    async () => {
      const items = await listSyncs();
      return items.length === N + 1 && items.every((s) => s.status?.version === 1 && s.status.conditions?.[0]?.status === 'True') ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1000, what: `${N + 1} SecretSyncs Ready` },
  );
}, 180_000);

afterAll(async () => {
  await op?.stop();
  await recorder?.close();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test(`a restart: reads spread over the interval (no second over 3x the mean), not one write`, async () => {
  const syncsBefore = Object.fromEntries((await listSyncs()).map((s) => [s.metadata.name, s.metadata.resourceVersion]));
  const secretsBefore = await secretVersions();
  const start = await restart();
  // The reads of one whole interval after the restart are counted. The window is over, and
  // every read in it recorded (the recorder notes requests as they arrive), once a read of the
  // next interval has reached OpenBao.
  const end = start + INTERVAL_S * 1000;
  await eventually(async () => (readsOf(`${id}/s/`, end, Number.POSITIVE_INFINITY).length > 0 ? true : undefined), {
    timeoutMs: (INTERVAL_S + 20) * 1000,
    intervalMs: 250,
    what: 'a read of the interval after the counted one',
  });
  const reads = readsOf(`${id}/s/`, start, end);
  const perSecond = new Array<number>(INTERVAL_S).fill(0);
  for (const r of reads) perSecond[Math.floor((r.at - start) / 1000)]! += 1;
  const mean = reads.length / INTERVAL_S;
  process.stdout.write(`restart: ${reads.length} reads in ${INTERVAL_S}s, mean ${mean.toFixed(1)}/s, max ${Math.max(...perSecond)}/s, first 5 s: ${perSecond.slice(0, 5).join(' ')}\n`);
  expect(reads.length).toBeGreaterThan(N * 0.8); // every sync was still checked in its interval...
  expect(reads.length).toBeLessThan(N * 1.2); // ...once
  expect(Math.max(...perSecond)).toBeLessThan(3 * mean);
  expect(await writesOf(op!)).toEqual({});
  expect(Object.fromEntries((await listSyncs()).map((s) => [s.metadata.name, s.metadata.resourceVersion]))).toEqual(syncsBefore);
  expect(await secretVersions()).toEqual(secretsBefore);
}, 120_000);

test('a handled force-sync does not fire again after a restart', async () => {
  await custom.patchNamespacedCustomObject(
    { ...G, namespace: ns, plural: 'secretsyncs', name: 'forced', body: { metadata: { annotations: { [FORCE_SYNC_ANNOTATION]: 'once' } } } },
    setHeaderOptions('Content-Type', 'application/merge-patch+json'),
  );
  const handled = await eventually(async () => {
    const s = await getSync(custom, ns, 'forced');
    return s.status?.forceSyncHandled === 'once' ? s : undefined;
  }, { what: 'force-sync handled' });
  expect(readsOf(`${id}/forced`, 0, Date.now()).length).toBe(2); // the first sync and the forced one
  const start = await restart();
  // Every SecretSync reconciled once by the new process (none due but for its own reasons), and finished.
  await reconciledAll(op!);
  expect(readsOf(`${id}/forced`, start, Date.now())).toEqual([]);
  expect((await getSync(custom, ns, 'forced')).metadata.resourceVersion).toBe(handled.metadata.resourceVersion);
}, 60_000);

test('the HMAC key Secret deleted, the operator restarted: every version unchanged, not one Secret write', async () => {
  const before = await listSyncs();
  const secretsBefore = await secretVersions();
  await core.deleteNamespacedSecret({ name: 'secretsync-hmac-key', namespace: opNs });
  await restart();
  // Every SecretSync refreshed and compared its content for real (within one interval): each
  // re-keyed its status; then whatever else they would write is written.
  await eventually(
    async () => ((await listSyncs()).filter((s) => s.metadata.name.startsWith('s-') && hmacKeyIdOf(s.status?.contentHmac) !== hmacKeyIdOf(before[0]?.status?.contentHmac)).length === N ? true : undefined),
    { timeoutMs: (INTERVAL_S + 30) * 1000, intervalMs: 1000, what: `all ${N} SecretSyncs re-keyed` },
  );
  await waitIdle(op!, { quietMs: 0 });
  const after = await listSyncs();
  expect(after.map((s) => [s.metadata.name, s.status?.version])).toEqual(before.map((s) => [s.metadata.name, s.status?.version]));
  const keyId = (s: SecretSync) => hmacKeyIdOf(s.status?.contentHmac);
  const rekeyed = after.filter((s) => s.metadata.name.startsWith('s-') && keyId(s) !== keyId(before[0]!)).length;
  expect(rekeyed).toBe(N); // re-keyed quietly in status...
  const writes = await writesOf(op!);
  expect(Object.keys(writes).filter((k) => !k.includes('secretsyncs/status'))).toEqual([]); // ...and nothing else written
  expect(await secretVersions()).toEqual(secretsBefore);
}, 120_000);
