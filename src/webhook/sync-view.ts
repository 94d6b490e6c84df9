// What admission needs to know of one SecretSync, read from the operator's caches (no API
// call on the admission path): whether it exists and is Ready, its target Secret, who may
// receive it, its mode, and the key names its target holds (file names, never values).
import { ConditionType, findCondition } from '../api/conditions.js';
import type { SecretSync } from '../api/types.js';
import { ENVELOPE_SECRET_TYPE, decodeEnvelope } from '../crypto/envelope.js';
import type { KubeSecret } from '../secretsync/ports.js';
import { targetName } from '../secretsync/target.js';
import type { SyncView } from './inject-checks.js';

/** Key names of a target Secret: its data keys, or for an envelope the current version's. */
export function targetKeys(secret: KubeSecret | undefined): string[] {
  if (!secret) return [];
  if (secret.type === ENVELOPE_SECRET_TYPE) {
    try {
      return Object.keys(decodeEnvelope(secret.data).current.values).sort();
    } catch {
      return [];
    }
  }
  return Object.keys(secret.data ?? {}).sort();
}

/** The declared keys of a SecretSync (spec.data), for when the target is not written yet (no template). */
function declaredKeys(ss: SecretSync): string[] {
  return (ss.spec.data ?? []).map((d) => d.key).sort();
}

export function syncView(ss: SecretSync, target: KubeSecret | undefined): SyncView {
  const ready = findCondition(ss.status?.conditions, ConditionType.Ready);
  const kek = ss.spec.target?.encryption?.kek;
  // With a template the files are its keys, in both modes (an envelope seals the keys it reads, not these).
  const template = ss.spec.target?.template;
  const keys = template ? Object.keys(template.data).sort() : targetKeys(target);
  return {
    name: ss.metadata.name,
    targetSecret: targetName(ss),
    ready: ready?.status === 'True',
    ...(ready ? { readyReason: ready.reason, readyMessage: ready.message } : {}),
    ...(ss.spec.access ? { serviceAccounts: [...ss.spec.access.serviceAccounts] } : {}),
    ...(kek?.vaultTransit ? { kek: 'vault-transit' as const } : kek?.awsKms ? { kek: 'aws-kms' as const } : {}),
    keys: keys.length > 0 ? keys : declaredKeys(ss),
    ...(ss.spec.mount?.uid !== undefined || ss.spec.mount?.gid !== undefined
      ? { mount: { ...(ss.spec.mount.uid !== undefined ? { uid: ss.spec.mount.uid } : {}), ...(ss.spec.mount.gid !== undefined ? { gid: ss.spec.mount.gid } : {}) } }
      : {}),
  };
}
