// What the three auth methods share: the Authenticator port the token session calls to
// log in, parsing Vault's `auth` block, and reading a credential from a Kubernetes Secret
// (through resolveSecretRef, so only the source namespace is ever read).
import type { SecretKeySelector } from '../../api/types.js';
import { SecretSyncError, SourceAuthError, sanitize } from '../../errors.js';
import type { ProviderKube } from '../provider.js';
import { resolveSecretRef } from '../secret-ref.js';
import type { VaultHttp } from './client.js';
import { toVaultError } from './errors.js';

export interface LoginResult {
  token: string;
  /** Seconds the token lives; 0 when unknown or unlimited (a token we were given). */
  ttlSeconds: number;
  renewable: boolean;
  /** True when we created the token by logging in: we renew it and revoke it on close. */
  owned: boolean;
}

export interface Authenticator {
  readonly method: 'token' | 'kubernetes' | 'appRole' | 'jwt' | 'cert';
  /** Who we log in as, for messages that say whose Vault policy to change (no credentials). */
  readonly identity: string;
  login(): Promise<LoginResult>;
}

/** Where an authenticator reaches Vault and Kubernetes, and how it names itself in errors. */
export interface AuthContext {
  http: VaultHttp;
  kube: ProviderKube;
  secretNamespace: string;
  source: string;
  host: string;
  /** Reads the TLS client identity (spec.vault.tls or auth.cert) again; called before each login. */
  reloadIdentity?: () => void;
  /** The API server's own token audiences (learned at start): a JWT for one of them is never sent. */
  apiAudiences?: readonly string[];
}

/** A header-safe token: printable ASCII without spaces (what Vault issues). */
export function isTokenShaped(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/** POST auth/<mount>/login and turn the answer into a LoginResult (owned, renewable per Vault). */
export async function loginAt(
  ctx: AuthContext,
  mount: string,
  body: Record<string, string | undefined>,
  secrets: string[],
): Promise<LoginResult> {
  const path = `auth/${mount}/login`;
  ctx.reloadIdentity?.();
  let res: unknown;
  try {
    res = await ctx.http.write(path, body);
  } catch (err) {
    throw toVaultError(err, { source: ctx.source, host: ctx.host, operation: 'login', path, secrets });
  }
  const auth = (res as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } } | null)?.auth;
  const token = auth?.client_token;
  if (typeof token !== 'string' || !isTokenShaped(token)) {
    throw new SourceAuthError(`${ctx.source}: Vault login at "${path}" answered without a client token`);
  }
  const ttl = typeof auth?.lease_duration === 'number' && auth.lease_duration > 0 ? auth.lease_duration : 0;
  return { token, ttlSeconds: ttl, renewable: auth?.renewable === true, owned: true };
}

/** A credential (token, secret id) from a Secret key of the source namespace, trimmed. */
export async function readCredential(ctx: Pick<AuthContext, 'kube' | 'secretNamespace' | 'source'>, sel: SecretKeySelector, what: string): Promise<string> {
  const ref = resolveSecretRef(sel, ctx.secretNamespace);
  let bytes: Buffer;
  try {
    bytes = await ctx.kube.readSecretKey(ref.namespace, ref.name, ref.key);
  } catch (err) {
    if (err instanceof SecretSyncError) throw err;
    const detail = sanitize(err instanceof Error ? err.message : String(err));
    throw new SourceAuthError(`${ctx.source}: reading the ${what} from Secret ${ref.namespace}/${ref.name} key "${ref.key}" failed: ${detail}`);
  }
  const value = bytes.toString('utf8').trim();
  if (!value) {
    throw new SourceAuthError(`${ctx.source}: the ${what} in Secret ${ref.namespace}/${ref.name} key "${ref.key}" is empty`);
  }
  return value;
}
