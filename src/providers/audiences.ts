// Tokens the operator mints (TokenRequest) go to an address a source names, so they must
// never be good against the API server itself: no audience of the API server, whatever a
// SecretSource asks for. The API server's audiences are learned once at start (the `aud`
// of a token requested without an audience, see src/kube/api-audiences.ts) and passed down;
// the well-known in-cluster forms are refused always, even before they are learned.
import { IdentityNotAllowedError } from '../errors.js';

/** Audiences refused on every cluster: the usual issuer / --api-audiences forms. */
export const WELL_KNOWN_API_AUDIENCES: readonly string[] = [
  'https://kubernetes.default.svc',
  'https://kubernetes.default.svc.cluster.local',
  'kubernetes',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

/** Comparison form: case and trailing slashes do not make another audience for this purpose. */
function norm(audience: string): string {
  return audience.trim().toLowerCase().replace(/\/+$/, '');
}

/**
 * Throws IdentityNotAllowedError when `audiences` (asked for in `field`) holds one the API
 * server accepts: the learned `apiAudiences` or a well-known form.
 */
export function checkTokenAudiences(audiences: readonly string[], apiAudiences: readonly string[], field: string): void {
  const refused = new Set([...WELL_KNOWN_API_AUDIENCES, ...apiAudiences].map(norm));
  const bad = audiences.find((a) => refused.has(norm(a)));
  if (bad === undefined) return;
  throw new IdentityNotAllowedError(
    `${field} asks for "${bad}", an audience of the API server itself: a token for it would authenticate to the Kubernetes API as that service account, ` +
      'and it would be sent to the address this source names. Remove it; leave audiences unset for the default "vault" and give the Vault role audience=vault',
  );
}

/** The `aud` claim of a JWT (string or list), read without checking the signature; [] when absent. */
export function jwtAudiences(jwt: string): string[] {
  const payload = jwt.split('.')[1];
  if (!payload) throw new Error('not a JWT: no payload segment');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud?: unknown };
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/** What the composition root tells the provider factories about the cluster's API server. */
export interface ApiAudienceOptions {
  /** The API server's own token audiences, learned at start; the well-known forms are refused anyway. */
  apiAudiences?: readonly string[];
}
