// Semantic checks of spec.vault the CRD schema cannot express: exactly one auth method,
// references that stay in the source namespace, no token audience of the API server, a usable https address (http only when
// the operator allows it for development) and CA bundle, a KV version of 1 or 2. Each
// failure says which field to change and how.
import { X509Certificate } from 'node:crypto';
import type { VaultAuth, VaultJwtAuth, VaultProviderSpec } from '../../api/types.js';
import { InvalidSpecError } from '../../errors.js';
import { checkTokenAudiences, type ApiAudienceOptions } from '../audiences.js';
import { checkPlaintext, type TransportOptions } from '../insecure-http.js';
import { resolveSecretRef, resolveServiceAccountRef } from '../secret-ref.js';

export type AuthMethod = keyof VaultAuth;
const AUTH_METHODS: AuthMethod[] = ['token', 'kubernetes', 'appRole', 'jwt', 'cert'];

/** The one auth method `auth` sets; InvalidSpecError for none or several. */
export function authMethodOf(auth: VaultAuth | undefined): AuthMethod {
  const set = AUTH_METHODS.filter((m) => auth?.[m] !== undefined && auth[m] !== null);
  if (set.length !== 1) {
    const found = set.length === 0 ? 'sets none' : `sets ${set.join(' and ')}`;
    throw new InvalidSpecError(`spec.vault.auth ${found}: set exactly one of ${AUTH_METHODS.join(', ')}`);
  }
  return set[0] as AuthMethod;
}

function checkAddress(address: string | undefined, opts: TransportOptions): void {
  let url: URL;
  try {
    url = new URL(address ?? '');
  } catch {
    throw new InvalidSpecError(`spec.vault.address "${address ?? ''}" is not a URL: write e.g. https://vault.example:8200`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidSpecError(`spec.vault.address must use http or https, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username || url.password) {
    throw new InvalidSpecError('spec.vault.address must not carry credentials: remove the user:password@ part and use spec.vault.auth');
  }
  if (url.search || url.hash) {
    throw new InvalidSpecError('spec.vault.address must not have a query or fragment: write scheme, host, port (and an optional path)');
  }
  checkPlaintext('spec.vault.address', url, opts);
}

function checkCaBundle(caBundle: string | undefined): void {
  if (!caBundle) return;
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(caBundle)?.[0];
  try {
    if (!first) throw new Error('no certificate');
    new X509Certificate(first);
  } catch {
    throw new InvalidSpecError('spec.vault.caBundle holds no PEM certificate: paste the CA certificate(s), BEGIN/END lines included');
  }
}

export function validateVaultSpec(
  spec: VaultProviderSpec | undefined,
  secretNamespace: string,
  opts: TransportOptions & ApiAudienceOptions = {},
): void {
  if (!spec) throw new InvalidSpecError('spec.vault is missing');
  checkAddress(spec.address, opts);
  checkCaBundle(spec.caBundle);
  const kv = spec.kv;
  if (kv?.version !== undefined && kv.version !== 1 && kv.version !== 2) {
    throw new InvalidSpecError(`spec.vault.kv.version ${String(kv.version)} is not a KV version: write 1 or 2`);
  }
  if (kv?.mount !== undefined && !kv.mount.replace(/\//g, '')) {
    throw new InvalidSpecError('spec.vault.kv.mount is empty: write the KV mount path, e.g. secret');
  }
  authMethodOf(spec.auth);
  const { token, kubernetes, appRole, jwt, cert } = spec.auth;
  if (token) resolveSecretRef(token.secretRef ?? { name: '', key: '' }, secretNamespace);
  if (kubernetes) {
    if (!kubernetes.role) throw new InvalidSpecError('spec.vault.auth.kubernetes.role is empty: name the Vault role to log in as');
    resolveServiceAccountRef(kubernetes.serviceAccountRef ?? { name: '' }, secretNamespace);
    if (kubernetes.audiences?.some((a) => !a)) {
      throw new InvalidSpecError('spec.vault.auth.kubernetes.audiences has an empty entry: remove it or name an audience');
    }
    checkTokenAudiences(kubernetes.audiences ?? [], opts.apiAudiences ?? [], 'spec.vault.auth.kubernetes.audiences');
  }
  if (appRole) {
    if (!appRole.roleId) throw new InvalidSpecError('spec.vault.auth.appRole.roleId is empty: write the role_id of the AppRole');
    resolveSecretRef(appRole.secretIdRef ?? { name: '', key: '' }, secretNamespace);
  }
  if (jwt) checkJwt(jwt, secretNamespace, opts);
  if (cert) {
    if (!spec.address.startsWith('https:')) {
      throw new InvalidSpecError('spec.vault.auth.cert needs an https address: the client certificate is presented in the TLS handshake');
    }
    if (spec.tls) {
      throw new InvalidSpecError(
        "spec.vault.tls and spec.vault.auth.cert both name a client certificate, and a connection presents one: remove spec.vault.tls (auth.cert's certificate is presented to the listener too), or use another auth method",
      );
    }
    resolveSecretRef(cert.clientCert ?? { name: '', key: '' }, secretNamespace);
    resolveSecretRef(cert.secretRef ?? { name: '', key: '' }, secretNamespace);
  }
  if (spec.tls) {
    if (!spec.address.startsWith('https:')) {
      throw new InvalidSpecError('spec.vault.tls needs an https address: a client certificate is presented in the TLS handshake');
    }
    resolveSecretRef(spec.tls.certSecretRef ?? { name: '', key: '' }, secretNamespace);
    resolveSecretRef(spec.tls.keySecretRef ?? { name: '', key: '' }, secretNamespace);
  }
}

function checkJwt(jwt: VaultJwtAuth, secretNamespace: string, opts: ApiAudienceOptions): void {
  if (!jwt.role) throw new InvalidSpecError('spec.vault.auth.jwt.role is empty: name the role of the JWT auth method to log in as');
  const sat = jwt.kubernetesServiceAccountToken;
  if ((jwt.secretRef ? 1 : 0) + (sat ? 1 : 0) !== 1) {
    throw new InvalidSpecError(
      'spec.vault.auth.jwt needs exactly one of secretRef (a JWT in a Secret) and kubernetesServiceAccountToken (a token of a service account of this namespace)',
    );
  }
  if (jwt.secretRef) resolveSecretRef(jwt.secretRef, secretNamespace);
  if (sat) {
    resolveServiceAccountRef(sat.serviceAccountRef ?? { name: '' }, secretNamespace);
    if (sat.audiences?.some((a) => !a)) {
      throw new InvalidSpecError('spec.vault.auth.jwt.kubernetesServiceAccountToken.audiences has an empty entry: remove it or name an audience');
    }
    checkTokenAudiences(sat.audiences ?? [], opts.apiAudiences ?? [], 'spec.vault.auth.jwt.kubernetesServiceAccountToken.audiences');
  }
}
