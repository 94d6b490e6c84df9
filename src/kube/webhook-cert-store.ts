// The webhook TLS Secret (kubernetes.io/tls plus ca.crt and ca.key) in the operator
// namespace: the real CertStorePort. Created with POST (409: another replica was first)
// and changed with a merge patch carrying the resourceVersion read, which the API server
// treats as a precondition (409 when the Secret moved on), so writes are compare-and-swap.
// Covered by the cluster rules on secrets (get, create, patch).
import { type CoreV1Api, type V1OwnerReference, type V1Secret, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/types.js';
import { splitPem, type CertBundle } from '../webhook/certs.js';
import type { CertStorePort, StoredBundle } from '../webhook/cert-store.js';
import { isConflict, isNotFound, kubeError } from './errors.js';
import { WEBHOOK_TLS_KIND, provenanceProblem, untrustedSecretMessage } from './operator-secrets.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const labels = WEBHOOK_TLS_KIND.labels;

export interface WebhookSecretRef {
  namespace: string;
  name: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const text = (data: Record<string, string> | undefined, key: string) => Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');

function data(b: CertBundle): Record<string, string> {
  return { 'tls.crt': b64(b.serving.cert), 'tls.key': b64(b.serving.key), 'ca.crt': b64(b.caBundle), 'ca.key': b64(b.ca.key) };
}

function toStored(s: V1Secret): StoredBundle {
  const caBundle = text(s.data, 'ca.crt');
  return {
    bundle: {
      ca: { cert: splitPem(caBundle)[0] ?? '', key: text(s.data, 'ca.key') },
      serving: { cert: text(s.data, 'tls.crt'), key: text(s.data, 'tls.key') },
      caBundle,
    },
    version: s.metadata?.resourceVersion ?? '',
  };
}

/** A Secret named like the webhook's without the operator's mark. */
export class UntrustedSecretError extends Error {
  override name = 'UntrustedSecretError';
}

export class KubeWebhookCertStore implements CertStorePort {
  constructor(
    private readonly core: CoreV1Api,
    private readonly ref: WebhookSecretRef,
    private readonly onWrite?: (resource: string, verb: string) => void,
    /** The operator's Deployment (--owner-deployment): the Secret goes when it goes. */
    private readonly owner?: V1OwnerReference,
  ) {}

  private where(): string {
    return `Secret ${this.ref.namespace}/${this.ref.name}`;
  }

  async read(): Promise<StoredBundle | undefined> {
    let s: V1Secret;
    try {
      s = await this.core.readNamespacedSecret(this.ref);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(`reading ${this.where()}`, err);
    }
    // Found by name: only one carrying the operator's mark holds its CA (operator-secrets.ts).
    const problem = provenanceProblem(s, WEBHOOK_TLS_KIND, this.owner?.name);
    if (problem) throw new UntrustedSecretError(untrustedSecretMessage(this.ref.namespace, this.ref.name, WEBHOOK_TLS_KIND, problem));
    return toStored(s);
  }

  async create(bundle: CertBundle): Promise<StoredBundle | 'exists'> {
    const { namespace, name } = this.ref;
    const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels, ...(this.owner ? { ownerReferences: [this.owner] } : {}) }, type: WEBHOOK_TLS_KIND.type, data: data(bundle) };
    try {
      const r = toStored(await this.core.createNamespacedSecret({ namespace, body, fieldManager: FIELD_MANAGER }));
      this.onWrite?.('secrets', 'create');
      return r;
    } catch (err) {
      if (isConflict(err)) return 'exists';
      throw kubeError(`creating ${this.where()}`, err);
    }
  }

  async update(bundle: CertBundle, version: string): Promise<StoredBundle | 'conflict'> {
    if (!version) throw new RangeError('update needs the resourceVersion it replaces');
    const body = { metadata: { resourceVersion: version, labels }, data: data(bundle) };
    try {
      const r = toStored(await this.core.patchNamespacedSecret({ ...this.ref, body, fieldManager: FIELD_MANAGER }, mergePatch));
      this.onWrite?.('secrets', 'patch');
      return r;
    } catch (err) {
      // 404: deleted meanwhile; the next round creates it again.
      if (isConflict(err) || isNotFound(err)) return 'conflict';
      throw kubeError(`updating ${this.where()}`, err);
    }
  }
}
