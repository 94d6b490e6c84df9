// The Secret a SecretSync owns: its desired shape, ownership checks, and whether the one
// in the cluster already matches (then nothing is written).
import {
  API_VERSION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_LABEL,
  type SecretSync,
} from '../api/types.js';
import { TargetConflictError } from '../errors.js';
import { contentHmac, fromSecretData, toSecretData, type Content } from './content.js';
import type { KubeSecret } from './ports.js';

export const MINTING_TYPES = new Set(['kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token']);

export function targetName(ss: SecretSync): string {
  return ss.spec.target?.name ?? ss.metadata.name;
}

export function desiredSecret(ss: SecretSync, content: Content): KubeSecret {
  const type = ss.spec.target?.type ?? 'Opaque';
  if (MINTING_TYPES.has(type)) {
    // The schema refuses these too; this guards objects stored before the rule existed.
    throw new TargetConflictError(`spec.target.type ${type} would make the API server mint credentials: use Opaque`);
  }
  return {
    metadata: {
      name: targetName(ss),
      namespace: ss.metadata.namespace ?? '',
      labels: { ...(ss.spec.target?.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [OWNER_LABEL]: ss.metadata.name },
      annotations: { ...(ss.spec.target?.annotations ?? {}) },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: 'SecretSync',
          name: ss.metadata.name,
          uid: ss.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    type,
    data: toSecretData(content),
  };
}

export function ownedBy(secret: KubeSecret, ss: SecretSync): boolean {
  return (secret.metadata.ownerReferences ?? []).some((o) => o.kind === 'SecretSync' && o.uid === ss.metadata.uid);
}

export function assertOwnable(existing: KubeSecret | undefined, ss: SecretSync): void {
  if (existing && !ownedBy(existing, ss)) {
    throw new TargetConflictError(
      `Secret ${existing.metadata.namespace}/${existing.metadata.name} already exists and is not managed by this SecretSync: ` +
        'delete or rename it, or set spec.target.name to another name',
    );
  }
}

/** True when `existing` already holds exactly what we would apply. */
export function secretMatches(existing: KubeSecret | undefined, desired: KubeSecret, hmacKey: Buffer): boolean {
  if (!existing) return false;
  if ((existing.type ?? 'Opaque') !== desired.type) return false;
  const subset = (want: Record<string, string> | undefined, have: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v);
  if (!subset(desired.metadata.labels, existing.metadata.labels)) return false;
  if (!subset(desired.metadata.annotations, existing.metadata.annotations)) return false;
  const a = contentHmac(hmacKey, fromSecretData(existing.data));
  const b = contentHmac(hmacKey, fromSecretData(desired.data));
  return a === b;
}
