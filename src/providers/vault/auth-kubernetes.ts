// Kubernetes auth: a short-lived service-account token from the TokenRequest API (never
// the operator's own mounted token), exchanged at auth/<mount>/login for a Vault token.
// The JWT is used once and dropped; Vault checks it with a TokenReview. Its audience is
// `vault` unless spec.vault.auth.kubernetes.audiences says otherwise: a token without one
// would be valid against the API server itself, and it goes to whatever address the
// SecretSource names, so it must be good for Vault login and nothing else.
import { DEFAULTS, type VaultKubernetesAuth } from '../../api/types.js';
import { SecretSyncError, SourceAuthError, sanitize } from '../../errors.js';
import { resolveServiceAccountRef } from '../secret-ref.js';
import { loginAt, type AuthContext, type Authenticator } from './auth.js';

/** The shortest lifetime TokenRequest accepts; the JWT only has to survive one login. */
const JWT_SECONDS = 600;
/** The audience of the JWT when the spec names none (the Vault role's `audience`). */
export const DEFAULT_AUDIENCE = 'vault';

export function kubernetesAuthenticator(spec: VaultKubernetesAuth, ctx: AuthContext): Authenticator {
  const mount = spec.mount || DEFAULTS.kubernetesAuthMount;
  return {
    method: 'kubernetes',
    identity: `Kubernetes auth role "${spec.role}" at auth/${mount}`,
    async login() {
      const sa = resolveServiceAccountRef(spec.serviceAccountRef, ctx.secretNamespace);
      let jwt: string;
      try {
        const audiences = spec.audiences?.length ? spec.audiences : [DEFAULT_AUDIENCE];
        jwt = (await ctx.kube.requestServiceAccountToken(sa.namespace, sa.name, { audiences, expirationSeconds: JWT_SECONDS })).token;
      } catch (err) {
        if (err instanceof SecretSyncError) throw err;
        const detail = sanitize(err instanceof Error ? err.message : String(err));
        throw new SourceAuthError(`${ctx.source}: requesting a token for service account ${sa.namespace}/${sa.name} failed: ${detail}`);
      }
      return loginAt(ctx, mount, { role: spec.role, jwt }, [jwt]);
    },
  };
}
