// What providers may ask of Kubernetes: one key of a Secret (credentials for the source)
// and service-account tokens (TokenRequest). Namespace rules are enforced before these
// are called (providers/secret-ref.ts); here failures become errors that say what to fix.
import type { CoreV1Api } from '@kubernetes/client-node';
import { SourceAuthError } from '../errors.js';
import type { ProviderKube } from '../providers/provider.js';
import { isNotFound, kubeError } from './errors.js';

export function providerKube(core: CoreV1Api): ProviderKube {
  return {
    async readSecretKey(namespace, name, key) {
      let secret;
      try {
        secret = await core.readNamespacedSecret({ name, namespace });
      } catch (err) {
        if (isNotFound(err)) throw new SourceAuthError(`credentials Secret ${namespace}/${name} not found: create it or fix the source's secretRef`);
        throw kubeError(`reading Secret ${namespace}/${name}`, err);
      }
      const b64 = secret.data?.[key];
      if (b64 === undefined) {
        throw new SourceAuthError(`credentials Secret ${namespace}/${name} has no key "${key}": fix the source's secretRef.key`);
      }
      return Buffer.from(b64, 'base64');
    },

    async requestServiceAccountToken(namespace, name, opts = {}) {
      try {
        const tr = await core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: {
            spec: {
              audiences: opts.audiences ?? [],
              ...(opts.expirationSeconds ? { expirationSeconds: opts.expirationSeconds } : {}),
            },
          },
        });
        const token = tr.status?.token;
        if (!token) throw new SourceAuthError(`TokenRequest for service account ${namespace}/${name} returned no token`);
        const exp = tr.status?.expirationTimestamp;
        return { token, expiresAt: exp ? new Date(exp) : new Date(Date.now() + 3600_000) };
      } catch (err) {
        if (err instanceof SourceAuthError) throw err;
        if (isNotFound(err)) {
          throw new SourceAuthError(`service account ${namespace}/${name} not found: create it or fix the source's serviceAccountRef`);
        }
        throw kubeError(`requesting a token for service account ${namespace}/${name}`, err);
      }
    },
  };
}
