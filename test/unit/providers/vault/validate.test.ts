// Semantic validation of spec.vault: one auth method, namespaced references, address, caBundle, kv.
import type { VaultProviderSpec } from '../../../../src/api/types.js';
import { ForbiddenError, IdentityNotAllowedError, InvalidSpecError } from '../../../../src/errors.js';
import { validateVaultSpec } from '../../../../src/providers/vault/validate.js';

const token = { token: { secretRef: { name: 'vault', key: 'token' } } };
const spec = (over: Partial<VaultProviderSpec> = {}): VaultProviderSpec => ({ address: 'https://vault:8200', auth: token, ...over });

test('a minimal spec with each auth method is valid', () => {
  expect(() => validateVaultSpec(spec(), 'ns')).not.toThrow();
  expect(() => validateVaultSpec(spec({ auth: { kubernetes: { role: 'r', serviceAccountRef: { name: 'sa' } } } }), 'ns')).not.toThrow();
  expect(() => validateVaultSpec(spec({ auth: { appRole: { roleId: 'id', secretIdRef: { name: 's', key: 'k' } } } }), 'ns')).not.toThrow();
});

test('exactly one auth method', () => {
  expect(() => validateVaultSpec(spec({ auth: {} }), 'ns')).toThrow(/sets none: set exactly one of token, kubernetes, appRole/);
  const two = { ...token, appRole: { roleId: 'id', secretIdRef: { name: 's', key: 'k' } } };
  expect(() => validateVaultSpec(spec({ auth: two }), 'ns')).toThrow(/sets token and appRole/);
});

test('references must stay in the source namespace', () => {
  const other = { token: { secretRef: { name: 'vault', key: 'token', namespace: 'other' } } };
  expect(() => validateVaultSpec(spec({ auth: other }), 'ns')).toThrow(ForbiddenError);
  const sa = { kubernetes: { role: 'r', serviceAccountRef: { name: 'sa', namespace: 'other' } } };
  expect(() => validateVaultSpec(spec({ auth: sa }), 'ns')).toThrow(ForbiddenError);
});

test('an http address is refused unless plaintext is allowed (--insecure-allow-http)', () => {
  const s = spec({ address: 'http://vault:8200' });
  expect(() => validateVaultSpec(s, 'ns')).toThrow(InvalidSpecError);
  expect(() => validateVaultSpec(s, 'ns')).toThrow(/spec.vault.address "http:\/\/vault:8200" uses plaintext http.*--insecure-allow-http/);
  expect(() => validateVaultSpec(s, 'ns', { allowInsecureHttp: true })).not.toThrow();
});

test('address, caBundle, kv and required auth fields are checked', () => {
  for (const address of ['', 'vault:8200', 'ftp://vault', 'https://user:pw@vault', 'https://vault?x=1']) {
    expect(() => validateVaultSpec(spec({ address }), 'ns')).toThrow(InvalidSpecError);
  }
  expect(() => validateVaultSpec(spec({ caBundle: 'not a pem' }), 'ns')).toThrow(/caBundle/);
  expect(() => validateVaultSpec(spec({ kv: { version: 3 as 2 } }), 'ns')).toThrow(/write 1 or 2/);
  expect(() => validateVaultSpec(spec({ kv: { mount: '/' } }), 'ns')).toThrow(/mount is empty/);
  expect(() => validateVaultSpec(spec({ auth: { kubernetes: { role: '', serviceAccountRef: { name: 'sa' } } } }), 'ns')).toThrow(/role/);
  expect(() => validateVaultSpec(spec({ auth: { appRole: { roleId: '', secretIdRef: { name: 's', key: 'k' } } } }), 'ns')).toThrow(/roleId/);
});

