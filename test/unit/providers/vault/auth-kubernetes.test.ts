// What the Kubernetes authenticator asks the TokenRequest API for: audience "vault" by
// default (a token of the API server's audience must not leave for an address the
// SecretSource chose), the spec's audiences when set, and a short lifetime.
import type { VaultKubernetesAuth } from '../../../../src/api/types.js';
import type { ProviderKube } from '../../../../src/providers/provider.js';
import { DEFAULT_AUDIENCE, kubernetesAuthenticator } from '../../../../src/providers/vault/auth-kubernetes.js';
import type { VaultHttp } from '../../../../src/providers/vault/client.js';

async function requested(spec: VaultKubernetesAuth) {
  const asked: { namespace: string; name: string; opts?: { audiences?: string[]; expirationSeconds?: number } }[] = [];
  const logins: { path: string; body: Record<string, unknown> }[] = [];
  const kube: ProviderKube = {
    readSecretKey: async () => Buffer.alloc(0),
    requestServiceAccountToken: async (namespace, name, opts) => {
      asked.push({ namespace, name, opts });
      return { token: 'jwt', expiresAt: new Date() };
    },
  };
  const http: VaultHttp = {
    read: async () => ({}),
    write: async (path, body) => {
      logins.push({ path, body });
      return { auth: { client_token: 'hvs.token', lease_duration: 60, renewable: true } };
    },
  };
  const auth = kubernetesAuthenticator(spec, { http, kube, secretNamespace: 'apps', source: 'SecretSource/apps/v', host: 'vault:8200' });
  await auth.login();
  return { asked, logins, auth };
}

test('the token is requested for audience "vault" by default, for 10 minutes', async () => {
  expect(DEFAULT_AUDIENCE).toBe('vault');
  const { asked, logins, auth } = await requested({ role: 'app', serviceAccountRef: { name: 'reader' } });
  expect(asked).toEqual([{ namespace: 'apps', name: 'reader', opts: { audiences: ['vault'], expirationSeconds: 600 } }]);
  expect(logins).toEqual([{ path: 'auth/kubernetes/login', body: { role: 'app', jwt: 'jwt' } }]);
  expect(auth.identity).toBe('Kubernetes auth role "app" at auth/kubernetes');
});

test('spec audiences replace the default; an empty list keeps it', async () => {
  const custom = await requested({ role: 'app', serviceAccountRef: { name: 'reader' }, audiences: ['https://vault.example', 'x'], mount: 'k8s' });
  expect(custom.asked[0]?.opts?.audiences).toEqual(['https://vault.example', 'x']);
  expect(custom.logins[0]?.path).toBe('auth/k8s/login');
  const empty = await requested({ role: 'app', serviceAccountRef: { name: 'reader' }, audiences: [] });
  expect(empty.asked[0]?.opts?.audiences).toEqual(['vault']);
});
