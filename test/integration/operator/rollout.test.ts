// Rollout status and the in-use hold against the real apiserver with kube-controller-
// manager (Deployments get ReplicaSets; NO_NODE keeps the pods Pending, so they never become
// available): RolloutComplete for a 0-replica Deployment, ProgressDeadlineExceeded named
// for one whose pods never come up, and deletion held while a live workload uses the
// Secret, lifted when it goes, or forced by annotation.
import { AppsV1Api, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { NO_NODE } from '../../helpers/pods.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, waitReady } from '../../helpers/kube.js';
import { startOperator, waitIdle, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut } from '../../helpers/vault.js';
import type { SecretSync } from '../../../src/api/types.js';

const { kc, core, custom } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const id = uniqueName('ro');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
let op: RunningOperator;

const G = { group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs' };
const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
const patchSync = (name: string, body: unknown) => custom.patchNamespacedCustomObject({ ...G, name, body }, mergePatch);
const sync = (name: string, spec: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'v', remoteRef: { path: `${id}/${name}`, property: 'v' } }], ...spec },
});
type Use = 'volume' | 'env';
function deployment(name: string, secret: string, o: { replicas?: number; use?: Use; progressDeadlineSeconds?: number } = {}): V1Deployment {
  const use = o.use ?? 'volume';
  return {
    metadata: { name, namespace: ns },
    spec: {
      replicas: o.replicas ?? 1,
      ...(o.progressDeadlineSeconds ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...NO_NODE,
          containers: [{
            name: 'app',
            image: 'registry.example/app:1',
            ...(use === 'env' ? { env: [{ name: 'V', valueFrom: { secretKeyRef: { name: secret, key: 'v' } } }] } : { volumeMounts: [{ name: 's', mountPath: '/etc/s' }] }),
          }],
          ...(use === 'volume' ? { volumes: [{ name: 's', secret: { secretName: secret } }] } : {}),
        },
      },
    },
  };
}
const condition = (ss: SecretSync, type: string) => ss.status?.conditions?.find((c) => c.type === type);
/** Waits until the workload's controller has seen its latest spec (status.observedGeneration). */
const settled = (read: () => Promise<{ metadata?: { generation?: number }; status?: { observedGeneration?: number } }>) =>
  eventually(async () => {
    const w = await read();
    return w.status?.observedGeneration !== undefined && w.status.observedGeneration === w.metadata?.generation ? true : undefined;
  }, { what: 'the workload controller caught up (observedGeneration)' });
const replicaSets = async (app: string) => (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: `app=${app}` })).items;
/** A new value at the source, picked up at once. */
async function newVersion(name: string, value: string, token: string): Promise<SecretSync> {
  const before = (await getSync(custom, ns, name)).status?.version ?? 0;
  await kvPut(`${id}/${name}`, { v: value });
  await patchSync(name, { metadata: { annotations: { 'secretsync.io/force-sync': token } } });
  return eventually(async () => {
    const s = await getSync(custom, ns, name);
    return (s.status?.version ?? 0) > before ? s : undefined;
  }, { what: `${name} past version ${before}` });
}
const gone = (name: string) =>
  eventually(async () => ((await custom.getNamespacedCustomObject({ ...G, name }).then(() => false, () => true)) ? true : undefined), { timeoutMs: 30_000, what: `${name} deleted` });

beforeAll(async () => {
  await installCrds(kc);
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  for (const n of ['zero', 'stuck', 'held', 'forced', 'idle', 'sets']) await kvPut(`${id}/${n}`, { v: canary('one') });
  await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
});

afterAll(async () => {
  await deleteSyncs(custom, ns).catch(() => undefined);
  await op?.stop();
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
});

