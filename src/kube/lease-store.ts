// LeaseStore on a coordination.k8s.io/v1 Lease: the real side of the runtime's leader
// election. update() is a replace with the record's resourceVersion, so the API server's
// optimistic concurrency makes it a compare-and-swap; conflicts become LeaseConflictError
// (code 409). MicroTime fields travel as RFC3339 strings with microseconds: client-node
// 1.4.0 passes them through untouched (its V1MicroTime is only a type here).
import { CoordinationV1Api, type KubeConfig, type V1Lease, type V1MicroTime, type V1OwnerReference } from '@kubernetes/client-node';
import { LeaseConflictError } from '../runtime/leader-election.js';
import type { LeaseRecord, LeaseStore } from '../runtime/leader-election.js';
import { isConflict, isNotFound, kubeError } from './errors.js';

export interface LeaseRef {
  namespace: string;
  name: string;
}

/** A MicroTime as it arrives: a string (client-node does not convert it) or a Date. */
function timeString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  return undefined;
}

function toRecord(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity,
    leaseDurationSeconds: s.leaseDurationSeconds,
    acquireTime: timeString(s.acquireTime),
    renewTime: timeString(s.renewTime),
    leaseTransitions: s.leaseTransitions,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

export class KubeLeaseStore implements LeaseStore {
  private readonly api: CoordinationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly ref: LeaseRef,
    /** The operator's Deployment (--owner-deployment): the Lease goes when it goes (kept on every update). */
    private readonly owner?: V1OwnerReference,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  private body(r: LeaseRecord): V1Lease {
    const { namespace, name } = this.ref;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}), ...(this.owner ? { ownerReferences: [this.owner] } : {}) },
      spec: {
        holderIdentity: r.holderIdentity,
        leaseDurationSeconds: r.leaseDurationSeconds,
        // Strings on the wire, exactly as MicroTime expects them.
        acquireTime: r.acquireTime as unknown as V1MicroTime | undefined,
        renewTime: r.renewTime as unknown as V1MicroTime | undefined,
        leaseTransitions: r.leaseTransitions,
      },
    };
  }

  private where(): string {
    return `Lease ${this.ref.namespace}/${this.ref.name}`;
  }

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return toRecord(await this.api.readNamespacedLease(this.ref));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw kubeError(`reading ${this.where()}`, err);
    }
  }

  async create(r: LeaseRecord): Promise<LeaseRecord> {
    try {
      const body = this.body({ ...r, resourceVersion: undefined });
      return toRecord(await this.api.createNamespacedLease({ namespace: this.ref.namespace, body }));
    } catch (err) {
      if (isConflict(err)) throw new LeaseConflictError(`${this.where()} already exists`);
      throw kubeError(`creating ${this.where()}`, err);
    }
  }

  async update(r: LeaseRecord): Promise<LeaseRecord> {
    if (!r.resourceVersion) throw new RangeError('LeaseStore.update needs the resourceVersion it replaces');
    try {
      return toRecord(await this.api.replaceNamespacedLease({ ...this.ref, body: this.body(r) }));
    } catch (err) {
      if (isConflict(err)) throw new LeaseConflictError(`${this.where()} was changed by another writer`);
      throw kubeError(`updating ${this.where()}`, err);
    }
  }
}

/** The LeaseStore for leader election on `namespace/name`. */
export function kubeLeaseStore(kc: KubeConfig, ref: LeaseRef): LeaseStore {
  return new KubeLeaseStore(kc, ref);
}
