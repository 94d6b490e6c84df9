// The narrow ports the SecretSync reconciler talks through. src/kube/ implements them
// on the real API server (reads from informer caches, writes with server-side apply);
// unit tests may pass in-memory versions.
import type { AnySource, SecretSync, SecretSyncStatus } from '../api/types.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
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
  };
  type?: string;
  data?: Record<string, string>;
}

export interface SyncReader {
  getSecretSync(namespace: string, name: string): SecretSync | undefined;
  getSource(kind: 'SecretSource' | 'ClusterSecretSource', namespace: string, name: string): AnySource | undefined;
  /** The target Secret: from the cache of owned Secrets, else from the API (to detect conflicts). */
  getSecret(namespace: string, name: string): Promise<KubeSecret | undefined>;
  getNamespaceLabels(name: string): Promise<Record<string, string> | undefined>;
}

export interface SyncWriter {
  /** Server-side apply of the whole desired Secret (field manager `secretsync`). */
  applySecret(secret: KubeSecret): Promise<void>;
  /** Deletes the Secret if it still has this uid. */
  deleteSecret(namespace: string, name: string, uid: string): Promise<void>;
  /** Retain: drop our owner reference and labels so the garbage collector leaves it. */
  releaseSecret(secret: KubeSecret, ownerUid: string): Promise<void>;
  /**
   * Writes status with the object's resourceVersion as precondition: a status computed
   * from a stale cache fails with StaleObjectError instead of overwriting newer status.
   * Returns the new resourceVersion.
   */
  patchStatus(ss: SecretSync, status: SecretSyncStatus): Promise<string | undefined>;
  /** Compare-and-swap on resourceVersion; returns the new resourceVersion. */
  setFinalizers(ss: SecretSync, finalizers: string[]): Promise<string | undefined>;
  event(ss: SecretSync, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}
