// The operator's root HMAC key (each SecretSync's MAC keys are derived from it, see
// src/secretsync/content.ts), kept in a Secret in the
// operator's namespace so every replica and every restart uses the same key. Created
// with 32 random bytes on first start; a concurrent creator wins and we read its key.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1OwnerReference } from '@kubernetes/client-node';
import { isConflict, isNotFound, kubeError } from './errors.js';
import { HMAC_KEY_KIND, provenanceProblem, untrustedSecretMessage } from './operator-secrets.js';

export const HMAC_KEY_SECRET = 'secretsync-hmac-key';

export async function ensureHmacKey(core: CoreV1Api, namespace: string, name = HMAC_KEY_SECRET, owner?: V1OwnerReference): Promise<Buffer> {
  const read = async () => {
    const s = await core.readNamespacedSecret({ name, namespace });
    // Found by name: only one carrying the operator's mark is its key (operator-secrets.ts).
    const problem = provenanceProblem(s, HMAC_KEY_KIND, owner?.name);
    if (problem) throw new Error(untrustedSecretMessage(namespace, name, HMAC_KEY_KIND, problem));
    const k = s.data?.key;
    if (!k) throw new Error(`Secret ${namespace}/${name} has no "key": delete it and restart the operator to create a new one`);
    return Buffer.from(k, 'base64');
  };
  try {
    return await read();
  } catch (err) {
    if (!isNotFound(err)) throw err instanceof Error && !('code' in err) ? err : kubeError(`reading Secret ${namespace}/${name}`, err);
  }
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name,
          namespace,
          labels: HMAC_KEY_KIND.labels,
          ...(owner ? { ownerReferences: [owner] } : {}),
        },
        type: HMAC_KEY_KIND.type,
        data: { key: randomBytes(32).toString('base64') },
      },
    });
  } catch (err) {
    if (!isConflict(err)) throw kubeError(`creating Secret ${namespace}/${name}`, err);
  }
  return read();
}
