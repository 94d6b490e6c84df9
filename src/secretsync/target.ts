// The Secret a SecretSync owns: its desired shape, who owns a Secret, and the one write
// (if any) that turns the Secret in the cluster into the desired one. Pure.
//
// Ownership is the controller owner reference to the SecretSync's uid. Writes refuse what
// we do not own by themselves: a new Secret is created with POST (which fails when the
// name is taken), and an existing one is changed with a merge patch carrying the
// resourceVersion at which we saw it was ours (which fails when it changed since). See
// docs/adr/0001-secret-writes.md for why this is not server-side apply.
import { createHash } from 'node:crypto';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, MOUNT_ANNOTATION, OWNER_LABEL, VERSION_ANNOTATION } from '../api/annotations.js';
import {
  API_VERSION,
  MINTING_TYPES,
  FIELD_MANAGER,
  type SecretSync,
} from '../api/types.js';
import { mountAnnotation } from '../api/delivery.js';
import { TargetConflictError, TargetImmutableError } from '../errors.js';
import { toSecretData, type Content } from './content.js';
import type { KubeSecret, OwnerReference, SecretPatch } from './ports.js';

const LABEL_VALUE_MAX = 63;

export function targetName(ss: SecretSync): string {
  return ss.spec.target?.name ?? ss.metadata.name;
}

/**
 * The owner label's value: the SecretSync's name when it fits a label value, else its
 * first 52 characters and a hash (names may be 253 characters long; label values 63).
 */