test('a 0-replica Deployment: rolled once to the new version, RolloutComplete=True', async () => {
  await apply(custom, sync('zero', { rollout: { targets: [{ kind: 'Deployment', name: 'zero' }] } }));
  await waitReady(custom, ns, 'zero', 'True');
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('zero', 'zero', { replicas: 0 }) });
  await eventually(async () => ((await replicaSets('zero')).length === 1 ? true : undefined), { what: 'first ReplicaSet' });
  const first = await eventually(async () => {
    const s = await getSync(custom, ns, 'zero');
    return s.status?.rollout?.targets?.[0]?.state === 'Complete' ? s : undefined;
  }, { what: 'zero recorded on version 1' });
  expect(first.status?.rollout?.targets).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'zero', version: 1, state: 'Complete' })]);

  const v2 = await newVersion('zero', canary('two'), 'a');
  expect(v2.status?.version).toBe(2);
  const done = await eventually(async () => {
    const s = await getSync(custom, ns, 'zero');
    const c = condition(s, 'RolloutComplete');
    return c?.status === 'True' && s.status?.rollout?.targets?.[0]?.version === 2 ? s : undefined;
  }, { what: 'RolloutComplete=True on version 2' });
  expect(condition(done, 'RolloutComplete')?.message).toMatch(/version 2/);
  expect(done.status?.rollout?.targets?.[0]).toMatchObject({ state: 'Complete', replicas: 0 });
  const dep = await apps.readNamespacedDeployment({ name: 'zero', namespace: ns });
  expect(dep.spec?.template?.metadata?.annotations?.['secretsync.io/version-zero']).toBe('2');
  await eventually(async () => ((await replicaSets('zero')).length === 2 ? true : undefined), { what: 'second ReplicaSet' });
  // The operator done, and the Deployment controller caught up with the last template it was given.
  await waitIdle(op);
  await settled(() => apps.readNamespacedDeployment({ name: 'zero', namespace: ns }));
  expect(await replicaSets('zero')).toHaveLength(2);
});

test('pods that never become available: RolloutComplete=False naming the Deployment after its progress deadline', async () => {
  await apply(custom, sync('stuck', { rollout: { auto: true } }));
  await waitReady(custom, ns, 'stuck', 'True');
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('stuck', 'stuck', { progressDeadlineSeconds: 5 }) });
  await eventually(async () => ((await getSync(custom, ns, 'stuck')).status?.rollout?.targets?.length ? true : undefined), { what: 'stuck recorded' });
  await newVersion('stuck', canary('two'), 'a');
  const failed = await eventually(async () => {
    const s = await getSync(custom, ns, 'stuck');
    const c = condition(s, 'RolloutComplete');
    return c?.status === 'False' && c.reason === 'ProgressDeadlineExceeded' ? s : undefined;
  }, { timeoutMs: 60_000, what: 'RolloutComplete=False ProgressDeadlineExceeded' });
  expect(condition(failed, 'RolloutComplete')?.message).toContain('Deployment/stuck');
  expect(failed.status?.rollout?.targets?.[0]).toMatchObject({ kind: 'Deployment', name: 'stuck', version: 2, state: 'Failed' });
  expect(condition(failed, 'Ready')?.status).toBe('True');
});

test('deleting a SecretSync whose Secret a live Deployment uses waits (InUse names it) until the Deployment goes', async () => {
  await apply(custom, sync('held'));
  await waitReady(custom, ns, 'held', 'True');
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('user', 'held', { use: 'env' }) });
  await eventually(async () => ((await getSync(custom, ns, 'held')).metadata.finalizers?.includes('secretsync.io/finalizer') ? true : undefined), { what: 'finalizer added for the user' });
  await custom.deleteNamespacedCustomObject({ ...G, name: 'held' });
  const holding = await eventually(async () => {
    const s = await getSync(custom, ns, 'held');
    return condition(s, 'InUse')?.status === 'True' ? s : undefined;
  }, { what: 'InUse=True' });
  expect(condition(holding, 'InUse')?.message).toContain('Deployment/user (env)');
  expect(condition(holding, 'InUse')?.message).toContain('secretsync.io/force-delete');
  await waitIdle(op); // whatever the deletion would do now, done
  expect((await core.readNamespacedSecret({ name: 'held', namespace: ns })).data?.v).toBeDefined();
  const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=held,reason=DeletionHeld' });
  expect(events.items.length).toBeGreaterThan(0);

  await apps.deleteNamespacedDeployment({ name: 'user', namespace: ns });
  await gone('held');
});

