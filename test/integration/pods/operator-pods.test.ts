// secretsync as a user runs it, on the stack's node: `helm install` of charts/secretsync with
// the image assembled here (no image values), two operator pods, and real pods injected
// through the chart's webhook Service, reading their files from inside their containers.
// One release for the whole file (its tests run in order and build on each other): install,
// injection (plain and Transit envelope), refusal at admission, the watch sidecar, rollouts
// on new versions, a deletion held while in use, the leader killed, upgrade, uninstall.
// Values never leave the pods: the tests compare sha256 digests computed inside them.
// Skipped, saying so, when the stack has no node.
import { createHash } from 'node:crypto';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { AdmissionregistrationV1Api, AppsV1Api, CoordinationV1Api, type V1Container, type V1Deployment, type V1Pod, type V1Volume } from '@kubernetes/client-node';
import { keysData, keysRef } from '../../helpers/aws.js';
import { agentVaultAuth } from '../../helpers/agent.js';
import { canary } from '../../helpers/canary.js';
import { registerValue } from '../../helpers/leak-record.js';
import { eventually } from '../../helpers/eventually.js';
import { chartDir, helm, kubectl, setArgs } from '../../helpers/helm.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, patchSync, waitReady } from '../../helpers/kube.js';
import { describeWithNode, podSh, testAppImage, waitDefaultServiceAccount, waitPodRunning } from '../../helpers/pods.js';
import { awsConfig, requireEnv, uniqueName } from '../../helpers/stack.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const appsApi = kc.makeApiClient(AppsV1Api);
const leases = kc.makeApiClient(CoordinationV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const root = vaultRoot();
const id = uniqueName('pods');
const sys = `${id}-system`;
const ns = `${id}-apps`;
const release = id;
const fullname = `${release}-secretsync`;
const instance = `app.kubernetes.io/instance=${release}`;
const transit = `transit-${id}`;
const authMount = `kubernetes-${id}`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const timings: Record<string, number> = {};
let cleanupVault: () => Promise<void> = async () => undefined;
const aws = awsConfig();
const kms = new KMSClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials });
const kmsAlias = `alias/${id}`;
let kmsKeyId = '';
let installed = false;

// The values live in OpenBao and in the pods only; the test keeps their digests.
const values = { db: canary(), sealed: canary(), kms: canary(), live: canary(), rot: canary(), tpl: canary() };

const sync = (name: string, spec: Record<string, unknown> = {}) => ({
  kind: 'SecretSync',
  metadata: { name, namespace: ns },
  spec: {
    sourceRef: { name: 'vault' },
    data: [{ key: 'password', remoteRef: { path: `${id}/${name}`, property: 'password' } }],
    access: { serviceAccounts: ['app'] },
    mount: { mode: '0440', uid: 1000, gid: 2000 },
    ...spec,
  },
});
const transitKek = { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { mount: authMount, role: 'app' } } } } } };

const kmsKek = { encryption: { kek: { awsKms: { sourceRef: { name: 'aws' }, keyId: kmsAlias } } } };

/**
 * What the EKS Pod Identity / IRSA webhook writes on an app container (before ours runs,
 * so our agents are not there yet for it to see): a role, a projected token of audience
 * sts.amazonaws.com, and here STS at moto, which answers AssumeRoleWithWebIdentity.
 */
