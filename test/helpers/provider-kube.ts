// A real ProviderKube for tests, on @kubernetes/client-node and the stack's KUBECONFIG:
// reads one key of a Secret (base64-decoded) and requests service-account tokens
// (TokenRequest). Production code gets its ProviderKube from src/kube/; providers only
// ever see this narrow port.
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubernetesError, SourceAuthError, sanitize } from '../../src/errors.js';
import type { ProviderKube } from '../../src/providers/provider.js';

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

function kubeFailure(what: string, err: unknown): KubernetesError {
  const status = statusOf(err);
  const detail = sanitize(err instanceof Error ? err.message : String(err), 200);
  return new KubernetesError(`${what} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`);
}

export function createProviderKube(kc: KubeConfig = loadKubeConfig()): ProviderKube {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async readSecretKey(namespace, name, key) {
      let data: Record<string, string> | undefined;
      try {
        data = (await core.readNamespacedSecret({ name, namespace })).data;
      } catch (err) {
        if (statusOf(err) === 404) throw new SourceAuthError(`Secret ${namespace}/${name} does not exist: create it with key "${key}"`);
        throw kubeFailure(`reading Secret ${namespace}/${name}`, err);
      }
      const b64 = data?.[key];
      if (b64 === undefined) throw new SourceAuthError(`Secret ${namespace}/${name} has no key "${key}"`);
      return Buffer.from(b64, 'base64');
    },
    async requestServiceAccountToken(namespace, name, opts = {}) {
      try {
        const res = await core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: { spec: { audiences: opts.audiences ?? [], expirationSeconds: opts.expirationSeconds } },
        });
        const token = res.status?.token;
        if (!token) throw new KubernetesError(`TokenRequest for ${namespace}/${name} returned no token`);
        const exp = res.status?.expirationTimestamp;
        return { token, expiresAt: exp ? new Date(exp) : new Date(Date.now() + (opts.expirationSeconds ?? 3600) * 1000) };
      } catch (err) {
        if (err instanceof KubernetesError) throw err;
        if (statusOf(err) === 404) throw new SourceAuthError(`ServiceAccount ${namespace}/${name} does not exist`);
        throw kubeFailure(`requesting a token for ServiceAccount ${namespace}/${name}`, err);
      }
    },
  };
}
