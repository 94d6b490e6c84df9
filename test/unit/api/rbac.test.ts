// The operator's RBAC: config/rbac/ matches src/api/rbac.ts, and the rules are exactly
// the allow-list below. Widening a rule means changing this table, in review.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterRules, namespacedModeRules, operatorNamespaceRules, rbacObjects, renderRbac, type PolicyRule } from '../../../src/api/rbac.js';

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
  ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', ['get', 'create', 'patch']],
];
const namespaceAllowList: [string, string, string[]][] = [['coordination.k8s.io', 'leases', ['get', 'create', 'update']]];

const expand = (rules: PolicyRule[]) =>
  rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}: ${v}`)))).sort();
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

test('no rule uses a wildcard, resourceNames or nonResourceURLs', () => {
  for (const r of [...clusterRules, ...operatorNamespaceRules]) {
    for (const field of [r.apiGroups, r.resources, r.verbs]) expect(field.filter((x) => x.includes('*'))).toEqual([]);
    expect(Object.keys(r).sort()).toEqual(['apiGroups', 'resources', 'verbs']);
  }
});

test('the rendered objects carry these rules and bind the service account', () => {
  const objs = rbacObjects({ namespace: 'ops', serviceAccount: 'sa', clusterRoleBinding: 'crb' });
  const byKind = Object.fromEntries(objs.map((o) => [o.kind, o]));
  expect(Object.keys(byKind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']);
  expect(byKind.ClusterRole?.rules).toBe(clusterRules);
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
      ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', ['get', 'create', 'patch']],
    ]),
  );
  expect(expand(m.operatorNamespace)).toEqual(
    allowed([...namespaceAllowList, ['', 'secrets', ['get', 'create', 'patch']], ['', 'serviceaccounts/token', ['create']]]),
  );
});
