// Where the webhook's certificates live: one Secret in the operator namespace, shared by
// every replica. Creation and renewal are compare-and-swap writes (create fails when the
// Secret exists; update carries the resourceVersion read), so replicas racing to create a
// CA or renew a certificate converge on the winner's: the loser re-reads and, finding the
// winner's bundle fresh, uses it.
import { KubernetesError } from '../errors.js';
import { renew, renewalDue, type CertBundle, type CertOptions, type RenewalReason } from './certs.js';

export interface StoredBundle {
  /** What the Secret holds; undefined fields when a key is missing. */
  bundle: CertBundle;
  /** The Secret's resourceVersion: the precondition of the next update. */
  version: string;
}

/** The Kubernetes side (src/kube/webhook-cert-store.ts); an in-memory one in tests. */
export interface CertStorePort {
  read(): Promise<StoredBundle | undefined>;
  /** 'exists' when another writer created it first. */
  create(bundle: CertBundle): Promise<StoredBundle | 'exists'>;
  /** Replaces the content only if the Secret is still at `version`; 'conflict' otherwise. */
  update(bundle: CertBundle, version: string): Promise<StoredBundle | 'conflict'>;
}

export interface EnsureResult {
  bundle: CertBundle;
  /** What this replica wrote, if anything (the others just read the winner's). */
  wrote?: { kind: 'created' } | { kind: 'renewed'; renewed: 'ca' | 'serving'; reason: RenewalReason };
}

/** A race lost this many times in a row means something else keeps writing the Secret. */
const MAX_ATTEMPTS = 5;


/**
 * Returns a bundle that needs no renewal at `now()`, creating or renewing the stored one
 * if needed. Level-triggered: safe to call at any time, from any replica.
 */
export async function ensureCerts(port: CertStorePort, opts: CertOptions, now: () => Date = () => new Date()): Promise<EnsureResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const cur = await port.read();
    if (!cur) {
      const created = await port.create(await renew(undefined, 'ca', opts, now()));
      if (created === 'exists') continue;
      return { bundle: created.bundle, wrote: { kind: 'created' } };
    }
    const due = renewalDue(cur.bundle, opts.hosts, now());
    if (due.renew === 'none') return { bundle: cur.bundle };
    const updated = await port.update(await renew(cur.bundle, due.renew, opts, now()), cur.version);
    if (updated === 'conflict') continue;
    return { bundle: updated.bundle, wrote: { kind: 'renewed', renewed: due.renew, reason: due.reason } };
  }
  throw new KubernetesError(`the webhook TLS Secret changed under us ${MAX_ATTEMPTS} times in a row; retrying later`);
}
