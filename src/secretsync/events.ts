// Informer events → work-queue keys (level-triggered: events only say which SecretSync to
// look at). SecretSync changes that matter, our Secrets changing under us (mapped to their
// controlling SecretSync), source changes (every SecretSync reading through that source),
// namespace label changes (SecretSyncs there reading through a ClusterSecretSource) and
// workload changes (SecretSyncs rolling it, or holding their deletion for it) all enqueue
// `namespace/name`. A deleted or edited source also releases its client. The SecretSyncs
// an event concerns are looked up in indexes of the SecretSync cache (by source, by
// namespace), never by scanning every SecretSync.
import { refOfSource, sameSourceRef, sourceKey, sourceRefKey, sourceRefOf, type SourceRef } from '../api/source-ref.js';
import type { AnySource, SecretSync } from '../api/types.js';
import type { Indexers } from '../runtime/indexer.js';
import type { KubeSecret, KubeWorkload, OwnerReference } from './ports.js';
import { kekRefOf } from './kek.js';
import { syncsAffectedBy, workloadChanged } from './rollout.js';
import { controllingSync } from './target.js';

interface Queue {
  add(key: string): void;
}
interface Watched<T> {
  addHandlers(h: { onAdd?: (o: T) => void; onUpdate?: (a: T, b: T) => void; onDelete?: (o: T) => void }): () => void;
}
/** The SecretSync cache: watched, and indexed (wireEvents adds syncIndexers). */
interface IndexedSyncs extends Watched<SecretSync> {
  addIndexers(indexers: Indexers<SecretSync>): void;
  byIndex(indexName: string, value: string): SecretSync[];
}

export interface NamespaceLike {
  metadata: { name: string; labels?: Record<string, string> };
}

export interface EventSources {
  queue: Queue;
  secretSyncs: IndexedSyncs;
  secretSources: Watched<AnySource>;
  clusterSecretSources: Watched<AnySource>;
  ownedSecrets: Watched<KubeSecret>;
  /** spec.access Roles and RoleBindings we keep: a change by someone else is put back. */
  ownedGrants?: Watched<{ metadata: { name: string; namespace?: string; ownerReferences?: OwnerReference[] } }>[];
  namespaces?: Watched<NamespaceLike>;
  /** Deployments, StatefulSets, DaemonSets: rollout targets and users of a target Secret. */
  workloads?: Watched<KubeWorkload>[];
  /** A source was deleted, or its spec or uid changed: its cached client must go (tokens revoked). */
  onSourceRetired?: (src: AnySource) => void;
}

const keyOf = (o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Status-only updates (our own writes) do not need a reconcile. */
export function needsReconcile(a: SecretSync, b: SecretSync): boolean {
  const m = (s: SecretSync) =>
    JSON.stringify([s.metadata.generation, s.metadata.annotations ?? {}, s.metadata.labels ?? {}, s.metadata.deletionTimestamp ?? null, s.metadata.finalizers ?? []]);
  return m(a) !== m(b);
}

/** The sources a SecretSync reads through: its sourceRef, and its KEK's source if it names one. */
export function sourcesUsedBy(ss: SecretSync): SourceRef[] {
  const refs = [sourceRefOf(ss)];
  try {
    const kek = kekRefOf(ss);
    if (kek) refs.push(kek.sourceRef);
  } catch {
    // an invalid KEK block reaches no source; the reconcile says why in status
  }
  return refs;
}

/** The SecretSync reads through `src`, or reaches its KEK through it. */
export function usesSource(ss: SecretSync, src: AnySource): boolean {
  const ref = refOfSource(src);
  return sourcesUsedBy(ss).some((r) => sameSourceRef(r, ref));
}

/** The SecretSync reads or reaches its KEK through a ClusterSecretSource (whose admission and scopes may follow namespace labels). */
function usesClusterSource(ss: SecretSync): boolean {
  if (ss.spec.sourceRef.kind === 'ClusterSecretSource') return true;
  try {
    return kekRefOf(ss)?.sourceRef.kind === 'ClusterSecretSource';
  } catch {
    return false;
  }
}

/** Index names on the SecretSync cache. */
export const SYNCS_BY_SOURCE = 'source';
export const SYNCS_BY_NAMESPACE = 'namespace';

/**
 * The SecretSync cache's indexes: by each source used (its sourceKey, as usesSource
 * decides) and by namespace (namespace label changes, workloads).
 */
export const syncIndexers: Indexers<SecretSync> = {
  [SYNCS_BY_SOURCE]: (ss) => sourcesUsedBy(ss).map(sourceRefKey),
  [SYNCS_BY_NAMESPACE]: (ss) => [ss.metadata.namespace ?? ''],
};

export function wireEvents(s: EventSources): void {
  s.secretSyncs.addIndexers(syncIndexers);
  s.secretSyncs.addHandlers({
    onAdd: (o) => s.queue.add(keyOf(o)),
    onUpdate: (a, b) => needsReconcile(a, b) && s.queue.add(keyOf(b)),
    onDelete: (o) => s.queue.add(keyOf(o)),
  });
  // Objects we own (target Secrets, spec.access Roles and RoleBindings) changed under us:
  // their controlling SecretSync puts them back.
  type Owned = { metadata: { namespace?: string; ownerReferences?: OwnerReference[] } };
  const byController = (o: Owned) => {
    const owner = controllingSync(o);
    if (owner) s.queue.add(`${o.metadata.namespace ?? ''}/${owner}`);
  };
  for (const inf of [s.ownedSecrets, ...(s.ownedGrants ?? [])] as Watched<Owned>[]) {
    inf.addHandlers({
      onAdd: byController,
      onUpdate: (a, b) => {
        byController(b);
        if (controllingSync(a) !== controllingSync(b)) byController(a);
      },
      onDelete: byController,
    });
  }
  const bySource = (src: AnySource) => {
    for (const ss of s.secretSyncs.byIndex(SYNCS_BY_SOURCE, sourceKey(src))) s.queue.add(keyOf(ss));
  };
  for (const inf of [s.secretSources, s.clusterSecretSources]) {
    inf.addHandlers({
      onAdd: bySource,
      onUpdate: (a, b) => {
        if (a.metadata.uid !== b.metadata.uid || a.metadata.generation !== b.metadata.generation) s.onSourceRetired?.(a);
        bySource(b);
      },
      onDelete: (o) => {
        s.onSourceRetired?.(o);
        bySource(o);
      },
    });
  }
  s.namespaces?.addHandlers({
    onUpdate: (a, b) => {
      if (JSON.stringify(a.metadata.labels ?? {}) === JSON.stringify(b.metadata.labels ?? {})) return;
      for (const ss of s.secretSyncs.byIndex(SYNCS_BY_NAMESPACE, b.metadata.name)) {
        if (usesClusterSource(ss)) s.queue.add(keyOf(ss));
      }
    },
  });
  const byWorkload = (w: KubeWorkload) => {
    for (const key of syncsAffectedBy(w, s.secretSyncs.byIndex(SYNCS_BY_NAMESPACE, w.metadata.namespace ?? ''))) s.queue.add(key);
  };
  for (const inf of s.workloads ?? []) {
    inf.addHandlers({
      onAdd: byWorkload,
      // Before and after: a template that stopped using the target still matters to its old users.
      onUpdate: (a, b) => {
        if (!workloadChanged(a, b)) return;
        byWorkload(a);
        byWorkload(b);
      },
      onDelete: byWorkload,
    });
  }
}
