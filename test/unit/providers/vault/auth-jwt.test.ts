// What the JWT authenticator sends: a TokenRequest of audience "vault" (or the spec's) or
// the JWT of a Secret, at auth/<mount>/login with the role; a stored JWT for the API
// server's audience, or one that is no JWT, never leaves, and the message never holds it.
import type { VaultJwtAuth } from '../../../../src/api/types.js';
import { IdentityNotAllowedError, SourceAuthError } from '../../../../src/errors.js';
import type { ProviderKube } from '../../../../src/providers/provider.js';
import { jwtAuthenticator } from '../../../../src/providers/vault/auth-jwt.js';
import type { VaultHttp } from '../../../../src/providers/vault/client.js';

const jwtWith = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2lnbmF0dXJl`;

function setup(spec: VaultJwtAuth, stored = '', apiAudiences: string[] = []) {
  const asked: { namespace: string; name: string; audiences?: string[] }[] = [];
  const read: string[] = [];
  const logins: { path: string; body: Record<string, unknown> }[] = [];
  const kube: ProviderKube = {
    readSecretKey: async (namespace, name, key) => (read.push(`${namespace}/${name}/${key}`), Buffer.from(stored)),
    requestServiceAccountToken: async (namespace, name, opts) => (asked.push({ namespace, name, audiences: opts?.audiences }), { token: 'sa.jwt.token', expiresAt: new Date() }),
  };
  const http: VaultHttp = {
    read: async () => ({}),
    write: async (path, body) => (logins.push({ path, body }), { auth: { client_token: 'hvs.token', lease_duration: 60, renewable: true } }),
  };
  const auth = jwtAuthenticator(spec, { http, kube, secretNamespace: 'apps', source: 'SecretSource/apps/v', host: 'vault:8200', apiAudiences });
  return { auth, asked, read, logins };
}

test('kubernetesServiceAccountToken: audience vault by default, logged in at auth/jwt/login', async () => {
  const s = setup({ role: 'app', kubernetesServiceAccountToken: { serviceAccountRef: { name: 'reader' } } });
  await s.auth.login();
  expect(s.asked).toEqual([{ namespace: 'apps', name: 'reader', audiences: ['vault'] }]);
  expect(s.logins).toEqual([{ path: 'auth/jwt/login', body: { role: 'app', jwt: 'sa.jwt.token' } }]);
  expect(s.auth.identity).toBe('JWT auth role "app" at auth/jwt');
});

test('secretRef: the stored JWT (trimmed) goes to the mount named', async () => {
  const jwt = jwtWith({ aud: ['vault'], sub: 'ci' });
  const s = setup({ role: 'ci', mount: 'oidc', secretRef: { name: 'ci-jwt', key: 'token' } }, `${jwt}\n`);
  await s.auth.login();
  expect(s.read).toEqual(['apps/ci-jwt/token']);
  expect(s.logins).toEqual([{ path: 'auth/oidc/login', body: { role: 'ci', jwt } }]);
});

test.each([
  ['a well-known API audience', { aud: 'https://kubernetes.default.svc' }, []],
  ['a learned API audience', { aud: ['vault', 'https://issuer.example'] }, ['https://issuer.example']],
])('a stored JWT with %s is IdentityNotAllowed and not sent', async (_what, claims, apiAudiences) => {
  const jwt = jwtWith(claims);
  const s = setup({ role: 'ci', secretRef: { name: 'ci-jwt', key: 'token' } }, jwt, apiAudiences);
  const err = await s.auth.login().catch((e: unknown) => e as Error);
  expect(err).toBeInstanceOf(IdentityNotAllowedError);
  expect((err as Error).message).toContain('Secret apps/ci-jwt key "token"');
  expect((err as Error).message).not.toContain(jwt);
  expect(s.logins).toEqual([]);
});

test('a stored value that is no JWT is SourceAuthFailed without the value', async () => {
  for (const stored of ['not-a-jwt', 'a.b c.d', 'x.!!!.y']) {
    const s = setup({ role: 'ci', secretRef: { name: 'ci-jwt', key: 'token' } }, stored);
    const err = await s.auth.login().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(SourceAuthError);
    expect((err as Error).message).toMatch(/is not a JWT/);
    expect((err as Error).message).not.toContain(stored);
    expect(s.logins).toEqual([]);
  }
});
