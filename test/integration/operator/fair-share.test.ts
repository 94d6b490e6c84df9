// Noisy neighbours, as the attacking namespace would try it: tenant `evil` (who may create
// SecretSources, SecretSyncs and Pods, nothing else) points two SecretSources at addresses it
// controls, one that accepts and never answers and one that answers 200 with an endless
// body, and makes more SecretSyncs on them than the operator has workers. Meanwhile tenant
// `good` creates SecretSyncs on the real OpenBao and pods through the real webhook. Measured
// against a baseline without the hostile load, and printed: good's time to Ready and its
// pod admission latency stay close to the baseline, the operator's RSS stays bounded, evil's
// objects end Ready=False saying why, and evil never has more than its share of calls in flight.
import { readFileSync } from 'node:fs';
import { AdmissionregistrationV1Api, type CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import type { SecretSync } from '../../../src/api/types.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { startHostileServer, type HostileServer } from '../../helpers/hostile-server.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, secretData } from '../../helpers/kube.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant, type Tenant } from '../../helpers/tenant.js';
import { kvPut } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const id = uniqueName('fair');
const opNs = `${id}-system`;
const evilNs = `${id}-evil`;
const goodNs = `${id}-good`;
const configName = `secretsync-${id}`;
const CANARY = canary();
const WORKERS = 8; // --source-concurrency defaults to 8 / 4 = 2
const SHARE = 2;
const EVIL_PER_SOURCE = 12; // 24 hostile SecretSyncs: three times the workers
const GOOD_BATCH = 8;
const TIMEOUT = '5s';
const MAX_BODY = 4 * 1024 * 1024;

let op: RunningOperator;
let hang: HostileServer;
let endless: HostileServer;
let evil: Tenant;
let good: Tenant;
const G = { group: 'secretsync.io', version: 'v1alpha1' };

const goodSync = (name: string) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: goodNs },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: `${id}/good`, property: 'password' } }], access: { serviceAccounts: ['app'] } },
});
const evilSync = (name: string, source: string) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: evilNs },
  // A path of its own each, so no two share a read (FreshReads): every one costs a call.
  spec: { sourceRef: { name: source }, data: [{ key: 'x', remoteRef: { path: `${name}/x`, property: 'x' } }] },
});
const vaultSource = (namespace: string, name: string, address: string) => ({
  kind: 'SecretSource',
  metadata: { name, namespace },
  spec: { vault: { address, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
});

async function listSyncs(c: CustomObjectsApi, namespace: string): Promise<SecretSync[]> {
  return ((await c.listNamespacedCustomObject({ ...G, namespace, plural: 'secretsyncs' })) as { items: SecretSync[] }).items;
}
const ready = (s: SecretSync) => s.status?.conditions?.find((c) => c.type === 'Ready');

/** Creates `names` in good at once, as the tenant; ms until every one is Ready=True. */
async function timeToReady(names: string[]): Promise<number> {
  const t0 = Date.now();
  await Promise.all(names.map((n) => apply(good.custom, goodSync(n))));
  await eventually(
    async () => {
      const items = (await listSyncs(good.custom, goodNs)).filter((s) => names.includes(s.metadata.name));
      return items.length === names.length && items.every((s) => ready(s)?.status === 'True') ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 100, what: `${names.length} SecretSyncs of ${goodNs} Ready` },
  );
  return Date.now() - t0;
}

/** Pod admission latencies (ms) of `n` labelled pods created in good through the webhook, sorted. */
async function podLatencies(prefix: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const body: V1Pod = {
      metadata: { name: `${prefix}-${i}`, namespace: goodNs, labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'g0' } },
      spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'registry.example/app:1' }] },
    };
    const t0 = performance.now();
    const stored = await good.core.createNamespacedPod({ namespace: goodNs, body });
    out.push(performance.now() - t0);
    expect(stored.spec?.initContainers?.[0]?.name).toBe('secretsync-agent-init'); // injected, not admitted bare
  }
  return out.sort((a, b) => a - b);
}
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] as number;

