// The admission handler the webhook server calls: a Pod CREATE in, the pure admitPod
// decision out, with SecretSyncs and their targets read from the operator's caches (no
// API call on the admission path, so a slow API server never slows pod creation).
// Anything but a Pod CREATE is allowed unchanged; a failure inside is a refusal with a
// fixed message (never the exception's text, which could carry data).
import type { SecretSync } from '../api/types.js';
import type { Logger } from '../observability/logger.js';
import type { KubeSecret } from '../secretsync/ports.js';
import { targetName } from '../secretsync/target.js';
import { patchResponse, refuse, type AdmissionHandler, type AdmissionResponse } from './admission.js';
import { admitPod, type InjectOptions } from './inject.js';
import type { Pod } from './pod.js';
import { syncView } from './sync-view.js';

export interface HandlerCaches {
  getSecretSync(namespace: string, name: string): SecretSync | undefined;
  getManagedSecret(namespace: string, name: string): KubeSecret | undefined;
}

export interface HandlerDeps {
  log: Logger;
  /** False while this replica's caches are still filling (a request then waits for them). */
  synced?: () => boolean;
  /** How long a request waits for the caches of a replica that is just starting (default 5 s). */
  syncWaitMs?: number;
}

export function injectionHandler(caches: HandlerCaches, o: InjectOptions, d: HandlerDeps): AdmissionHandler {
  const { log } = d;
  const synced = d.synced ?? (() => true);
  const waitMs = d.syncWaitMs ?? 5_000;
  return async (review): Promise<AdmissionResponse> => {
    const req = review.request;
    for (const end = Date.now() + waitMs; !synced() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
    if (!synced()) {
      return refuse(req.uid, 'secretsync is starting and has not read its SecretSyncs yet: retry in a few seconds', 503);
    }
    if (req.kind?.kind !== 'Pod' || req.operation !== 'CREATE' || !req.object) {
      return patchResponse(req.uid, []);
    }
    const namespace = req.namespace ?? '';
    const pod = req.object as Pod;
    // The API server sets the pod's namespace to the request's before admission; a review
    // where they differ (or name none) is hand-made. Refused before any lookup.
    const podNamespace = (pod as { metadata?: { namespace?: unknown } } | null)?.metadata?.namespace;
    if (namespace === '' || (podNamespace !== undefined && podNamespace !== namespace)) {
      log.info({ namespace, code: 400 }, 'review refused: request.namespace and the pod\'s metadata.namespace differ');
      return refuse(req.uid, 'request.namespace must be set and equal the pod\'s metadata.namespace', 400);
    }
    try {
      const a = admitPod(pod, namespace, (name) => {
        const ss = caches.getSecretSync(namespace, name);
        return ss ? syncView(ss, caches.getManagedSecret(namespace, targetName(ss))) : undefined;
      }, o);
      if (!a.allowed) {
        log.info({ namespace, pod: req.name || (pod.metadata?.generateName ?? ''), code: a.code, reason: a.message }, 'pod refused');
        return refuse(req.uid, a.message, a.code);
      }
      if (a.patch.length > 0) log.info({ namespace, pod: req.name || (pod.metadata?.generateName ?? ''), syncs: a.injected }, 'pod injected');
      return patchResponse(req.uid, a.patch);
    } catch (err) {
      log.error({ namespace, err: err instanceof Error ? err.name : 'error' }, 'admission failed');
      return refuse(req.uid, 'secretsync could not decide on this pod (internal error; see the operator logs)', 500);
    }
  };
}
