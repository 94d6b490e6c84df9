// Shared setup for the Vault provider's integration tests against the stack's real
// OpenBao and apiserver: a root client for arranging Vault (mounts, policies, roles), a
// Kubernetes namespace with Secrets, the operator's own ProviderKube (src/kube),
// SecretSource builders, a call counter for onCall, and an HTTP wrapper that notes the
// tokens logins hand out (to check revocation).
import { createServer } from 'node:net';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import nodeVault from 'node-vault';
import type { SecretSource, VaultProviderSpec } from '../../../src/api/types.js';
import { providerKube } from '../../../src/kube/provider-kube.js';
import type { ProviderDeps, SecretProvider } from '../../../src/providers/provider.js';
import { createVaultProviderFactory, type VaultHttp } from '../../../src/providers/vault/index.js';
import { kube as kubeClients } from '../../helpers/kube.js';
import { canary as suiteDerivedCanary } from '../../helpers/canary.js';
import { failureLog } from '../../helpers/rejection.js';
import { requireEnv, uniqueName } from '../../helpers/stack.js';

export const VAULT_ADDR = requireEnv('VAULT_ADDR');
export const { kc, core } = kubeClients();
export const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
/** The operator's own ProviderKube (src/kube), on the stack's apiserver. */
export const kube = providerKube(core);
/**
 * The Vault factory for the stack's OpenBao, which listens on plain http: tests opt in
 * explicitly, as the operator does with --insecure-allow-http.
 */
export const vaultOverHttp = createVaultProviderFactory({ allowInsecureHttp: true });

/** Root client for arranging Vault. Only read/write/delete: node-vault's login helpers would swap its token. */
export const root = nodeVault({ apiVersion: 'v1', endpoint: VAULT_ADDR, token: requireEnv('VAULT_TOKEN') });

export const KV1_MOUNT = 'kv1-secretsync-tests';

export async function ensureKvV1(mount = KV1_MOUNT): Promise<void> {
  const mounts = (await root.read('sys/mounts')) as { data?: Record<string, unknown> } & Record<string, unknown>;
  if (`${mount}/` in (mounts.data ?? mounts)) return;
  await root.write(`sys/mounts/${mount}`, { type: 'kv', options: { version: '1' } }).catch(async (err: unknown) => {
    // A concurrent run may have enabled it in between.
    const again = (await root.read('sys/mounts')) as { data?: Record<string, unknown> };
    if (!(`${mount}/` in (again.data ?? {}))) throw err;
  });
}

/** A Transit engine at `mount` (enabled once; concurrent runs may race to enable it). */
export async function ensureTransit(mount: string): Promise<void> {
  const mounts = (await root.read('sys/mounts')) as { data?: Record<string, unknown> } & Record<string, unknown>;
  if (`${mount}/` in (mounts.data ?? mounts)) return;
  await root.write(`sys/mounts/${mount}`, { type: 'transit' }).catch(async (err: unknown) => {
    const again = (await root.read('sys/mounts')) as { data?: Record<string, unknown> };
    if (!(`${mount}/` in (again.data ?? {}))) throw err;
  });
}

export async function ensureAuth(type: string, mount = type): Promise<void> {
  const auths = (await root.read('sys/auth')) as { data?: Record<string, unknown> };
  if (`${mount}/` in (auths.data ?? {})) return;
  await root.write(`sys/auth/${mount}`, { type }).catch(async (err: unknown) => {
    const again = (await root.read('sys/auth')) as { data?: Record<string, unknown> };
    if (!(`${mount}/` in (again.data ?? {}))) throw err;
  });
}

/** A policy allowing read on the given paths (glob suffixes as in HCL). */
export async function readPolicy(name: string, paths: string[]): Promise<void> {
  const policy = paths.map((p) => `path "${p}" { capabilities = ["read"] }`).join('\n');
  await root.write(`sys/policy/${name}`, { policy });
}

/** A value nobody would write by accident; tests assert it never reaches an error message. */
export function canary(): string {
  return suiteDerivedCanary(uniqueName('v'));
}

export async function createNamespace(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await core.deleteNamespace({ name }).catch(() => undefined);
}

export async function createSecret(namespace: string, name: string, stringData: Record<string, string>): Promise<void> {
  await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData } });
}

let generationSeq = 0;

/** A SecretSource in `namespace` with the given vault block (uid fixed per call unless given). */
export function vaultSource(
  namespace: string,
  vault: Partial<VaultProviderSpec> & Pick<VaultProviderSpec, 'auth'>,
  meta: { name?: string; uid?: string; generation?: number } = {},
): SecretSource {
  return {
    apiVersion: 'secretsync.io/v1alpha1',
    kind: 'SecretSource',
    metadata: {
      name: meta.name ?? uniqueName('src'),
      namespace,
      uid: meta.uid ?? `uid-${++generationSeq}`,
      generation: meta.generation ?? 1,
    },
    spec: { vault: { address: VAULT_ADDR, ...vault } },
  };
}

export interface CallLog {
  onCall: NonNullable<ProviderDeps['onCall']>;
  count(operation: string, result?: 'success' | 'error'): number;
}

export function callLog(): CallLog {
  const calls: { operation: string; result: 'success' | 'error' }[] = [];
  return {
    onCall: (operation, result) => calls.push({ operation, result }),
    count: (operation, result) => calls.filter((c) => c.operation === operation && (!result || c.result === result)).length,
  };
}

export function deps(namespace: string, log?: CallLog): ProviderDeps {
  return { kube, secretNamespace: namespace, onCall: log?.onCall };
}

/** Wraps the provider's real HTTP client and keeps the client tokens that logins returned. */
export function tokenRecorder(): { wrapHttp: (http: VaultHttp) => VaultHttp; tokens: string[] } {
  const tokens: string[] = [];
  return {
    tokens,
    wrapHttp: (http) => ({
      read: (path, token) => http.read(path, token),
      write: async (path, body, token) => {
        const res = await http.write(path, body, token);
        const t = (res as { auth?: { client_token?: unknown } } | null)?.auth?.client_token;
        if (/^auth\/[^/]+(\/[^/]+)*\/login$/.test(path) && typeof t === 'string') tokens.push(t);
        return res;
      },
    }),
  };
}

/** Whether Vault still knows `token` (looked up with the root token). */
export async function tokenIsLive(token: string): Promise<boolean> {
  try {
    await root.write('auth/token/lookup', { token });
    return true;
  } catch {
    return false;
  }
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export { rejection } from '../../helpers/rejection.js';

/**
 * The providers a test file opens, closed after each test, and the failures it collects
 * with `failure`, which after all tests must name neither `value` nor any of `credentials`.
 */
export function providerTracking(value: string): {
  track<T extends SecretProvider>(p: T): T;
  credentials: string[];
  failure(p: Promise<unknown>): Promise<Error>;
} {
  const { messages, failure } = failureLog();
  const providers: SecretProvider[] = [];
  const credentials: string[] = [];
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
  });
  afterAll(() => {
    for (const m of messages) {
      expect(m).not.toContain(value);
      for (const c of credentials) expect(m).not.toContain(c);
    }
  });
  return {
    track: (p) => {
      providers.push(p);
      return p;
    },
    credentials,
    failure,
  };
}
