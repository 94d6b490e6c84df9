// Counts every request the operator makes to the Kubernetes API, by resource and verb, as
// the API server would name them (get/list/watch/create/update/patch/delete): the typed
// clients and the informers' list pages all authenticate through the KubeConfig, so one
// wrapper of applySecurityAuthentication sees them; watches are counted by the list-watch
// (client-node's Watch authenticates without showing its URL).
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

export type OnRequest = (resource: string, verb: string) => void;

/** `resource[/subresource]` and verb of a request to `url` with `method`. */
export function requestKind(method: string, url: string): { resource: string; verb: string } {
  const u = new URL(url, 'https://kube.invalid');
  const parts = u.pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...
  let rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [resource = 'unknown', name, sub] = rest;
  const m = method.toUpperCase();
  let verb: string;
  if (m === 'GET') verb = u.searchParams.get('watch') === 'true' ? 'watch' : name === undefined ? 'list' : 'get';
  else if (m === 'POST') verb = 'create';
  else if (m === 'PUT') verb = 'update';
  else if (m === 'PATCH') verb = 'patch';
  else if (m === 'DELETE') verb = name === undefined ? 'deletecollection' : 'delete';
  else verb = m.toLowerCase();
  return { resource: sub ? `${resource}/${sub}` : resource, verb };
}

const counters = new WeakMap<KubeConfig, OnRequest>();

/** Makes every request authenticated through `kc` call `onRequest` first. */
export function countRequests(kc: KubeConfig, onRequest: OnRequest): void {
  counters.set(kc, onRequest);
  const apply = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = (ctx: RequestContext) => {
    const { resource, verb } = requestKind(ctx.getHttpMethod(), ctx.getUrl());
    onRequest(resource, verb);
    return apply(ctx);
  };
}

/** A watch of collection `path` starts (list-watch calls this; a no-op unless `kc` is counted). */
export function noteWatch(kc: KubeConfig, path: string): void {
  const onRequest = counters.get(kc);
  if (!onRequest) return;
  const { resource } = requestKind('GET', path);
  onRequest(resource, 'watch');
}
