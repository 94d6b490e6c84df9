// JWT/OIDC auth: a JWT exchanged at auth/<mount>/login (role + jwt) for a Vault token. The
// JWT is either a short-lived token of a service account of the source namespace (the
// TokenRequest API, audience `vault` unless the spec says otherwise; the JWT auth method
// checks it against the cluster's service-account issuer) or one stored in a Secret of the
// source namespace, re-read at every login. Either way a JWT whose audience is the API
// server's is never sent: it would authenticate to the Kubernetes API, and it goes to
// whatever address the SecretSource names.
import { DEFAULTS, type VaultJwtAuth } from '../../api/types.js';
import { IdentityNotAllowedError, SecretSyncError, SourceAuthError, sanitize } from '../../errors.js';
import { checkTokenAudiences, jwtAudiences } from '../audiences.js';
import { resolveSecretRef, resolveServiceAccountRef } from '../secret-ref.js';
import { isTokenShaped, loginAt, readCredential, type AuthContext, type Authenticator } from './auth.js';
import { DEFAULT_AUDIENCE } from './auth-kubernetes.js';

/** The shortest lifetime TokenRequest accepts; the JWT only has to survive one login. */
const JWT_SECONDS = 600;

export function jwtAuthenticator(spec: VaultJwtAuth, ctx: AuthContext): Authenticator {
  const mount = spec.mount || DEFAULTS.jwtAuthMount;
  return {
    method: 'jwt',
    identity: `JWT auth role "${spec.role}" at auth/${mount}`,
    async login() {
      const jwt = spec.kubernetesServiceAccountToken ? await serviceAccountJwt(spec.kubernetesServiceAccountToken, ctx) : await storedJwt(spec, ctx);
      return loginAt(ctx, mount, { role: spec.role, jwt }, [jwt]);
    },
  };
}

async function serviceAccountJwt(sat: NonNullable<VaultJwtAuth['kubernetesServiceAccountToken']>, ctx: AuthContext): Promise<string> {
  const sa = resolveServiceAccountRef(sat.serviceAccountRef, ctx.secretNamespace);
  const audiences = sat.audiences?.length ? sat.audiences : [DEFAULT_AUDIENCE];
  checkTokenAudiences(audiences, ctx.apiAudiences ?? [], 'spec.vault.auth.jwt.kubernetesServiceAccountToken.audiences');
  try {
    return (await ctx.kube.requestServiceAccountToken(sa.namespace, sa.name, { audiences, expirationSeconds: JWT_SECONDS })).token;
  } catch (err) {
    if (err instanceof SecretSyncError) throw err;
    const detail = sanitize(err instanceof Error ? err.message : String(err));
    throw new SourceAuthError(`${ctx.source}: requesting a token for service account ${sa.namespace}/${sa.name} failed: ${detail}`);
  }
}

async function storedJwt(spec: VaultJwtAuth, ctx: AuthContext): Promise<string> {
  const sel = spec.secretRef ?? { name: '', key: '' };
  const jwt = await readCredential(ctx, sel, 'JWT');
  const ref = resolveSecretRef(sel, ctx.secretNamespace);
  const where = `Secret ${ref.namespace}/${ref.name} key "${ref.key}"`;
  let audiences: string[];
  try {
    if (!isTokenShaped(jwt)) throw new Error('whitespace');
    audiences = jwtAudiences(jwt);
  } catch {
    throw new SourceAuthError(`${ctx.source}: the JWT in ${where} is not a JWT (three base64url parts, a JSON payload): store the token itself`);
  }
  try {
    checkTokenAudiences(audiences, ctx.apiAudiences ?? [], `the JWT in ${where} (its aud claim)`);
  } catch (err) {
    if (err instanceof IdentityNotAllowedError) {
      throw new IdentityNotAllowedError(
        `${ctx.source}: ${err.message.replace(/\. Remove it;.*$/, '')}. Store a JWT issued for Vault instead (e.g. a service-account token requested with audience "vault"), or use kubernetesServiceAccountToken`,
      );
    }
    throw err;
  }
  return jwt;
}
