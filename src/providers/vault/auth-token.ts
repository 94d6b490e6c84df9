// Token auth: the Vault token lives in a Kubernetes Secret of the source namespace. It is
// re-read on every login, so rotating the Secret takes effect at the next re-login (e.g.
// after a 403). We did not create the token, so we neither renew nor revoke it.
import type { VaultTokenAuth } from '../../api/types.js';
import { SourceAuthError } from '../../errors.js';
import { isTokenShaped, readCredential, type AuthContext, type Authenticator } from './auth.js';

export function tokenAuthenticator(spec: VaultTokenAuth, ctx: AuthContext): Authenticator {
  return {
    method: 'token',
    identity: `the token in Secret "${spec.secretRef.name}"`,
    async login() {
      ctx.reloadIdentity?.(); // as loginAt does: a renewed client certificate (spec.vault.tls) from here on
      const token = await readCredential(ctx, spec.secretRef, 'Vault token');
      if (!isTokenShaped(token)) {
        throw new SourceAuthError(
          `${ctx.source}: the Vault token in Secret "${spec.secretRef.name}" key "${spec.secretRef.key}" contains whitespace or control characters`,
        );
      }
      return { token, ttlSeconds: 0, renewable: false, owned: false };
    },
  };
}
