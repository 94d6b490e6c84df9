// The operator's RBAC: config/rbac/ matches src/api/rbac.ts, and the rules are exactly
// the allow-list below. Widening a rule means changing this table, in review.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOKEN_RULE, clusterRules, namespacedModeRules, operatorNamespaceRules, rbacObjects, renderRbac, webhookConfigRule, type PolicyRule } from '../../../src/api/rbac.js';

const rbacDir = join(import.meta.dirname, '..', '..', '..', 'config', 'rbac');

/** [apiGroup, resource, verbs] — every permission the operator has, verb by verb. */
const clusterAllowList: [string, string, string[]][] = [
  ['secretsync.io', 'secretsyncs', ['get', 'list', 'watch', 'patch']],
  ['secretsync.io', 'secretsyncs/status', ['patch']],
  ['secretsync.io', 'secretsyncs/finalizers', ['update']],
  ['secretsync.io', 'secretsources', ['list', 'watch']],
  ['secretsync.io', 'clustersecretsources', ['list', 'watch']],
  ['secretsync.io', 'secretsources/status', ['patch']],
  ['secretsync.io', 'clustersecretsources/status', ['patch']],
  ['', 'secrets', ['get', 'list', 'watch', 'create', 'patch', 'delete']],
  ['', 'namespaces', ['list', 'watch']],
  ['', 'pods', ['list', 'watch']],
  ['', 'serviceaccounts/token', ['create']],
  ['', 'events', ['create']],
  ['rbac.authorization.k8s.io', 'roles', ['list', 'watch', 'create', 'update', 'delete']],
  ['rbac.authorization.k8s.io', 'rolebindings', ['list', 'watch', 'create', 'update', 'delete']],
  ['apps', 'deployments', ['get', 'list', 'watch', 'patch']],
  ['apps', 'statefulsets', ['get', 'list', 'watch', 'patch']],
  ['apps', 'daemonsets', ['get', 'list', 'watch', 'patch']],
  // create cannot be limited by name (RBAC); get/patch are, by webhookConfigRule.
  ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', ['create']],
];
const namespaceAllowList: [string, string, string[]][] = [
  ['coordination.k8s.io', 'leases', ['get', 'create', 'update']],
  // --owner-deployment: the uid of the Deployment running the operator.
  ['apps', 'deployments', ['get']],
];

const expand = (rules: PolicyRule[]) =>
  rules
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}: ${v}${r.resourceNames ? ` [${r.resourceNames.join(',')}]` : ''}`))))
    .sort();
const allowed = (list: [string, string, string[]][]) => list.flatMap(([g, res, verbs]) => verbs.map((v) => `${g}/${res}: ${v}`)).sort();

test('config/rbac/ matches src/api/rbac.ts (run `npm run crds` after changing it)', () => {
  const rendered = renderRbac();
  const files = readdirSync(rbacDir).filter((f) => f.endsWith('.yaml')).sort();
  expect(files).toEqual(rendered.map((r) => r.file).sort());
  for (const r of rendered) expect(readFileSync(join(rbacDir, r.file), 'utf8')).toBe(r.yaml);
});

test('the ClusterRole grants exactly the allow-list', () => {
  expect(expand(clusterRules)).toEqual(allowed(clusterAllowList));
});

test('the operator-namespace Role grants exactly the allow-list', () => {
  expect(expand(operatorNamespaceRules)).toEqual(allowed(namespaceAllowList));
});

test('no rule uses a wildcard or nonResourceURLs; only the webhook configuration rule names its object', () => {
  for (const r of [...clusterRules, ...operatorNamespaceRules, webhookConfigRule()]) {
    for (const field of [r.apiGroups, r.resources, r.verbs]) expect(field.filter((x) => x.includes('*'))).toEqual([]);
    expect(Object.keys(r).sort()).toEqual(r.resourceNames ? ['apiGroups', 'resourceNames', 'resources', 'verbs'] : ['apiGroups', 'resources', 'verbs']);
  }
});

test('webhook configurations: get and patch of its own by name only; create unnamed (RBAC cannot name what does not exist yet); never update or delete', () => {
  expect(expand([webhookConfigRule('release-x')])).toEqual([
    'admissionregistration.k8s.io/mutatingwebhookconfigurations: get [release-x]',
    'admissionregistration.k8s.io/mutatingwebhookconfigurations: patch [release-x]',
  ]);
  const all = expand([...clusterRules, webhookConfigRule()]).filter((x) => x.includes('mutatingwebhookconfigurations'));
  expect(all).toEqual([
    'admissionregistration.k8s.io/mutatingwebhookconfigurations: create',
    'admissionregistration.k8s.io/mutatingwebhookconfigurations: get [secretsync]',
    'admissionregistration.k8s.io/mutatingwebhookconfigurations: patch [secretsync]',
  ]);
});

test('token minting: the one rule, in the ClusterRole (documented: it reaches every namespace); namespaced mode only in the watched and the operator namespace', () => {
  expect(clusterRules.filter((r) => r.resources.includes('serviceaccounts/token'))).toEqual([TOKEN_RULE]);
  const m = namespacedModeRules();
  expect(expand(m.cluster).filter((x) => x.includes('serviceaccounts/token'))).toEqual([]);
  expect(expand(m.watched)).toContain('/serviceaccounts/token: create');
  expect(expand(m.operatorNamespace)).toContain('/serviceaccounts/token: create');
});

test('the rendered objects carry these rules and bind the service account', () => {
  const objs = rbacObjects({ namespace: 'ops', serviceAccount: 'sa', clusterRoleBinding: 'crb' });
  const byKind = Object.fromEntries(objs.map((o) => [o.kind, o]));
  expect(Object.keys(byKind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']);
  expect(byKind.ClusterRole?.rules).toEqual([...clusterRules, webhookConfigRule()]);
  expect(rbacObjects({ webhookConfigName: 'other' }).find((o) => o.kind === 'ClusterRole')?.rules).toEqual([...clusterRules, webhookConfigRule('other')]);
  expect(byKind.Role?.rules).toBe(operatorNamespaceRules);
  expect(byKind.ServiceAccount?.metadata).toMatchObject({ name: 'sa', namespace: 'ops' });
  expect(byKind.ClusterRole?.metadata.namespace).toBeUndefined();
  for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
    expect(byKind[kind]?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'sa', namespace: 'ops' }]);
  }
  expect(byKind.ClusterRoleBinding?.metadata.name).toBe('crb');
  expect(byKind.RoleBinding?.metadata.namespace).toBe('ops');
});

test('namespaced mode splits the ClusterRole by scope, never widening it; the operator namespace gets the Secrets and tokens it keeps there', () => {
  const m = namespacedModeRules();
  expect([...expand(m.watched), ...expand(m.cluster)].sort()).toEqual(expand(clusterRules));
  expect(expand(m.cluster)).toEqual(
    allowed([
      ['secretsync.io', 'clustersecretsources', ['list', 'watch']],
      ['secretsync.io', 'clustersecretsources/status', ['patch']],
      ['', 'namespaces', ['list', 'watch']],
      ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', ['create']],
    ]),
  );
  expect(expand(m.operatorNamespace)).toEqual(
    allowed([...namespaceAllowList, ['', 'secrets', ['get', 'create', 'patch']], ['', 'serviceaccounts/token', ['create']]]),
  );
});