test('a 0-replica user does not hold deletion; force-delete deletes while in use', async () => {
  // So that this can fail: deletionPolicy Retain keeps our finalizer on from the start, so the
  // deletion waits for the operator's decision on the Deployment (without a finalizer nothing
  // could hold, and it would be gone whatever the operator thought); rollout.auto records the
  // Deployment in status.rollout, proof that the operator has seen it before the deletion.
  await apply(custom, sync('idle', { target: { deletionPolicy: 'Retain' }, rollout: { auto: true } }));
  await waitReady(custom, ns, 'idle', 'True');
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('sleeper', 'idle', { replicas: 0 }) });
  const seen = await eventually(async () => {
    const s = await getSync(custom, ns, 'idle');
    return s.status?.rollout?.targets?.some((t) => t.kind === 'Deployment' && t.name === 'sleeper') ? s : undefined;
  }, { what: 'the 0-replica Deployment seen by the operator (status.rollout)' });
  expect(seen.metadata.finalizers).toContain('secretsync.io/finalizer');
  await custom.deleteNamespacedCustomObject({ ...G, name: 'idle' });
  await gone('idle');

  await apply(custom, sync('forced'));
  await waitReady(custom, ns, 'forced', 'True');
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('user2', 'forced') });
  await eventually(async () => ((await getSync(custom, ns, 'forced')).metadata.finalizers?.length ? true : undefined), { what: 'finalizer' });
  await custom.deleteNamespacedCustomObject({ ...G, name: 'forced' });
  await eventually(async () => (condition(await getSync(custom, ns, 'forced'), 'InUse')?.status === 'True' ? true : undefined), { what: 'held' });
  await patchSync('forced', { metadata: { annotations: { 'secretsync.io/force-delete': 'true' } } });
  await gone('forced');
  // Events go out through a best-effort queue after the finalizer is removed: wait for the
  // first, then check it stays the only one (a second would be recorded within the same wait).
  const forcedEvents = async () => (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=forced,reason=ForceDeleted' })).items;
  await eventually(async () => ((await forcedEvents()).length > 0 ? true : undefined), { timeoutMs: 15_000, what: 'a ForceDeleted event' });
  await waitIdle(op);
  const events = await forcedEvents();
  if (events.length !== 1) console.log(JSON.stringify(events.map((e) => [e.metadata?.name, e.involvedObject.uid, e.involvedObject.resourceVersion, e.count, e.firstTimestamp, e.eventTime])), op.logs.filter((l) => l.includes('forced')).join('\n'));
  expect(events.length).toBe(1);
});

test('a StatefulSet and a DaemonSet named as targets: each template set once per version (one ControllerRevision each)', async () => {
  await apply(custom, sync('sets', { rollout: { targets: [{ kind: 'StatefulSet', name: 'db' }, { kind: 'DaemonSet', name: 'agent' }] } }));
  await waitReady(custom, ns, 'sets', 'True');
  const template = deployment('x', 'sets').spec?.template;
  await apps.createNamespacedStatefulSet({ namespace: ns, body: { metadata: { name: 'db', namespace: ns }, spec: { replicas: 0, serviceName: 'db', selector: { matchLabels: { app: 'x' } }, template: template! } } });
  await apps.createNamespacedDaemonSet({ namespace: ns, body: { metadata: { name: 'agent', namespace: ns }, spec: { selector: { matchLabels: { app: 'x' } }, template: template! } } });
  await eventually(async () => {
    const t = (await getSync(custom, ns, 'sets')).status?.rollout?.targets ?? [];
    return t.length === 2 && t.every((x) => x.state === 'Complete') ? true : undefined;
  }, { what: 'both recorded on version 1' });
  await newVersion('sets', canary('two'), 'a');
  const done = await eventually(async () => {
    const s = await getSync(custom, ns, 'sets');
    return condition(s, 'RolloutComplete')?.status === 'True' && s.status?.rollout?.targets?.every((t) => t.version === 2) ? s : undefined;
  }, { what: 'both on version 2' });
  expect(done.status?.rollout?.targets?.map((t) => `${t.kind}/${t.name}@${t.version}:${t.state}`).sort()).toEqual(['DaemonSet/agent@2:Complete', 'StatefulSet/db@2:Complete']);
  const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns });
  const ds = await apps.readNamespacedDaemonSet({ name: 'agent', namespace: ns });
  expect(sts.spec?.template.metadata?.annotations?.['secretsync.io/version-sets']).toBe('2');
  expect(ds.spec?.template.metadata?.annotations?.['secretsync.io/version-sets']).toBe('2');
  // Both controllers caught up with the last template they were given.
  await waitIdle(op);
  await settled(() => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns }));
  await settled(() => apps.readNamespacedDaemonSet({ name: 'agent', namespace: ns }));
  const revisions = (await apps.listNamespacedControllerRevision({ namespace: ns })).items.filter((r) => ['db', 'agent'].includes(r.metadata?.ownerReferences?.[0]?.name ?? ''));
  expect(revisions).toHaveLength(4); // two per workload: the first template and version 2
});
