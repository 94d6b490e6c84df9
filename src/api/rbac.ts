// The operator's least-privilege RBAC, written once as data: config/rbac/*.yaml are
// rendered from it (`npm run crds`, a unit test fails when they drift), the integration
// suite runs every operator process under exactly these rules, and the Helm chart is to
// use the same. Widening a rule is a decision: the allow-list in
// test/unit/api/rbac.test.ts must change with it.
import { stringify } from 'yaml';
import { GROUP } from './types.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** --webhook-config-name's default: the MutatingWebhookConfiguration config/rbac/ grants by name. */
export const DEFAULT_WEBHOOK_CONFIG_NAME = 'secretsync';

/** ServiceAccount, ClusterRole, (Cluster)RoleBinding and Role share this name. */
export const RBAC_NAME = 'secretsync';
/**
 * The namespace config/rbac/ installs into: the operator's default (--operator-namespace).
 * An installer picks another with a kustomize overlay (`namespace:`), which also rewrites
 * the bindings' subjects because the ServiceAccount names this namespace too.
 */
export const DEFAULT_OPERATOR_NAMESPACE = 'secretsync-system';

const read = ['get', 'list', 'watch'];
const watch = ['list', 'watch'];

/** Minting service-account tokens (Vault Kubernetes auth): see clusterRules for its reach. */
export const TOKEN_RULE: PolicyRule = { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] };

/** Cluster-wide: SecretSyncs and sources in every namespace, the Secrets they produce. Only verbs the operator uses. */
export const clusterRules: PolicyRule[] = [
  // patch: finalizers on the SecretSync itself (a merge patch guarded by resourceVersion).
  // get: never called by the operator (it reads from its cache), but spec.access grants the
  // agent `get` on its SecretSync (to check the uid), and the API server lets the operator
  // grant only what it holds; list/watch already show it every SecretSync.
  { apiGroups: [GROUP], resources: ['secretsyncs'], verbs: [...read, 'patch'] },
  // Status is replaced by a JSON patch guarded by resourceVersion.
  { apiGroups: [GROUP], resources: ['secretsyncs/status'], verbs: ['patch'] },
  // Lets the operator set blockOwnerDeletion on owner references to a SecretSync
  // (the OwnerReferencesPermissionEnforcement admission plugin checks this).
  { apiGroups: [GROUP], resources: ['secretsyncs/finalizers'], verbs: ['update'] },
  { apiGroups: [GROUP], resources: ['secretsources', 'clustersecretsources'], verbs: watch },
  { apiGroups: [GROUP], resources: ['secretsources/status', 'clustersecretsources/status'], verbs: ['patch'] },
  // Targets it owns (created with POST, changed with merge patches, deleted by uid), the
  // credentials a source references and the HMAC key Secret (get), the cache of its own (list/watch).
  { apiGroups: [''], resources: ['secrets'], verbs: [...read, 'create', 'patch', 'delete'] },
  // ClusterSecretSource namespaceSelector, from a cache. Pods labelled secretsync.io/inject
  // (cached by that label): one admitted without injection is reported on its SecretSync.
  { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: watch },
  // Vault Kubernetes auth: a short-lived token for the service account a source names. The
  // operator only ever asks for a service account of the source's own namespace (a
  // ClusterSecretSource: the operator namespace), but RBAC cannot say that, nor exclude a
  // namespace (kube-system) from a ClusterRole: this grant lets the operator's own identity
  // mint a token for any service account. Narrower: namespaced mode (a Role in the watched
  // namespace), or the chart's rbac.tokenNamespaces (RoleBindings in the listed namespaces
  // only, and this rule left out of the ClusterRole).
  TOKEN_RULE,
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  // spec.access: a Role + RoleBinding per SecretSync granting get/watch on its target Secret
  // (cached by label; replaced with a resourceVersion precondition; deleted by uid). The API
  // server lets the operator grant only what it holds itself (get/watch on Secrets).
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: [...watch, 'create', 'update', 'delete'] },
  // Rollouts: workloads are cached (list/watch) to find what uses a target Secret, and a new
  // version sets one pod-template annotation with a merge patch. get: the verb kubectl and
  // audits expect beside patch; the operator reads from its cache.
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: [...read, 'patch'] },
  // The injection webhook's registration: server-side apply that creates is authorized as
  // create, and RBAC cannot restrict create by name (the object does not exist yet, so
  // resourceNames never match a create): create stays unnamed. Reading and changing it
  // (get, patch) are granted for its name only: webhookConfigRule. Its TLS Secret in the
  // operator namespace needs nothing more than the secrets rule above.
  { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['create'] },
];

/**
 * get and patch on the operator's own MutatingWebhookConfiguration (--webhook-config-name)
 * only: another webhook's configuration can be neither read nor changed (nor its
 * caBundle or objectSelector rewritten). No update: the operator only applies (patch).
 */
export function webhookConfigRule(name = DEFAULT_WEBHOOK_CONFIG_NAME): PolicyRule {
  return { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['get', 'patch'], resourceNames: [name] };
}

/** In the operator's own namespace only: the leader Lease. */
export const operatorNamespaceRules: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  // --owner-deployment: the uid of the Deployment that runs it, for ownerReferences.
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
];

export interface RbacOptions {
  /** The operator's namespace: ServiceAccount, Role, RoleBinding. Default DEFAULT_OPERATOR_NAMESPACE. */
  namespace?: string;
  serviceAccount?: string;
  clusterRole?: string;
  clusterRoleBinding?: string;
  /** The MutatingWebhookConfiguration granted by name (default DEFAULT_WEBHOOK_CONFIG_NAME). */
  webhookConfigName?: string;
}

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

