// Issue 18, as the attacking namespace would try it (a tenant that may only write
// SecretSources, SecretSyncs and Pods): a SecretSync naming another team's Deployment in
// spec.rollout.targets does not restart it (item 6) unless its owner opts in; and in
// envelope mode a slow rollout keeps the versions its old pods still need (item 9).
import { AppsV1Api, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import type { SecretSync } from '../../../src/api/types.js';
import { entriesByDoc, type DocSecret } from '../../helpers/envelope-by-doc.js';
import { canary } from '../../helpers/canary.js';
import { eventually } from '../../helpers/eventually.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, installCrds, kube, waitReady } from '../../helpers/kube.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { tenant as makeTenant, type Tenant } from '../../helpers/tenant.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const id = uniqueName('tw');
const ns = `${id}-apps`;
const opNs = `${id}-system`;
const transit = `transit-${id}`;
const root = vaultRoot();
let op: RunningOperator;
let tenant: Tenant;

const G = { group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs' };
const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
const sync = (name: string, spec: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: { sourceRef: { name: 'vault' }, data: [{ key: 'v', remoteRef: { path: `${id}/${name}`, property: 'v' } }], ...spec },
});
/** A Deployment of another team: its pods use `secret` through a volume, or nothing. */
function deployment(name: string, o: { secret?: string; replicas?: number; annotations?: Record<string, string> } = {}): V1Deployment {
  return {
    metadata: { name, namespace: ns, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'registry.example/app:1', ...(o.secret ? { volumeMounts: [{ name: 's', mountPath: '/etc/s' }] } : {}) }],
          ...(o.secret ? { volumes: [{ name: 's', secret: { secretName: o.secret } }] } : {}),
        },
      },
    },
  };
}
const condition = (ss: SecretSync, type: string) => ss.status?.conditions?.find((c) => c.type === type);
const replicaSets = async (app: string) => (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: `app=${app}` })).items;
const templateAnnotations = async (name: string) => (await apps.readNamespacedDeployment({ name, namespace: ns })).spec?.template.metadata?.annotations ?? {};
const tenantSync = (name: string) => tenant.custom.getNamespacedCustomObject({ ...G, name }) as Promise<SecretSync>;

/** The tenant asks for a new version: a new value at the source, then force-sync (both within its reach). */
async function newVersion(name: string, value: string): Promise<SecretSync> {
  const before = (await tenantSync(name)).status?.version ?? 0;
  await kvPut(`${id}/${name}`, { v: value });
  // The token is not the value: annotations and status are no place for a secret value.
  await tenant.custom.patchNamespacedCustomObject({ ...G, name, body: { metadata: { annotations: { 'secretsync.io/force-sync': `after-${before}` } } } }, mergePatch);
  return eventually(async () => {
    const s = await tenantSync(name);
    return (s.status?.version ?? 0) > before ? s : undefined;
  }, { what: `${name} past version ${before}` });
}

