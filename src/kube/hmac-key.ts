// The operator's root HMAC key (each SecretSync's MAC keys are derived from it, see
// src/secretsync/content.ts), kept in a Secret in the
// operator's namespace so every replica and every restart uses the same key. Created
// with 32 random bytes on first start; a concurrent creator wins and we read its key.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/types.js';
import { isConflict, isNotFound, kubeError } from './errors.js';

export const HMAC_KEY_SECRET = 'secretsync-hmac-key';

export async function ensureHmacKey(core: CoreV1Api, namespace: string, name = HMAC_KEY_SECRET): Promise<Buffer> {
  const read = async () => {
    const s = await core.readNamespacedSecret({ name, namespace });
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
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, 'app.kubernetes.io/component': 'hmac-key' },
        },
        type: 'Opaque',
        data: { key: randomBytes(32).toString('base64') },
      },
    });
  } catch (err) {
    if (!isConflict(err)) throw kubeError(`creating Secret ${namespace}/${name}`, err);
  }
  return read();
}
