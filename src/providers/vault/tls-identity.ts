// The TLS client identity of a Vault source: spec.vault.tls (mutual TLS to the listener)
// or auth.cert (Vault's TLS certificate auth), a PEM certificate and its private key, each
// a key of a Secret of the source namespace (resolveSecretRef, through readCredential).
// Checked before use, with messages that name the Secret and never print its content.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { VaultProviderSpec } from '../../api/types.js';
import { SourceAuthError } from '../../errors.js';
import { readCredential, type AuthContext } from './auth.js';
import type { TlsIdentity } from './client.js';

const CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** Where the spec's client certificate comes from, if it names one (auth.cert wins; validate.ts refuses both). */
export function tlsIdentityRefs(spec: VaultProviderSpec) {
  const cert = spec.auth?.cert;
  if (cert) return { field: 'spec.vault.auth.cert', cert: cert.clientCert, key: cert.secretRef };
  if (spec.tls) return { field: 'spec.vault.tls', cert: spec.tls.certSecretRef, key: spec.tls.keySecretRef };
  return undefined;
}

/** A loader for client.ts: reads and checks the certificate and key on each call. */
export function tlsIdentityLoader(spec: VaultProviderSpec, ctx: Pick<AuthContext, 'kube' | 'secretNamespace' | 'source'>): (() => Promise<TlsIdentity>) | undefined {
  const refs = tlsIdentityRefs(spec);
  if (!refs) return undefined;
  return async () => {
    const cert = await readCredential(ctx, refs.cert, `client certificate of ${refs.field}`);
    const key = await readCredential(ctx, refs.key, `client key of ${refs.field}`);
    const first = CERT.exec(cert)?.[0];
    let x509: X509Certificate;
    try {
      if (!first) throw new Error('no certificate');
      x509 = new X509Certificate(first);
    } catch {
      throw new SourceAuthError(`${ctx.source}: the client certificate of ${refs.field} (Secret "${refs.cert.name}" key "${refs.cert.key}") holds no PEM certificate: store the certificate, BEGIN/END lines included`);
    }
    let matches: boolean;
    try {
      matches = x509.checkPrivateKey(createPrivateKey(key));
    } catch {
      throw new SourceAuthError(`${ctx.source}: the client key of ${refs.field} (Secret "${refs.key.name}" key "${refs.key.key}") is not an unencrypted PEM private key: store the key, BEGIN/END lines included`);
    }
    if (!matches) {
      throw new SourceAuthError(
        `${ctx.source}: the client key of ${refs.field} (Secret "${refs.key.name}" key "${refs.key.key}") does not belong to its certificate (Secret "${refs.cert.name}" key "${refs.cert.key}"): store the key the certificate was issued for`,
      );
    }
    return { cert, key };
  };
}
