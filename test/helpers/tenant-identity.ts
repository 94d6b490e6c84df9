// A tenant of a namespace as issue 18 describes one: a service account that may write
// SecretSources, SecretSyncs and Pods in its own namespace and nothing else (plus, where a
// test says so, extra rules, e.g. `patch` on Secrets for a namespace editor). Tests that try
// an attack do it with this identity, so whatever the API server refuses a tenant is
// refused in the test too.
import type { KubeConfig} from '@kubernetes/client-node';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { serviceAccountKubeconfig } from './rbac.js';
import { eventually } from './eventually.js';

export interface Tenant {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  release(): void;
}

const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export async function tenantIdentity(admin: KubeConfig, namespace: string, extraRules: V1PolicyRule[] = []): Promise<Tenant> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const name = 'tenant';
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        { apiGroups: ['secretsync.io'], resources: ['secretsources', 'secretsyncs'], verbs: WRITE },
        { apiGroups: [''], resources: ['pods'], verbs: WRITE },
        ...extraRules,
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    },
  });
  const sa = await serviceAccountKubeconfig(namespace, name);
  const t = { kc: sa.kc, core: sa.kc.makeApiClient(CoreV1Api), custom: sa.kc.makeApiClient(CustomObjectsApi), release: sa.release };
  // RBAC is cached by the authorizer: wait until the Role is in force.
  await eventually(
    async () =>
      t.custom.listNamespacedCustomObject({ group: 'secretsync.io', version: 'v1alpha1', namespace, plural: 'secretsyncs' }).then(
        () => true,
        () => undefined,
      ),
    { what: `tenant of ${namespace} authorized` },
  );
  return t;
}
