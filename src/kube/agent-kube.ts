// The agent's view of the API server: it reads one Secret, and follows that one Secret
// (a list+watch narrowed by a metadata.name field selector, which RBAC authorizes by
// resourceNames). It runs with the pod's own identity: the in-cluster service-account
// token, or a kubeconfig (tests). Failures come back as KubeReadError with the HTTP status
// and the API server's Status message, cleaned, so the agent can say what to fix.
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { ListWatch } from '../runtime/informer-types.js';
import type { KubeSecret } from '../secretsync/ports.js';
import { apiMessage, sanitizeApiText, statusCode } from './errors.js';
import { listWatch } from './list-watch.js';

export interface AgentKube {
  /** GET one Secret; rejects with KubeReadError. */
  readSecret(namespace: string, name: string): Promise<KubeSecret>;
  /** List+watch of exactly that Secret, for the runtime's Informer. */
  secretListWatch(namespace: string, name: string): ListWatch<KubeSecret>;
}

export class KubeReadError extends Error {
  constructor(
    /** HTTP status; undefined when the API server was not reached. */
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeReadError';
  }
}

export interface AgentKubeOptions {
  /** A kubeconfig file; default: the in-cluster service account. */
  kubeconfig?: string;
  /** Timeout of one GET. Default 30 s. */
  timeoutMs?: number;
}

const http = new IsomorphicFetchHttpLibrary();

export function agentKube(opts: AgentKubeOptions = {}): AgentKube {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromCluster();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const secretsPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;

  return {
    async readSecret(namespace, name) {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new KubeReadError(undefined, 'the kubeconfig has no current cluster');
      const ctx = new RequestContext(`${cluster.server}${secretsPath(namespace)}/${encodeURIComponent(name)}`, HttpMethod.GET);
      ctx.setHeaderParam('Accept', 'application/json');
      let status: number;
      let text: string;
      try {
        await kc.applySecurityAuthentication(ctx);
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        const res = await http.send(ctx).toPromise();
        status = res.httpStatusCode;
        text = await res.body.text();
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
        throw new KubeReadError(undefined, `the API server at ${cluster.server} could not be reached: ${sanitizeApiText(String(why))}`);
      }
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = undefined;
      }
      if (status < 200 || status > 299) {
        const message = (body as { message?: unknown } | undefined)?.message;
        throw new KubeReadError(status, `HTTP ${status}${typeof message === 'string' ? `: ${sanitizeApiText(message)}` : ''}`);
      }
      if (typeof body !== 'object' || body === null) throw new KubeReadError(status, 'the API server answered with something that is not JSON');
      return body as KubeSecret;
    },

    secretListWatch(namespace, name) {
      const lw = listWatch<KubeSecret>(kc, { path: secretsPath(namespace), fieldSelector: `metadata.name=${name}`, listTimeoutMs: timeoutMs });
      return {
        // A refused list (403: the service account may only `get` it) keeps its status.
        list: () =>
          lw.list().catch((err: unknown) => {
            throw new KubeReadError(statusCode(err), sanitizeApiText(apiMessage(err)));
          }),
        watch: (rv, onEvent, onDone) => lw.watch(rv, onEvent, onDone),
      };
    },
  };
}
