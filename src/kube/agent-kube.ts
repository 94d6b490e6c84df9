// The agent's view of the API server: it reads one Secret, and follows that one Secret;
// and it reads the SecretSync it delivers for, to learn its uid from the API server rather
// than from the Secret it checks (the operator grants `get` on exactly that SecretSync).
// It runs with the pod's own identity (the in-cluster service-account token, or a
// kubeconfig in tests), which the operator allows `get` and `watch` on exactly that Secret
// (resourceNames), not `list`. So the "list" the runtime's Informer starts from is a GET
// of the Secret, and the watch is narrowed by a metadata.name field selector, which RBAC
// authorizes by resourceNames. Failures come back as KubeReadError with the HTTP status and
// the API server's Status message, cleaned, so the agent can say what to fix.
import { AuthorizationV1Api, HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext, Watch } from '@kubernetes/client-node';
import type { ListWatch, WatchEventType } from '../runtime/informer-types.js';
import type { KubeSecret } from '../secretsync/ports.js';
import { sanitizeApiText } from './errors.js';
import { GROUP, VERSION } from '../api/types.js';

export interface AgentKube {
  /** GET one Secret; rejects with KubeReadError. */
  readSecret(namespace: string, name: string): Promise<KubeSecret>;
  /** GET one SecretSync (its metadata is all the agent uses); rejects with KubeReadError. */
  readSecretSync(namespace: string, name: string): Promise<{ metadata: { name?: string; uid?: string }; spec?: { target?: { name?: unknown } } }>;
  /** That one Secret as a ListWatch for the runtime's Informer: GET, then a field-selected watch. */
  secretListWatch(namespace: string, name: string): ListWatch<KubeSecret>;
  /** Whether the identity may watch that Secret (a SelfSubjectAccessReview; true when it cannot tell). */
  mayWatchSecret(namespace: string, name: string): Promise<boolean>;
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
  /** Server-side watch timeout; default a random 5-10 min, as client-go, so watches rotate. */
  watchTimeoutSeconds?: () => number;
}

const http = new IsomorphicFetchHttpLibrary();

export function agentKube(opts: AgentKubeOptions = {}): AgentKube {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromCluster();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const watchTimeout = opts.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
  const secretsPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;

  async function getJson(path: string): Promise<unknown> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeReadError(undefined, 'the kubeconfig has no current cluster');
    const ctx = new RequestContext(`${cluster.server}${path}`, HttpMethod.GET);
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
    return body;
  }

  async function readSecret(namespace: string, name: string): Promise<KubeSecret> {
    return (await getJson(`${secretsPath(namespace)}/${encodeURIComponent(name)}`)) as KubeSecret;
  }

  return {
    readSecret,

    async readSecretSync(namespace, name) {
      const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/secretsyncs/${encodeURIComponent(name)}`;
      return (await getJson(path)) as { metadata: { name?: string; uid?: string }; spec?: { target?: { name?: unknown } } };
    },

    secretListWatch(namespace, name) {
      return {
        async list() {
          try {
            const s = await readSecret(namespace, name);
            return { items: [s], resourceVersion: s.metadata.resourceVersion ?? '' };
          } catch (err) {
            // Not there (yet): an empty cache; the watch then reports its creation.
            if (err instanceof KubeReadError && err.status === 404) return { items: [], resourceVersion: '' };
            throw err;
          }
        },
        async watch(resourceVersion, onEvent, onDone) {
          const ctl = await new Watch(kc).watch(
            secretsPath(namespace),
            {
              allowWatchBookmarks: true,
              resourceVersion: resourceVersion || undefined,
              fieldSelector: `metadata.name=${name}`,
              timeoutSeconds: watchTimeout(),
            },
            (type: string, obj: unknown) => onEvent(type as WatchEventType, obj),
            (err: unknown) => onDone(err ?? undefined),
          );
          return { abort: () => ctl.abort() };
        },
      };
    },

    async mayWatchSecret(namespace, name) {
      try {
        const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { namespace, resource: 'secrets', name, verb: 'watch' } } },
        });
        return review.status?.allowed === true;
      } catch {
        return true; // cannot tell: try, and let the informer's backoff deal with a refusal
      }
    },
  };
}