test('kubernetes auth never asks for an audience of the API server (learned, or a well-known form)', () => {
  const k8s = (audiences: string[]) => spec({ auth: { kubernetes: { role: 'r', serviceAccountRef: { name: 'sa' }, audiences } } });
  const learned = { apiAudiences: ['https://issuer.example'] };
  expect(() => validateVaultSpec(k8s(['vault']), 'ns', learned)).not.toThrow();
  expect(() => validateVaultSpec(k8s(['vault', 'https://issuer.example']), 'ns', learned)).toThrow(IdentityNotAllowedError);
  expect(() => validateVaultSpec(k8s(['https://kubernetes.default.svc']), 'ns')).toThrow(
    /^spec.vault.auth.kubernetes.audiences asks for "https:\/\/kubernetes.default.svc", an audience of the API server itself/,
  );
});

describe('jwt, cert and a client certificate for the listener', () => {
  const sat = (over: object = {}) => ({ jwt: { role: 'app', kubernetesServiceAccountToken: { serviceAccountRef: { name: 'sa' }, ...over } } });
  const cert = { cert: { clientCert: { name: 'c', key: 'tls.crt' }, secretRef: { name: 'c', key: 'tls.key' } } };
  const tls = { certSecretRef: { name: 'c', key: 'tls.crt' }, keySecretRef: { name: 'c', key: 'tls.key' } };

  test('valid forms', () => {
    expect(() => validateVaultSpec(spec({ auth: sat() }), 'ns')).not.toThrow();
    expect(() => validateVaultSpec(spec({ auth: { jwt: { role: 'app', mount: 'oidc', secretRef: { name: 'j', key: 'jwt' } } } }), 'ns')).not.toThrow();
    expect(() => validateVaultSpec(spec({ auth: cert }), 'ns')).not.toThrow();
    expect(() => validateVaultSpec(spec({ tls }), 'ns')).not.toThrow();
  });

  test('jwt: a role, exactly one JWT source, no audience of the API server, references in the source namespace', () => {
    expect(() => validateVaultSpec(spec({ auth: { jwt: { role: '', secretRef: { name: 'j', key: 'jwt' } } } }), 'ns')).toThrow(/jwt.role is empty/);
    expect(() => validateVaultSpec(spec({ auth: { jwt: { role: 'app' } } }), 'ns')).toThrow(/exactly one of secretRef .* and kubernetesServiceAccountToken/);
    const both = { jwt: { ...sat().jwt, secretRef: { name: 'j', key: 'jwt' } } };
    expect(() => validateVaultSpec(spec({ auth: both }), 'ns')).toThrow(/exactly one of secretRef/);
    expect(() => validateVaultSpec(spec({ auth: sat({ audiences: ['https://kubernetes.default.svc'] }) }), 'ns')).toThrow(IdentityNotAllowedError);
    expect(() => validateVaultSpec(spec({ auth: sat({ audiences: ['api'] }) }), 'ns', { apiAudiences: ['api'] })).toThrow(IdentityNotAllowedError);
    expect(() => validateVaultSpec(spec({ auth: sat({ serviceAccountRef: { name: 'sa', namespace: 'other' } }) }), 'ns')).toThrow(ForbiddenError);
    expect(() => validateVaultSpec(spec({ auth: { jwt: { role: 'app', secretRef: { name: 'j', key: 'jwt', namespace: 'other' } } } }), 'ns')).toThrow(ForbiddenError);
  });

  test('cert and tls: https only, not both, references in the source namespace', () => {
    const http = { address: 'http://vault:8200' };
    expect(() => validateVaultSpec(spec({ ...http, auth: cert }), 'ns', { allowInsecureHttp: true })).toThrow(/auth.cert needs an https address/);
    expect(() => validateVaultSpec(spec({ ...http, tls }), 'ns', { allowInsecureHttp: true })).toThrow(/tls needs an https address/);
    expect(() => validateVaultSpec(spec({ tls, auth: cert }), 'ns')).toThrow(/both name a client certificate/);
    const away = { name: 'c', key: 'tls.key', namespace: 'other' };
    expect(() => validateVaultSpec(spec({ auth: { cert: { ...cert.cert, secretRef: away } } }), 'ns')).toThrow(ForbiddenError);
    expect(() => validateVaultSpec(spec({ tls: { ...tls, keySecretRef: away } }), 'ns')).toThrow(ForbiddenError);
  });
});
