// The MutatingWebhookConfiguration's I/O: read it, and write it by server-side apply with
// field manager `secretsync` (force: the object is ours; another manager's fields on it are
// taken over). Apply creates it when missing, which the API server authorizes as `create`.
import { type AdmissionregistrationV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/types.js';
import type { MutatingWebhookConfiguration, WebhookConfigPort } from '../webhook/registration.js';
import { isNotFound, kubeError } from './errors.js';

const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export class KubeWebhookConfig implements WebhookConfigPort {
  constructor(
    private readonly api: AdmissionregistrationV1Api,
    private readonly onWrite?: (resource: string, verb: string) => void,
  ) {}

  async get(name: string): Promise<MutatingWebhookConfiguration | undefined> {
    try {
      return (await this.api.readMutatingWebhookConfiguration({ name })) as unknown as MutatingWebhookConfiguration;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(`reading MutatingWebhookConfiguration ${name}`, err);
    }
  }

  async apply(config: MutatingWebhookConfiguration): Promise<void> {
    const { name } = config.metadata;
    try {
      await this.api.patchMutatingWebhookConfiguration({ name, body: config, fieldManager: FIELD_MANAGER, force: true }, applyPatch);
      this.onWrite?.('mutatingwebhookconfigurations', 'apply');
    } catch (err) {
      throw kubeError(`applying MutatingWebhookConfiguration ${name}`, err);
    }
  }
}
