// Runs test operators as what they are in a cluster: service account `secretsync` in the
// operator namespace, bound by exactly the RBAC in src/api/rbac.ts (config/rbac/), with a
// kubeconfig holding a TokenRequest token — never as the stack's cluster admin. So a
// call the rules do not allow fails in the suite as it would in production.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { clusterRules, RBAC_NAME, rbacObjects } from '../../src/api/rbac.js';
import { eventually } from './eventually.js';

export interface OperatorIdentity {
  /** A kubeconfig file: the stack's server and CA, the service account's token. */
  kubeconfig: string;
  /** Removes the kubeconfig; the last release for a namespace deletes its ClusterRoleBinding. */
  release(): Promise<void>;
}

const FIELD_MANAGER = 'secretsync-tests';
const TOKEN_SECONDS = 3600;

// Named after its rules, so test runs of branches with different rules that share one
// stack never rewrite each other's ClusterRole; the same rules share one object.
const clusterRoleName = `${RBAC_NAME}-test-${createHash('sha256').update(JSON.stringify(clusterRules)).digest('hex').slice(0, 10)}`;

function admin() {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** Per operator namespace: the bindings, shared by every operator started in it. */
const bound = new Map<string, { refs: number; ready: Promise<void> }>();

async function bind(kc: KubeConfig, namespace: string): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const nsUid = (await core.readNamespace({ name: namespace })).metadata?.uid;
  for (const obj of rbacObjects({ namespace, clusterRole: clusterRoleName, clusterRoleBinding: bindingName(namespace) })) {
    if (obj.kind === 'ClusterRoleBinding' && nsUid) {
      // Garbage-collected with the namespace should a test die before release().
      obj.metadata = { ...obj.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: namespace, uid: nsUid }] } as typeof obj.metadata;
    }
    await objects.patch(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
}

const bindingName = (namespace: string) => `${RBAC_NAME}-test-${namespace}`;

async function tokenKubeconfig(kc: KubeConfig, namespace: string, serviceAccount = RBAC_NAME): Promise<{ dir: string; file: string }> {
  const core = kc.makeApiClient(CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the stack kubeconfig has no current cluster');
  const dir = mkdtempSync(join(tmpdir(), 'secretsync-sa-'));
  const file = join(dir, 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'testenv',
        cluster: {
          server: cluster.server,
          ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
          ...(cluster.caFile ? { 'certificate-authority': cluster.caFile } : {}),
        },
      },
    ],
    users: [{ name: RBAC_NAME, user: { token } }],
    contexts: [{ name: RBAC_NAME, context: { cluster: 'testenv', user: RBAC_NAME, namespace } }],
    'current-context': RBAC_NAME,
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return { dir, file };
}

/** Waits until the apiserver's authorizer has seen the bindings (it works from a cache). */
async function waitAuthorized(file: string, namespace: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const can = async (attrs: { group: string; resource: string; verb: string; namespace?: string }) =>
    (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } })).status?.allowed === true;
  await eventually(
    async () =>
      (await can({ group: 'secretsync.io', resource: 'secretsyncs', verb: 'watch' })) &&
      (await can({ group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace }))
        ? true
        : undefined,
    { what: `RBAC for ${namespace}/${RBAC_NAME} in effect` },
  );
}

/**
 * Creates (idempotently) the ServiceAccount, the shared ClusterRole, a ClusterRoleBinding
 * for this namespace's service account, and the Role and RoleBinding, then mints a token
 * and writes a kubeconfig for it.
 */
export async function operatorIdentity(namespace: string): Promise<OperatorIdentity> {
  const kc = admin();
  let entry = bound.get(namespace);
  if (!entry) {
    entry = { refs: 0, ready: bind(kc, namespace) };
    bound.set(namespace, entry);
  }
  entry.refs++;
  const e = entry;
  try {
    await e.ready;
    const { dir, file } = await tokenKubeconfig(kc, namespace);
    await waitAuthorized(file, namespace);
    let released = false;
    return {
      kubeconfig: file,
      async release() {
        if (released) return;
        released = true;
        rmSync(dir, { recursive: true, force: true });
        await unref(kc, namespace, e);
      },
    };
  } catch (err) {
    await unref(kc, namespace, e);
    throw err;
  }
}

async function unref(kc: KubeConfig, namespace: string, e: { refs: number }): Promise<void> {
  if (--e.refs > 0) return;
  bound.delete(namespace);
  // The ServiceAccount, Role and RoleBinding go with the test's namespace.
  await kc
    .makeApiClient(RbacAuthorizationV1Api)
    .deleteClusterRoleBinding({ name: bindingName(namespace) })
    .catch(() => undefined);
}

/**
 * A kubeconfig for a service account that exists already, bound by RBAC made elsewhere
 * (the Helm chart's): a TokenRequest token, nothing created or bound here.
 */
export async function serviceAccountKubeconfig(namespace: string, serviceAccount: string): Promise<{ kc: KubeConfig; file: string; release(): void }> {
  const { dir, file } = await tokenKubeconfig(admin(), namespace, serviceAccount);
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return { kc, file, release: () => rmSync(dir, { recursive: true, force: true }) };
}
