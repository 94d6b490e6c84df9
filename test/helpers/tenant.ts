// A team's identity in its own namespace, as the tenant model grants it: a service account
// that may write SecretSources, SecretSyncs and Pods there and nothing else (no Secrets, no
// ServiceAccounts, nothing cluster-scoped). Tests of tenant isolation act through its
// clients, so what the API server refuses it is refused as it would be for that team.
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { eventually } from './eventually.js';
import { serviceAccountKubeconfig } from './rbac.js';

export interface Tenant {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  release(): void;
}

export const TENANT_SA = 'team';

/** Creates service account `team` in `namespace`, a Role with exactly the tenant's rights, and clients acting as it. */
export async function tenant(admin: KubeConfig, namespace: string): Promise<Tenant> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: TENANT_SA } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: TENANT_SA },
      rules: [
        { apiGroups: ['secretsync.io'], resources: ['secretsources', 'secretsyncs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: TENANT_SA },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: TENANT_SA },
      subjects: [{ kind: 'ServiceAccount', name: TENANT_SA, namespace }],
    },
  });
  const sa = await serviceAccountKubeconfig(namespace, TENANT_SA);
  const authz = sa.kc.makeApiClient(AuthorizationV1Api);
  await eventually(
    async () =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { group: 'secretsync.io', resource: 'secretsources', verb: 'create', namespace } } } }))
        .status?.allowed === true
        ? true
        : undefined,
    { what: `RBAC for ${namespace}/${TENANT_SA} in effect` },
  );
  return { kc: sa.kc, core: sa.kc.makeApiClient(CoreV1Api), custom: sa.kc.makeApiClient(CustomObjectsApi), release: sa.release };
}
