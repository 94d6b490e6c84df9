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
import { clusterRules, DEFAULT_WEBHOOK_CONFIG_NAME, RBAC_NAME, rbacObjects, webhookConfigRule } from '../../src/api/rbac.js';
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
const bound = new Map<string, { refs: number; ready: Promise<void>; webhookBindings: Set<string> }>();

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);

/**
 * The operator's RBAC grants its MutatingWebhookConfiguration by name (--webhook-config-name;
 * config/rbac/ names the default). A test operator registering under another name gets
 * get/patch on that name only, as the chart grants its release's: a ClusterRole and a
 * ClusterRoleBinding of their own (the shared binding's roleRef cannot change).
 */
async function bindWebhookConfig(kc: KubeConfig, namespace: string, configName: string, serviceAccount = RBAC_NAME): Promise<string> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const role = `${RBAC_NAME}-test-webhook-${shortHash(configName)}`;
  const binding = `${bindingName(namespace)}-webhook-${shortHash(`${serviceAccount}/${configName}`)}`;
  const rbac = 'rbac.authorization.k8s.io';
  const nsUid = (await kc.makeApiClient(CoreV1Api).readNamespace({ name: namespace })).metadata?.uid;
  const objs = [
    { apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: role }, rules: [webhookConfigRule(configName)] },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: binding, ...(nsUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: namespace, uid: nsUid }] } : {}) },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
  ];
  for (const obj of objs) await objects.patch(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  return binding;
}

/**
 * Grants an existing service account (the chart's) get/patch on one more webhook
 * configuration by name, as an installer would for a second registration; waits until the
 * authorizer sees it. Returns the cleanup.
 */
export async function grantWebhookConfig(namespace: string, serviceAccount: string, configName: string): Promise<() => Promise<void>> {
  const kc = admin();
  const binding = await bindWebhookConfig(kc, namespace, configName, serviceAccount);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  await eventually(
    async () =>
      (
        await authz.createSubjectAccessReview({
          body: { spec: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`], resourceAttributes: { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', verb: 'patch', name: configName } } },
        })
      ).status?.allowed === true
        ? true
        : undefined,
    { what: `${user} may patch MutatingWebhookConfiguration ${configName}` },
  );
  return async () => void (await kc.makeApiClient(RbacAuthorizationV1Api).deleteClusterRoleBinding({ name: binding }).catch(() => undefined));
}

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
async function waitAuthorized(file: string, namespace: string, webhookConfigName = DEFAULT_WEBHOOK_CONFIG_NAME): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const can = async (attrs: { group: string; resource: string; verb: string; namespace?: string; name?: string }) =>
    (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } })).status?.allowed === true;
  await eventually(
    async () =>
      (await can({ group: 'secretsync.io', resource: 'secretsyncs', verb: 'watch' })) &&
      (await can({ group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace })) &&
      (await can({ group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', verb: 'patch', name: webhookConfigName }))
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
export async function operatorIdentity(namespace: string, opts: { webhookConfigName?: string } = {}): Promise<OperatorIdentity> {
  const kc = admin();
  let entry = bound.get(namespace);
  if (!entry) {
    entry = { refs: 0, ready: bind(kc, namespace), webhookBindings: new Set() };
    bound.set(namespace, entry);
  }
  entry.refs++;
  const e = entry;
  try {
    await e.ready;
    if (opts.webhookConfigName && opts.webhookConfigName !== DEFAULT_WEBHOOK_CONFIG_NAME) {
      e.webhookBindings.add(await bindWebhookConfig(kc, namespace, opts.webhookConfigName));
    }
    const { dir, file } = await tokenKubeconfig(kc, namespace);
    await waitAuthorized(file, namespace, opts.webhookConfigName);
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

async function unref(kc: KubeConfig, namespace: string, e: { refs: number; webhookBindings: Set<string> }): Promise<void> {
  if (--e.refs > 0) return;
  bound.delete(namespace);
  // The ServiceAccount, Role and RoleBinding go with the test's namespace.
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  for (const name of [bindingName(namespace), ...e.webhookBindings]) await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
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
