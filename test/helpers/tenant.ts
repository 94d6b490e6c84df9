// A team's identity in its own namespace, as the tenant model grants it: a service account
// that may write SecretSources, SecretSyncs and Pods there and nothing else (no Secrets, no
// ServiceAccounts, nothing cluster-scoped), plus, where a test says so, extra rules (e.g.
// `patch` on Secrets for a namespace editor). Tests of tenant isolation act through its
// clients, so what the API server refuses the team is refused in the test too.
import {
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { eventually } from './eventually.js';
import { serviceAccountKubeconfig } from './rbac.js';

export interface Tenant {
  namespace: string;
  /** `system:serviceaccount:<namespace>:<name>` */
  user: string;
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** Removes the tenant's kubeconfig file. */
  release(): void;
}

export interface TenantOptions {
  /** The service account, Role and RoleBinding name (default `tenant`). */
  name?: string;
  /** Rules beyond the tenant's own, for a test that says why. */
  extraRules?: V1PolicyRule[];
}

const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** Creates the tenant of `namespace` with the stack admin's `admin` kubeconfig, and clients acting as it. */
export async function tenant(admin: KubeConfig, namespace: string, opts: TenantOptions = {}): Promise<Tenant> {
  const name = opts.name ?? 'tenant';
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        { apiGroups: ['secretsync.io'], resources: ['secretsources', 'secretsyncs'], verbs: WRITE },
        { apiGroups: [''], resources: ['pods'], verbs: WRITE },
        ...(opts.extraRules ?? []),
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const sa = await serviceAccountKubeconfig(namespace, name);
  // The authorizer caches RBAC: wait until the Role is in force.
  const authz = sa.kc.makeApiClient(AuthorizationV1Api);
  await eventually(
    async () =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { group: 'secretsync.io', resource: 'secretsyncs', verb: 'create', namespace } } } }))
        .status?.allowed === true
        ? true
        : undefined,
    { what: `RBAC for ${namespace}/${name} in effect` },
  );
  return {
    namespace,
    user: `system:serviceaccount:${namespace}:${name}`,
    kc: sa.kc,
    core: sa.kc.makeApiClient(CoreV1Api),
    custom: sa.kc.makeApiClient(CustomObjectsApi),
    release: sa.release,
  };
}
