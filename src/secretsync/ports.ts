// The narrow ports the SecretSync reconciler talks through. src/kube/ implements them on
// the real API server: SyncReader on the informer caches (no I/O at all), SyncWriter on
// API calls. Unit tests pass in-memory versions.
import type { SourceRef } from '../api/source-ref.js';
import type { AnySource, SecretSync, SecretSyncStatus, WorkloadKind } from '../api/types.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsV1?: unknown;
}

export interface KubeSecret {
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    managedFields?: ManagedFieldsEntry[];
  };
  type?: string;
  data?: Record<string, string>;
  /** spec.target.immutable: the API server refuses any later change of data (and of this field). */
  immutable?: boolean;
}

/** The parts of a pod spec that name Secrets: secret and projected volumes, env and envFrom. */
export interface PodSpecLike {
  volumes?: { name?: string; secret?: { secretName?: string }; projected?: { sources?: { secret?: { name?: string } }[] } }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
}
export interface ContainerLike {
  name?: string;
  env?: { name?: string; valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }[];
  envFrom?: { secretRef?: { name?: string } }[];
}

/** A Deployment, StatefulSet or DaemonSet (apps/v1), as far as rollouts read it. */
export interface KubeWorkload {
  kind: WorkloadKind;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec: {
    /** Deployment and StatefulSet; default 1. */
    replicas?: number;
    progressDeadlineSeconds?: number;
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: PodSpecLike };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    /** StatefulSet. */
    currentRevision?: string;
    updateRevision?: string;
    /** DaemonSet. */
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberReady?: number;
  };
}

/** A JSON merge patch of a Secret; `metadata.resourceVersion` makes it a compare-and-swap. */
export interface SecretPatch {
  metadata: {
    resourceVersion: string;
    labels?: Record<string, string | null>;
    annotations?: Record<string, string | null>;
    ownerReferences?: OwnerReference[];
  };
  data?: Record<string, string | null>;
  /** Only ever true: an immutable Secret cannot be made mutable again. */
  immutable?: true;
}

// spec.access: the Role and RoleBinding objects as grants.ts plans them and SyncWriter writes them.
export interface RbacMeta {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface KubeRole {
  apiVersion?: string;
  kind?: string;
  metadata: RbacMeta;
  rules?: { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }[];
}

export interface KubeRoleBinding {
  apiVersion?: string;
  kind?: string;
  metadata: RbacMeta;
  subjects?: { kind: string; name: string; namespace?: string; apiGroup?: string }[];
  roleRef: { apiGroup: string; kind: string; name: string };
}

export type RbacObject = { kind: 'Role'; obj: KubeRole } | { kind: 'RoleBinding'; obj: KubeRoleBinding };

export type GrantWrite =
  | { op: 'create'; object: RbacObject }
  /** PUT with the cached resourceVersion as precondition. */
  | { op: 'replace'; object: RbacObject }
  | { op: 'delete'; kind: 'Role' | 'RoleBinding'; namespace: string; name: string; uid: string };

/** Reads from the informer caches: never a call to the API server. */
export interface SyncReader {
  getSecretSync(namespace: string, name: string): SecretSync | undefined;
  getSource(ref: SourceRef): AnySource | undefined;
  /** Labels of a namespace; undefined when it does not exist. */
  getNamespaceLabels(name: string): Record<string, string> | undefined;
  /** A Secret carrying the operator's labels (ours, or another SecretSync's). */
  getManagedSecret(namespace: string, name: string): KubeSecret | undefined;
  /** Every cached Secret whose controller is the SecretSync with this uid. */
  secretsOwnedBy(namespace: string, ownerUid: string): KubeSecret[];
  /** spec.access: a cached Role / RoleBinding carrying the operator's labels. */
  getManagedRole(namespace: string, name: string): KubeRole | undefined;
  getManagedRoleBinding(namespace: string, name: string): KubeRoleBinding | undefined;
  /** Every cached Deployment, StatefulSet and DaemonSet of the namespace. */
  workloadsIn(namespace: string): KubeWorkload[];
}

export interface SyncWriter {
  /** POST; 'exists' when the name is taken (nothing is written then). */
  createSecret(secret: KubeSecret): Promise<'created' | 'exists'>;
  /** Merge patch with the patch's resourceVersion as precondition (StaleObjectError on 409). */
  patchSecret(namespace: string, name: string, patch: SecretPatch): Promise<void>;
  /** Server-side dry-run create: resolves when the API server would accept `secret`, else a typed error. */
  validateSecret(secret: KubeSecret): Promise<void>;
  /** Deletes the Secret if it still has this uid. */
  deleteSecret(namespace: string, name: string, uid: string): Promise<void>;
  /** The one API read: a Secret whose name a create found taken (it is not in our cache). */
  readSecret(namespace: string, name: string): Promise<KubeSecret | undefined>;
  /**
   * Replaces the whole status (removed keys go), with the object's resourceVersion as
   * precondition: a status computed from a stale cache fails with StaleObjectError.
   * Returns the new resourceVersion.
   */
  writeStatus(ss: SecretSync, status: SecretSyncStatus): Promise<string | undefined>;
  /** Compare-and-swap on resourceVersion; returns the new resourceVersion. */
  setFinalizers(ss: SecretSync, finalizers: string[]): Promise<string | undefined>;
  event(ss: SecretSync, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  /** spec.access: create (refused when the name is taken), replace (resourceVersion precondition) or delete (by uid). */
  writeGrant(w: GrantWrite): Promise<void>;
  /**
   * Rollout: sets one pod-template annotation of a workload (merge patch; the workload's
   * controller rolls its pods). ObjectNotFoundError when the workload is gone.
   */
  setTemplateAnnotation(w: { kind: WorkloadKind; namespace: string; name: string }, key: string, value: string): Promise<void>;
}
