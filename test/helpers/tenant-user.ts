// A tenant of the namespace as issue 18 models it: a service account that may create,
// read and change SecretSources, SecretSyncs and Pods in its own namespace, and nothing
// else (no Secrets, no workloads, no RBAC). Tests that play the attacking namespace act
// through its clients, so whatever they get the operator to do, they could not do themselves.
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { eventually } from './eventually.js';

export interface Tenant {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** system:serviceaccount:<namespace>:<name> */
  user: string;
}

export async function tenantIn(namespace: string, name = 'tenant'): Promise<Tenant> {
  const admin = new KubeConfig();
  admin.loadFromDefault();
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        { apiGroups: ['secretsync.io'], resources: ['secretsources', 'secretsyncs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace }] },
  });
  const tr = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !tr.status?.token) throw new Error('no cluster or token for the tenant');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, ...(cluster.caData ? { caData: cluster.caData } : {}), ...(cluster.caFile ? { caFile: cluster.caFile } : {}) }],
    users: [{ name, token: tr.status.token }],
    contexts: [{ name: 'c', cluster: 'c', user: name, namespace }],
    currentContext: 'c',
  });
  const authz = kc.makeApiClient(AuthorizationV1Api);
  await eventually(
    async () =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { group: 'secretsync.io', resource: 'secretsyncs', verb: 'create', namespace } } } })).status
        ?.allowed === true
        ? true
        : undefined,
    { what: `the tenant's Role in ${namespace} in effect` },
  );
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi), user: `system:serviceaccount:${namespace}:${name}` };
}