/** The operator process's resident memory (MiB), from /proc. */
function rssMiB(): number {
  const status = readFileSync(`/proc/${op.proc.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb / 1024;
}

beforeAll(async () => {
  hang = await startHostileServer('hang', { maxMs: 180_000 });
  endless = await startHostileServer('endless', { maxMs: 180_000, maxBytes: 1024 * 1024 * 1024 });
  await installCrds(kc);
  for (const n of [opNs, evilNs, goodNs]) await createNamespace(core, n);
  // The platform team's part: the credentials Secrets and the tenants' permissions.
  await createSecret(core, goodNs, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  await createSecret(core, evilNs, 'vault-token', { token: 'not-a-real-token' });
  await core.createNamespacedServiceAccount({ namespace: goodNs, body: { metadata: { name: 'app' } } });
  evil = await tenant(kc, evilNs);
  good = await tenant(kc, goodNs);
  await kvPut(`${id}/good`, { password: CANARY });
  await apply(good.custom, vaultSource(goodNs, 'vault', requireEnv('VAULT_ADDR')));
  await apply(good.custom, goodSync('g0'));
  op = await startOperator([`--operator-namespace=${opNs}`, `--workers=${WORKERS}`, `--source-timeout=${TIMEOUT}`], {}, { webhook: { configName } });
  await eventually(async () => (await listSyncs(custom, goodNs)).every((s) => ready(s)?.status === 'True') || undefined, { timeoutMs: 60_000, what: 'g0 Ready' });
  await eventually(async () => (await admission.readMutatingWebhookConfiguration({ name: configName }).catch(() => undefined)) ?? undefined, { what: 'webhook registered' });
  await eventually(() => podLatencies(uniqueName('warm'), 1).catch(() => undefined), { what: 'the webhook admits pods' });
}, 180_000);

afterAll(async () => {
  await deleteSyncs(custom, goodNs).catch(() => undefined);
  await deleteSyncs(custom, evilNs, 60_000).catch(() => undefined);
  await op?.stop();
  evil?.release();
  good?.release();
  await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  for (const n of [evilNs, goodNs, opNs]) await deleteNamespace(core, n);
  await hang?.close();
  await endless?.close();
}, 120_000);

test('a hostile namespace holds its share of workers and memory; the others keep their sync and admission latency', async () => {
  // Baseline: no hostile load.
  const baseReady = await timeToReady(Array.from({ length: GOOD_BATCH }, (_, i) => `base-${i}`));
  const basePods = await podLatencies(uniqueName('base'), 5);
  const baseRss = rssMiB();

  // The attack: two hostile addresses, three times as many SecretSyncs as workers.
  await apply(evil.custom, vaultSource(evilNs, 'hang', hang.url));
  await apply(evil.custom, vaultSource(evilNs, 'endless', endless.url));
  for (let i = 0; i < EVIL_PER_SOURCE; i++) {
    await apply(evil.custom, evilSync(`hang-${i}`, 'hang'));
    await apply(evil.custom, evilSync(`endless-${i}`, 'endless'));
  }
  let peakRss = baseRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB())), 100);
  try {
    // Evil's reconciles are under way (calls reached both addresses) before good starts.
    await eventually(async () => (hang.requests() >= 1 && endless.requests() >= 1 ? true : undefined), { what: 'calls to the hostile addresses' });
    const loadReady = await timeToReady(Array.from({ length: GOOD_BATCH }, (_, i) => `load-${i}`));
    const loadPods = await podLatencies(uniqueName('load'), 5);

    // Every hostile SecretSync ends Ready=False, saying which limit it hit.
    const failed = await eventually(
      async () => {
        const items = await listSyncs(custom, evilNs);
        return items.length === 2 * EVIL_PER_SOURCE && items.every((s) => ready(s)?.status === 'False') ? items : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: `all ${2 * EVIL_PER_SOURCE} hostile SecretSyncs Ready=False` },
    );
    const afterRss = rssMiB();
    const lines = [
      `workers ${WORKERS}, share per namespace ${SHARE}, --source-timeout ${TIMEOUT}, body cap ${MAX_BODY} bytes`,
      `good: ${GOOD_BATCH} SecretSyncs to Ready: baseline ${baseReady} ms, under hostile load ${loadReady} ms`,
      `good: pod admission ms (sorted): baseline ${basePods.map((x) => x.toFixed(0)).join(' ')}, under load ${loadPods.map((x) => x.toFixed(0)).join(' ')}`,
      `operator RSS MiB: baseline ${baseRss.toFixed(0)}, peak under load ${peakRss.toFixed(0)}, after ${afterRss.toFixed(0)}`,
      `hostile addresses: hang ${hang.requests()} requests (max ${hang.maxOpen()} open at once), endless ${endless.requests()} requests (max ${endless.maxOpen()} open), ${(endless.bytesSent() / 1048576).toFixed(0)} MiB streamed in all`,
    ];
    console.log(`fair share:\n  ${lines.join('\n  ')}`);

    for (const s of failed) {
      const c = ready(s);
      expect(c?.reason).toBe('SourceUnavailable');
      if (s.metadata.name.startsWith('hang-')) expect(c?.message).toMatch(/gave no complete answer within 5s/);
      else expect(c?.message).toMatch(/sent a response larger than 4194304 bytes/);
    }
    // Close to the baseline: the hostile namespace holds SHARE of the WORKERS workers.
    expect(loadReady).toBeLessThan(baseReady * 3 + 3_000);
    expect(median(loadPods)).toBeLessThan(median(basePods) * 3 + 250);
    expect(loadPods.at(-1)).toBeLessThan(2_000);
    // Bounded memory: at most SHARE bodies of at most 4 MiB in flight, not a gigabyte stream.
    expect(peakRss - baseRss).toBeLessThan(150);
    expect(endless.bytesSent()).toBeLessThan(64 * MAX_BODY * 2 * EVIL_PER_SOURCE);
    // Never more than the namespace's share of calls in flight at the hostile addresses.
    expect(hang.maxOpen() + endless.maxOpen()).toBeLessThanOrEqual(2 * SHARE);
  } finally {
    clearInterval(sampler);
  }
  // Good's Secrets are intact and nothing of them reached evil's objects or the logs.
  expect(await secretData(core, goodNs, 'load-0')).toEqual({ password: CANARY });
  expect(leaksIn(JSON.stringify(await listSyncs(custom, evilNs)), CANARY)).toEqual([]);
  expect(leaksIn(op.logs.join('\n'), CANARY)).toEqual([]);
}, 600_000);
