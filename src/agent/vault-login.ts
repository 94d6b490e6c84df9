// Vault Kubernetes auth with the pod's own identity: the projected service-account token
// of audience "vault" (re-read at every login, since kubelet rotates it) is exchanged at
// auth/<mount>/login for a Vault token. The provider's TokenSession keeps that token:
// one login shared by concurrent callers, renewal, a fresh login once it expired or a 403
// showed Vault no longer honours it, and revocation on close.
import { sanitize } from '../errors.js';
import { isTokenShaped, statusOf, type Authenticator, type LoginResult, type VaultHttp } from '../providers/vault/index.js';
import { AgentCode, AgentError } from './errors.js';

export interface KubernetesLogin {
  /** auth/<mount> of the Kubernetes auth method (the envelope's agentAuth.mount). */
  mount: string;
  role: string;
  /** Reads the service-account token (JWT) from its file. */
  readJwt: () => Promise<string>;
  /** Where the JWT comes from, for messages (a path). */
  jwtSource: string;
  /** host[:port] of Vault, for messages. */
  host: string;
}

/** `namespace/name` of the service account a JWT was issued to, from its (unverified) claims; never the token. */
export function serviceAccountOf(jwt: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    const m = typeof claims.sub === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub) : null;
    return m ? `${m[1]}/${m[2]}` : undefined;
  } catch {
    return undefined;
  }
}

/** Vault's own words (e.g. "permission denied", "invalid role name"), without tokens or ids. */
export function vaultDetail(err: unknown, secrets: string[] = []): string {
  let text = err instanceof Error ? err.message : String(err);
  for (const s of secrets) if (s.length >= 4) text = text.split(s).join('<redacted>');
  return sanitize(text.replace(/request_id["':= ]+[\w-]+/gi, 'request_id=<redacted>'), 200);
}

const NETWORK = /^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/;

/** Turns a failed Vault call into the agent's error: unavailable (retry later) or `refused`. */
export function vaultFailure(err: unknown, refused: (status: number, detail: string) => AgentError, what: string, host: string, secrets: string[] = []): AgentError {
  if (err instanceof AgentError) return err;
  const status = statusOf(err);
  const detail = vaultDetail(err, secrets);
  const code = (err as { code?: unknown } | null)?.code;
  if (status === undefined || status === 429 || status >= 500) {
    const why = status === undefined ? (typeof code === 'string' && NETWORK.test(code) ? `could not be reached (${code})` : 'failed') : `answered HTTP ${status}`;
    return new AgentError(AgentCode.VaultUnavailable, `${what}: Vault at ${host} ${why}${detail ? `: ${detail}` : ''}; will retry`);
  }
  return refused(status, detail);
}

export function kubernetesAuthenticator(http: VaultHttp, o: KubernetesLogin): Authenticator {
  const path = `auth/${o.mount}/login`;
  return {
    method: 'kubernetes',
    identity: `Kubernetes auth role "${o.role}" at auth/${o.mount}`,
    async login(): Promise<LoginResult> {
      const jwt = await o.readJwt();
      let res: unknown;
      try {
        res = await http.write(path, { role: o.role, jwt });
      } catch (err) {
        const who = serviceAccountOf(jwt);
        throw vaultFailure(
          err,
          (status, detail) =>
            new AgentError(
              AgentCode.VaultLoginDenied,
              `Vault refused the login of ${who ? `service account ${who}` : `the token in ${o.jwtSource}`} at ${path} with role "${o.role}" ` +
                `(HTTP ${status}${detail ? `: ${detail}` : ''}): bind the role to this service account and namespace ` +
                '(bound_service_account_names, bound_service_account_namespaces) with audience "vault", or use a pod whose service account it is bound to',
            ),
          `Vault login at ${path}`,
          o.host,
          [jwt],
        );
      }
      const auth = (res as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } } | null)?.auth;
      const token = auth?.client_token;
      if (typeof token !== 'string' || !isTokenShaped(token)) {
        throw new AgentError(AgentCode.VaultLoginDenied, `Vault login at ${path} answered without a client token`);
      }
      const ttl = typeof auth?.lease_duration === 'number' && auth.lease_duration > 0 ? auth.lease_duration : 0;
      return { token, ttlSeconds: ttl, renewable: auth?.renewable === true, owned: true };
    },
  };
}