const labels = { 'app.kubernetes.io/name': 'secretsync', 'app.kubernetes.io/part-of': 'secretsync' };

/** ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding. */
export function rbacObjects(o: RbacOptions = {}): Obj[] {
  const namespace = o.namespace ?? DEFAULT_OPERATOR_NAMESPACE;
  const sa = o.serviceAccount ?? RBAC_NAME;
  const clusterRole = o.clusterRole ?? RBAC_NAME;
  const meta = (name: string, namespaced: boolean) => ({ name, ...(namespaced ? { namespace } : {}), labels });
  const subjects = [{ kind: 'ServiceAccount', name: sa, namespace }];
  const rbac = 'rbac.authorization.k8s.io';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(sa, true) },
    { apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: meta(clusterRole, false), rules: [...clusterRules, webhookConfigRule(o.webhookConfigName)] },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: meta(o.clusterRoleBinding ?? RBAC_NAME, false),
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: clusterRole },
      subjects,
    },
    { apiVersion: `${rbac}/v1`, kind: 'Role', metadata: meta(RBAC_NAME, true), rules: operatorNamespaceRules },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: meta(RBAC_NAME, true),
      roleRef: { apiGroup: rbac, kind: 'Role', name: RBAC_NAME },
      subjects,
    },
  ];
}

const fileOf: Record<string, string> = {
  ServiceAccount: 'service_account.yaml',
  ClusterRole: 'cluster_role.yaml',
  ClusterRoleBinding: 'cluster_role_binding.yaml',
  Role: 'role.yaml',
  RoleBinding: 'role_binding.yaml',
};

/** File name and YAML text for each object, as committed in config/rbac/, plus a kustomization. */
export function renderRbac(): { file: string; yaml: string }[] {
  const header = '# Generated from src/api/rbac.ts by `npm run crds`. Do not edit.\n';
  const objects = rbacObjects().map((obj) => ({ file: fileOf[obj.kind] as string, yaml: header + stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false }) }));
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    // An overlay with its own `namespace:` installs elsewhere; subjects follow.
    namespace: DEFAULT_OPERATOR_NAMESPACE,
    resources: objects.map((o) => o.file),
  };
  return [...objects, { file: 'kustomization.yaml', yaml: header + stringify(kustomization, { lineWidth: 0, aliasDuplicateObjects: false }) }];
}

/** Resources in clusterRules that are not namespaced: no Role can grant them. */
const CLUSTER_SCOPED = new Set(['clustersecretsources', 'clustersecretsources/status', 'namespaces', 'mutatingwebhookconfigurations']);

export interface NamespacedModeRules {
  /** A Role in the watched namespace (--namespace): everything namespaced in clusterRules. */
  watched: PolicyRule[];
  /**
   * A ClusterRole with the cluster-scoped rest of clusterRules: the operator lists
   * ClusterSecretSources and the watched Namespace, and registers the webhook, whatever
   * --namespace says. No Secrets, workloads or RBAC objects outside the two namespaces.
   */
  cluster: PolicyRule[];
  /**
   * A Role in the operator namespace: the Lease, plus the Secrets the operator keeps or
   * reads there (HMAC key, webhook TLS, a ClusterSecretSource's credentials) and tokens for
   * a ClusterSecretSource's Kubernetes auth, which the ClusterRole grants cluster-wide.
   */
  operatorNamespace: PolicyRule[];
}

/**
 * Namespaced mode (the chart's `watchNamespace`): the same permissions as clusterRules,
 * split by where they apply, never wider. Rules mixing scopes are split per resource.
 */
export function namespacedModeRules(): NamespacedModeRules {
  const watched: PolicyRule[] = [];
  const cluster: PolicyRule[] = [];
  for (const r of clusterRules) {
    const ns = r.resources.filter((x) => !CLUSTER_SCOPED.has(x));
    const cl = r.resources.filter((x) => CLUSTER_SCOPED.has(x));
    if (ns.length) watched.push({ ...r, resources: ns });
    if (cl.length) cluster.push({ ...r, resources: cl });
  }
  const inOperatorNamespace: PolicyRule[] = [
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'patch'] },
    { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
  ];
  return { watched, cluster, operatorNamespace: [...operatorNamespaceRules, ...inOperatorNamespace] };
}

/**
 * The rule sets the Helm chart templates its RBAC from (charts/secretsync/files/rbac-rules.yaml,
 * written by `npm run crds`), so the chart cannot drift from this file.
 */
export function renderChartRbacRules(): string {
  const header = '# Generated from src/api/rbac.ts by `npm run crds`. Do not edit.\n';
  // The chart adds webhookConfigRule(<release name>) to either mode's ClusterRole, and with
  // rbac.tokenNamespaces leaves `token` out of the ClusterRole for RoleBindings there.
  const { resourceNames: _, ...webhookConfigByName } = webhookConfigRule();
  const data = {
    clusterWide: { cluster: clusterRules, operatorNamespace: operatorNamespaceRules },
    namespaced: namespacedModeRules(),
    clusterWithoutToken: clusterRules.filter((r) => r !== TOKEN_RULE),
    token: [TOKEN_RULE],
    webhookConfigByName,
  };
  return header + stringify(data, { lineWidth: 0, aliasDuplicateObjects: false });
}
