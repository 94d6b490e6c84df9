// The operator under exactly the chart's RBAC: the chart installed, then the operator run
// as a process with the Deployment's own arguments, as the chart's
// service account (a TokenRequest token). A Vault sync and an envelope (Transit) sync with
// an access grant go Ready, and nothing the operator does is refused.
//   - namespaced: watchNamespace set, the Deployment's arguments as they are;
//   - cluster-wide: the default RBAC, the operator narrowed by --namespace, because on a
//     stack shared with other test runs an operator must not reconcile their SecretSyncs.
// The chart's own pods must not run beside it (they would hold the Lease): its image is set
// to a tag the node does not have, so they wait for a pull that never leaves this machine.
// Real pods of the chart are test/integration/pods/operator-pods.test.ts's.
// Injection: the API server cannot reach the chart's webhook Service here (no pods), so a second replica, same arguments and identity, registers a configuration
// of its own by URL on loopback, as an operator outside a cluster does. The chart's own
// configuration matches the same pods and cannot be answered, so it is installed with
// failurePolicy Ignore; the loopback one keeps Fail, so an uninjected pod cannot pass.
import { AdmissionregistrationV1Api, AppsV1Api, CoordinationV1Api, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { eventually } from '../../helpers/eventually.js';
import { chartDir, helm, operatorContainer, parseManifests, podSpec, setArgs } from '../../helpers/helm.js';
import { apply, createNamespace, createSecret, deleteNamespace, deleteSyncs, getSync, installCrds, kube, secretData, waitReady } from '../../helpers/kube.js';
import { getText, startOperator, type RunningOperator } from '../../helpers/operator.js';
import { grantWebhookConfig, serviceAccountKubeconfig } from '../../helpers/rbac.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { canary, digestsOf } from '../../helpers/canary.js';
import { registerValue } from '../../helpers/leak-record.js';
import { kvPut, vaultRoot } from '../../helpers/vault.js';

const { kc, core, custom } = kube();
const reg = kc.makeApiClient(AdmissionregistrationV1Api);
const vaultAddr = requireEnv('VAULT_ADDR');
const root = vaultRoot();

describe.each([
  ['namespaced', true],
  ['cluster-wide', false],
])('%s install', (mode, namespaced) => {
  const id = uniqueName(`chart-op${namespaced ? 'n' : 'c'}`);
  const ns = id; // the release namespace (--operator-namespace)
  const apps = `${id}-apps`;
  const release = id;
  const fullname = `${release}-secretsync`;
  const transit = `transit-${id}`;
  const PW = canary('pw'); // the synced password (canary(): the suite-wide leak scan looks for it)
  const policy = `${id}-operator`;
  let op: RunningOperator | undefined;
  let replica: RunningOperator | undefined;
  let replicaArgs: string[] = [];
  const loopbackConfig = `${id}-loopback`;
  let sa: Awaited<ReturnType<typeof serviceAccountKubeconfig>> | undefined;
  let ungrant: (() => Promise<void>) | undefined;
  let installed = false;

  beforeAll(async () => {
    // The SecretSource below is created before the release: the CRDs must exist already
    // (they are the chart's crds/, byte for byte; Helm then leaves them as they are).
    await installCrds(kc);
    await createNamespace(core, ns);
    await createNamespace(core, apps);
    await root.write(`sys/mounts/${transit}`, { type: 'transit' });
    await root.write(`${transit}/keys/secretsync`, { type: 'aes256-gcm96' });
    await root.write(`sys/policy/${policy}`, {
      policy: [
        // read; create/update: rotation writes new versions (check-and-set).
        `path "secret/data/${id}/*" { capabilities = ["read", "create", "update"] }`,
        `path "${transit}/datakey/plaintext/secretsync" { capabilities = ["update"] }`,
        `path "${transit}/rewrap/secretsync" { capabilities = ["update"] }`,
        `path "${transit}/keys/secretsync" { capabilities = ["read"] }`,
      ].join('\n'),
    });
    const token = ((await root.write('auth/token/create', { policies: [policy], ttl: '1h' })) as { auth: { client_token: string } }).auth.client_token;
    await kvPut(`${id}/db`, { password: PW, user: 'app' });
    await createSecret(core, apps, 'vault-token', { token });
    await apply(custom, { kind: 'SecretSource', metadata: { name: 'vault', namespace: apps }, spec: { vault: { address: vaultAddr, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } } });

    await helm('install', release, chartDir, '--namespace', ns, ...setArgs({ insecureAllowHttp: true, 'webhook.failurePolicy': 'Ignore', 'image.tag': 'not-on-this-node', ...(namespaced ? { watchNamespace: apps } : {}) }));
    installed = true;
    const manifest = parseManifests(await helm('get', 'manifest', release, '--namespace', ns));
    expect(podSpec(manifest).serviceAccountName).toBe(fullname);
    const container = operatorContainer(manifest);
    // Listen addresses are the test's (free loopback ports: startOperator's); everything else as deployed.
    const args = (container?.args ?? []).filter((a) => a !== 'operator' && !/^--(metrics|health|webhook)-addr=/.test(a));
    if (!namespaced) args.push(`--namespace=${apps}`);
    replicaArgs = args;
    sa = await serviceAccountKubeconfig(ns, fullname);
    op = await startOperator([`--kubeconfig=${sa.file}`, ...args], { KUBECONFIG: sa.file, KUBERNETES_SERVICE_HOST: 'in-cluster.invalid' }, { webhook: { configName: fullname } });
  }, 180_000);

  afterAll(async () => {
    // Everything is cleaned up first; the exit codes are checked last.
    await deleteSyncs(custom, apps).catch(() => undefined);
    const codes = [await op?.stop(), await replica?.stop()].filter((c) => c !== undefined);
    await reg.deleteMutatingWebhookConfiguration({ name: loopbackConfig }).catch(() => undefined);
    await ungrant?.();
    sa?.release();
    if (installed) await helm('uninstall', release, '--namespace', ns).catch(() => undefined);
    await deleteNamespace(core, apps);
    await deleteNamespace(core, ns);
    await root.delete(`sys/mounts/${transit}`).catch(() => undefined);
    await root.delete(`sys/policy/${policy}`).catch(() => undefined);
    await root.delete(`secret/metadata/${id}/db`).catch(() => undefined);
    await root.delete(`secret/metadata/${id}/rot`).catch(() => undefined);
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  test(`${mode}: a Vault sync goes Ready and writes the Secret`, async () => {
    await apply(custom, {
      kind: 'SecretSync',
      metadata: { name: 'db', namespace: apps },
      spec: { sourceRef: { name: 'vault' }, dataFrom: [{ remoteRef: { path: `${id}/db` } }] },
    });
    const ss = await waitReady(custom, apps, 'db', 'True');
    expect(ss.status?.version).toBe(1);
    expect(digestsOf(await secretData(core, apps, 'db'))).toEqual(digestsOf({ password: PW, user: 'app' }));
  });

  test(`${mode}: an envelope (Transit) sync with an access grant goes Ready; the Secret holds ciphertext`, async () => {
    await apply(custom, {
      kind: 'SecretSync',
      metadata: { name: 'env-db', namespace: apps },
      spec: {
        sourceRef: { name: 'vault' },
        data: [{ key: 'password', remoteRef: { path: `${id}/db`, property: 'password' } }],
        target: { encryption: { kek: { vaultTransit: { sourceRef: { name: 'vault' }, mount: transit, key: 'secretsync', agentAuth: { kubernetes: { mount: 'kubernetes', role: 'app' } } } } } },
        access: { serviceAccounts: ['app'] },
      },
    });
    const ss = await waitReady(custom, apps, 'env-db', 'True');
    expect(ss.status?.keyId).toBe(`vault-transit:${transit}/secretsync:v1`);
    const s = await core.readNamespacedSecret({ name: 'env-db', namespace: apps });
    expect(s.type).toBe('secretsync.io/envelope');
    expect(JSON.stringify(s).includes(Buffer.from(PW).toString('base64').replace(/=+$/, ''))).toBe(false);
    // The grant: the operator may only give what it holds itself (get/watch on Secrets).
    const role = await eventually(async () => kc.makeApiClient(RbacAuthorizationV1Api).readNamespacedRole({ name: 'secretsync-env-db', namespace: apps }).catch(() => undefined), { what: 'the access Role' });
    expect(role.rules?.[0]).toMatchObject({ resources: ['secrets'], resourceNames: ['env-db'], verbs: ['get', 'watch'] });
  });

  test(`${mode}: it leads through the chart's Lease, keeps its Secrets in the release namespace, registers the chart's webhook configuration, and nothing is refused`, async () => {
    const lease = await eventually(
      async () => (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: `${fullname}-leader`, namespace: ns }).catch(() => undefined)),
      { what: 'the leader Lease' },
    );
    expect(lease.spec?.holderIdentity).toBeTruthy();
    const secrets = (await core.listNamespacedSecret({ namespace: ns })).items.map((s) => s.metadata?.name);
    expect(secrets).toEqual(expect.arrayContaining(['secretsync-hmac-key', 'secretsync-webhook-tls']));
    // Its log names that Secret (a name is not a value: never `secret=[redacted]`).
    const written = (op?.logs ?? []).filter((l) => l.includes('webhook certificates written'));
    expect(written.length).toBeGreaterThan(0);
    for (const l of written) expect(JSON.parse(l)).toMatchObject({ secretName: 'secretsync-webhook-tls' });
    // The operator added the caBundle to Helm's object and changed nothing else Helm set.
    const mwc = await eventually(async () => {
      const m = await reg.readMutatingWebhookConfiguration({ name: fullname });
      return m.webhooks?.[0]?.clientConfig.caBundle ? m : undefined;
    }, { what: 'the caBundle' });
    expect(mwc.webhooks?.[0]?.clientConfig.service).toEqual({ namespace: ns, name: `${fullname}-webhook`, port: 443, path: '/mutate' });
    expect(mwc.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
    const refused = (op?.logs ?? []).filter((l) => /forbidden|\b403\b/i.test(l));
    expect(refused).toEqual([]);
    // The Deployment itself is untouched by all this (no pods ever run: the image is a tag the node lacks).
    const dep = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: fullname, namespace: ns });
    expect(dep.status?.readyReplicas ?? 0).toBe(0);
  });
  test(`${mode}: a second replica's webhook injects the agent (the chart's image) into a pod whose account may receive the secret`, async () => {
    if (!sa) throw new Error('no identity');
    await waitReady(custom, apps, 'env-db', 'True');
    await core.createNamespacedServiceAccount({ namespace: apps, body: { metadata: { name: 'app' } } });
    const args = [...replicaArgs.filter((a) => !/^--webhook-(config-name|failure-policy)=/.test(a)), '--webhook-failure-policy=Fail'];
    // The chart grants its own configuration by name only: the test's second registration needs its own grant.
    ungrant = await grantWebhookConfig(ns, fullname, loopbackConfig);
    replica = await startOperator([`--kubeconfig=${sa.file}`, ...args], { KUBECONFIG: sa.file }, { webhook: { configName: loopbackConfig } });
    const r = replica;
    // Serving (caches synced) and registered, with its CA.
    await eventually(async () => ((await getText(`http://127.0.0.1:${r.healthPort}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 60_000, what: 'the replica ready' });
    await eventually(async () => ((await reg.readMutatingWebhookConfiguration({ name: loopbackConfig }).catch(() => undefined))?.webhooks?.[0]?.clientConfig.caBundle ? true : undefined), { what: 'the loopback configuration' });
    const pod = {
      metadata: { name: 'app', namespace: apps, labels: { 'secretsync.io/inject': 'true' }, annotations: { 'secretsync.io/inject': 'env-db' } },
      spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'registry.example/app:1' }] },
    };
    // Retried while the new registration is not reachable yet (failurePolicy Fail refuses the pod).
    const stored = await eventually(() => core.createNamespacedPod({ namespace: apps, body: pod }).catch(() => undefined), { timeoutMs: 60_000, what: 'the pod admitted through the webhook' });
    const init = stored.spec?.initContainers?.[0];
    expect(init?.name).toBe('secretsync-agent-init');
    expect(init?.image).toBe('ghcr.io/secretsync/secretsync:not-on-this-node');
    expect(stored.spec?.volumes?.some((v) => v.emptyDir?.medium === 'Memory')).toBe(true);
    expect((replica?.logs ?? []).filter((l) => /forbidden|\b403\b/i.test(l))).toEqual([]);
  });
  test(`${mode}: rotate-now writes a new version at Vault, the Secret follows, and the Deployment using it is rolled once`, async () => {
    const appsApi = kc.makeApiClient(AppsV1Api);
    await kvPut(`${id}/rot`, { password: canary('first'), user: 'app' });
    await appsApi.createNamespacedDeployment({
      namespace: apps,
      body: {
        metadata: { name: 'web', namespace: apps },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1', envFrom: [{ secretRef: { name: 'rot' } }] }] } },
        },
      },
    });
    await apply(custom, {
      kind: 'SecretSync',
      metadata: { name: 'rot', namespace: apps },
      spec: {
        sourceRef: { name: 'vault' },
        dataFrom: [{ remoteRef: { path: `${id}/rot` } }],
        rotation: { schedule: '0 0 1 1 *', keys: ['password'], generator: { length: 16, charset: 'hex' } },
        rollout: { auto: true },
      },
    });
    expect((await waitReady(custom, apps, 'rot', 'True')).status?.version).toBe(1);
    await custom.patchNamespacedCustomObject(
      { group: 'secretsync.io', version: 'v1alpha1', namespace: apps, plural: 'secretsyncs', name: 'rot', body: { metadata: { annotations: { 'secretsync.io/rotate-now': 'chart' } } } },
      setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await eventually(async () => ((await getSync(custom, apps, 'rot')).status?.version === 2 ? true : undefined), { what: 'version 2' });
    const data = await secretData(core, apps, 'rot');
    expect(data.user).toBe('app');
    expect(/^[0-9a-f]{16}$/.test(data.password ?? '')).toBe(true);
    registerValue(data.password ?? ''); // generated by the operator: the leak scan looks for it too
    expect(((await root.read(`secret/data/${id}/rot`)) as { data: { metadata: { version: number } } }).data.metadata.version).toBe(2);
    const dep = await eventually(async () => {
      const d = await appsApi.readNamespacedDeployment({ name: 'web', namespace: apps });
      return d.spec?.template.metadata?.annotations?.['secretsync.io/version-rot'] === '2' ? d : undefined;
    }, { what: 'the Deployment rolled to version 2' });
    expect(dep.metadata?.generation).toBe(2); // one template change: one rollout
    expect((op?.logs ?? []).filter((l) => /forbidden|\b403\b/i.test(l))).toEqual([]);
  });
  test(`${mode}: helm uninstall removes the release, and with its Deployment what the operator made in the release namespace (owned by it)`, async () => {
    await deleteSyncs(custom, apps); // finalized by the operator, before it stops
    const codes = [await op?.stop(), await replica?.stop()];
    op = undefined;
    replica = undefined;
    expect(codes).toEqual([0, 0]);
    await helm('uninstall', release, '--namespace', ns);
    installed = false;
    const left = async () => {
      const names = await Promise.all([
        core.listNamespacedSecret({ namespace: ns }).then((l) => l.items.map((o) => `Secret/${o.metadata?.name}`)),
        kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: ns }).then((l) => l.items.map((o) => `Lease/${o.metadata?.name}`)),
        core.listNamespacedServiceAccount({ namespace: ns }).then((l) => l.items.map((o) => `ServiceAccount/${o.metadata?.name}`)),
        core.listNamespacedService({ namespace: ns }).then((l) => l.items.map((o) => `Service/${o.metadata?.name}`)),
        kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns }).then((l) => l.items.map((o) => `Deployment/${o.metadata?.name}`)),
        kc.makeApiClient(RbacAuthorizationV1Api).listNamespacedRole({ namespace: ns }).then((l) => l.items.map((o) => `Role/${o.metadata?.name}`)),
      ]);
      return names.flat().sort();
    };
    // The Lease and the two Secrets name the Deployment as their owner (--owner-deployment): the garbage collector takes them.
    const expected = ['ServiceAccount/default'];
    await eventually(async () => (JSON.stringify(await left()) === JSON.stringify(expected) ? true : undefined), { what: 'nothing of the release left' }).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(await left())}`);
    });
    await expect(reg.readMutatingWebhookConfiguration({ name: fullname })).rejects.toMatchObject({ code: 404 });
    await expect(kc.makeApiClient(RbacAuthorizationV1Api).readClusterRole({ name: fullname })).rejects.toMatchObject({ code: 404 });
  });
});

