// Injection end to end: a real operator process serving its admission webhook over TLS,
// registered with the real kube-apiserver, which calls it for labelled pods. The stored
// pods are what the API server keeps; their agent init container is then run as a process
// with that pod's service-account identity (the pods in test/integration/pods/ show the same on the node) to show the files.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, AppsV1Api, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { parseSamples, sumBy } from '../../../bench/prom.js';
import { createBundle } from '../../../src/webhook/certs.js';
import { agentIdentity, agentVaultAuth, runAgent, type AgentIdentity } from '../../helpers/agent.js';
import { canary, leaksIn } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, waitReady } from '../../helpers/kube.js';
import { expectNoLeak } from '../../helpers/leaks.js';
import { getText, startOperator, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const CANARY = canary();
const id = uniqueName('wh');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const configName = `secretsync-${id}`;
const transit = `transit-${id}`;
const authMount = `kubernetes-${id}`;
const root = vaultRoot();
let op: RunningOperator;
let tmp = '';
let app: AgentIdentity;
let other: AgentIdentity;
const refusals: string[] = [];
let cleanupVault: () => Promise<void> = async () => undefined;

const IMAGE = 'registry.example/app:1';
const pod = (name: string, o: { labels?: Record<string, string>; annotations?: Record<string, string>; sa?: string } = {}): V1Pod => ({
  metadata: { name, namespace: ns, labels: o.labels ?? { 'secretsync.io/inject': 'true' }, annotations: o.annotations ?? { 'secretsync.io/inject': 'db,sealed' } },
  spec: { serviceAccountName: o.sa ?? 'app', containers: [{ name: 'app', image: IMAGE, env: [{ name: 'KEEP', value: 'me' }] }] },
});
const metrics = async () => parseSamples((await getText(`http://127.0.0.1:${op.metricsPort}/metrics`)).body);
const admitted = async () => Object.values(sumBy(await metrics(), 'secretsync_webhook_requests_total', {}, 'result')).reduce((a, b) => a + b, 0);
const sync = (name: string, spec: Record<string, unknown>) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }], access: { serviceAccounts: ['app'] }, ...spec },
});
const startOp = (extra: string[] = []) =>
  // clientAuth: the stack's API server calls with its webhook client certificate, so refusals are detailed.
  startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`, '--agent-image=secretsync-test:dev', '--kek-check-interval=2s', ...extra], {}, { webhook: { configName, clientAuth: true } });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'webhook-it-'));
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  await kvPut(`${id}/db`, { password: CANARY });
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
  app = await agentIdentity(kc, ns, 'app', tmp);
  other = await agentIdentity(kc, ns, 'other', tmp);
  cleanupVault = await agentVaultAuth(kc, root, { namespace: ns, dir: tmp, authMount, transitMount: transit, key: 'secretsync', role: 'app', serviceAccounts: ['app'] });
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
  await apply(custom, sync('db', { mount: { mode: '0440', uid: 1000, gid: 2000 } }));
  await apply(custom, sync('sealed', { mount: { mode: '0440', uid: 1000, gid: 2000 }, target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { mount: authMount, role: 'app' } } } } } } }));
  op = await startOp();
  await waitReady(custom, ns, 'db', 'True');
  await waitReady(custom, ns, 'sealed', 'True');
  // Registered, and the API server can reach it.
  await eventually(async () => (await admission.readMutatingWebhookConfiguration({ name: configName }).catch(() => undefined)) ?? undefined, { what: 'webhook registered' });
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns);
  await op?.stop();
  await admission.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await cleanupVault();
  await root.delete(`sys/mounts/${transit}`).catch(() => undefined);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
  rmSync(tmp, { recursive: true, force: true });
});

/** Creates a pod, retrying while the freshly registered webhook is not reachable yet. */
async function createPod(p: V1Pod): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace: ns, body: p });
}

test('an annotated pod is stored with the in-memory volumes, the agent init container, read-only mounts and _FILE env; its own env kept', async () => {
  const before = await admitted();
  const stored = await eventually(() => createPod(pod(uniqueName('p'))).catch(() => undefined), { what: 'pod created through the webhook' });
  expect(await admitted()).toBeGreaterThan(before);
  const vols = stored.spec?.volumes ?? [];
  for (const s of ['db', 'sealed']) {
    expect(vols.find((v) => v.emptyDir?.medium === 'Memory' && v.name.includes(s))).toBeDefined();
  }
  const init = stored.spec?.initContainers?.[0];
  expect(init?.name).toBe('secretsync-agent-init');
  expect(init?.image).toBe('secretsync-test:dev');
  expect(init?.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  expect(vols.some((v) => v.projected?.sources?.some((src) => src.serviceAccountToken?.audience === 'vault'))).toBe(true);
  const c = stored.spec?.containers?.[0];
  expect(c?.volumeMounts?.filter((m) => m.mountPath.startsWith('/run/secrets/')).map((m) => [m.mountPath.replace(/\/$/, ''), m.readOnly])).toEqual(
    expect.arrayContaining([['/run/secrets/db', true], ['/run/secrets/sealed', true]]),
  );
  const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
  expect(env.KEEP).toBe('me');
  expect(Object.entries(env).filter(([k]) => k.endsWith('_FILE')).map(([, v]) => v)).toEqual(expect.arrayContaining(['/run/secrets/db/password', '/run/secrets/sealed/password']));
  expect(leaksIn(JSON.stringify(stored), CANARY)).toEqual([]);
});

test('a pod without the label is never sent to the webhook', async () => {
  const before = await admitted();
  const stored = await createPod(pod(uniqueName('plain'), { labels: {} }));
  expect(stored.spec?.initContainers ?? []).toEqual([]);
  expect(await admitted()).toBe(before);
});

test("a Deployment's ReplicaSet creates injected pods (kube-controller-manager)", async () => {
  const name = uniqueName('dep');
  const tpl = pod('x');
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name, namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, ...tpl.metadata?.labels }, annotations: tpl.metadata?.annotations }, spec: tpl.spec } },
    },
  });
  const pods = await eventually(async () => {
    const list = await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${name}` });
    return list.items.length === 2 ? list.items : undefined;
  }, { timeoutMs: 60_000, what: 'the ReplicaSet created 2 pods' });
  for (const p of pods) expect(p.spec?.initContainers?.[0]?.name).toBe('secretsync-agent-init');
});

