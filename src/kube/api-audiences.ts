// The API server's own token audiences, learned once at start so sources can be refused a
// token for them (src/providers/audiences.ts). The surest answer is the `aud` of a token
// the API server mints without being told an audience: that is exactly the list it
// accepts (--api-audiences, by default the service-account issuer). So: who am I
// (SelfSubjectReview), and if a service account, a 10-minute token of my own, read and
// dropped. Otherwise (a developer's kubeconfig, or a token request RBAC does not allow)
// the issuer from /.well-known/openid-configuration. Neither: start-up fails, since the
// operator must not mint tokens it cannot tell apart from API credentials.
import { AuthenticationV1Api, CoreV1Api, WellKnownApi, type KubeConfig } from '@kubernetes/client-node';
import { jwtAudiences } from '../providers/audiences.js';
import { kubeError } from './errors.js';

const SA_PREFIX = 'system:serviceaccount:';

export interface LearnedAudiences {
  audiences: string[];
  /** How they were learned, for the start-up log. */
  from: 'token' | 'issuer';
}

/** `system:serviceaccount:<ns>:<name>` → { namespace, name }; undefined for other users. */
export function serviceAccountOf(username: string | undefined): { namespace: string; name: string } | undefined {
  if (!username?.startsWith(SA_PREFIX)) return undefined;
  const [namespace, name, ...rest] = username.slice(SA_PREFIX.length).split(':');
  return namespace && name && rest.length === 0 ? { namespace, name } : undefined;
}

export async function learnApiAudiences(kc: KubeConfig): Promise<LearnedAudiences> {
  const failures: string[] = [];
  try {
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    const sa = serviceAccountOf(review.status?.userInfo?.username);
    if (sa) {
      const tr = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
        name: sa.name,
        namespace: sa.namespace,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      });
      const audiences = jwtAudiences(tr.status?.token ?? '');
      if (audiences.length > 0) return { audiences, from: 'token' };
      failures.push('a token of its own carried no audience');
    } else {
      failures.push('it does not run as a service account');
    }
  } catch (err) {
    failures.push(kubeError('requesting a token of its own service account', err).message);
  }
  try {
    const text = await kc.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration();
    const issuer = (typeof text === 'string' ? (JSON.parse(text) as { issuer?: unknown }) : (text as { issuer?: unknown })).issuer;
    if (typeof issuer === 'string' && issuer) return { audiences: [issuer], from: 'issuer' };
    failures.push('/.well-known/openid-configuration names no issuer');
  } catch (err) {
    failures.push(kubeError('reading /.well-known/openid-configuration', err).message);
  }
  throw new Error(`cannot learn the API server's token audiences (${failures.join('; ')}): the operator needs create on its own serviceaccounts/token`);
}