export function ownerLabelValue(name: string): string {
  if (name.length <= LABEL_VALUE_MAX) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${name.slice(0, LABEL_VALUE_MAX - hash.length - 1)}-${hash}`;
}

export function ownerReference(ss: SecretSync): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'SecretSync',
    name: ss.metadata.name,
    uid: ss.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** What a target Secret holds besides the metadata every target gets: its type, data and our annotations. */
export interface TargetBody {
  type: string;
  /** Secret .data (base64). */
  data: Record<string, string>;
  /** Annotations the operator sets for the agent (they win over spec.target.annotations). */
  annotations: Record<string, string>;
}

/** The annotations every target carries for the agent: the version it holds and how to write the files. */
export function agentAnnotations(ss: SecretSync, version: number | undefined): Record<string, string> {
  return {
    ...(version !== undefined ? { [VERSION_ANNOTATION]: String(version) } : {}),
    [MOUNT_ANNOTATION]: mountAnnotation(ss.spec.mount),
  };
}

/** Plain mode: the values themselves, under spec.target.type. */
export function plainBody(ss: SecretSync, content: Content, version: number | undefined): TargetBody {
  return { type: ss.spec.target?.type ?? 'Opaque', data: toSecretData(content), annotations: agentAnnotations(ss, version) };
}

export function desiredSecret(ss: SecretSync, body: TargetBody): KubeSecret {
  const type = body.type;
  if (MINTING_TYPES.includes(type)) {
    // The schema refuses these too; this guards objects stored before the rule existed.
    throw new TargetConflictError(`spec.target.type ${type} would make the API server mint credentials: use Opaque`);
  }
  return {
    metadata: {
      name: targetName(ss),
      namespace: ss.metadata.namespace ?? '',
      labels: {
        ...(ss.spec.target?.labels ?? {}),
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [OWNER_LABEL]: ownerLabelValue(ss.metadata.name),
      },
      annotations: { ...(ss.spec.target?.annotations ?? {}), ...body.annotations },
      ownerReferences: [ownerReference(ss)],
    },
    type,
    data: body.data,
    ...(ss.spec.target?.immutable ? { immutable: true } : {}),
  };
}

/** Anything with owner references: our Secrets, Roles and RoleBindings. */
type Owned = { metadata: { ownerReferences?: OwnerReference[] } };

/** True when `obj` names the SecretSync with this uid as its controller. */
export function isOwnedBy(obj: Owned, ownerUid: string | undefined): boolean {
  return !!ownerUid && (obj.metadata.ownerReferences ?? []).some((o) => o.kind === 'SecretSync' && o.uid === ownerUid && o.controller === true);
}

/** The name of the SecretSync controlling `obj`, if any (for events: Secret / Role → SecretSync). */
export function controllingSync(obj: Owned): string | undefined {
  return (obj.metadata.ownerReferences ?? []).find((o) => o.kind === 'SecretSync' && o.controller === true)?.name;
}

export function conflictError(existing: KubeSecret): TargetConflictError {
  return new TargetConflictError(
    `Secret ${existing.metadata.namespace}/${existing.metadata.name} already exists and is not managed by this SecretSync: ` +
      'delete or rename it, or set spec.target.name to another name',
  );
}

/**
 * Label and annotation keys the operator set on `secret`, from its managedFields: those are
 * the ones it may remove when the spec stops asking for them. Keys someone else set (even
 * to the value we want) are theirs and stay.
 */
export function ownedMetadataKeys(secret: KubeSecret): { labels: Set<string>; annotations: Set<string> } {
  const labels = new Set<string>();
  const annotations = new Set<string>();
  for (const mf of secret.metadata.managedFields ?? []) {
    if (mf.manager !== FIELD_MANAGER) continue;
    const meta = (mf.fieldsV1 as Record<string, Record<string, Record<string, unknown>>> | undefined)?.['f:metadata'];
    for (const [set, field] of [[labels, 'f:labels'], [annotations, 'f:annotations']] as const) {
      for (const k of Object.keys(meta?.[field] ?? {})) if (k.startsWith('f:')) set.add(k.slice(2));
    }
  }
  return { labels, annotations };
}

function mapPatch(
  have: Record<string, string> | undefined,
  want: Record<string, string>,
  owned: Set<string>,
): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(want)) if (have?.[k] !== v) patch[k] = v;
  for (const k of Object.keys(have ?? {})) if (!(k in want) && owned.has(k)) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export type SecretWrite =
  | { kind: 'create'; secret: KubeSecret }
  | { kind: 'patch'; namespace: string; name: string; patch: SecretPatch }
  /** A Secret's type is immutable: validate the new one, then delete the old (by uid) and create. */
  | { kind: 'replace'; secret: KubeSecret; oldUid: string };

/**
 * The write that makes `existing` (ours) equal `desired`, or undefined when it already is:
 * a merge patch of exactly what differs (data keys we no longer sync removed, labels and
 * annotations we set and no longer want removed), with its resourceVersion as precondition.
 */
export function secretWrite(existing: KubeSecret | undefined, desired: KubeSecret): SecretWrite | undefined {
  if (!existing) return { kind: 'create', secret: desired };
  if ((existing.type ?? 'Opaque') !== desired.type) {
    return { kind: 'replace', secret: desired, oldUid: existing.metadata.uid ?? '' };
  }
  const owned = ownedMetadataKeys(existing);
  const data = mapPatch(existing.data, desired.data ?? {}, new Set(Object.keys(existing.data ?? {})));
  const labels = mapPatch(existing.metadata.labels, desired.metadata.labels ?? {}, owned.labels);
  const annotations = mapPatch(existing.metadata.annotations, desired.metadata.annotations ?? {}, owned.annotations);
  const refs = existing.metadata.ownerReferences ?? [];
  const ours = (desired.metadata.ownerReferences ?? [])[0];
  const ownerReferences = ours && !refs.some((r) => r.uid === ours.uid && r.controller === true) ? [...refs.filter((r) => r.uid !== ours.uid), ours] : undefined;
  const immutable = desired.immutable === true && existing.immutable !== true;
  if (!data && !labels && !annotations && !ownerReferences && !immutable) return undefined;
  return {
    kind: 'patch',
    namespace: existing.metadata.namespace,
    name: existing.metadata.name,
    patch: {
      metadata: {
        resourceVersion: existing.metadata.resourceVersion ?? '',
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
        ...(ownerReferences ? { ownerReferences } : {}),
      },
      ...(data ? { data } : {}),
      ...(immutable ? { immutable: true as const } : {}),
    },
  };
}

/** What a write does to a Secret's data: nothing, changes it in place, or replaces the object (a new type). */
export type DataChange = 'none' | 'data' | 'replace';

/** The DataChange of a planned write. */
export function dataChange(write: SecretWrite | undefined): DataChange {
  if (write?.kind === 'replace') return 'replace';
  return write?.kind === 'patch' && write.patch.data ? 'data' : 'none';
}

/**
 * spec.target.immutable: why `change` cannot be made to `existing`, or undefined. An
 * immutable Secret's data cannot change, nor can it become mutable again; its metadata can,
 * and a replace (a new type: delete, then create) is a new object. `held` is the version it
 * holds, `next` the one the write would make.
 */
export function immutableProblem(ss: SecretSync, existing: KubeSecret | undefined, change: DataChange, held: number | undefined, next: number): TargetImmutableError | undefined {
  if (!existing?.immutable || change === 'replace') return undefined;
  const where = `Secret ${existing.metadata.namespace}/${existing.metadata.name}`;
  const holds = held !== undefined ? ` and holds version ${held}` : '';
  if (!ss.spec.target?.immutable) {
    return new TargetImmutableError(
      `${where} is immutable${holds}, and spec.target.immutable is no longer true: an immutable Secret cannot be made mutable in place, so nothing was written. ` +
        'Delete the Secret: the operator re-creates it, mutable, with the current content',
    );
  }
  if (change !== 'data') return undefined;
  return new TargetImmutableError(
    `${where} is immutable (spec.target.immutable)${holds}; the content to sync changed (it would be version ${next}), and an immutable Secret's data cannot change: nothing was written. ` +
      `Delete the Secret to take it: the operator re-creates it, immutable, as version ${next} and rolls the workloads that use it`,
  );
}

/** deletionPolicy Retain: our owner reference and labels go, so nothing deletes it or maps it to us. */
export function releasePatch(secret: KubeSecret, ownerUid: string): SecretPatch {
  return {
    metadata: {
      resourceVersion: secret.metadata.resourceVersion ?? '',
      ownerReferences: (secret.metadata.ownerReferences ?? []).filter((o) => o.uid !== ownerUid),
      labels: { [OWNER_LABEL]: null, [MANAGED_BY_LABEL]: null },
    },
  };
}