test("the stored pod's init container, run as that pod's service account, writes the files (plain and envelope)", async () => {
  const stored = await eventually(() => createPod(pod(uniqueName('run'))).catch(() => undefined), { what: 'pod' });
  const init = stored.spec?.initContainers?.[0];
  const argv = [...(init?.command ?? []), ...(init?.args ?? [])];
  const at = argv.indexOf('agent');
  expect(at).toBeGreaterThanOrEqual(0);
  const dir = mkdtempSync(join(tmp, 'run-'));
  // The pod's paths become the temp dir; the namespace and the tokens are what the pod would have.
  const args = argv.slice(at + 1).map((a) => a.replace(/^\/run\/secrets/, dir));
  if (!args.some((a) => a.startsWith('--dir'))) args.push('--dir', dir);
  const r = await runAgent(app, [...args, '--namespace', ns, '--insecure-allow-http']);
  expect(r.code).toBe(0);
  expect(readFileSync(join(dir, 'db', 'password'), 'utf8') === CANARY).toBe(true);
  expect(readFileSync(join(dir, 'sealed', 'password'), 'utf8') === CANARY).toBe(true);
  const st = statSync(join(dir, 'db', 'password'));
  expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o440, 1000, 2000]);
  expect(leaksIn(`${r.stdout}\n${r.stderr}`, CANARY)).toEqual([]);
});

/** Runs a stored pod's first agent init container as a process with that pod's identity; returns the files it wrote. */
async function runInit(p: V1Pod, sync: string): Promise<string> {
  const init = p.spec?.initContainers?.find((c) => c.args?.some((a) => a.startsWith(`${sync}=`) || a === `${sync}=${sync}`)) ?? p.spec?.initContainers?.[0];
  const argv = [...(init?.command ?? []), ...(init?.args ?? [])];
  const dir = mkdtempSync(join(tmp, 'pin-'));
  const args = argv.slice(argv.indexOf('agent') + 1).map((a) => a.replace(/^\/run\/secrets/, dir));
  if (!args.some((a) => a.startsWith('--dir'))) args.push('--dir', dir);
  const r = await runAgent(app, [...args, '--namespace', ns, '--insecure-allow-http']);
  expect(r.code).toBe(0);
  return readFileSync(join(dir, sync, 'password'), 'utf8');
}

