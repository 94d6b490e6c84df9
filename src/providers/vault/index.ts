// The Vault / OpenBao provider (spec.vault of a SecretSource or ClusterSecretSource):
// KV v1/v2 reads with token, Kubernetes, AppRole, JWT/OIDC or TLS certificate auth
// (optionally a client certificate for the listener), one login per client and token
// lifetime, renewal, and revocation on close. This file wires the pieces into the
// ProviderFactory the registry knows; only client.ts talks to node-vault.
// Like all of src/providers/, may import src/errors.ts, api/, runtime/, observability/,
// crypto/ and the shared files of providers/; not providers/aws/ (eslint.config.js).
import { DEFAULTS, type AnySource, type VaultProviderSpec } from '../../api/types.js';
import { InvalidSpecError } from '../../errors.js';
import type { ApiAudienceOptions } from '../audiences.js';
import type { TransportOptions } from '../insecure-http.js';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_SOURCE_TIMEOUT_MS } from '../limits.js';
import type { ProviderDeps, ProviderFactory, SecretProvider } from '../provider.js';
import { sourceKey } from '../../api/source-ref.js';
import { appRoleAuthenticator } from './auth-approle.js';
import { certAuthenticator } from './auth-cert.js';
import { jwtAuthenticator } from './auth-jwt.js';
import { kubernetesAuthenticator } from './auth-kubernetes.js';
import { tokenAuthenticator } from './auth-token.js';
import type { AuthContext, Authenticator } from './auth.js';
import { createVaultHttp, type VaultHttp } from './client.js';
import { VaultProvider } from './provider.js';
import { tlsIdentityLoader } from './tls-identity.js';
import { authMethodOf, validateVaultSpec } from './validate.js';

export { VaultProvider, type VaultProviderOptions } from './provider.js';
export type { VaultHttp } from './client.js';

// The agent's port: src/agent/ imports only this file of the Vault provider, and of it
// only these (the eslint folder rules check it). Enough to log in with the pod's own
// identity (an Authenticator of its own over this HTTP client, kept by a TokenSession,
// and a TokenCheck for "does Vault still honour this token?") and to unwrap data keys
// through Transit; nothing of KV, the provider or its auth methods.
export { createVaultHttp } from './client.js';
export { isTokenShaped, type Authenticator, type LoginResult } from './auth.js';
export { statusOf } from './errors.js';
export { TokenCheck } from './token-check.js';
export { TokenSession } from './token-session.js';
export { vaultTransit } from './transit.js';

export interface VaultFactoryOptions extends TransportOptions, ApiAudienceOptions {
  /** Total time per request, body included (default 15 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 4 MiB). */
  maxResponseBytes?: number;
  /** Fraction of the token TTL after which it is renewed (default 2/3). */
  renewFraction?: number;
  /** Wraps the HTTP client of each provider (tests observe real calls through it). */
  wrapHttp?: (http: VaultHttp) => VaultHttp;
}


function vaultSpec(source: AnySource): VaultProviderSpec {
  const spec = source.spec.vault;
  if (!spec) throw new InvalidSpecError(`${sourceKey(source)} has no spec.vault block`);
  return spec;
}

function authenticator(spec: VaultProviderSpec, ctx: AuthContext): Authenticator {
  authMethodOf(spec.auth); // exactly one is set
  const { token, kubernetes, appRole, jwt, cert } = spec.auth;
  if (token) return tokenAuthenticator(token, ctx);
  if (kubernetes) return kubernetesAuthenticator(kubernetes, ctx);
  if (appRole) return appRoleAuthenticator(appRole, ctx);
  if (jwt) return jwtAuthenticator(jwt, ctx);
  if (cert) return certAuthenticator(cert, ctx);
  throw new InvalidSpecError(`${ctx.source}: spec.vault.auth sets no method`);
}

/**
 * A Vault ProviderFactory; `vaultProvider` is the one with defaults (https addresses
 * only). The composition root passes `allowInsecureHttp` from --insecure-allow-http.
 */
export function createVaultProviderFactory(opts: VaultFactoryOptions = {}): ProviderFactory {
  return {
    name: 'vault',
    alignRefreshes: false, // one secret per read: spread by remote path (syncs of one path share a tick and a read)
    validate(source: AnySource, secretNamespace: string): void {
      validateVaultSpec(source.spec.vault, secretNamespace, opts);
    },
    create(source: AnySource, deps: ProviderDeps): SecretProvider {
      const spec = vaultSpec(source);
      validateVaultSpec(spec, deps.secretNamespace, opts);
      const source_ = sourceKey(source);
      const base = createVaultHttp({
        address: spec.address,
        namespace: spec.namespace,
        caBundle: spec.caBundle,
        timeoutMs: opts.timeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS,
        maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        identity: tlsIdentityLoader(spec, { kube: deps.kube, secretNamespace: deps.secretNamespace, source: source_ }),
      });
      const http = opts.wrapHttp ? opts.wrapHttp(base) : base;
      const ctx: AuthContext = {
        http,
        kube: deps.kube,
        secretNamespace: deps.secretNamespace,
        source: source_,
        host: new URL(spec.address).host,
        reloadIdentity: base.reloadIdentity,
        apiAudiences: opts.apiAudiences,
      };
      return new VaultProvider({
        source: ctx.source,
        host: ctx.host,
        kv: { mount: spec.kv?.mount || DEFAULTS.kvMount, version: spec.kv?.version ?? DEFAULTS.kvVersion },
        http,
        auth: authenticator(spec, ctx),
        now: deps.now,
        onCall: deps.onCall,
        renewFraction: opts.renewFraction,
      });
    },
  };
}

export const vaultProvider: ProviderFactory = createVaultProviderFactory();
