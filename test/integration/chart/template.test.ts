// `helm lint` and `helm template` of charts/secretsync, every mode accepted by the real
// apiserver (`kubectl apply --dry-run=server`), the values schema refusing wrong values
// with a message, and the rendered RBAC and webhook configuration equal to what the
// operator's code says (src/api/rbac.ts, src/webhook/registration.ts).
import { TOKEN_RULE, clusterRules, namespacedModeRules, operatorNamespaceRules, webhookConfigRule, type PolicyRule } from '../../../src/api/rbac.js';
import { configMatches, desiredConfig, type MutatingWebhookConfiguration } from '../../../src/webhook/registration.js';
import { chartDir, find, helm, kubectl, operatorContainer, podSpec, setArgs, template, type K8sObject } from '../../helpers/helm.js';
import { createNamespace, deleteNamespace, kube } from '../../helpers/kube.js';
import { uniqueName } from '../../helpers/stack.js';

const { core } = kube();
const id = uniqueName('chart-tpl');
const ns = `${id}-system`;
const apps = `${id}-apps`;
// Contains the chart's name, so every object is named after the release alone; unique,
// because the ClusterRole and the webhook configuration are cluster-wide on a shared stack.
const release = `${id}-secretsync`;

/** A CA certificate as a chart value (its content does not matter to the templates). */
const FAKE_PEM = '-----BEGIN CERTIFICATE-----MIIBfake-----END CERTIFICATE-----';

/** The modes the chart has; each is linted, templated and dry-run applied. */
const modes: Record<string, Record<string, string | number | boolean>> = {
  default: {},
  namespaced: { watchNamespace: apps },
  'webhook off': { 'webhook.enabled': false },
  'ServiceMonitor on': { 'serviceMonitor.enabled': true },
  'NetworkPolicy on': { 'networkPolicy.enabled': true, 'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team': 'monitoring' },
  'tokens in listed namespaces': { 'rbac.tokenNamespaces[0]': apps },
  'webhook locked down': {
    'webhook.clientAuth.caBundle': FAKE_PEM,
    'webhook.clientAuth.allowedNames[0]': 'kube-apiserver-webhook-client',
    'networkPolicy.enabled': true,
    'networkPolicy.webhookFrom[0].ipBlock.cidr': '10.0.0.10/32',
  },
  // The values users coming from ESO's chart expect, all at once.
  'bring your own': {
    fullnameOverride: `${id}-ss`,
    'serviceAccount.create': false,
    'serviceAccount.name': 'existing-sa',
    'webhook.port': 10250,
    'extraEnv[0].name': 'NODE_EXTRA_CA_CERTS',
    'extraEnv[0].value': '/etc/secretsync/webhook-cert/ca.crt',
    'extraVolumes[0].name': 'webhook-cert',
    'extraVolumes[0].secret.secretName': 'secretsync-webhook-cert',
    'extraVolumeMounts[0].name': 'webhook-cert',
    'extraVolumeMounts[0].mountPath': '/etc/secretsync/webhook-cert',
    'extraVolumeMounts[0].readOnly': true,
    'extraArgs[0]': '--webhook-cert-dir=/etc/secretsync/webhook-cert',
    'topologySpreadConstraints[0].maxSkew': 1,
    'topologySpreadConstraints[0].topologyKey': 'topology.kubernetes.io/zone',
    'topologySpreadConstraints[0].whenUnsatisfiable': 'ScheduleAnyway',
    revisionHistoryLimit: 3,
    'podSecurityContext.runAsUser': 'null',
    'podSecurityContext.runAsGroup': 'null',
  },
  'no RBAC': { 'rbac.create': false },
};

