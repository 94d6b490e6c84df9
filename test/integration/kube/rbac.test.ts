// config/rbac/ on the real apiserver: the rendered files are accepted and a kustomize
// overlay moves them (subjects included) to another namespace; the identity test
// operators run as is the service account, allowed exactly what the rules say.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, AuthenticationV1Api, AuthorizationV1Api, KubeConfig, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { clusterRules, operatorNamespaceRules, RBAC_NAME } from '../../../src/api/rbac.js';
import { createNamespace, deleteNamespace, kube } from '../../helpers/kube.js';
import { operatorIdentity, type OperatorIdentity } from '../../helpers/rbac.js';
import { startOperator } from '../../helpers/operator.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';
import { eventually } from '../../helpers/eventually.js';
import { template } from '../../helpers/helm.js';
import { repoRoot } from '../../testenv/config.js';

const { core } = kube();
const id = uniqueName('rbac');
const opNs = `${id}-system`;
const other = `${id}-other`;
const dir = mkdtempSync(join(tmpdir(), 'secretsync-rbac-'));
let identity: OperatorIdentity | undefined;

async function kubectl(args: string[]): Promise<string> {
  const bin = join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'kubectl');
  try {
    return (await promisify(execFile)(bin, args, { env: { ...process.env, HOME: dir } })).stdout;
  } catch (err) {
    throw new Error(`kubectl ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}

beforeAll(async () => {
  await createNamespace(core, opNs);
  await createNamespace(core, other);
});

afterAll(async () => {
  await identity?.release();
  await deleteNamespace(core, opNs);
  await deleteNamespace(core, other);
  rmSync(dir, { recursive: true, force: true });
});

test('a kustomize overlay installs config/rbac/ in another namespace, subjects included, and the apiserver accepts it', async () => {
  const overlay = join(dir, 'overlay');
  cpSync(join(repoRoot, 'config', 'rbac'), join(overlay, 'base'), { recursive: true });
  writeFileSync(join(overlay, 'kustomization.yaml'), `namespace: ${opNs}\nresources: [base]\n`);
  type Doc = { kind: string; metadata: { namespace?: string }; subjects?: unknown[] };
  const docs = parseAllDocuments(await kubectl(['kustomize', overlay])).map((d) => d.toJS() as Doc);
  expect(docs.map((d) => d.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']);
  for (const d of docs) {
    if (['ServiceAccount', 'Role', 'RoleBinding'].includes(d.kind)) expect(d.metadata.namespace).toBe(opNs);
    if (d.subjects) expect(d.subjects).toEqual([{ kind: 'ServiceAccount', name: RBAC_NAME, namespace: opNs }]);
  }
  const out = await kubectl(['apply', '--dry-run=server', '-k', overlay]);
  expect(out).toContain(`clusterrole.rbac.authorization.k8s.io/${RBAC_NAME} created (server dry run)`);
});

test('test operators run as the service account, allowed exactly the rules', async () => {
  identity = await operatorIdentity(opNs);
  const kc = new KubeConfig();
  kc.loadFromFile(identity.kubeconfig);
  const who = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  expect(who.status?.userInfo?.username).toBe(`system:serviceaccount:${opNs}:${RBAC_NAME}`);

  const authz = kc.makeApiClient(AuthorizationV1Api);
  const can = async (group: string, resource: string, verb: string, namespace?: string) => {
    const [res, subresource] = resource.split('/');
    const spec = { resourceAttributes: { group, resource: res, subresource, verb, namespace } };
    return (await authz.createSelfSubjectAccessReview({ body: { spec } })).status?.allowed === true;
  };
  const expanded = (rules: typeof clusterRules) => rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => [g, res, v] as const))));
  for (const [g, res, v] of expanded(clusterRules)) expect([g, res, v, await can(g, res, v, other)]).toEqual([g, res, v, true]);
  const clusterWide = new Set(expanded(clusterRules).map((r) => r.join(' ')));
  for (const [g, res, v] of expanded(operatorNamespaceRules)) {
    expect([g, res, v, opNs, await can(g, res, v, opNs)]).toEqual([g, res, v, opNs, true]);
    // The Role is for its namespace only (a rule the ClusterRole also grants, get deployments, is there for namespaced mode).
    if (!clusterWide.has([g, res, v].join(' '))) expect([g, res, v, other, await can(g, res, v, other)]).toEqual([g, res, v, other, false]);
  }
  const denied: [string, string, string][] = [
    ['secretsync.io', 'secretsyncs', 'delete'],
    ['secretsync.io', 'secretsources', 'patch'],
    ['', 'configmaps', 'get'],
    ['', 'pods', 'create'],
    ['', 'serviceaccounts', 'create'],
    // Rollouts patch one annotation: workloads are never created, replaced or deleted; no other apps kind.
    ['apps', 'deployments', 'update'],
    ['apps', 'deployments', 'delete'],
    ['apps', 'statefulsets', 'create'],
    ['apps', 'daemonsets', 'update'],
    ['apps', 'replicasets', 'list'],
    // spec.access needs Roles and RoleBindings in a namespace; nothing cluster-wide.
    ['rbac.authorization.k8s.io', 'clusterrolebindings', 'create'],
    ['rbac.authorization.k8s.io', 'clusterroles', 'create'],
    ['rbac.authorization.k8s.io', 'roles', 'escalate'],
    ['rbac.authorization.k8s.io', 'roles', 'bind'],
    ['coordination.k8s.io', 'leases', 'delete'],
    // The webhook registration is read and applied, never listed, watched or deleted; no validating webhooks.
    ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'delete'],
    ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'list'],
    ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'update'],
    ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'create'],
  ];
  for (const [g, res, v] of denied) expect([g, res, v, await can(g, res, v, opNs)]).toEqual([g, res, v, false]);
});

test('startOperator passes that identity to the process, and refuses to guess the namespace', async () => {
  await expect(startOperator(['--namespace=x'])).rejects.toThrow(/--operator-namespace/);
  const op = await startOperator([`--namespace=${other}`, `--operator-namespace=${opNs}`, '--metrics-addr=0', '--health-addr=0']);
  try {
    const arg = op.proc.spawnargs.find((a) => a.startsWith('--kubeconfig='));
    expect(arg).toBeDefined();
    const kc = new KubeConfig();
    kc.loadFromFile((arg as string).slice('--kubeconfig='.length));
    expect(kc.getCurrentUser()?.token).toBeTruthy();
    expect(kc.getCurrentUser()?.certData ?? kc.getCurrentUser()?.keyData).toBeUndefined();
  } finally {
    await op.stop();
  }
});

test('webhook configurations by name: the operator gets and patches its own only; a real patch of another one is refused', async () => {
  const admin = kube().kc;
  const reg = admin.makeApiClient(AdmissionregistrationV1Api);
  const foreign = `${id}-foreign`;
  await reg.createMutatingWebhookConfiguration({ body: { metadata: { name: foreign }, webhooks: [] } });
  const mine = await operatorIdentity(opNs, { webhookConfigName: `${id}-mine` });
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(mine.kubeconfig);
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, name?: string) =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', verb, name } } } })).status?.allowed === true;
    expect([await can('get', `${id}-mine`), await can('patch', `${id}-mine`), await can('create')]).toEqual([true, true, true]);
    expect([await can('get', foreign), await can('patch', foreign), await can('update', foreign), await can('delete', foreign)]).toEqual([false, false, false, false]);
    // As an attacker holding the operator's token would try it: rewrite another webhook's configuration.
    const patch = kc.makeApiClient(AdmissionregistrationV1Api).patchMutatingWebhookConfiguration(
      { name: foreign, body: { metadata: { labels: { owned: 'yes' } } } },
      setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await expect(patch).rejects.toThrow(/403|forbidden/i);
    expect((await reg.readMutatingWebhookConfiguration({ name: foreign })).metadata?.labels?.owned).toBeUndefined();
  } finally {
    await mine.release();
    await reg.deleteMutatingWebhookConfiguration({ name: foreign }).catch(() => undefined);
  }
});

test('token minting in kube-system: the chart in namespaced mode, or with rbac.tokenNamespaces, grants none there; the listed namespaces only', async () => {
  const admin = kube().kc;
  const authz = admin.makeApiClient(AuthorizationV1Api);
  const rbacApi = admin.makeApiClient(RbacAuthorizationV1Api);
  const mayMint = async (user: string, namespace: string) =>
    (
      await authz.createSubjectAccessReview({
        body: { spec: { user, groups: ['system:serviceaccounts'], resourceAttributes: { group: '', resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace } } },
      })
    ).status?.allowed === true;
  const cases: { release: string; values: Record<string, string>; allowed: string[]; denied: string[] }[] = [
    { release: `${id}-ns`, values: { watchNamespace: other }, allowed: [other, opNs], denied: ['kube-system', 'default'] },
    { release: `${id}-cw`, values: { 'rbac.tokenNamespaces[0]': other }, allowed: [other, opNs], denied: ['kube-system', 'default'] },
    // The default, documented: a ClusterRole cannot leave kube-system out.
    { release: `${id}-all`, values: {}, allowed: [other, 'kube-system'], denied: [] },
  ];
  const clusterScoped: string[] = [];
  try {
    for (const c of cases) {
      const objs = (await template(c.release, opNs, c.values)).filter((o) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
      for (const o of objs) if (o.kind.startsWith('Cluster')) clusterScoped.push(`${o.kind}/${o.metadata.name}`);
      for (const o of objs) await applyObject(o);
      const user = `system:serviceaccount:${opNs}:${c.release}-secretsync`;
      for (const ns of c.allowed) await eventually(async () => ((await mayMint(user, ns)) ? true : undefined), { what: `${user} may mint tokens in ${ns}` });
      for (const ns of c.denied) expect([c.release, ns, await mayMint(user, ns)]).toEqual([c.release, ns, false]);
    }
  } finally {
    for (const ref of clusterScoped) {
      const [kind, name] = ref.split('/') as [string, string];
      if (kind === 'ClusterRole') await rbacApi.deleteClusterRole({ name }).catch(() => undefined);
      else await rbacApi.deleteClusterRoleBinding({ name }).catch(() => undefined);
    }
  }
});

async function applyObject(o: { kind: string; metadata: { name: string; namespace?: string } }): Promise<void> {
  const f = join(dir, `${o.kind}-${o.metadata.name}-${o.metadata.namespace ?? ''}.json`);
  writeFileSync(f, JSON.stringify(o));
  await kubectl(['apply', '-f', f]);
}
