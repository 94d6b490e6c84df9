// `helm install`, `helm upgrade` and `helm uninstall` of charts/secretsync on the stack, the
// objects checked. The Deployment's pods do not run here (the image is a tag the node does
// not have, so they wait for a pull that never leaves this machine): the chart's real pods
// are test/integration/pods/operator-pods.test.ts's.
// The operator's side of the webhook configuration is played by the operator's own code
// (register(), as the chart's service account), to show that Helm and the operator do not
// overwrite each other's fields.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, AppsV1Api, AuthorizationV1Api, CoordinationV1Api, RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { clusterRules, operatorNamespaceRules, webhookConfigRule, type PolicyRule } from '../../../src/api/rbac.js';
import { KubeWebhookConfig } from '../../../src/kube/webhook-config.js';
import { createBundle } from '../../../src/webhook/certs.js';
import { register, type RegistrationOptions } from '../../../src/webhook/registration.js';
import { eventually } from '../../helpers/eventually.js';
import { chartDir, helm, kubectl, parseManifests, setArgs } from '../../helpers/helm.js';
import { createNamespace, deleteNamespace, installCrds, kube } from '../../helpers/kube.js';
import { startOperator, type RunningOperator } from '../../helpers/operator.js';
import { serviceAccountKubeconfig } from '../../helpers/rbac.js';
import { uniqueName } from '../../helpers/stack.js';

