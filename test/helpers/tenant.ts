// A tenant of a namespace as the platform team sets one up: a service account that may
// create SecretSources, SecretSyncs and Pods in its namespace (and read and annotate them),
// nothing else. Tests that play the attacking namespace act through these clients.
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { kube } from './kube.js';
import { serviceAccountKubeconfig } from './rbac.js';

export interface Tenant {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  release(): void;
}

export async function tenant(namespace: string, name = 'tenant'): Promise<Tenant> {
  const { kc, core } = kube();
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const verbs = ['create', 'get', 'list', 'watch', 'patch', 'update', 'delete'];
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        { apiGroups: ['secretsync.io'], resources: ['secretsources', 'secretsyncs'], verbs },
        { apiGroups: [''], resources: ['pods'], verbs },
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
  return { core: sa.kc.makeApiClient(CoreV1Api), custom: sa.kc.makeApiClient(CustomObjectsApi), release: sa.release };
}