test('envelope + injection + rollout: pods of the old ReplicaSet open the old version, pods of the new one the new', async () => {
  const name = 'rolled';
  const kek = { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { mount: authMount, role: 'app' } } } };
  const [v1, v2, v3] = [canary('rolled-1'), canary('rolled-2'), canary('rolled-3')];
  await kvPut(`${id}/rolled`, { password: v1 });
  await apply(custom, sync(name, { data: [{ key: 'password', remoteRef: { path: `${id}/rolled`, property: 'password' } }], target: { encryption: { kek } }, rollout: { auto: true } }));
  await waitReady(custom, ns, name, 'True');
  const tpl = pod('x', { annotations: { 'secretsync.io/inject': name } });
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'roller', namespace: ns },
      spec: { replicas: 1, selector: { matchLabels: { app: 'roller' } }, template: { metadata: { labels: { app: 'roller', ...tpl.metadata?.labels }, annotations: tpl.metadata?.annotations }, spec: tpl.spec } },
    },
  });
  const podOf = (version: string) =>
    eventually(async () => {
      const sets = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=roller' })).items;
      const rs = sets.find((r) => r.spec?.template?.metadata?.annotations?.[`secretsync.io/version-${name}`] === version);
      const hash = rs?.metadata?.labels?.['pod-template-hash'];
      if (!hash) return undefined;
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=roller,pod-template-hash=${hash}` })).items;
      return pods[0];
    }, { timeoutMs: 60_000, what: `a pod of the ReplicaSet on version ${version}` });
  await eventually(async () => ((await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=roller' })).items.length ? true : undefined), { what: 'first pod' });
  const bump = async (value: string, token: string, version: number) => {
    await kvPut(`${id}/rolled`, { password: value });
    await custom.patchNamespacedCustomObject(
      { group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name, body: { metadata: { annotations: { 'secretsync.io/force-sync': token } } } },
      setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await eventually(async () => ((await getSync(custom, ns, name)).status?.version === version ? true : undefined), { what: `version ${version}` });
  };
  await bump(v2, 'a', 2);
  const old = await podOf('2');
  await bump(v3, 'b', 3);
  const fresh = await podOf('3');
  expect(old.metadata?.annotations?.[`secretsync.io/version-${name}`]).toBe('2');
  // Run after version 3 exists: the old ReplicaSet's pod still opens version 2, the new one 3.
  expect((await runInit(old, name)) === v2).toBe(true);
  expect((await runInit(fresh, name)) === v3).toBe(true);
  const sets = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=roller' })).items;
  expect(sets).toHaveLength(3);
  // A KEK rotation re-wraps the data keys: same version, no rollout.
  const keyBefore = (await getSync(custom, ns, name)).status?.keyId;
  await root.write(`${transit}/keys/secretsync/rotate`, {});
  await eventually(async () => {
    const s = await getSync(custom, ns, name);
    return s.status?.keyId !== keyBefore && s.status?.version === 3 ? true : undefined;
  }, { timeoutMs: 30_000, what: 'data keys re-wrapped under the new Transit key version' });
  // Whatever the re-wrap (and the watch event of its own status write) makes the operator do,
  // done; then the Deployment controller caught up with the last template it was given, so a
  // rollout the re-wrap wrongly caused shows as a fourth ReplicaSet now.
  await waitIdle(op);
  await eventually(async () => {
    const d = await apps.readNamespacedDeployment({ name: 'roller', namespace: ns });
    return d.status?.observedGeneration !== undefined && d.status.observedGeneration === d.metadata?.generation ? true : undefined;
  }, { what: 'the Deployment controller caught up (observedGeneration)' });
  expect((await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=roller' })).items).toHaveLength(3);
  await apps.deleteNamespacedDeployment({ name: 'roller', namespace: ns });
}, 120_000);

test('refusals name what to fix: unknown SecretSync, service account not allowed, SecretSync not Ready', async () => {
  const refused = async (p: V1Pod) => {
    const err = await createPod(p).then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
    expect(err?.code).toBeGreaterThanOrEqual(400);
    const message = JSON.parse(err?.body ?? '{}').message as string;
    refusals.push(message);
    return message;
  };
  expect(await refused(pod(uniqueName('r'), { annotations: { 'secretsync.io/inject': 'nope' } }))).toMatch(/SecretSync "nope" does not exist in namespace .*: create it/);
  expect(await refused(pod(uniqueName('r'), { sa: 'other' }))).toMatch(/other.*spec\.access\.serviceAccounts/);
  // Had it got past admission (say, created while the webhook was down with Ignore), RBAC still refuses its agent.
  const past = await runAgent(other, ['init', '--sync', 'db', '--dir', mkdtempSync(join(tmp, 'other-')), '--namespace', ns, '--insecure-allow-http']);
  expect(past.code).toBe(1);
  expect(past.stderr).toContain('may not read SecretSync');
  expect(past.stderr).toContain('add it to spec.access.serviceAccounts of SecretSync db');
  await apply(custom, sync('broken', { data: [{ key: 'password', remoteRef: { path: `${id}/missing`, property: 'password' } }] }));
  await waitReady(custom, ns, 'broken', 'False');
  expect(await refused(pod(uniqueName('r'), { annotations: { 'secretsync.io/inject': 'broken' } }))).toMatch(/broken.*not Ready/);
});

test('operator down: failurePolicy Fail refuses only annotated pods; Ignore admits them uninjected and the operator says so when back', async () => {
  await op.stop();
  await expect(createPod(pod(uniqueName('down')))).rejects.toMatchObject({ code: expect.any(Number) });
  const plain = await createPod(pod(uniqueName('down-plain'), { labels: {} }));
  expect(plain.metadata?.name).toBeDefined();

  op = await startOp(['--webhook-failure-policy=Ignore']);
  await eventually(async () => {
    const c = await admission.readMutatingWebhookConfiguration({ name: configName });
    return c.webhooks?.[0]?.failurePolicy === 'Ignore' ? true : undefined;
  }, { what: 'failurePolicy Ignore registered' });
  await op.stop();
  const name = uniqueName('ignored');
  const stored = await createPod(pod(name, { annotations: { 'secretsync.io/inject': 'db' } }));
  expect(stored.spec?.initContainers ?? []).toEqual([]);
  op = await startOp(['--webhook-failure-policy=Ignore']);
  await eventually(async () => {
    const evs = await core.listNamespacedEvent({ namespace: ns });
    return evs.items.some((e) => e.involvedObject.name === 'db' && e.reason === 'PodNotInjected' && (e.message ?? '').includes(name)) ? true : undefined;
  }, { timeoutMs: 30_000, what: 'a PodNotInjected event on SecretSync db' });
}, 120_000);

test('--webhook-cert-dir: certificates from a directory (as cert-manager mounts them) are served and their CA registered', async () => {
  const dir = mkdtempSync(join(tmp, 'certs-'));
  const b = await createBundle({ hosts: ['127.0.0.1', 'localhost'], caName: `external-${id}` });
  writeFileSync(join(dir, 'tls.crt'), b.serving.cert);
  writeFileSync(join(dir, 'tls.key'), b.serving.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.crt'), b.caBundle);
  await op.stop();
  op = await startOp([`--webhook-cert-dir=${dir}`]);
  await eventually(async () => {
    const c = await admission.readMutatingWebhookConfiguration({ name: configName });
    const bundle = Buffer.from(c.webhooks?.[0]?.clientConfig?.caBundle ?? '', 'base64').toString('utf8');
    return bundle === b.caBundle && c.webhooks?.[0]?.failurePolicy === 'Fail' ? true : undefined;
  }, { what: 'the directory CA registered' });
  const stored = await eventually(() => createPod(pod(uniqueName('ext'), { annotations: { 'secretsync.io/inject': 'db' } })).catch(() => undefined), { what: 'pod through the directory certificate' });
  expect(stored.spec?.initContainers?.[0]?.name).toBe('secretsync-agent-init');
});

test('no value in refusals, events, status, operator logs or metrics', async () => {
  expect(refusals.length).toBeGreaterThanOrEqual(3);
  expect(leaksIn(refusals.join('\n'), CANARY)).toEqual([]);
  await expectNoLeak({ core, custom }, ns, op, CANARY);
});
