// Informer events → work-queue keys (level-triggered: events only say which SecretSync
// to look at). SecretSync changes that matter, our Secrets changing under us, and source
// changes (every SecretSync reading through that source) all enqueue `namespace/name`.
import { OWNER_LABEL, type AnySource, type SecretSync } from '../api/types.js';
import type { KubeSecret } from './ports.js';

interface Queue {
  add(key: string): void;
}
interface Watched<T> {
  list(): T[];
  addHandlers(h: { onAdd?: (o: T) => void; onUpdate?: (a: T, b: T) => void; onDelete?: (o: T) => void }): () => void;
}

export interface EventSources {
  queue: Queue;
  secretSyncs: Watched<SecretSync>;
  secretSources: Watched<AnySource>;
  clusterSecretSources: Watched<AnySource>;
  ownedSecrets: Watched<KubeSecret>;
}

const keyOf = (o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Status-only updates (our own writes) do not need a reconcile. */
export function needsReconcile(a: SecretSync, b: SecretSync): boolean {
  const m = (s: SecretSync) =>
    JSON.stringify([s.metadata.generation, s.metadata.annotations ?? {}, s.metadata.labels ?? {}, s.metadata.deletionTimestamp ?? null, s.metadata.finalizers ?? []]);
  return m(a) !== m(b);
}

export function usesSource(ss: SecretSync, src: AnySource): boolean {
  const kind = ss.spec.sourceRef.kind ?? 'SecretSource';
  if (kind !== src.kind || ss.spec.sourceRef.name !== src.metadata.name) return false;
  return kind === 'ClusterSecretSource' || ss.metadata.namespace === src.metadata.namespace;
}

export function wireEvents(s: EventSources): void {
  s.secretSyncs.addHandlers({
    onAdd: (o) => s.queue.add(keyOf(o)),
    onUpdate: (a, b) => needsReconcile(a, b) && s.queue.add(keyOf(b)),
    onDelete: (o) => s.queue.add(keyOf(o)),
  });
  const bySecret = (sec: KubeSecret) => {
    const owner = sec.metadata.labels?.[OWNER_LABEL];
    if (owner) s.queue.add(`${sec.metadata.namespace}/${owner}`);
  };
  s.ownedSecrets.addHandlers({ onAdd: bySecret, onUpdate: (_a, b) => bySecret(b), onDelete: bySecret });
  const bySource = (src: AnySource) => {
    for (const ss of s.secretSyncs.list()) if (usesSource(ss, src)) s.queue.add(keyOf(ss));
  };
  for (const inf of [s.secretSources, s.clusterSecretSources]) {
    inf.addHandlers({ onAdd: bySource, onUpdate: (_a, b) => bySource(b), onDelete: bySource });
  }
}