beforeAll(async () => {
  await installCrds(kc);
  await root.write(`sys/mounts/${transit}`, { type: 'transit' });
  await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
  await createNamespace(core, opNs);
  await createNamespace(core, ns);
  // The platform team gives the namespace a Vault token; the tenant writes the rest.
  await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
  tenant = await makeTenant(kc, ns);
  for (const n of ['grab', 'slow']) await kvPut(`${id}/${n}`, { v: canary('one') });
  await apply(tenant.custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault: { address: requireEnv('VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
  op = await startOperator([`--namespace=${ns}`, `--operator-namespace=${opNs}`]);
}, 120_000);

afterAll(async () => {
  await deleteSyncs(custom, ns).catch(() => undefined);
  expect(await op?.stop()).toBe(0);
  await deleteNamespace(core, ns);
  await deleteNamespace(core, opNs);
  await root.delete(`sys/mounts/${transit}`).catch(() => undefined);
});

test('a tenant SecretSync naming an unrelated Deployment does not roll it (TargetNotUsing says why); once its owner opts in, it rolls', async () => {
  // Another team's Deployment: it does not use the tenant's Secret. The tenant cannot patch it.
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('other-team') });
  await eventually(async () => ((await replicaSets('other-team')).length === 1 ? true : undefined), { what: 'its first ReplicaSet' });
  await expect(tenant.kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({ name: 'other-team', namespace: ns, body: { metadata: { labels: { x: 'y' } } } }, mergePatch)).rejects.toThrow(/403|forbidden/i);

  await apply(tenant.custom, sync('grab', { rollout: { targets: [{ kind: 'Deployment', name: 'other-team' }] } }));
  await waitReady(custom, ns, 'grab', 'True');
  await newVersion('grab', canary('two'));
  const refused = await eventually(async () => {
    const s = await tenantSync('grab');
    return condition(s, 'RolloutComplete')?.reason === 'TargetNotUsing' && s.status?.version === 2 ? s : undefined;
  }, { what: 'RolloutComplete=False TargetNotUsing on version 2' });
  expect(condition(refused, 'RolloutComplete')).toMatchObject({ status: 'False', reason: 'TargetNotUsing' });
  expect(condition(refused, 'RolloutComplete')?.message).toContain('Deployment/other-team neither uses Secret "grab" nor injects SecretSync "grab"');
  expect(condition(refused, 'RolloutComplete')?.message).toContain('secretsync.io/rollout-from: "grab"');
  expect(refused.status?.rollout?.targets).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'other-team', state: 'NotUsing' })]);
  // Nothing was written to it: no template annotation, no new ReplicaSet (one more version to be sure).
  await newVersion('grab', canary('three'));
  await eventually(async () => ((await tenantSync('grab')).status?.observedGeneration ? true : undefined), { what: 'reconciled' });
  expect(await templateAnnotations('other-team')).not.toHaveProperty('secretsync.io/version-grab');
  expect(await replicaSets('other-team')).toHaveLength(1);

  // Its owner consents, on the Deployment's own metadata: first seen (not rolled), then rolled by the next version.
  await apps.patchNamespacedDeployment({ name: 'other-team', namespace: ns, body: { metadata: { annotations: { 'secretsync.io/rollout-from': 'grab' } } } }, mergePatch);
  await eventually(async () => (condition(await tenantSync('grab'), 'RolloutComplete')?.status === 'True' ? true : undefined), { what: 'opted in: RolloutComplete=True' });
  expect(await replicaSets('other-team')).toHaveLength(1);
  const v4 = await newVersion('grab', canary('four'));
  await eventually(async () => ((await templateAnnotations('other-team'))['secretsync.io/version-grab'] === String(v4.status?.version) ? true : undefined), { what: 'other-team rolled to version 4' });
  await eventually(async () => ((await replicaSets('other-team')).length === 2 ? true : undefined), { what: 'a second ReplicaSet' });
});

test('envelope mode: a version stays in the Secret while the rollout replacing it is not complete, and goes once its workload is deleted', async () => {
  const kek = { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { mount: 'kubernetes', role: 'app' } } } };
  await apply(tenant.custom, sync('slow', { target: { encryption: { kek } }, rollout: { auto: true } }));
  await waitReady(custom, ns, 'slow', 'True');
  // A Deployment whose pods never become available (its made-up image is never pulled): its rollouts never complete.
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('slow', { secret: 'slow', replicas: 1 }) });
  await eventually(async () => ((await tenantSync('slow')).status?.rollout?.targets?.[0]?.state === 'Progressing' ? true : undefined), { what: 'slow recorded, Progressing' });
  const held = async () => entriesByDoc((await core.readNamespacedSecret({ name: 'slow', namespace: ns })) as unknown as DocSecret).versions;

  await newVersion('slow', canary('two'));
  await eventually(async () => ((await templateAnnotations('slow'))['secretsync.io/version-slow'] === '2' ? true : undefined), { what: 'rolling to 2' });
  expect(await held()).toEqual([2, 1]);
  // Version 3 arrives while the rollout to 2 still runs pods of version 1: 1 stays (old main dropped it here).
  await newVersion('slow', canary('three'));
  await eventually(async () => ((await held())[0] === 3 ? true : undefined), { what: 'version 3 written' });
  expect(await held()).toEqual([3, 2, 1]);
  expect((await tenantSync('slow')).status?.rollout?.targets?.[0]).toMatchObject({ version: 3, state: 'Progressing' });

  // The workload goes: the next version keeps only the one before it.
  await apps.deleteNamespacedDeployment({ name: 'slow', namespace: ns });
  await eventually(async () => (((await tenantSync('slow')).status?.rollout?.targets ?? []).length === 0 ? true : undefined), { what: 'slow forgotten' });
  await newVersion('slow', canary('four'));
  await eventually(async () => ((await held())[0] === 4 ? true : undefined), { what: 'version 4 written' });
  expect(await held()).toEqual([4, 3]);
});
