// Which reconciles share a worker budget (the work queue's groupOf / groupLimit): those of
// one namespace that reach a SecretSource of that namespace, as its sync source or its KEK.
// A SecretSource's address is the namespace's to choose, so it may be slow or hostile; all
// of a namespace's SecretSources count together (making more of them buys no more workers).
// Reconciles through ClusterSecretSources only reach addresses the platform team chose and
// are not limited, so a large tenant on a shared source keeps its batching and throughput.
import { sourceRefIn, sourceRefOf } from '../api/source-ref.js';
import type { SecretSync } from '../api/types.js';

export function fairShareGroup(ss: Pick<SecretSync, 'metadata' | 'spec'> | undefined): string | undefined {
  if (!ss) return undefined;
  const namespace = ss.metadata.namespace ?? '';
  const kek = ss.spec.target?.encryption?.kek;
  const kekRef = kek?.vaultTransit?.sourceRef ?? kek?.awsKms?.sourceRef;
  const refs = [sourceRefOf(ss), ...(kekRef ? [sourceRefIn(namespace, kekRef)] : [])];
  return refs.some((r) => r.kind === 'SecretSource') ? `namespace/${namespace}` : undefined;
}

/** The default limit: a quarter of the workers, so three quarters stay with everyone else. */
export function defaultSourceConcurrency(workers: number): number {
  return Math.max(1, Math.floor(workers / 4));
}