const IRSA_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
const irsa = {
  env: [
    { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/app' },
    { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${IRSA_DIR}/token` },
    { name: 'AWS_REGION', value: aws.region },
    { name: 'AWS_ENDPOINT_URL_STS', value: requireEnv('POD_AWS_ENDPOINT_URL') },
  ],
  mount: { name: 'aws-iam-token', mountPath: IRSA_DIR, readOnly: true },
  volume: { name: 'aws-iam-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] } } as V1Volume,
};

/** An app running as 1000:2000 with no capabilities, asking for the injection of `syncs`. */
function deployment(name: string, syncs: string, annotations: Record<string, string> = {}, app: Partial<V1Container> = {}, volumes: V1Volume[] = []): V1Deployment {
  return {
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': syncs, ...annotations } },
        spec: {
          serviceAccountName: 'app',
          terminationGracePeriodSeconds: 1,
          securityContext: { runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true },
          containers: [{ name: 'app', image: testAppImage(), command: ['sh', '-c', 'exec sleep 3600'], securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, ...app }],
          ...(volumes.length > 0 ? { volumes } : {}),
        },
      },
    },
  };
}

async function runningPodsOf(app: string): Promise<V1Pod[]> {
  const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
  return pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

/** The one Ready pod of the Deployment once its rollout is complete (one replica, updated, available). */
async function rolledOut(app: string, timeoutMs = 90_000): Promise<V1Pod> {
  return eventually(
    async () => {
      const d = await appsApi.readNamespacedDeployment({ namespace: ns, name: app });
      const s = d.status;
      const all = (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
      const pods = await runningPodsOf(app);
      if (!s || (s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) || s.updatedReplicas !== 1 || s.availableReplicas !== 1 || (s.replicas ?? 0) !== 1 || pods.length !== 1 || all.length !== 1) {
        // Said when the wait times out: where the rollout stands (names, phases, container states; no values).
        const states = all.map((p) => `${p.metadata?.name} ${p.status?.phase} ${JSON.stringify([...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].map((c) => [c.name, c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? (c.state?.running ? 'running' : '?'), c.restartCount]))}`);
        throw new Error(`generation ${d.metadata?.generation}, status ${JSON.stringify(s ?? {})}, template annotations ${JSON.stringify(d.spec?.template.metadata?.annotations)}; pods: ${states.join('; ')}`);
      }
      return pods[0];
    },
    { timeoutMs, intervalMs: 250, what: `Deployment ${app} rolled out with one Ready pod` },
  );
}

/** sha256 of a file, computed in the pod's app container. */
async function digestIn(pod: string, path: string): Promise<string> {
  return (await podSh(ns, pod, `sha256sum < '${path}'`)).trim().split(/\s+/)[0] ?? '';
}

const annotate = (name: string, annotations: Record<string, string>) => patchSync(custom, ns, name, { metadata: { annotations } });

async function operatorPods(): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: sys, labelSelector: instance })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function leaseHolder(): Promise<string> {
  return eventually(async () => (await leases.readNamespacedLease({ namespace: sys, name: `${fullname}-leader` }).catch(() => undefined))?.spec?.holderIdentity || undefined, { what: 'the Lease held' });
}

describeWithNode()('secretsync installed with helm, on the node', () => {
  beforeAll(async () => {
    await installCrds(kc);
    await createNamespace(core, sys);
    await createNamespace(core, ns);
    await waitDefaultServiceAccount(core, ns);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'app' } } });
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'stranger' } } });
    for (const [name, value] of Object.entries(values)) await kvPut(`${id}/${name}`, { password: value });
    await root.write(`sys/mounts/${transit}`, { type: 'transit' });
    await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
    cleanupVault = await agentVaultAuth(kc, root, { namespace: ns, dir: '/tmp', authMount, transitMount: transit, key: 'secretsync', role: 'app', serviceAccounts: ['app'] });
    await createSecret(core, ns, 'vault-token', { token: requireEnv('VAULT_TOKEN') });
    const key = await kms.send(new CreateKeyCommand({ Description: id }));
    kmsKeyId = key.KeyMetadata?.KeyId ?? '';
    await kms.send(new CreateAliasCommand({ AliasName: kmsAlias, TargetKeyId: kmsKeyId }));
    await createSecret(core, ns, 'aws-keys', keysData(aws.credentials));
    await apply(custom, { kind: 'SecretSource', metadata: { name: 'aws', namespace: ns }, spec: { aws: { region: aws.region, endpoint: requireEnv('POD_AWS_ENDPOINT_URL'), auth: keysRef('aws-keys') } } });
    // The operator runs in a pod: it reaches OpenBao at the address pods use.
    await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: ns }, spec: { vault: { address: requireEnv('POD_VAULT_ADDR'), auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });
  }, 120_000);

  afterAll(async () => {
    if (installed) await helm('uninstall', release, '--namespace', sys, '--wait', '--timeout', '60s').catch(() => undefined);
    await deleteSyncs(custom, ns).catch(() => undefined);
    await cleanupVault();
    await root.delete(`sys/mounts/${transit}`).catch(() => undefined);
    if (kmsKeyId) await kms.send(new ScheduleKeyDeletionCommand({ KeyId: kmsKeyId, PendingWindowInDays: 7 })).catch(() => undefined);
    kms.destroy();
    await deleteNamespace(core, ns);
    await deleteNamespace(core, sys);
    process.stderr.write(`pods timings (ms): ${JSON.stringify(timings)}\n`);
  }, 120_000);

  test('helm install with no image values: 2 operator pods Running and Ready, one holds the Lease, the webhook answers through its Service', async () => {
    const t0 = Date.now();
    await helm(
      'install', release, chartDir, '--namespace', sys,
      // The stack's API server presents its webhook client certificate: callers are verified.
      '--set-file', `webhook.clientAuth.caBundle=${requireEnv('SECRETSYNC_WEBHOOK_CLIENT_CA')}`,
      ...setArgs({ watchNamespace: ns, insecureAllowHttp: true }),
    );
    installed = true;
    const pods = await eventually(
      async () => {
        const ps = await operatorPods();
        const ready = ps.filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === 2 ? ready : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: '2 operator pods Running and Ready' },
    );
    timings.helmInstallToReady = Date.now() - t0;
    expect(pods.map((p) => p.spec?.containers[0]?.image)).toEqual(['ghcr.io/secretsync/secretsync:0.1.0', 'ghcr.io/secretsync/secretsync:0.1.0']);
    const holder = await leaseHolder();
    expect(pods.filter((p) => holder.startsWith(`${p.metadata?.name}_`))).toHaveLength(1);
    // The API server calls the webhook through the Service: a labelled pod is stored injected.
    await apply(custom, sync('db'));
    await waitReady(custom, ns, 'db', 'True', undefined, 60_000);
    const probe = await eventually(
      () => core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'probe', labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'db' } }, spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: testAppImage(), command: ['true'] }] } } }).catch((err: Error) => {
        if (/no endpoints|connection refused|context deadline|failed calling webhook/i.test(String(err))) return undefined;
        throw err;
      }),
      { timeoutMs: 30_000, what: 'the webhook reachable through its Service' },
    );
    expect(probe.spec?.initContainers?.[0]?.name).toBe('secretsync-agent-init');
    await core.deleteNamespacedPod({ namespace: ns, name: 'probe', gracePeriodSeconds: 0 });
  }, 180_000);

  test('an injected Deployment starts: the agent runs non-root, read-only, without capabilities; the app reads its files (tmpfs, mode, owner) and PASSWORD_FILE', async () => {
    const t0 = Date.now();
    await appsApi.createNamespacedDeployment({ namespace: ns, body: deployment('web', 'db') });
    const pod = await rolledOut('web');
    timings.injectedPodCreateToRunning = Date.now() - t0;
    const agent = pod.spec?.initContainers?.find((c) => c.name === 'secretsync-agent-init');
    expect(agent?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.status?.initContainerStatuses?.find((s) => s.name === 'secretsync-agent-init')?.state?.terminated?.exitCode).toBe(0);
    const name = pod.metadata?.name ?? '';
    expect((await podSh(ns, name, 'stat -f -c %T /run/secrets/db; stat -L -c "%a %u %g" /run/secrets/db/password')).trim().split('\n')).toEqual(['tmpfs', '440 1000 2000']);
    expect(await digestIn(name, '/run/secrets/db/password')).toBe(sha(values.db));
    expect((await podSh(ns, name, 'echo "$PASSWORD_FILE"')).trim()).toBe('/run/secrets/db/password');
    expect((await podSh(ns, name, 'sha256sum < "$PASSWORD_FILE"')).trim().split(/\s+/)[0]).toBe(sha(values.db));
  }, 150_000);

  test('envelope mode: the pod logs in to Vault with its own projected token (audience vault) and decrypts with Transit; the Secret holds no plaintext', async () => {
    await apply(custom, sync('sealed', { target: transitKek }));
    await waitReady(custom, ns, 'sealed', 'True', undefined, 60_000);
    const stored = await core.readNamespacedSecret({ namespace: ns, name: 'sealed' });
    const flat = JSON.stringify(stored);
    for (const form of [values.sealed, Buffer.from(values.sealed).toString('base64')]) expect(flat).not.toContain(form);
    await appsApi.createNamespacedDeployment({ namespace: ns, body: deployment('sealed-web', 'sealed') });
    const pod = await rolledOut('sealed-web');
    const vaultToken = pod.spec?.volumes?.find((v) => v.name === 'secretsync-vault-token')?.projected?.sources?.[0]?.serviceAccountToken;
    expect(vaultToken?.audience).toBe('vault');
    expect(await digestIn(pod.metadata?.name ?? '', '/run/secrets/sealed/password')).toBe(sha(values.sealed));
  }, 150_000);

  test('envelope mode with a template: the agent renders it inside the pod; no rendered value exists in the cluster', async () => {
    const url = `postgres://app:${values.tpl}@db:5432/app`;
    const auth = Buffer.from(`app:${values.tpl}`).toString('base64');
    registerValue(auth); // rendered in the pod only: the suite's leak scan looks for it everywhere too
    const template = { data: { url: 'postgres://app:{{ password }}@db:5432/app', auth: '{{#b64enc}}app:{{ password }}{{/b64enc}}' } };
    await apply(custom, sync('tpl', { target: { ...transitKek, template } }));
    await waitReady(custom, ns, 'tpl', 'True', undefined, 60_000);
    const flat = JSON.stringify(await core.readNamespacedSecret({ namespace: ns, name: 'tpl' }));
    for (const form of [values.tpl, url, auth, Buffer.from(values.tpl).toString('base64'), Buffer.from(url).toString('base64'), Buffer.from(auth).toString('base64')]) expect(flat).not.toContain(form);
    await appsApi.createNamespacedDeployment({ namespace: ns, body: deployment('tpl-web', 'tpl') });
    const pod = (await rolledOut('tpl-web')).metadata?.name ?? '';
    expect((await podSh(ns, pod, 'ls /run/secrets/tpl')).trim().split('\n')).toEqual(['auth', 'url']);
    expect(await digestIn(pod, '/run/secrets/tpl/url')).toBe(sha(url));
    expect(await digestIn(pod, '/run/secrets/tpl/auth')).toBe(sha(auth));
  }, 150_000);

  test('envelope mode with AWS KMS (moto): the pod decrypts with its own AWS identity, as EKS gives it (web identity), which the agents receive from the app container', async () => {
    await apply(custom, sync('kms', { target: kmsKek }));
    await waitReady(custom, ns, 'kms', 'True', undefined, 60_000);
    const flat = JSON.stringify(await core.readNamespacedSecret({ namespace: ns, name: 'kms' }));
    for (const form of [values.kms, Buffer.from(values.kms).toString('base64')]) expect(flat).not.toContain(form);
    await appsApi.createNamespacedDeployment({ namespace: ns, body: deployment('kms-web', 'kms', {}, { env: irsa.env, volumeMounts: [irsa.mount] }, [irsa.volume]) });
    const pod = await rolledOut('kms-web');
    const agent = pod.spec?.initContainers?.find((c) => c.name === 'secretsync-agent-init');
    expect(agent?.env?.map((e) => e.name)).toEqual(irsa.env.map((e) => e.name));
    expect(agent?.volumeMounts).toContainEqual(irsa.mount);
    expect(await digestIn(pod.metadata?.name ?? '', '/run/secrets/kms/password')).toBe(sha(values.kms));
  }, 150_000);

  test('a pod whose service account is not in spec.access is refused at admission, saying what to fix; a pod without the label starts untouched', async () => {
    const refused = await core
      .createNamespacedPod({ namespace: ns, body: { metadata: { name: 'stranger', labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'db' } }, spec: { serviceAccountName: 'stranger', containers: [{ name: 'app', image: testAppImage(), command: ['sleep', '60'] }] } } })
      .then(() => 'admitted', (err: Error) => String((err as { body?: unknown }).body ?? err.message));
    expect(refused).toContain('service account \\"stranger\\" may not receive SecretSync \\"db\\": add it to spec.access.serviceAccounts');
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'plain' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: testAppImage(), command: ['sh', '-c', 'exec sleep 3600'] }] } } });
    const plain = await waitPodRunning(core, ns, 'plain');
    expect(plain.spec?.initContainers ?? []).toEqual([]);
    expect(plain.spec?.volumes?.some((v) => v.name.startsWith('secretsync-'))).toBe(false);
    await core.deleteNamespacedPod({ namespace: ns, name: 'plain', gracePeriodSeconds: 0 });
  }, 60_000);

  test('the watch sidecar: a source change reaches the file in the running container, without a restart, within the refresh interval plus a few seconds', async () => {
    await apply(custom, sync('live', { refresh: { interval: '10s' } }));
    await waitReady(custom, ns, 'live', 'True', undefined, 60_000);
    await appsApi.createNamespacedDeployment({ namespace: ns, body: deployment('live-web', 'live', { 'secretsync.io/watch': 'true' }) });
    const pod = await rolledOut('live-web');
    const name = pod.metadata?.name ?? '';
    expect(await digestIn(name, '/run/secrets/live/password')).toBe(sha(values.live));
    const next = canary();
    const changed = Date.now();
    await kvPut(`${id}/live`, { password: next });
    await eventually(async () => ((await digestIn(name, '/run/secrets/live/password')) === sha(next) ? true : undefined), { timeoutMs: 10_000 + 15_000, intervalMs: 200, what: 'the new value in the running container' });
    timings.watchSourceChangeToFile = Date.now() - changed;
    const after = await core.readNamespacedPod({ namespace: ns, name });
    expect(after.status?.containerStatuses?.find((c) => c.name === 'app')?.restartCount).toBe(0);
    expect(timings.watchSourceChangeToFile).toBeLessThan(10_000 + 15_000);
  }, 150_000);

  test('rotation with rollout.auto: the Deployment rolls once per version and its new pod reads the new value', async () => {
    await apply(custom, sync('rot', { rotation: { schedule: '0 0 1 1 *', keys: ['password'] }, rollout: { auto: true } }));
    await waitReady(custom, ns, 'rot', 'True', undefined, 60_000);
    await appsApi.createNamespacedDeployment({ namespace: ns, body: deployment('rot-web', 'rot') });
    const before = await rolledOut('rot-web');
    const generation = (await appsApi.readNamespacedDeployment({ namespace: ns, name: 'rot-web' })).metadata?.generation ?? 0;
    const v1 = (await getSync(custom, ns, 'rot')).status?.version ?? 0;
    await annotate('rot', { 'secretsync.io/rotate-now': '1' });
    await eventually(async () => ((await getSync(custom, ns, 'rot')).status?.version === v1 + 1 ? true : undefined), { timeoutMs: 30_000, what: 'rotated to a new version' });
    const after = await eventually(async () => {
      const p = await rolledOut('rot-web');
      return p.metadata?.name !== before.metadata?.name ? p : undefined;
    }, { timeoutMs: 90_000, what: 'a new pod' });
    const d = await appsApi.readNamespacedDeployment({ namespace: ns, name: 'rot-web' });
    expect(d.spec?.template.metadata?.annotations?.['secretsync.io/version-rot']).toBe(String(v1 + 1));
    expect(d.metadata?.generation).toBe(generation + 1);
    const current = (await root.read(`secret/data/${id}/rot`)) as { data: { data: { password: string } } };
    const rotated = current.data.data.password;
    expect(sha(rotated)).not.toBe(sha(values.rot));
    expect(await digestIn(after.metadata?.name ?? '', '/run/secrets/rot/password')).toBe(sha(rotated));
    // Once per version: later reconciles (a forced sync) roll nothing more.
    await annotate('rot', { 'secretsync.io/force-sync': 'again' });
    await eventually(async () => ((await getSync(custom, ns, 'rot')).status?.forceSyncHandled === 'again' ? true : undefined), { timeoutMs: 30_000, what: 'the forced sync handled' });
    expect((await appsApi.readNamespacedDeployment({ namespace: ns, name: 'rot-web' })).metadata?.generation).toBe(generation + 1);
  }, 240_000);

  test('envelope mode: a pod of the previous ReplicaSet that starts again keeps its pinned version', async () => {
    const v1 = (await getSync(custom, ns, 'sealed')).status?.version ?? 0;
    // sealed has no rollout yet: give it one. The operator takes the Deployment in at the
    // version it runs before a new one comes (a workload first seen is recorded, not rolled).
    await patchSync(custom, ns, 'sealed', { spec: { rollout: { auto: true } } });
    await eventually(async () => ((await getSync(custom, ns, 'sealed')).status?.rollout?.targets?.some((t) => t.name === 'sealed-web' && t.version === v1) ? true : undefined), { timeoutMs: 30_000, what: 'sealed-web recorded at version 1' });
    /** A new value and version; returns the pod the Deployment rolled to for it. */
    const newVersion = async (value: string, version: number): Promise<V1Pod> => {
      await kvPut(`${id}/sealed`, { password: value });
      await annotate('sealed', { 'secretsync.io/force-sync': `v${version}` });
      await eventually(async () => ((await getSync(custom, ns, 'sealed')).status?.version === version ? true : undefined), { timeoutMs: 30_000, what: `version ${version} of sealed` });
      return eventually(async () => {
        const p = await rolledOut('sealed-web', 2_000);
        const at = p.metadata?.annotations?.['secretsync.io/version-sealed'];
        if (at === String(version)) return p;
        const st = (await getSync(custom, ns, 'sealed')).status;
        throw new Error(`pod ${p.metadata?.name} at version ${at ?? '(none)'}; SecretSync status.rollout ${JSON.stringify(st?.rollout)}, conditions ${JSON.stringify(st?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]))}`);
      }, { timeoutMs: 90_000, what: `sealed-web rolled to version ${version}` });
    };
    const second = canary();
    expect(await digestIn((await newVersion(second, v1 + 1)).metadata?.name ?? '', '/run/secrets/sealed/password')).toBe(sha(second));
    const third = canary();
    expect(await digestIn((await newVersion(third, v1 + 2)).metadata?.name ?? '', '/run/secrets/sealed/password')).toBe(sha(third));
    // The ReplicaSet of the previous rollout, as the Deployment controller left it: its
    // template pins version 2. A pod it starts again (here the same template, under a label
    // the Deployment does not select) gets version 2, no longer the Secret's current one.
    const sets = (await appsApi.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=sealed-web' })).items;
    const previous = sets.find((rs) => rs.spec?.template?.metadata?.annotations?.['secretsync.io/version-sealed'] === String(v1 + 1));
    expect(previous?.spec?.replicas).toBe(0);
    const template = previous?.spec?.template;
    const labels: Record<string, string> = { ...template?.metadata?.labels, app: 'previous-rs' };
    delete labels['pod-template-hash'];
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'previous-rs', labels, annotations: template?.metadata?.annotations }, spec: template?.spec ?? { containers: [] } } });
    const pod = await waitPodRunning(core, ns, 'previous-rs', 60_000);
    expect(pod.spec?.initContainers?.map((c) => c.name)).toContain('secretsync-agent-init-sealed');
    expect(await digestIn('previous-rs', '/run/secrets/sealed/password')).toBe(sha(second));
    await core.deleteNamespacedPod({ namespace: ns, name: 'previous-rs', gracePeriodSeconds: 0 });
  }, 300_000);

  test('the leader pod deleted: the other replica leads, no workload is rolled again and no Secret is written', async () => {
    const holder = await leaseHolder();
    const leader = (await operatorPods()).find((p) => holder.startsWith(`${p.metadata?.name}_`));
    expect(leader).toBeDefined();
    const secrets = async () => Object.fromEntries((await core.listNamespacedSecret({ namespace: ns })).items.map((s) => [s.metadata?.name, s.metadata?.resourceVersion]));
    const generations = async () => Object.fromEntries((await appsApi.listNamespacedDeployment({ namespace: ns })).items.map((d) => [d.metadata?.name, d.metadata?.generation]));
    const [s0, g0] = [await secrets(), await generations()];
    const t0 = Date.now();
    await core.deleteNamespacedPod({ namespace: sys, name: leader?.metadata?.name ?? '', gracePeriodSeconds: 0 });
    const next = await eventually(async () => {
      const h = (await leases.readNamespacedLease({ namespace: sys, name: `${fullname}-leader` })).spec?.holderIdentity ?? '';
      return h !== '' && !h.startsWith(`${leader?.metadata?.name}_`) ? h : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200, what: 'another replica holding the Lease' });
    timings.leaderTakeover = Date.now() - t0;
    expect((await operatorPods()).some((p) => next.startsWith(`${p.metadata?.name}_`))).toBe(true);
    // The new leader works, and has written nothing else: a forced sync of each SecretSync
    // checked below, handled, proves it has reconciled every one of them (db's alone would
    // leave the others' 'nothing written' unproven), and none of them writes or rolls.
    const checked = ['db', 'sealed', 'live', 'rot'];
    for (const name of checked) await annotate(name, { 'secretsync.io/force-sync': 'after-leader-kill' });
    for (const name of checked) {
      await eventually(async () => ((await getSync(custom, ns, name)).status?.forceSyncHandled === 'after-leader-kill' ? true : undefined), { timeoutMs: 60_000, what: `the new leader handling a forced sync of ${name}` });
    }
    expect(await generations()).toEqual(g0);
    const s1 = await secrets();
    for (const name of checked) expect([name, s1[name]]).toEqual([name, s0[name]]);
  }, 150_000);

  test('deleting a SecretSync a running Deployment uses is held (InUse names it) and completes once the Deployment is gone', async () => {
    await custom.deleteNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'db' });
    const held = await eventually(async () => {
      const c = (await getSync(custom, ns, 'db')).status?.conditions?.find((x) => x.type === 'InUse');
      return c?.status === 'True' ? c : undefined;
    }, { timeoutMs: 30_000, what: 'InUse on the deleted SecretSync' });
    expect(held.message).toContain('web');
    expect((await core.readNamespacedSecret({ namespace: ns, name: 'db' })).data).toBeDefined();
    await appsApi.deleteNamespacedDeployment({ namespace: ns, name: 'web' });
    await eventually(async () => custom.getNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'db' }).then(() => undefined, () => true), { timeoutMs: 60_000, what: 'the SecretSync gone' });
  }, 120_000);

  test('helm upgrade with a changed value rolls the operator; helm uninstall leaves no webhook registration and no operator object', async () => {
    const before = (await operatorPods()).map((p) => p.metadata?.name).sort();
    await helm('upgrade', release, chartDir, '--namespace', sys, '--reuse-values', ...setArgs({ logLevel: 'debug' }));
    const after = await eventually(async () => {
      const ps = (await operatorPods()).filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      const names = ps.map((p) => p.metadata?.name).sort();
      return ps.length === 2 && names.every((n) => !before.includes(n)) && ps.every((p) => p.spec?.containers[0]?.args?.includes('--log-level=debug')) ? ps : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'two new operator pods with --log-level=debug' });
    expect(after).toHaveLength(2);
    await helm('uninstall', release, '--namespace', sys, '--wait', '--timeout', '90s');
    installed = false;
    // Helm does not wait for the pods its Deployment had: they finish terminating on their own.
    await eventually(async () => ((await core.listNamespacedPod({ namespace: sys, labelSelector: instance })).items.length === 0 ? true : undefined), { timeoutMs: 90_000, what: 'the operator pods gone' });
    await expect(admission.readMutatingWebhookConfiguration({ name: fullname })).rejects.toMatchObject({ code: 404 });
    const left = JSON.parse(await kubectl(['get', 'deploy,rs,pod,svc,sa,cm,role,rolebinding,clusterrole,clusterrolebinding,mutatingwebhookconfiguration,pdb,networkpolicy', '-A', '-l', instance, '-o', 'json'])) as { items: unknown[] };
    expect(left.items).toEqual([]);
    // What the operator wrote itself in its namespace (its Lease, its webhook certificates, its MAC key).
    const leftover = [
      ...(await leases.listNamespacedLease({ namespace: sys })).items.map((l) => `lease/${l.metadata?.name}`),
      ...(await core.listNamespacedSecret({ namespace: sys })).items.map((x) => `secret/${x.metadata?.name}`),
    ];
    expect(leftover).toEqual([]);
  }, 240_000);
});
