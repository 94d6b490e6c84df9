// ListWatch for any resource path (core, apps, custom resources; namespaced or across all
// namespaces): the real side of the runtime's Informer. list() pages through the
// collection with the kubeconfig's TLS and credentials (client-node's own request
// pipeline, so exec/token auth works as for the typed clients); watch() is client-node's
// Watch with bookmarks. ERROR events pass through with their Status, so the informer sees
// 410 Gone; every failure of the request itself reaches onDone.
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  RequestContext,
  Watch,
} from '@kubernetes/client-node';
import type { ListWatch, WatchEventType, WatchHandle } from '../runtime/informer-types.js';
import { noteWatch } from './request-metrics.js';

export interface ListWatchOptions {
  /** Collection path, e.g. `/api/v1/secrets` or `/apis/secretsync.io/v1alpha1/namespaces/ns/secretsyncs`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /** Timeout of each list page request. Default 60 s. */
  listTimeoutMs?: number;
  /** Server-side watch timeout; default a random 5-10 min, as client-go, so watches rotate. */
  watchTimeoutSeconds?: () => number;
  /**
   * What the cache keeps of each listed or watched object (client-go's TransformFunc), e.g.
   * only the fields the operator reads. It must keep metadata.name, namespace and resourceVersion.
   */
  transform?: (o: unknown) => unknown;
}

interface ListBody<T> {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

const http = new IsomorphicFetchHttpLibrary();

/** A short message for an error response; the body is parsed only for Status fields. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function listWatch<T>(kc: KubeConfig, opts: ListWatchOptions): ListWatch<T> {
  const pageSize = opts.pageSize ?? 500;
  const listTimeoutMs = opts.listTimeoutMs ?? 60_000;
  const watchTimeout = opts.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));

  async function page(cont: string | undefined): Promise<ListBody<T>> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server + opts.path);
    if (opts.labelSelector) url.searchParams.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) url.searchParams.set('fieldSelector', opts.fieldSelector);
    url.searchParams.set('limit', String(pageSize));
    if (cont) url.searchParams.set('continue', cont);
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    await kc.applySecurityAuthentication(ctx);
    ctx.setSignal(AbortSignal.timeout(listTimeoutMs));
    const res = await http.send(ctx).toPromise();
    const text = await res.body.text();
    const body = parseBody(text);
    if (res.httpStatusCode < 200 || res.httpStatusCode > 299) {
      const message = (body as { message?: string } | undefined)?.message ?? `HTTP ${res.httpStatusCode}`;
      throw new ApiException(res.httpStatusCode, `list ${opts.path}: ${message}`, body, res.headers);
    }
    if (typeof body !== 'object' || body === null) throw new Error(`list ${opts.path}: the response is not JSON`);
    return body as ListBody<T>;
  }

  async function listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let last: ListBody<T>;
    do {
      last = await page(cont);
      // List items carry no kind/apiVersion; add them so cached objects look like watched
      // ones. Each page is transformed as it arrives: a large list never sits whole in memory.
      const kind = last.kind?.endsWith('List') ? last.kind.slice(0, -4) : undefined;
      for (const item of last.items ?? []) {
        const o = item as { kind?: string; apiVersion?: string };
        if (kind && !o.kind) o.kind = kind;
        if (last.apiVersion && !o.apiVersion) o.apiVersion = last.apiVersion;
        items.push(opts.transform ? (opts.transform(item) as T) : item);
      }
      cont = last.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion: last.metadata?.resourceVersion ?? '' };
  }

  return {
    async list() {
      try {
        return await listAll();
      } catch (err) {
        // 410 on a later page: the continue token expired; one fresh list from the start.
        if (err instanceof ApiException && err.code === 410) return listAll();
        throw err;
      }
    },

    async watch(resourceVersion, onEvent, onDone): Promise<WatchHandle> {
      noteWatch(kc, opts.path);
      const ctl = await new Watch(kc).watch(
        opts.path,
        {
          allowWatchBookmarks: true,
          resourceVersion: resourceVersion || undefined,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          timeoutSeconds: watchTimeout(),
        },
        (type: string, obj: unknown) =>
          onEvent(type as WatchEventType, opts.transform && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') ? opts.transform(obj) : obj),
        (err: unknown) => onDone(err ?? undefined),
      );
      return { abort: () => ctl.abort() };
    },
  };
}
