// The MutatingWebhookConfiguration that sends labelled Pod creations to this operator:
// built as data (desiredConfig), compared with what the API server holds (configMatches:
// only the fields we set, since the server fills in defaults), and written by server-side
// apply (field manager `secretsync`) only when they differ. Every replica registers the
// same content, so concurrent applies are harmless.
import { INJECT_LABEL } from '../api/annotations.js';

export const WEBHOOK_NAME = 'inject.secretsync.io';

export type FailurePolicy = 'Fail' | 'Ignore';

/** Where the API server calls: a URL (outside a cluster) or a Service (inside one). */
export type WebhookTarget = { url: string } | { service: { namespace: string; name: string; port: number } };

export interface RegistrationOptions {
  /** The MutatingWebhookConfiguration's name (default `secretsync`). */
  name: string;
  /** Pods in the operator namespace (and kube-system) never go through the webhook. */
  operatorNamespace: string;
  /**
   * --namespace: the only namespace whose SecretSyncs this operator caches. Pods of other
   * namespaces are then not sent at all (another operator may serve them; this one could
   * only refuse them, not knowing their SecretSyncs).
   */
  watchNamespace?: string;
  failurePolicy: FailurePolicy;
  /** 1 to 30 (the API server's bounds). */
  timeoutSeconds: number;
  target: WebhookTarget;
}

/** The shape of admissionregistration.k8s.io/v1 MutatingWebhookConfiguration we use. */
export interface MutatingWebhookConfiguration {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'MutatingWebhookConfiguration';
  metadata: { name: string; labels?: Record<string, string>; resourceVersion?: string };
  webhooks?: Record<string, unknown>[];
}

/** The Kubernetes side (src/kube/webhook-config.ts). */
export interface WebhookConfigPort {
  get(name: string): Promise<MutatingWebhookConfiguration | undefined>;
  /** Server-side apply, field manager `secretsync`, forcing conflicts (the object is ours). */
  apply(config: MutatingWebhookConfiguration): Promise<void>;
}

export function desiredConfig(o: RegistrationOptions, caBundlePem: string): MutatingWebhookConfiguration {
  if (!Number.isInteger(o.timeoutSeconds) || o.timeoutSeconds < 1 || o.timeoutSeconds > 30) {
    throw new RangeError(`webhook timeoutSeconds must be 1..30, got ${o.timeoutSeconds}`);
  }
  const clientConfig =
    'url' in o.target
      ? { url: o.target.url, caBundle: b64(caBundlePem) }
      : { service: { ...o.target.service, path: '/mutate' }, caBundle: b64(caBundlePem) };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: o.name, labels: { 'app.kubernetes.io/name': 'secretsync', 'app.kubernetes.io/component': 'webhook' } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        clientConfig,
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        // Only labelled pods are sent at all: the API server filters, we never see the rest.
        objectSelector: { matchLabels: { [INJECT_LABEL]: 'true' } },
        // Never our own pods (an operator that cannot start because its webhook is down) nor the system's.
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [o.operatorNamespace, 'kube-system'] },
            ...(o.watchNamespace ? [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [o.watchNamespace] }] : []),
          ],
        },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        // Other webhooks may add containers after us; run again so they get the mounts too.
        reinvocationPolicy: 'IfNeeded',
        failurePolicy: o.failurePolicy,
        timeoutSeconds: o.timeoutSeconds,
      },
    ],
  };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * True when every field `want` sets has the same value in `got` (objects: recursively;
 * arrays: same length, element by element). Fields the API server defaulted are ignored.
 */
export function subsetEqual(want: unknown, got: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(got) && got.length === want.length && want.every((w, i) => subsetEqual(w, got[i]));
  }
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object' || Array.isArray(got)) return false;
    return Object.entries(want).every(([k, w]) => subsetEqual(w, (got as Record<string, unknown>)[k]));
  }
  return want === got;
}

/** Whether `current` already is what `desired` asks for (no write needed). */
export function configMatches(desired: MutatingWebhookConfiguration, current: MutatingWebhookConfiguration | undefined): boolean {
  if (!current) return false;
  return subsetEqual(desired.metadata.labels ?? {}, current.metadata.labels ?? {}) && subsetEqual(desired.webhooks, current.webhooks);
}

/** Applies the desired configuration unless it is already current; returns whether it wrote. */
export async function register(port: WebhookConfigPort, o: RegistrationOptions, caBundlePem: string): Promise<boolean> {
  const desired = desiredConfig(o, caBundlePem);
  if (configMatches(desired, await port.get(o.name))) return false;
  await port.apply(desired);
  return true;
}