const { kc, core } = kube();
const apps = kc.makeApiClient(AppsV1Api);
const reg = kc.makeApiClient(AdmissionregistrationV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const id = uniqueName('chart-inst');
const ns = id;
const release = id;
const fullname = `${release}-secretsync`;
const instance = `app.kubernetes.io/instance=${release}`;
let installed = false;

const expand = (rules: PolicyRule[]) =>
  rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}: ${v}${r.resourceNames?.length ? ` [${r.resourceNames.join(',')}]` : ''}`))),
    )
    .sort();

/** Everything labelled with the release, namespaced (in any namespace) and cluster-scoped. */
async function releaseObjects(): Promise<string[]> {
  const namespaced = 'deployments,replicasets,pods,services,serviceaccounts,roles,rolebindings,poddisruptionbudgets,networkpolicies,secrets,configmaps';
  const cluster = 'clusterroles,clusterrolebindings,mutatingwebhookconfigurations';
  const a = await kubectl(['get', namespaced, '-A', '-l', instance, '-o', 'name']);
  const b = await kubectl(['get', cluster, '-l', instance, '-o', 'name']);
  return [...a.split('\n'), ...b.split('\n')].filter(Boolean).sort();
}

const caBundleOf = async () => (await reg.readMutatingWebhookConfiguration({ name: fullname })).webhooks?.[0]?.clientConfig.caBundle;

beforeAll(async () => {
  await createNamespace(core, ns);
});

afterAll(async () => {
  if (installed) await helm('uninstall', release, '--namespace', ns).catch(() => undefined);
  await deleteNamespace(core, ns);
});

test('helm install creates the operator objects (and no Ready pods: the image is a tag the node lacks)', async () => {
  const notes = await helm('install', release, chartDir, '--namespace', ns, ...setArgs({ 'image.tag': 'not-on-this-node' }));
  installed = true;
  expect(notes).toMatch(/STATUS: deployed/);
  const manifest = parseManifests(await helm('get', 'manifest', release, '--namespace', ns));
  expect(manifest.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
    [
      `ClusterRole/${fullname}`,
      `ClusterRole/${fullname}-edit`,
      `ClusterRole/${fullname}-view`,
      `ClusterRoleBinding/${fullname}`,
      `Deployment/${fullname}`,
      `MutatingWebhookConfiguration/${fullname}`,
      `PodDisruptionBudget/${fullname}`,
      `Role/${fullname}`,
      `RoleBinding/${fullname}`,
      `Service/${fullname}-webhook`,
      `ServiceAccount/${fullname}`,
    ].sort(),
  );
  const dep = await apps.readNamespacedDeployment({ name: fullname, namespace: ns });
  expect(dep.spec?.replicas).toBe(2);
  expect(dep.spec?.template.spec?.containers[0]?.args).toEqual(expect.arrayContaining(['operator', `--operator-namespace=${ns}`, '--leader-elect', `--webhook-config-name=${fullname}`]));
  // The controller-manager made its ReplicaSet; nothing schedules or runs the pods.
  await eventually(async () => ((await releaseObjects()).some((o) => o.startsWith('replicaset.apps/')) ? true : undefined), { what: 'the ReplicaSet' });
  expect(dep.status?.readyReplicas ?? 0).toBe(0);
  // Helm does not set the caBundle: that is the operator's.
  expect(await caBundleOf()).toBeUndefined();
  // The CRDs are there (installed by Helm from crds/, or already present on the stack).
  const crds = await kubectl(['get', 'crd', 'secretsyncs.secretsync.io', 'secretsources.secretsync.io', 'clustersecretsources.secretsync.io', '-o', 'name']);
  expect(crds.trim().split('\n')).toHaveLength(3);
});

test("the chart's service account is bound to exactly src/api/rbac.ts's rules, and by nothing else", async () => {
  expect(installed).toBe(true);
  const cr = await rbac.readClusterRole({ name: fullname });
  // Its own webhook configuration by name (get, patch); create cannot be named.
  expect(expand(cr.rules as PolicyRule[])).toEqual(expand([...clusterRules, webhookConfigRule(fullname)]));
  const role = await rbac.readNamespacedRole({ name: fullname, namespace: ns });
  expect(expand(role.rules as PolicyRule[])).toEqual(expand(operatorNamespaceRules));
  const isOurs = (s: { kind: string; name: string; namespace?: string }) => s.kind === 'ServiceAccount' && s.name === fullname && s.namespace === ns;
  const crbs = (await rbac.listClusterRoleBinding()).items.filter((b) => b.subjects?.some(isOurs)).map((b) => `${b.roleRef.kind}/${b.roleRef.name}`);
  const rbs = (await rbac.listRoleBindingForAllNamespaces()).items.filter((b) => b.subjects?.some(isOurs)).map((b) => `${b.metadata?.namespace}:${b.roleRef.kind}/${b.roleRef.name}`);
  expect(crbs).toEqual([`ClusterRole/${fullname}`]);
  expect(rbs).toEqual([`${ns}:Role/${fullname}`]);

  // And the apiserver agrees, asked as that service account (a TokenRequest token).
  const sa = await serviceAccountKubeconfig(ns, fullname);
  try {
    const authz = sa.kc.makeApiClient(AuthorizationV1Api);
    const can = async (group: string, resource: string, verb: string, namespace?: string) => {
      const [res, subresource] = resource.split('/');
      const spec = { resourceAttributes: { group, resource: res, subresource, verb, namespace } };
      return (await authz.createSelfSubjectAccessReview({ body: { spec } })).status?.allowed === true;
    };
    await eventually(async () => ((await can('coordination.k8s.io', 'leases', 'create', ns)) ? true : undefined), { what: 'the bindings in effect' });
    for (const e of expand(clusterRules)) {
      const [gr, v] = e.split(': ') as [string, string];
      const [g, ...r] = gr.split('/');
      expect([e, await can(g as string, r.join('/'), v, 'default')]).toEqual([e, true]);
    }
    const denied: [string, string, string, string?][] = [
      ['', 'configmaps', 'get', 'default'],
      ['', 'pods', 'create', 'default'],
      ['apps', 'deployments', 'update', 'default'],
      ['rbac.authorization.k8s.io', 'clusterroles', 'create'],
      ['rbac.authorization.k8s.io', 'roles', 'bind', 'default'],
      ['coordination.k8s.io', 'leases', 'create', 'default'],
      ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'delete'],
      ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'patch'], // any configuration: only its own, by name
      ['secretsync.io', 'secretsyncs', 'delete', 'default'],
    ];
    for (const [g, r, v, n] of denied) expect([g, r, v, n, await can(g, r, v, n)]).toEqual([g, r, v, n, false]);
  } finally {
    sa.release();
  }
});

test("helm upgrade applies changed values and keeps the operator's caBundle; the operator then has nothing to rewrite", async () => {
  expect(installed).toBe(true);
  const sa = await serviceAccountKubeconfig(ns, fullname);
  const port = new KubeWebhookConfig(sa.kc.makeApiClient(AdmissionregistrationV1Api));
  // What the operator, started by the Deployment's args, registers in the cluster.
  const opts = (timeoutSeconds: number, failurePolicy: 'Fail' | 'Ignore'): RegistrationOptions => ({
    name: fullname,
    operatorNamespace: ns,
    failurePolicy,
    timeoutSeconds,
    target: { service: { namespace: ns, name: `${fullname}-webhook`, port: 443 } },
  });
  const ca = '-----BEGIN CERTIFICATE-----\nchart-test\n-----END CERTIFICATE-----\n';
  try {
    expect(await register(port, opts(10, 'Fail'), ca)).toBe(true); // adds the caBundle
    expect(await register(port, opts(10, 'Fail'), ca)).toBe(false);
    const bundle = await caBundleOf();
    expect(bundle).toBe(Buffer.from(ca).toString('base64'));

    await helm('upgrade', release, chartDir, '--namespace', ns, ...setArgs({ 'image.tag': 'not-on-this-node', replicaCount: 3, logLevel: 'debug', 'webhook.timeoutSeconds': 5, 'webhook.failurePolicy': 'Ignore' }));
    const dep = await apps.readNamespacedDeployment({ name: fullname, namespace: ns });
    expect(dep.spec?.replicas).toBe(3);
    expect(dep.spec?.template.spec?.containers[0]?.args).toEqual(expect.arrayContaining(['--log-level=debug', '--webhook-timeout=5s', '--webhook-failure-policy=Ignore']));
    // Helm left the operator's fields alone (no conflict under Helm 4's server-side apply)...
    expect((await reg.readMutatingWebhookConfiguration({ name: fullname })).webhooks?.[0]).toMatchObject({ timeoutSeconds: 10, failurePolicy: 'Fail', clientConfig: { caBundle: bundle } });
    // ...which the restarted operator (new flags) sets in one write, and then has nothing to do.
    expect(await register(port, opts(5, 'Ignore'), ca)).toBe(true);
    expect(await register(port, opts(5, 'Ignore'), ca)).toBe(false);
    const mwc = await reg.readMutatingWebhookConfiguration({ name: fullname });
    expect(mwc.webhooks?.[0]).toMatchObject({ timeoutSeconds: 5, failurePolicy: 'Ignore', clientConfig: { caBundle: bundle } });
    // Another upgrade (a new chart label value would do the same) leaves it alone too.
    await helm('upgrade', release, chartDir, '--namespace', ns, '--reuse-values', '--set', 'podDisruptionBudget.minAvailable=2');
    expect(await register(port, opts(5, 'Ignore'), ca)).toBe(false);
    expect(await caBundleOf()).toBe(bundle);
  } finally {
    sa.release();
  }
});

// Helm installs crds/ once and never upgrades them. The documented upgrade (charts README,
// docs/install.md) applies the chart's CRDs server-side; --force-conflicts takes over the
// fields another manager (Helm's install, an older apply) set, and a second run writes nothing.
test('the documented CRD upgrade: helm show crds | kubectl apply --server-side --force-conflicts brings an older CRD to the chart\'s, and is idempotent', async () => {
  const crds = await helm('show', 'crds', chartDir);
  expect(parseManifests(crds).map((o) => o.metadata.name).sort()).toEqual(['clustersecretsources.secretsync.io', 'secretsources.secretsync.io', 'secretsyncs.secretsync.io']);
  const crd = 'secretsyncs.secretsync.io';
  const column = async () => JSON.parse(await kubectl(['get', 'crd', crd, '-o', 'jsonpath={.spec.versions[0].additionalPrinterColumns[0]}'])) as { description?: string };
  const wanted = (await column()).description;
  expect(wanted).toBe('Whether the object is ready');
  // An older CRD, as another field manager left it (this file runs alone: nothing else reads the column meanwhile).
  await kubectl(['patch', 'crd', crd, '--type=json', '--field-manager=helm', '-p', JSON.stringify([{ op: 'replace', path: '/spec/versions/0/additionalPrinterColumns/0/description', value: 'as an older chart had it' }])]);
  expect((await column()).description).toBe('as an older chart had it');
  try {
    // Without --force-conflicts the apply is refused, naming the other manager: why the docs say it.
    await expect(kubectl(['apply', '--server-side', '-f', '-'], crds)).rejects.toThrow(/conflict with "helm"/);
    const out = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], crds);
    expect(out).toMatch(/secretsyncs.secretsync.io serverside-applied/);
    expect((await column()).description).toBe(wanted);
    const rv = await kubectl(['get', 'crd', crd, '-o', 'jsonpath={.metadata.resourceVersion}']);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], crds);
    expect(await kubectl(['get', 'crd', crd, '-o', 'jsonpath={.metadata.resourceVersion}'])).toBe(rv);
  } finally {
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], crds);
  }
});

test('helm uninstall leaves nothing the release made behind; the CRDs stay, as Helm does', async () => {
  expect(installed).toBe(true);
  const before = await releaseObjects();
  expect(before).toEqual(
    expect.arrayContaining([
      `deployment.apps/${fullname}`,
      `service/${fullname}-webhook`,
      `serviceaccount/${fullname}`,
      `clusterrole.rbac.authorization.k8s.io/${fullname}`,
      `clusterrolebinding.rbac.authorization.k8s.io/${fullname}`,
      `mutatingwebhookconfiguration.admissionregistration.k8s.io/${fullname}`,
      `poddisruptionbudget.policy/${fullname}`,
    ]),
  );
  expect(before.some((o) => o.startsWith('replicaset.apps/'))).toBe(true);
  await helm('uninstall', release, '--namespace', ns);
  installed = false;
  // ReplicaSets and pods follow their Deployment through the garbage collector.
  await eventually(async () => ((await releaseObjects()).length === 0 ? true : undefined), { timeoutMs: 60_000, what: 'no object of the release left' });
  // Helm's own release records (Secrets sh.helm.release.v1.*) are gone too.
  expect((await kubectl(['get', 'secrets', '-n', ns, '-o', 'name'])).split('\n').filter((s) => s.includes('sh.helm.release'))).toEqual([]);
  const crds = await kubectl(['get', 'crd', 'secretsyncs.secretsync.io', 'secretsources.secretsync.io', 'clustersecretsources.secretsync.io', '-o', 'name']);
  expect(crds.trim().split('\n')).toHaveLength(3);
});

// The values people bring from other operators' charts, installed for real: an existing
// ServiceAccount (serviceAccount.create=false), a cert-manager style Secret mounted through
// extraVolumes/extraVolumeMounts for --webhook-cert-dir, extraEnv, webhook port 10250, the
// names overridden. The operator then runs with the Deployment's arguments as that account
// (its pods cannot run here) and serves the mounted certificate; `edit`/`view` users of an
// app namespace get what the aggregated roles give; an upgrade to rbac.create=false removes
// the chart's RBAC and leaves the account, which is not the chart's.
describe('bring your own: an existing ServiceAccount, a cert-manager certificate, port 10250', () => {
  const byo = uniqueName('chart-byo');
  const apps2 = `${byo}-apps`;
  const full = `${byo}-ss`; // fullnameOverride
  const account = 'ops';
  const certMount = '/etc/secretsync/webhook-cert';
  const values = {
    fullnameOverride: full,
    'image.tag': 'not-on-this-node',
    'serviceAccount.create': false,
    'serviceAccount.name': account,
    'webhook.port': 10250,
    'webhook.failurePolicy': 'Ignore', // nothing answers the chart's Service here
    'extraVolumes[0].name': 'webhook-cert',
    'extraVolumes[0].secret.secretName': 'webhook-cert',
    'extraVolumeMounts[0].name': 'webhook-cert',
    'extraVolumeMounts[0].mountPath': certMount,
    'extraVolumeMounts[0].readOnly': true,
    'extraArgs[0]': `--webhook-cert-dir=${certMount}`,
    'extraEnv[0].name': 'NODE_EXTRA_CA_CERTS',
    'extraEnv[0].value': `${certMount}/ca.crt`,
    'topologySpreadConstraints[0].maxSkew': 1,
    'topologySpreadConstraints[0].topologyKey': 'topology.kubernetes.io/zone',
    'topologySpreadConstraints[0].whenUnsatisfiable': 'ScheduleAnyway',
    revisionHistoryLimit: 3,
    'podSecurityContext.runAsUser': 'null',
    'podSecurityContext.runAsGroup': 'null',
    insecureAllowHttp: true,
    // Its operator must not reconcile other test files' SecretSyncs on this shared stack; and a
    // --namespace the chart did not pass would make its webhook selector differ from Helm's.
    watchNamespace: apps2,
  };
  let installedByo = false;
  let caBundle = '';
  let op: RunningOperator | undefined;
  let tmp = '';

  beforeAll(async () => {
    await installCrds(kc);
    await createNamespace(core, byo);
    await createNamespace(core, apps2);
    await core.createNamespacedServiceAccount({ namespace: byo, body: { metadata: { name: account } } });
    // What cert-manager's Certificate for the webhook Service leaves: a kubernetes.io/tls Secret with ca.crt.
    const b = await createBundle({ hosts: [`${full}-webhook.${byo}.svc`], caName: `cert-manager-${byo}` });
    caBundle = b.caBundle;
    await core.createNamespacedSecret({
      namespace: byo,
      body: { metadata: { name: 'webhook-cert' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': b.serving.cert, 'tls.key': b.serving.key, 'ca.crt': b.caBundle } },
    });
    await helm('install', byo, chartDir, '--namespace', byo, ...setArgs(values));
    installedByo = true;
  }, 120_000);

  afterAll(async () => {
    const code = await op?.stop();
    if (installedByo) await helm('uninstall', byo, '--namespace', byo).catch(() => undefined);
    for (const n of [apps2, byo]) await deleteNamespace(core, n);
    await rbac.deleteClusterRoleBinding({ name: `${byo}-view-bob` }).catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    expect(code ?? 0).toBe(0);
  });

  test('the release uses the given account and creates none; the Deployment carries every value', async () => {
    const manifest = parseManifests(await helm('get', 'manifest', byo, '--namespace', byo));
    expect(manifest.filter((o) => o.kind === 'ServiceAccount')).toEqual([]);
    for (const o of manifest) expect([o.kind, o.metadata.name]).toEqual([o.kind, expect.stringMatching(new RegExp(`^${full}(-|$)`))]);
    const bindings = [await rbac.readClusterRoleBinding({ name: full }), await rbac.readNamespacedRoleBinding({ name: full, namespace: byo }), await rbac.readNamespacedRoleBinding({ name: `${full}-watched`, namespace: apps2 })];
    for (const b of bindings) {
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: byo }]);
    }
    const dep: V1Deployment = await apps.readNamespacedDeployment({ name: full, namespace: byo });
    const pod = dep.spec?.template.spec;
    const c = pod?.containers[0];
    expect(pod?.serviceAccountName).toBe(account);
    expect(dep.spec?.revisionHistoryLimit).toBe(3);
    expect(pod?.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod?.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'secretsync', 'app.kubernetes.io/instance': byo } } },
    ]);
    expect(c?.args).toEqual(expect.arrayContaining(['--webhook-addr=:10250', `--webhook-cert-dir=${certMount}`, `--webhook-config-name=${full}`, `--webhook-service=${full}-webhook`]));
    expect(c?.ports).toContainEqual({ name: 'webhook', containerPort: 10250, protocol: 'TCP' });
    expect(c?.env).toContainEqual({ name: 'NODE_EXTRA_CA_CERTS', value: `${certMount}/ca.crt` });
    expect(c?.volumeMounts).toEqual([{ name: 'webhook-cert', mountPath: certMount, readOnly: true }]);
    expect(pod?.volumes).toEqual([{ name: 'webhook-cert', secret: { secretName: 'webhook-cert', defaultMode: 420 } }]);
    // The Service sends 443 to the container's named port, 10250.
    expect((await core.readNamespacedService({ name: `${full}-webhook`, namespace: byo })).spec?.ports).toEqual([{ name: 'webhook', port: 443, protocol: 'TCP', targetPort: 'webhook' }]);
  });

  test("the operator, with the Deployment's arguments as the given account, serves the mounted certificate and registers its CA; nothing is refused", async () => {
    const dep = await apps.readNamespacedDeployment({ name: full, namespace: byo });
    const c = dep.spec?.template.spec?.containers[0];
    // The Secret's files, as the kubelet mounts them, at a path of this machine.
    tmp = mkdtempSync(join(tmpdir(), 'secretsync-byo-'));
    const secret = await core.readNamespacedSecret({ name: 'webhook-cert', namespace: byo });
    for (const [k, v] of Object.entries(secret.data ?? {})) writeFileSync(join(tmp, k), Buffer.from(v, 'base64'), { mode: 0o600 });
    const local = (a: string) => a.replaceAll(certMount, tmp);
    const args = (c?.args ?? []).filter((a) => a !== 'operator' && !/^--(metrics|health|webhook)-addr=/.test(a)).map(local);
    const env = Object.fromEntries((c?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, local(e.value as string)]));
    const sa = await serviceAccountKubeconfig(byo, account);
    try {
      op = await startOperator([`--kubeconfig=${sa.file}`, ...args], { ...env, KUBECONFIG: sa.file, KUBERNETES_SERVICE_HOST: 'in-cluster.invalid' }, { webhook: { configName: full } });
      const mwc = await eventually(async () => {
        const m = await reg.readMutatingWebhookConfiguration({ name: full });
        return m.webhooks?.[0]?.clientConfig.caBundle ? m : undefined;
      }, { timeoutMs: 60_000, what: 'the caBundle' });
      // cert-manager's CA, not a self-managed one; and no self-managed TLS Secret.
      expect(Buffer.from(mwc.webhooks?.[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8')).toBe(caBundle);
      expect(mwc.webhooks?.[0]?.clientConfig.service).toEqual({ namespace: byo, name: `${full}-webhook`, port: 443, path: '/mutate' });
      const lease = await eventually(async () => kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: `${full}-leader`, namespace: byo }).catch(() => undefined), { what: 'the leader Lease' });
      expect(lease.spec?.holderIdentity).toBeTruthy();
      expect((await core.listNamespacedSecret({ namespace: byo })).items.map((x) => x.metadata?.name)).not.toContain('secretsync-webhook-tls');
      // The webhook answers with the mounted certificate (the loopback port stands in for 10250).
      const { X509Certificate } = await import('node:crypto');
      const { connect } = await import('node:tls');
      const served = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: op?.webhookPort ?? 0, rejectUnauthorized: false }, () => {
          resolve(new X509Certificate(s.getPeerX509Certificate()?.raw ?? Buffer.alloc(0)).fingerprint256);
          s.end();
        });
        s.on('error', reject);
      });
      expect(served).toBe(new X509Certificate(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64')).fingerprint256);
      expect((op?.logs ?? []).filter((l) => /forbidden|\b403\b/i.test(l))).toEqual([]);
    } finally {
      sa.release();
    }
  });

  test("a namespace's edit user manages SecretSyncs and SecretSources there (the aggregated role), never ClusterSecretSources nor status; a view user reads only", async () => {
    await kubectl(['-n', apps2, 'create', 'rolebinding', 'alice-edit', '--clusterrole=edit', '--user=alice']);
    await kubectl(['-n', apps2, 'create', 'rolebinding', 'bob-view', '--clusterrole=view', '--user=bob']);
    const can = async (user: string, verb: string, resource: string, ns?: string) => {
      const [res, sub] = resource.split('/') as [string, string | undefined];
      const args = ['auth', 'can-i', verb, res, `--as=${user}`, ...(sub ? [`--subresource=${sub}`] : []), ...(ns ? ['-n', ns] : [])];
      return (await kubectl(args).catch((e: Error) => e.message)).trim() === 'yes';
    };
    // The aggregation controller folds the chart's roles into edit and view.
    await eventually(async () => ((await can('alice', 'create', 'secretsyncs.secretsync.io', apps2)) && (await can('bob', 'list', 'secretsyncs.secretsync.io', apps2)) ? true : undefined), { what: 'edit and view aggregated' });
    const sync = (name: string) => JSON.stringify({ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSync', metadata: { name, namespace: apps2 }, spec: { sourceRef: { name: 'vault' }, data: [{ key: 'k', remoteRef: { path: 'p', property: 'k' } }] } });
    const source = JSON.stringify({ apiVersion: 'secretsync.io/v1alpha1', kind: 'SecretSource', metadata: { name: 'vault', namespace: apps2 }, spec: { vault: { address: 'https://vault.example:8200', auth: { token: { secretRef: { name: 't', key: 'token' } } } } } });
    const cluster = JSON.stringify({ apiVersion: 'secretsync.io/v1alpha1', kind: 'ClusterSecretSource', metadata: { name: `${byo}-css` }, spec: { vault: { address: 'https://vault.example:8200', auth: { token: { secretRef: { name: 't', namespace: apps2, key: 'token' } } } } } });
    const as = (user: string, args: string[], stdin?: string) => kubectl([...args, `--as=${user}`], stdin).then((out) => `ok: ${out}`, (e: Error) => `refused: ${e.message}`);

    expect(await as('alice', ['create', '-f', '-'], sync('by-alice'))).toMatch(/^ok: secretsync.secretsync.io\/by-alice created/);
    expect(await as('alice', ['create', '-f', '-'], source)).toMatch(/^ok: secretsource.secretsync.io\/vault created/);
    expect(await as('alice', ['-n', apps2, 'annotate', 'secretsync', 'by-alice', 'secretsync.io/force-sync=1'])).toMatch(/^ok: /);
    expect(await as('alice', ['create', '-f', '-'], cluster)).toMatch(/^refused: [\s\S]*clustersecretsources.secretsync.io is forbidden: User "alice" cannot create resource "clustersecretsources"/);
    expect(await as('alice', ['get', 'clustersecretsources'])).toMatch(/^refused: [\s\S]*forbidden/);
    expect(await can('alice', 'patch', 'secretsyncs.secretsync.io/status', apps2)).toBe(false);
    expect(await can('alice', 'create', 'secretsyncs.secretsync.io', 'default')).toBe(false); // only where bound
    expect(await as('alice', ['-n', apps2, 'delete', 'secretsync', 'by-alice', '--wait=false'])).toMatch(/^ok: /);

    expect(await as('bob', ['-n', apps2, 'get', 'secretsources', 'vault', '-o', 'name'])).toBe('ok: secretsource.secretsync.io/vault\n');
    expect(await as('bob', ['create', '-f', '-'], sync('by-bob'))).toMatch(/^refused: [\s\S]*forbidden/);
    expect(await can('bob', 'delete', 'secretsources.secretsync.io', apps2)).toBe(false);
    // Even bound cluster-wide, view reads no ClusterSecretSource (the chart's roles leave them out).
    await kubectl(['create', 'clusterrolebinding', `${byo}-view-bob`, '--clusterrole=view', '--user=bob']);
    await eventually(async () => ((await can('bob', 'list', 'secretsyncs.secretsync.io', 'default')) ? true : undefined), { what: 'the cluster-wide binding' });
    expect(await can('bob', 'list', 'clustersecretsources.secretsync.io')).toBe(false);
  });

  test('helm upgrade to rbac.create=false removes the RBAC the chart made (aggregated roles included) and leaves the account; uninstall leaves the account too', async () => {
    await op?.stop(); // it would lose its grants
    op = undefined;
    await helm('upgrade', byo, chartDir, '--namespace', byo, '--reuse-values', '--set', 'rbac.create=false');
    const left = parseManifests(await helm('get', 'manifest', byo, '--namespace', byo));
    expect(left.filter((o) => o.apiVersion.startsWith('rbac.authorization.k8s.io/'))).toEqual([]);
    for (const name of [full, `${full}-edit`, `${full}-view`]) await expect(rbac.readClusterRole({ name })).rejects.toMatchObject({ code: 404 });
    await expect(rbac.readNamespacedRoleBinding({ name: full, namespace: byo })).rejects.toMatchObject({ code: 404 });
    expect((await apps.readNamespacedDeployment({ name: full, namespace: byo })).spec?.template.spec?.serviceAccountName).toBe(account);
    await helm('uninstall', byo, '--namespace', byo);
    installedByo = false;
    expect((await core.readNamespacedServiceAccount({ name: account, namespace: byo })).metadata?.name).toBe(account);
  });
});
