// A tenant namespace's own client, for tests written as the attacking team would try:
// a service account of that namespace bound to a Role that allows exactly what an
// application team may do (SecretSources, SecretSyncs and Pods in its own namespace),
// with a kubeconfig holding its TokenRequest token. Everything it creates goes through
// the real authorizer; the platform team's objects are made with the stack's admin.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { eventually } from './eventually.js';

export interface Tenant {
  namespace: string;
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

const NAME = 'tenant';

/** The tenant of `namespace` (service account `tenant`, Role `tenant`); its kubeconfig is written into `dir`. */
export async function asTenant(admin: KubeConfig, namespace: string, dir: string): Promise<Tenant> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: NAME } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: NAME },
      rules: [
        { apiGroups: ['secretsync.io'], resources: ['secretsources', 'secretsyncs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: NAME },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace }],
    },
  });
  const tr = await core.createNamespacedServiceAccountToken({ name: NAME, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const cluster = admin.getCurrentCluster();
  if (!tr.status?.token || !cluster) throw new Error(`no token for ${namespace}/${NAME}`);
  const file = join(dir, `${namespace}-tenant.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'testenv', cluster: { server: cluster.server, ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}) } }],
      users: [{ name: NAME, user: { token: tr.status.token } }],
      contexts: [{ name: NAME, context: { cluster: 'testenv', user: NAME, namespace } }],
      'current-context': NAME,
    }),
    { mode: 0o600 },
  );
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  await eventually(
    async () => {
      const r = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, group: 'secretsync.io', resource: 'secretsyncs', verb: 'create' } } } });
      return r.status?.allowed ? true : undefined;
    },
    { what: `tenant ${namespace} may create SecretSyncs` },
  );
  return { namespace, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) };
}
