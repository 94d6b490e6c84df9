// `helm install`, `helm upgrade` and `helm uninstall` of charts/secretsync on the stack, the
// objects checked. The Deployment's pods do not run here (the image is a tag the node does
// not have, so they wait for a pull that never leaves this machine): the chart's real pods
// are test/integration/pods/operator-pods.test.ts's.
// The operator's side of the webhook configuration is played by the operator's own code
// (register(), as the chart's service account), to show that Helm and the operator do not
// overwrite each other's fields.
import { AdmissionregistrationV1Api, AppsV1Api, AuthorizationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { clusterRules, operatorNamespaceRules, webhookConfigRule, type PolicyRule } from '../../../src/api/rbac.js';
import { KubeWebhookConfig } from '../../../src/kube/webhook-config.js';
import { register, type RegistrationOptions } from '../../../src/webhook/registration.js';
import { eventually } from '../../helpers/eventually.js';
import { chartDir, helm, kubectl, parseManifests, setArgs } from '../../helpers/helm.js';
import { createNamespace, deleteNamespace, kube } from '../../helpers/kube.js';
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