const expand = (rules: PolicyRule[]) =>
  rules
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}: ${v}${r.resourceNames ? ` [${r.resourceNames.join(',')}]` : ''}`))))
    .sort();

beforeAll(async () => {
  await createNamespace(core, ns);
  await createNamespace(core, apps);
});

afterAll(async () => {
  await deleteNamespace(core, ns);
  await deleteNamespace(core, apps);
});

test.each(Object.keys(modes))('helm lint --strict is clean: %s', async (mode) => {
  const out = await helm('lint', '--strict', chartDir, ...setArgs(modes[mode]));
  expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
});

// The ServiceMonitor's CRD (prometheus-operator) is not on the stack, and installing even a
// minimal one would add a CRD to a shared cluster: that one object is left out of the dry
// run, and checked for shape here instead.
test.each(Object.keys(modes))('the apiserver accepts every object (kubectl apply --dry-run=server): %s', async (mode) => {
  const objs = await template(release, ns, modes[mode]);
  const applied = objs.filter((o) => o.kind !== 'ServiceMonitor');
  const docs = applied.map((o) => JSON.stringify(o)).join('\n');
  // No -n: every namespaced object names its namespace (the watched one's Role included).
  for (const o of applied) if (!['ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration'].includes(o.kind)) expect([o.kind, o.metadata.namespace]).toEqual([o.kind, o.kind === 'Role' || o.kind === 'RoleBinding' ? expect.any(String) : ns]);
  const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], docs);
  for (const o of applied) expect(out).toContain(`/${o.metadata.name} created (server dry run)`);
  expect(out.trim().split('\n')).toHaveLength(applied.length);
  const monitor = objs.find((o) => o.kind === 'ServiceMonitor');
  if (mode === 'ServiceMonitor on') {
    expect(monitor).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', spec: { endpoints: [{ port: 'metrics', path: '/metrics', honorLabels: true }] } });
    const svc = find(objs, 'Service', `${release}-metrics`);
    expect((monitor as K8sObject & { spec: { selector: { matchLabels: unknown } } }).spec.selector.matchLabels).toEqual(svc.metadata.labels && {
      'app.kubernetes.io/name': 'secretsync',
      'app.kubernetes.io/instance': release,
      'app.kubernetes.io/component': 'metrics',
    });
  } else {
    expect(monitor).toBeUndefined();
  }
});

test('the default: 2 leader-elected, locked-down replicas with probes, resources, webhook, PDB; no ServiceMonitor or NetworkPolicy', async () => {
  const objs = await template(release, ns);
  expect(objs.map((o) => o.kind).sort()).toEqual(
    ['ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'MutatingWebhookConfiguration', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'].sort(),
  );
  expect(find(objs, 'Deployment')).toMatchObject({ spec: { revisionHistoryLimit: 10 } });
  expect(find(objs, 'Deployment')).toMatchObject({ spec: { replicas: 2 } });
  const pod = podSpec(objs);
  const c = operatorContainer(objs);
  expect(c.image).toBe('ghcr.io/secretsync/secretsync:0.1.0');
  expect(c.args).toEqual([
    'operator',
    `--operator-namespace=${ns}`,
    `--owner-deployment=${release}`,
    '--leader-elect',
    `--leader-election-id=${release}-leader`,
    '--log-level=info',
    '--metrics-addr=:8080',
    '--health-addr=:8081',
    '--webhook-addr=:9443',
    `--webhook-config-name=${release}`,
    `--webhook-service=${release}-webhook`,
    '--webhook-failure-policy=Fail',
    '--webhook-timeout=10s',
    '--agent-image=ghcr.io/secretsync/secretsync:0.1.0',
    '--webhook-file-env=verified',
  ]);
  expect(pod.serviceAccountName).toBe(release);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  expect(c.resources?.requests).toEqual({ cpu: '100m', memory: '192Mi' });
  expect(c.resources?.limits).toEqual({ cpu: '1', memory: '512Mi' });
  expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
  expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
  expect(c.ports).toEqual([
    { name: 'metrics', containerPort: 8080 },
    { name: 'health', containerPort: 8081 },
    { name: 'webhook', containerPort: 9443 },
  ]);
  expect(find(objs, 'Service', `${release}-webhook`)).toMatchObject({ spec: { ports: [{ port: 443, targetPort: 'webhook' }] } });
  expect(find(objs, 'PodDisruptionBudget')).toMatchObject({ spec: { minAvailable: 1 } });
});

test('image values: repository, tag (default appVersion) and pullPolicy; the agent runs the same image', async () => {
  const objs = await template(release, ns, { 'image.repository': 'registry.example/ss', 'image.tag': '9.9.9', 'image.pullPolicy': 'Always' });
  const c = operatorContainer(objs);
  expect(c.image).toBe('registry.example/ss:9.9.9');
  expect(c.imagePullPolicy).toBe('Always');
  expect(c.args).toContain('--agent-image=registry.example/ss:9.9.9');
});

test('cluster-wide mode: the ClusterRole and the Role carry exactly src/api/rbac.ts', async () => {
  const objs = await template(release, ns);
  // The webhook configuration by the release's name (--webhook-config-name).
  expect(expand(find(objs, 'ClusterRole', release).rules as PolicyRule[])).toEqual(expand([...clusterRules, webhookConfigRule(release)]));
  expect(expand(find(objs, 'Role').rules as PolicyRule[])).toEqual(expand(operatorNamespaceRules));
  for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
    expect(find(objs, kind).subjects).toEqual([{ kind: 'ServiceAccount', name: release, namespace: ns }]);
  }
});

test('namespaced mode: --namespace, a Role in the watched namespace, the cluster-scoped rest in a small ClusterRole, all from src/api/rbac.ts', async () => {
  const objs = await template(release, ns, { watchNamespace: apps });
  const m = namespacedModeRules();
  expect(operatorContainer(objs).args).toContain(`--namespace=${apps}`);
  const watched = find(objs, 'Role', `${release}-watched`);
  expect(watched.metadata.namespace).toBe(apps);
  expect(expand(watched.rules as PolicyRule[])).toEqual(expand(m.watched));
  expect(expand(find(objs, 'ClusterRole', release).rules as PolicyRule[])).toEqual(expand([...m.cluster, webhookConfigRule(release)]));
  // Tokens: only in the watched and the operator namespace, never through the ClusterRole.
  expect(expand(find(objs, 'ClusterRole', release).rules as PolicyRule[]).filter((x) => x.includes('token'))).toEqual([]);
  const own = find(objs, 'Role', release);
  expect(own.metadata.namespace).toBe(ns);
  expect(expand(own.rules as PolicyRule[])).toEqual(expand(m.operatorNamespace));
  expect(find(objs, 'RoleBinding', `${release}-watched`).subjects).toEqual([{ kind: 'ServiceAccount', name: release, namespace: ns }]);
});

test('rbac.tokenNamespaces: no token minting in the ClusterRole (so none in kube-system); a Role + RoleBinding for it in each listed namespace and the release namespace', async () => {
  const objs = await template(release, ns, { 'rbac.tokenNamespaces[0]': apps });
  expect(expand(find(objs, 'ClusterRole', release).rules as PolicyRule[])).toEqual(expand([...clusterRules.filter((r) => r !== TOKEN_RULE), webhookConfigRule(release)]));
  const token = find(objs, 'Role', `${release}-token`);
  expect(token.metadata.namespace).toBe(apps);
  expect(token.rules).toEqual([TOKEN_RULE]);
  expect(find(objs, 'RoleBinding', `${release}-token`)).toMatchObject({ roleRef: { kind: 'Role', name: `${release}-token` }, subjects: [{ kind: 'ServiceAccount', name: release, namespace: ns }] });
  expect(expand(find(objs, 'Role', release).rules as PolicyRule[])).toEqual(expand([...operatorNamespaceRules, TOKEN_RULE]));
  // Namespaced mode ignores it: the watched namespace's Role already holds the grant.
  const namespaced = await template(release, ns, { watchNamespace: apps, 'rbac.tokenNamespaces[0]': 'elsewhere' });
  expect(namespaced.filter((o) => o.metadata.name === `${release}-token`)).toEqual([]);
});

test('webhook off: no webhook Service or configuration, and the operator serves none', async () => {
  const objs = await template(release, ns, { 'webhook.enabled': false });
  expect(objs.filter((o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'Service')).toEqual([]);
  const args = operatorContainer(objs).args ?? [];
  expect(args).toContain('--webhook-addr=0');
  expect(args.filter((a) => a.startsWith('--webhook-config') || a.startsWith('--agent-image'))).toEqual([]);
});

test.each<[string, number, Record<string, string>]>([
  ['Fail', 10, {}],
  ['Ignore', 3, {}],
  // Namespaced: both add the watched namespace to the selector (different values would make Helm's and the operator's applies conflict on upgrade).
  ['Fail', 10, { watchNamespace: apps }],
])('the webhook configuration is what the operator applies, minus the fields it owns (failurePolicy %s, timeout %ss, %j)', async (failurePolicy, timeoutSeconds, extra) => {
  const objs = await template(release, ns, { 'webhook.failurePolicy': failurePolicy, 'webhook.timeoutSeconds': timeoutSeconds, ...extra });
  const chart = find(objs, 'MutatingWebhookConfiguration') as unknown as MutatingWebhookConfiguration;
  const args = operatorContainer(objs).args ?? [];
  const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  // What the operator started with these args applies in a cluster (src/main.ts → WebhookServing).
  const operator = desiredConfig(
    {
      name: arg('webhook-config-name') as string,
      operatorNamespace: arg('operator-namespace') as string,
      ...(arg('namespace') !== undefined ? { watchNamespace: arg('namespace') as string } : {}),
      failurePolicy: arg('webhook-failure-policy') as 'Fail' | 'Ignore',
      timeoutSeconds: Number((arg('webhook-timeout') as string).replace(/s$/, '')),
      target: { service: { namespace: ns, name: arg('webhook-service') as string, port: 443 } },
    },
    'unused',
  );
  expect(operator.webhooks?.[0]).toMatchObject({ failurePolicy, timeoutSeconds });
  expect(chart.metadata.name).toBe(operator.metadata.name);
  // Helm's object, once the operator has added its fields, needs no write from the operator...
  const ownedByOperator = (w: Record<string, unknown>) => ({
    failurePolicy: w.failurePolicy,
    timeoutSeconds: w.timeoutSeconds,
    caBundle: (w.clientConfig as { caBundle: string }).caBundle,
  });
  const applied = structuredClone(chart);
  for (const [i, w] of (applied.webhooks ?? []).entries()) {
    const { caBundle, ...rest } = ownedByOperator(operator.webhooks?.[i] as Record<string, unknown>);
    Object.assign(w, rest);
    (w.clientConfig as Record<string, unknown>).caBundle = caBundle;
  }
  expect(configMatches(operator, applied)).toBe(true);
  // ...and Helm sets nothing the operator does not set to the same value (besides its labels), so
  // neither overwrites the other; the fields the operator owns are not Helm's at all.
  const withoutOwned = (c: MutatingWebhookConfiguration) =>
    JSON.parse(JSON.stringify(c.webhooks?.map((w) => ({ ...w, failurePolicy: undefined, timeoutSeconds: undefined, clientConfig: { ...(w.clientConfig as object), caBundle: undefined } }))));
  expect(withoutOwned(chart)).toEqual(withoutOwned(operator));
  expect(JSON.stringify(chart)).not.toMatch(/caBundle|failurePolicy|timeoutSeconds/);
  for (const [k, v] of Object.entries(operator.metadata.labels ?? {})) expect(chart.metadata.labels?.[k]).toBe(v);
});

test('webhook.clientAuth: the CA in a ConfigMap, mounted, --webhook-client-ca and --webhook-client-names; absent by default', async () => {
  const objs = await template(release, ns, { 'webhook.clientAuth.caBundle': FAKE_PEM, 'webhook.clientAuth.allowedNames[0]': 'a', 'webhook.clientAuth.allowedNames[1]': 'b' });
  expect(find(objs, 'ConfigMap', `${release}-webhook-client-ca`)).toMatchObject({ data: { 'ca.crt': expect.stringContaining(FAKE_PEM) } });
  const c = operatorContainer(objs);
  expect(c.args).toEqual(expect.arrayContaining(['--webhook-client-ca=/etc/secretsync/webhook-client-ca/ca.crt', '--webhook-client-names=a,b']));
  expect(c.volumeMounts).toEqual([{ name: 'webhook-client-ca', mountPath: '/etc/secretsync/webhook-client-ca', readOnly: true }]);
  expect(podSpec(objs).volumes).toEqual([{ name: 'webhook-client-ca', configMap: { name: `${release}-webhook-client-ca` } }]);
  const plain = await template(release, ns);
  expect(plain.filter((o) => o.kind === 'ConfigMap')).toEqual([]);
  expect((operatorContainer(plain).args ?? []).filter((a) => a.startsWith('--webhook-client'))).toEqual([]);
});

test('webhook.fileEnv: --webhook-file-env, verified by default; the schema refuses anything else', async () => {
  expect(operatorContainer(await template(release, ns)).args).toContain('--webhook-file-env=verified');
  expect(operatorContainer(await template(release, ns, { 'webhook.fileEnv': 'always' })).args).toContain('--webhook-file-env=always');
  await expect(template(release, ns, { 'webhook.fileEnv': 'sometimes' })).rejects.toThrow(/fileEnv/);
});

test('networkPolicy.webhookFrom: only those peers reach the webhook port; metrics from metricsFrom; without it the port stays open (as before)', async () => {
  type Rule = { from?: unknown[]; ports: { port: number }[] };
  const rules = async (values: Record<string, string | number | boolean>) =>
    (find(await template(release, ns, { 'networkPolicy.enabled': true, ...values }), 'NetworkPolicy').spec as { ingress: Rule[] }).ingress;
  expect(await rules({ 'networkPolicy.webhookFrom[0].ipBlock.cidr': '10.0.0.10/32', 'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team': 'monitoring' })).toEqual([
    { ports: [{ port: 9443, protocol: 'TCP' }], from: [{ ipBlock: { cidr: '10.0.0.10/32' } }] },
    { ports: [{ port: 8080, protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { team: 'monitoring' } } }] },
  ]);
  expect(await rules({})).toEqual([{ ports: [{ port: 9443, protocol: 'TCP' }] }]);
});

test.each([
  [{ 'webhook.clientAuth.caBundle': 'not a certificate' }, /caBundle/],
  [{ 'webhook.clientAuth.ca': FAKE_PEM }, /ca/],
  [{ replicaCount: 'two' }, /replicaCount/],
  [{ 'webhook.failurePolicy': 'Sometimes' }, /failurePolicy/],
  [{ 'webhook.timeoutSeconds': 60 }, /timeoutSeconds/],
  [{ watchNamespace: 'Not_A_Namespace' }, /watchNamespace/],
  [{ 'image.pullPolicy': 'Sometimes' }, /pullPolicy/],
  [{ replicas: 3 }, /replicas/], // a misspelt key, not silently ignored
])('a wrong value fails at install with a message naming it: %j', async (values, message) => {
  const err = await helm('install', release, chartDir, '--dry-run=client', '--namespace', ns, ...setArgs(values)).then(
    () => undefined,
    (e: Error) => e.message,
  );
  expect(err).toMatch(/values don't meet the specifications of the schema|schema/);
  expect(err).toMatch(message);
});

test('NOTES.txt says how to create a first SecretSource and SecretSync', async () => {
  const notes = await helm('install', release, chartDir, '--dry-run=client', '--namespace', ns);
  expect(notes).toMatch(/kind: SecretSource/);
  expect(notes).toMatch(/kind: SecretSync/);
  expect(notes).toMatch(/get secretsyncs/);
});

describe('values users of other operators rely on', () => {
  test('nameOverride and fullnameOverride name every object; the label follows nameOverride', async () => {
    const renamed = await template('rel', ns, { nameOverride: 'vault-sync' });
    for (const o of renamed) expect([o.kind, o.metadata.name]).toEqual([o.kind, expect.stringMatching(/^rel-vault-sync(-|$)/)]);
    expect(find(renamed, 'Deployment').metadata.labels?.['app.kubernetes.io/name']).toBe('vault-sync');
    const full = await template('rel', ns, { fullnameOverride: 'ss' });
    for (const o of full) expect([o.kind, o.metadata.name]).toEqual([o.kind, expect.stringMatching(/^ss(-|$)/)]);
    const args = operatorContainer(full).args ?? [];
    expect(args).toEqual(expect.arrayContaining(['--owner-deployment=ss', '--leader-election-id=ss-leader', '--webhook-config-name=ss', '--webhook-service=ss-webhook']));
    expect(find(full, 'MutatingWebhookConfiguration').metadata.name).toBe('ss');
    expect(podSpec(full).serviceAccountName).toBe('ss');
    // The selector keeps the chart's labels: the Deployment's pods, the PDB's and the Service's agree.
    const selector = { 'app.kubernetes.io/name': 'secretsync', 'app.kubernetes.io/instance': 'rel' };
    expect(find(full, 'Deployment')).toMatchObject({ spec: { selector: { matchLabels: selector } } });
    expect(find(full, 'Service')).toMatchObject({ spec: { selector } });
    await expect(template('rel', ns, { fullnameOverride: 'Not_A_Name' })).rejects.toThrow(/fullnameOverride/);
  });

  test('serviceAccount.create=false: no ServiceAccount, the named one runs the pods and is what the RBAC binds; without a name, a message saying so', async () => {
    const objs = await template(release, ns, { 'serviceAccount.create': false, 'serviceAccount.name': 'existing-sa' });
    expect(objs.filter((o) => o.kind === 'ServiceAccount')).toEqual([]);
    expect(podSpec(objs).serviceAccountName).toBe('existing-sa');
    for (const o of objs.filter((x) => x.kind.endsWith('Binding'))) expect(o.subjects).toEqual([{ kind: 'ServiceAccount', name: 'existing-sa', namespace: ns }]);
    await expect(template(release, ns, { 'serviceAccount.create': false })).rejects.toThrow(/serviceAccount.name: with serviceAccount.create=false, name the existing ServiceAccount/);
    await expect(template(release, ns, { 'serviceAccount.create': false, 'serviceAccount.name': 'x', 'serviceAccount.annotations.a': 'b' })).rejects.toThrow(/serviceAccount.annotations: the chart creates no ServiceAccount/);
    // create (the default) with a name: that name, created.
    expect(find(await template(release, ns, { 'serviceAccount.name': 'mine' }), 'ServiceAccount').metadata.name).toBe('mine');
  });

  test('rbac.create=false: no Role, ClusterRole or binding at all (aggregated ones included); everything else unchanged', async () => {
    const objs = await template(release, ns, { 'rbac.create': false });
    expect(objs.filter((o) => o.apiVersion.startsWith('rbac.authorization.k8s.io/'))).toEqual([]);
    expect(objs.map((o) => o.kind).sort()).toEqual(['Deployment', 'MutatingWebhookConfiguration', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    // A value that would then do nothing is refused, not ignored.
    await expect(template(release, ns, { 'rbac.create': false, 'rbac.tokenNamespaces[0]': apps })).rejects.toThrow(/rbac.tokenNamespaces: the chart makes no Role with rbac.create=false/);
  });

  test('the aggregated edit and view roles: SecretSyncs and SecretSources only, edit read/write, view read; never ClusterSecretSources or status', async () => {
    const objs = await template(release, ns);
    const edit = find(objs, 'ClusterRole', `${release}-edit`);
    const view = find(objs, 'ClusterRole', `${release}-view`);
    expect(edit.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' });
    expect(edit.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBeUndefined();
    expect(view.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
    expect(view.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit']).toBeUndefined();
    const rw = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
    expect(expand(edit.rules as PolicyRule[])).toEqual(expand([{ apiGroups: ['secretsync.io'], resources: ['secretsyncs', 'secretsources'], verbs: rw }]));
    expect(expand(view.rules as PolicyRule[])).toEqual(expand([{ apiGroups: ['secretsync.io'], resources: ['secretsyncs', 'secretsources'], verbs: ['get', 'list', 'watch'] }]));
    expect(JSON.stringify([edit.rules, view.rules])).not.toMatch(/clustersecretsources|\/status|\*/);
    // Each can be left out.
    const without = await template(release, ns, { 'rbac.aggregateToEdit': false, 'rbac.aggregateToView': false });
    expect(without.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual([release]);
  });

  test('webhook.port: the container port, --webhook-addr and the NetworkPolicy; the Service still listens on 443', async () => {
    const objs = await template(release, ns, { 'webhook.port': 10250, 'networkPolicy.enabled': true });
    const c = operatorContainer(objs);
    expect(c.args).toContain('--webhook-addr=:10250');
    expect(c.ports).toContainEqual({ name: 'webhook', containerPort: 10250 });
    expect(find(objs, 'Service', `${release}-webhook`)).toMatchObject({ spec: { ports: [{ port: 443, targetPort: 'webhook' }] } });
    expect(find(objs, 'NetworkPolicy')).toMatchObject({ spec: { ingress: [{ ports: [{ port: 10250, protocol: 'TCP' }] }] } });
  });

  test('extraEnv, extraVolumes, extraVolumeMounts: after the chart\'s own (a cert-manager Secret for --webhook-cert-dir beside the client CA)', async () => {
    const objs = await template(release, ns, { ...modes['bring your own'], 'webhook.clientAuth.caBundle': FAKE_PEM });
    const c = operatorContainer(objs);
    expect(c.env).toEqual([
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/secretsync/webhook-cert/ca.crt' },
    ]);
    expect(c.volumeMounts).toEqual([
      { name: 'webhook-client-ca', mountPath: '/etc/secretsync/webhook-client-ca', readOnly: true },
      { name: 'webhook-cert', mountPath: '/etc/secretsync/webhook-cert', readOnly: true },
    ]);
    expect(podSpec(objs).volumes).toEqual([
      { name: 'webhook-client-ca', configMap: { name: `${id}-ss-webhook-client-ca` } },
      { name: 'webhook-cert', secret: { secretName: 'secretsync-webhook-cert' } },
    ]);
    expect(c.args).toContain('--webhook-cert-dir=/etc/secretsync/webhook-cert');
    // Alone, without the client CA.
    const alone = await template(release, ns, { 'extraVolumes[0].name': 'v', 'extraVolumes[0].emptyDir.medium': 'Memory', 'extraVolumeMounts[0].name': 'v', 'extraVolumeMounts[0].mountPath': '/v' });
    expect(operatorContainer(alone).volumeMounts).toEqual([{ name: 'v', mountPath: '/v' }]);
    expect(podSpec(alone).volumes).toEqual([{ name: 'v', emptyDir: { medium: 'Memory' } }]);
    await expect(template(release, ns, { 'extraVolumeMounts[0].name': 'v' })).rejects.toThrow(/mountPath/);
    await expect(template(release, ns, { 'extraEnv[0].value': 'x' })).rejects.toThrow(/name/);
  });

  test('securityContext overrides: OpenShift drops runAsUser/runAsGroup and keeps the rest; a whole container securityContext replaces the default', async () => {
    const openshift = podSpec(await template(release, ns, { 'podSecurityContext.runAsUser': 'null', 'podSecurityContext.runAsGroup': 'null' }));
    expect(openshift.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const c = operatorContainer(await template(release, ns, { 'securityContext.allowPrivilegeEscalation': false, 'securityContext.readOnlyRootFilesystem': true, 'securityContext.capabilities.drop[0]': 'ALL', 'securityContext.runAsUser': 1000680000 }));
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, runAsUser: 1000680000 });
    const pod = podSpec(await template(release, ns));
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('topologySpreadConstraints: as given, selecting this release\'s pods unless a labelSelector is given; revisionHistoryLimit', async () => {
    const objs = await template(release, ns, {
      ...Object.fromEntries(Object.entries(modes['bring your own'] ?? {}).filter(([k]) => k.startsWith('topologySpreadConstraints'))),
      'topologySpreadConstraints[1].maxSkew': 2,
      'topologySpreadConstraints[1].topologyKey': 'kubernetes.io/hostname',
      'topologySpreadConstraints[1].whenUnsatisfiable': 'DoNotSchedule',
      'topologySpreadConstraints[1].labelSelector.matchLabels.team': 'platform',
      revisionHistoryLimit: 3,
    });
    expect(podSpec(objs).topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'secretsync', 'app.kubernetes.io/instance': release } } },
      { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { team: 'platform' } } },
    ]);
    expect(find(objs, 'Deployment')).toMatchObject({ spec: { revisionHistoryLimit: 3 } });
    expect(podSpec(await template(release, ns)).topologySpreadConstraints).toBeUndefined();
    await expect(template(release, ns, { 'topologySpreadConstraints[0].maxSkew': 1 })).rejects.toThrow(/topologyKey|whenUnsatisfiable/);
  });

  test.each([
    [{ 'serviceAccount.create': 'yes' }, /create/],
    [{ 'rbac.aggregateToAdmin': true }, /aggregateToAdmin/],
    [{ revisionHistoryLimit: -1 }, /revisionHistoryLimit/],
    [{ extraEnvs: 'x' }, /extraEnvs/],
    [{ 'securityContext': 'privileged' }, /securityContext/],
  ])('the schema still refuses unknown keys and wrong values among the new ones: %j', async (values, message) => {
    const err = await template(release, ns, values).then(() => undefined, (e: Error) => e.message);
    expect(err).toMatch(/schema|additional properties|got/);
    expect(err).toMatch(message);
  });
});
