// Kubernetes clients and fixtures for integration tests (real apiserver from KUBECONFIG).
import { CoreV1Api, CustomObjectsApi, KubeConfig, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import type { SecretSync } from '../../src/api/types.js';
import { eventually } from './eventually.js';

export function kube() {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

const G = { group: 'secretsync.io', version: 'v1alpha1' };

export async function createNamespace(core: CoreV1Api, name: string, labels: Record<string, string> = {}) {
  await core.createNamespace({ body: { metadata: { name, labels } } });
}

export async function deleteNamespace(core: CoreV1Api, name: string) {
  await core.deleteNamespace({ name }).catch(() => undefined);
}

export async function createSecret(core: CoreV1Api, namespace: string, name: string, data: Record<string, string>) {
  const body: V1Secret = { metadata: { name, namespace }, stringData: data };
  await core.createNamespacedSecret({ namespace, body });
}

export async function apply(custom: CustomObjectsApi, obj: { kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>) {
  const plural = `${obj.kind.toLowerCase()}s`;
  const body = { apiVersion: `${G.group}/${G.version}`, ...obj };
  if (obj.metadata.namespace) {
    return custom.createNamespacedCustomObject({ ...G, namespace: obj.metadata.namespace, plural, body });
  }
  return custom.createClusterCustomObject({ ...G, plural, body });
}

export async function getSync(custom: CustomObjectsApi, namespace: string, name: string): Promise<SecretSync> {
  return (await custom.getNamespacedCustomObject({ ...G, namespace, plural: 'secretsyncs', name })) as SecretSync;
}

export function readyCondition(ss: SecretSync) {
  return ss.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Waits until the SecretSync's Ready condition has `status` (and `reason`, when given). */
export function waitReady(
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
  status: 'True' | 'False',
  reason?: string,
  timeoutMs = 60_000,
): Promise<SecretSync> {
  return eventually(
    async () => {
      const ss = await getSync(custom, namespace, name);
      const c = readyCondition(ss);
      return c?.status === status && (!reason || c.reason === reason) && ss.status?.observedGeneration === ss.metadata.generation
        ? ss
        : undefined;
    },
    { timeoutMs, what: `SecretSync ${namespace}/${name} Ready=${status}${reason ? ` (${reason})` : ''}` },
  );
}

export async function secretData(core: CoreV1Api, namespace: string, name: string): Promise<Record<string, string>> {
  const s = await core.readNamespacedSecret({ name, namespace });
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/**
 * Installs crds/ with the stack's kubectl (server-side apply), as a user would, and waits
 * until they are served. Not through @kubernetes/client-node: its typed serializer drops
 * schema keys it does not model (`default`, `x-kubernetes-validations`).
 */
export async function installCrds(kc: KubeConfig): Promise<void> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { join } = await import('node:path');
  const { ApiextensionsV1Api } = await import('@kubernetes/client-node');
  const { crdObjects } = await import('../../src/api/crds.js');
  const { repoRoot } = await import('../testenv/config.js');
  const kubectl = join(requireEnvBin(), 'kubectl');
  await promisify(execFile)(kubectl, ['apply', '--server-side', '--force-conflicts', '--field-manager=secretsync-tests', '-f', join(repoRoot, 'crds')]);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crdObjects()) {
    const name = (crd.metadata as { name: string }).name;
    await eventually(
      async () => {
        const got = await ext.readCustomResourceDefinition({ name });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      },
      { what: `CRD ${name} established` },
    );
  }
}

function requireEnvBin(): string {
  const bin = process.env.SECRETSYNC_TESTENV_BIN;
  if (!bin) throw new Error('SECRETSYNC_TESTENV_BIN is not set: run under the integration global setup');
  return bin;
}

/** A merge patch of SecretSync `namespace/name` (annotations, spec fields). */
export function patchSync(custom: CustomObjectsApi, namespace: string, name: string, body: unknown) {
  return custom.patchNamespacedCustomObject({ ...G, namespace, plural: 'secretsyncs', name, body }, setHeaderOptions('Content-Type', 'application/merge-patch+json'));
}

/** Deletes every SecretSync in `namespace` and waits until the operator has finalized them. */
export async function deleteSyncs(custom: CustomObjectsApi, namespace: string, timeoutMs = 30_000): Promise<void> {
  const list = (await custom.listNamespacedCustomObject({ ...G, namespace, plural: 'secretsyncs' })) as { items: SecretSync[] };
  // Test teardown: workloads left in the namespace must not hold the deletion (the in-use hold).
  const force = { metadata: { annotations: { 'secretsync.io/force-delete': 'true' } } };
  await Promise.all(
    list.items.map(async (s) => {
      await patchSync(custom, namespace, s.metadata.name, force).catch(() => undefined);
      await custom.deleteNamespacedCustomObject({ ...G, namespace, plural: 'secretsyncs', name: s.metadata.name }).catch(() => undefined);
    }),
  );
  await eventually(
    async () => {
      const left = (await custom.listNamespacedCustomObject({ ...G, namespace, plural: 'secretsyncs' })) as { items: unknown[] };
      return left.items.length === 0 ? true : undefined;
    },
    { timeoutMs, what: `SecretSyncs in ${namespace} finalized` },
  );
}

/**
 * The usual operator test setup: CRDs installed, an operator namespace and an apps namespace,
 * a Vault token Secret in the apps namespace (`token`, default the stack's root token) and
 * SecretSource `vault` reading through it (at `address`, default the stack's OpenBao).
 */
export async function vaultTestNamespaces(
  k: { kc: KubeConfig; core: CoreV1Api; custom: CustomObjectsApi },
  ns: string,
  opNs: string,
  address = process.env.VAULT_ADDR ?? '',
  token = process.env.VAULT_TOKEN ?? '',
): Promise<void> {
  await installCrds(k.kc);
  await createNamespace(k.core, opNs);
  await createNamespace(k.core, ns);
  await createSecret(k.core, ns, 'vault-token', { token });
  await apply(k.custom, {
    kind: 'SecretSource',
    metadata: { name: 'vault', namespace: ns },
    spec: { vault: { address, auth: { token: { secretRef: { name: 'vault-token', key: 'token' } } } } },
  });
}
